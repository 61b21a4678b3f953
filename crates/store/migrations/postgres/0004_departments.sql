-- Departments (a tree per corp, DingTalk's numeric ids, the root is 1) and the full member
-- record: a member's departments with their order and leader flag, and the record's own fields.
-- An existing store upgrades in place: every corp gets its root, named after it, and every
-- member sits in the root, as DingTalk places a member without a department.
CREATE TABLE departments (
    corp_id   TEXT NOT NULL REFERENCES corps (corp_id),
    dept_id   BIGINT NOT NULL,
    name      TEXT NOT NULL,
    parent_id BIGINT,
    ord       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (corp_id, dept_id)
);

-- A department's children, in their order.
CREATE INDEX departments_children ON departments (corp_id, parent_id, ord, dept_id);

ALTER TABLE memberships ADD COLUMN title TEXT;
ALTER TABLE memberships ADD COLUMN job_number TEXT;
ALTER TABLE memberships ADD COLUMN hired_date BIGINT;
ALTER TABLE memberships ADD COLUMN work_place TEXT;
ALTER TABLE memberships ADD COLUMN telephone TEXT;
ALTER TABLE memberships ADD COLUMN org_email TEXT;
ALTER TABLE memberships ADD COLUMN remark TEXT;
ALTER TABLE memberships ADD COLUMN manager_userid TEXT;
-- Flags as 0 or 1, the same column type on every backend.
ALTER TABLE memberships ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN boss BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN senior BIGINT NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN hide_mobile BIGINT NOT NULL DEFAULT 0;

CREATE TABLE member_departments (
    corp_id TEXT NOT NULL,
    userid  TEXT NOT NULL,
    dept_id BIGINT NOT NULL,
    -- The position of the department in the member's own list.
    pos     BIGINT NOT NULL,
    ord     BIGINT NOT NULL DEFAULT 0,
    leader  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (corp_id, userid, dept_id),
    FOREIGN KEY (corp_id, userid) REFERENCES memberships (corp_id, userid) ON DELETE CASCADE,
    FOREIGN KEY (corp_id, dept_id) REFERENCES departments (corp_id, dept_id)
);

-- A department's members, in their order.
CREATE INDEX member_departments_dept ON member_departments (corp_id, dept_id, ord, userid);

INSERT INTO departments (corp_id, dept_id, name, parent_id, ord) SELECT corp_id, 1, name, NULL, 0 FROM corps;
INSERT INTO member_departments (corp_id, userid, dept_id, pos, ord, leader) SELECT corp_id, userid, 1, 0, 0, 0 FROM memberships;
