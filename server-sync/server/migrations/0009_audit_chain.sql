-- S7: the audit trail becomes a hash chain with a category, a source and an
-- outcome per row. Portable SQL only; what differs per back end (the
-- triggers that refuse UPDATE and DELETE) and the chaining of the rows
-- already here run from Rust after the migrator (db/audit.rs,
-- install_guards), which also creates the 'audit_seq' counter.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN category TEXT NOT NULL DEFAULT 'operation';
ALTER TABLE audit_log ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'allowed';
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
-- The chain's order; NULL only for a row written around the service.
CREATE UNIQUE INDEX audit_log_seq ON audit_log(seq);
CREATE INDEX audit_log_category ON audit_log(category, at);
