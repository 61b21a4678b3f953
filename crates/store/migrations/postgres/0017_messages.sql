-- Messages beyond the group webhook (issue 19).
-- An app's agentId, which work notifications name it by; NULL: derived from the app key.
ALTER TABLE apps ADD COLUMN agent_id BIGINT;
-- A robot's HTTP callback: its URL and the secret its requests are signed with (in the clear:
-- signing needs it), or NULL.
ALTER TABLE apps ADD COLUMN bot_url TEXT;
ALTER TABLE apps ADD COLUMN bot_secret TEXT;
-- Group chats: the people in each (members, a JSON array of userids) and the app robots added to
-- it (bots, a JSON array of app keys). conversation_id is its openConversationId.
CREATE TABLE chat_groups (
    corp_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    conversation_id TEXT NOT NULL UNIQUE,
    owner           TEXT,
    members         TEXT NOT NULL,
    bots            TEXT NOT NULL,
    PRIMARY KEY (corp_id, name)
);
-- The inbox learns whom a one-to-one message went to (person: a userid, or '' in a group), the
-- send it belongs to (task: a processQueryKey or a work notification's task id, or ''), when
-- its person read it, and when it was recalled.
ALTER TABLE inbox ADD COLUMN person TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN task TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN read_at BIGINT;
ALTER TABLE inbox ADD COLUMN recalled_at BIGINT;
CREATE INDEX inbox_person ON inbox (person, seq);
CREATE INDEX inbox_task ON inbox (task);
-- Work notifications (asyncsend_v2): one row per send, with whom it reached and whom not.
-- recipients, invalid_users, invalid_depts and forbidden are JSON arrays.
CREATE TABLE notices (
    task_id       BIGSERIAL PRIMARY KEY,
    corp_id       TEXT NOT NULL,
    app_key       TEXT NOT NULL,
    agent_id      BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    msgtype       TEXT NOT NULL,
    message       TEXT NOT NULL,
    recipients    TEXT NOT NULL,
    invalid_users TEXT NOT NULL,
    invalid_depts TEXT NOT NULL,
    forbidden     TEXT NOT NULL,
    recalled_at   BIGINT
);
-- Uploaded media (/media/upload), the newest kept within the server's bound.
CREATE TABLE media (
    seq          BIGSERIAL PRIMARY KEY,
    media_id     TEXT NOT NULL UNIQUE,
    corp_id      TEXT NOT NULL,
    app_key      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    at           BIGINT NOT NULL,
    data         BYTEA NOT NULL
);
