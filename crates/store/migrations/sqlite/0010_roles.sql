-- Roles (角色): each corp's, in named role groups, and the ones a member holds, shown as
-- v2/user/get's `role_list`. A member's roles are a JSON array of role ids, or NULL for none.
-- An existing store upgrades in place: no corp has roles and no member holds any.
CREATE TABLE roles (
    corp_id    TEXT NOT NULL REFERENCES corps (corp_id),
    role_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (corp_id, role_id)
);
ALTER TABLE memberships ADD COLUMN roles TEXT;
