-- The audit chain's tip: the last chained line's number and hash. On
-- PostgreSQL an audit line is one statement (`db::audit::APPEND_PG`): it
-- moves `audit_seq` (the chain's lock), reads the tip under that lock,
-- hashes in the store and moves the tip, so the lock is held for that
-- statement and the commit only (issue 21). A tip that is not the line
-- just before (SQLite does not keep it; a store restored from elsewhere)
-- is not trusted: that line reads the hash before from the trail.
CREATE TABLE audit_tip (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_tip(id, seq, hash) VALUES (
    1,
    COALESCE((SELECT MAX(seq) FROM audit_log), 0),
    COALESCE((SELECT hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)),
             '0000000000000000000000000000000000000000000000000000000000000000'));
