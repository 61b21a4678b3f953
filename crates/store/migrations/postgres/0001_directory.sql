-- The directory: corps, apps, people and memberships. Ids are dingdir's or DingTalk-shaped text.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE corps (
    corp_id TEXT PRIMARY KEY,
    name    TEXT NOT NULL
);

CREATE TABLE apps (
    app_key      TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('internal', 'third_party_enterprise', 'third_party_personal')),
    corp_id      TEXT REFERENCES corps (corp_id),
    isv          TEXT,
    suite_ticket TEXT
);

CREATE TABLE app_scopes (
    app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    scope   TEXT NOT NULL,
    PRIMARY KEY (app_key, scope)
);

CREATE TABLE app_redirect_uris (
    app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    uri     TEXT NOT NULL,
    PRIMARY KEY (app_key, uri)
);

CREATE TABLE app_corps (
    app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    corp_id TEXT NOT NULL REFERENCES corps (corp_id),
    PRIMARY KEY (app_key, corp_id)
);

CREATE TABLE people (
    person_id     TEXT PRIMARY KEY,
    number        BIGINT NOT NULL UNIQUE,
    nick          TEXT NOT NULL,
    state_code    TEXT,
    mobile        TEXT,
    email         TEXT,
    avatar_url    TEXT,
    password_hash TEXT,
    exclusive_of  TEXT REFERENCES corps (corp_id)
);

-- A normal account's mobile is unique among normal accounts; exclusive accounts may share it.
CREATE UNIQUE INDEX people_normal_mobile ON people (mobile, state_code)
    WHERE exclusive_of IS NULL AND mobile IS NOT NULL;
CREATE INDEX people_mobile ON people (mobile, state_code);

CREATE TABLE memberships (
    corp_id   TEXT NOT NULL REFERENCES corps (corp_id),
    userid    TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
    name      TEXT,
    status    TEXT NOT NULL CHECK (status IN ('active', 'departed')),
    PRIMARY KEY (corp_id, userid),
    UNIQUE (corp_id, person_id)
);

CREATE INDEX memberships_person ON memberships (person_id);
