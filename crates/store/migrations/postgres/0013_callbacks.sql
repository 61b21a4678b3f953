-- HTTP event callbacks (issue 16): one registration per app, with where its delivery stands, so
-- any node can take over delivery where another stopped. `events` is a comma-separated list of
-- call_back_tags (empty: every contact event). `registered_seq` is the change log's last entry
-- when the app registered; `delivered_seq` the last entry it acknowledged. A node delivers only
-- while it holds the lease (`lease_owner` until `lease_until`).
CREATE TABLE callbacks (
    app_key         TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    token           TEXT NOT NULL,
    aes_key         TEXT NOT NULL,
    events          TEXT NOT NULL,
    receive_id      TEXT NOT NULL,
    registered_seq  BIGINT NOT NULL,
    delivered_seq   BIGINT NOT NULL,
    failures        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL DEFAULT 0
);
-- Every delivery attempt: `error` is NULL when the receiver acknowledged the entry.
CREATE TABLE callback_attempts (
    app_key TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    node    TEXT NOT NULL,
    error   TEXT
);
CREATE INDEX callback_attempts_seq ON callback_attempts (seq, app_key, at);
