-- Access tokens, authorisation codes and refresh tokens. Times are milliseconds since the epoch.
CREATE TABLE tokens (
    token      TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('app', 'corp', 'user')),
    app_key    TEXT NOT NULL,
    corp_id    TEXT,
    person_id  TEXT,
    expires_at BIGINT NOT NULL
);

-- One app token per app: asking again while it is valid renews it instead of adding one.
CREATE UNIQUE INDEX tokens_one_app_token ON tokens (app_key) WHERE kind = 'app';
CREATE INDEX tokens_expiry ON tokens (expires_at);

CREATE TABLE auth_codes (
    code       TEXT PRIMARY KEY,
    app_key    TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    corp_id    TEXT,
    scope      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE refresh_tokens (
    token      TEXT PRIMARY KEY,
    app_key    TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    corp_id    TEXT,
    scope      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
