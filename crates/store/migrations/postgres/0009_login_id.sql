-- The login name of an exclusive account its corp created (专属帐号登录名): v2/user/get finds the
-- account by it, so it is unique within the owning corp. An existing store upgrades in place:
-- every account starts without one.
ALTER TABLE people ADD COLUMN login_id TEXT;
CREATE UNIQUE INDEX people_login_id ON people (exclusive_of, login_id) WHERE login_id IS NOT NULL;
