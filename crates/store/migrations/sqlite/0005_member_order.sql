-- A department's active members numbered 0, 1, 2, … in its custom order (the member's order in
-- the department, then userid), so that a page at any offset is one index seek: the cost of
-- `/topapi/v2/user/list` does not grow with the cursor. Departed members have no number.
-- Writers renumber the departments they touch (`SqlStore::number_members`).
ALTER TABLE member_departments ADD COLUMN seq BIGINT;
CREATE INDEX member_departments_seq ON member_departments (corp_id, dept_id, seq);

-- The corp's main administrator (主管理员), `sys_level` 1; other admins are sub-administrators.
ALTER TABLE memberships ADD COLUMN main_admin BIGINT NOT NULL DEFAULT 0;

UPDATE member_departments SET seq = r.rn
FROM (
    SELECT d.corp_id, d.userid, d.dept_id,
           ROW_NUMBER() OVER (PARTITION BY d.corp_id, d.dept_id ORDER BY d.ord, d.userid) - 1 AS rn
    FROM member_departments d JOIN memberships m ON m.corp_id = d.corp_id AND m.userid = d.userid
    WHERE m.status = 'active'
) r
WHERE member_departments.corp_id = r.corp_id AND member_departments.userid = r.userid
  AND member_departments.dept_id = r.dept_id;
