-- Hidden departments (隐藏部门) with their exceptions, and apps' contact ranges (通讯录权限范围).
-- Lists are stored comma-joined: department ids, or userids (which never hold a comma).
-- An existing store upgrades in place: no department is hidden and every app reads whole corps.
ALTER TABLE departments ADD COLUMN hide_dept BIGINT NOT NULL DEFAULT 0;
ALTER TABLE departments ADD COLUMN dept_permits TEXT NOT NULL DEFAULT '';
ALTER TABLE departments ADD COLUMN user_permits TEXT NOT NULL DEFAULT '';

-- An app's limited range in one corp; a corp without a row is readable whole.
CREATE TABLE app_contact_ranges (
    app_key     TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    corp_id     TEXT NOT NULL,
    departments TEXT NOT NULL,
    users       TEXT NOT NULL,
    PRIMARY KEY (app_key, corp_id)
);
