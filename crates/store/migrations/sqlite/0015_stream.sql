-- Stream mode (issue 17): where each app's event delivery over its WebSocket connections stands,
-- so any node holding one of the app's connections can go on where another stopped. A cursor is
-- made when the app first opens a connection with an EVENT subscription, at the change log's
-- last entry; `delivered_seq` is the last entry a connection acknowledged with success. A node
-- delivers only while it holds the lease (`lease_owner` until `lease_until`).
CREATE TABLE stream_cursors (
    app_key         TEXT PRIMARY KEY,
    registered_seq  BIGINT NOT NULL,
    delivered_seq   BIGINT NOT NULL,
    failures        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL DEFAULT 0
);
-- Every push of an entry to a connection: `error` is NULL when it was acknowledged with success.
CREATE TABLE stream_attempts (
    app_key TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    node    TEXT NOT NULL,
    error   TEXT
);
CREATE INDEX stream_attempts_app ON stream_attempts (app_key, seq, at);
