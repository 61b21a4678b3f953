-- Departments whose members' `member_departments.seq` may be stale (issue 16): a write marks the
-- departments whose order it changes instead of renumbering them in its own transaction, reads of
-- a marked department count their offset from the order index, and `number_members` renumbers
-- and unmarks them after the writes.
CREATE TABLE unnumbered_departments (
    corp_id TEXT NOT NULL,
    dept_id BIGINT NOT NULL,
    PRIMARY KEY (corp_id, dept_id)
);

-- A store left mid-import by an earlier version: what it had not numbered yet.
INSERT INTO unnumbered_departments (corp_id, dept_id)
SELECT DISTINCT d.corp_id, d.dept_id FROM member_departments d
JOIN memberships m ON m.corp_id = d.corp_id AND m.userid = d.userid
WHERE d.seq IS NULL AND m.status = 'active';
