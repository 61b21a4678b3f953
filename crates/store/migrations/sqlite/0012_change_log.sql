-- The change log (issue 16): one row per change to a corp's directory, appended in the write's
-- own transaction. `seq` is 1, 2, 3, ... with no gaps: writers take turns while appending, so
-- entries commit in `seq` order across every node. `kind` is DingTalk's event type; `subject` a
-- userid or a department id.
CREATE TABLE change_log (
    seq     BIGINT PRIMARY KEY,
    at      BIGINT NOT NULL,
    corp_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE INDEX change_log_corp_seq ON change_log (corp_id, seq);
