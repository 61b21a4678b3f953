-- Custom group robots (issue 19): each webhook's token, the group it posts into and its security
-- settings (keywords and ip_ranges are JSON arrays); blocked_until is set when it went over its
-- per-minute limit.
CREATE TABLE webhook_robots (
    token         TEXT PRIMARY KEY,
    corp_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    group_name    TEXT NOT NULL,
    secret        TEXT,
    keywords      TEXT NOT NULL,
    ip_ranges     TEXT NOT NULL,
    blocked_until BIGINT NOT NULL DEFAULT 0
);
-- The inbox: every message taken, newest kept (the server trims the oldest past its bound).
-- message is the JSON object of its msgtype; at_json the message's "at", if any.
CREATE TABLE inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    corp_id      TEXT NOT NULL,
    conversation TEXT NOT NULL,
    sender_kind  TEXT NOT NULL,
    sender       TEXT NOT NULL,
    sender_id    TEXT NOT NULL,
    msgtype      TEXT NOT NULL,
    message      TEXT NOT NULL,
    at_json      TEXT
);
CREATE INDEX inbox_conversation ON inbox (conversation, seq);
-- Chatbot sessions: the session webhook a bot answers a person's message through, valid until
-- expires_at, posting into that message's conversation as the app.
CREATE TABLE chat_sessions (
    token        TEXT PRIMARY KEY,
    app_key      TEXT NOT NULL,
    corp_id      TEXT NOT NULL,
    conversation TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
