-- A member's extension attributes (扩展属性), shown as v2/user/get's `extension` and /user/get's
-- `extattr`: a JSON object of names to values, or NULL when the member has none. An existing
-- store upgrades in place: every member starts with none.
ALTER TABLE memberships ADD COLUMN extension TEXT;
