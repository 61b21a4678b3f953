-- When and why each departed member left (/v1.0/contact/empLeaveRecords). An existing store
-- upgrades in place: members who departed before this migration keep no time (none was
-- recorded), so they have no leave record, and their reason is `unknown`.
ALTER TABLE memberships ADD COLUMN left_at BIGINT;
ALTER TABLE memberships ADD COLUMN leave_reason TEXT;
UPDATE memberships SET leave_reason = 'unknown' WHERE status = 'departed';
CREATE INDEX memberships_departures ON memberships (corp_id, left_at, userid) WHERE left_at IS NOT NULL;
