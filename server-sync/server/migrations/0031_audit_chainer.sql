-- PostgreSQL places audit lines in the chain after their commit (issue 21,
-- `db::audit::Db::chain_pending`): a line is written unchained in the
-- change's transaction, with no lock, and the chainer finds the lines
-- still waiting through this index (on SQLite it serves the check's count
-- of rows written around the service). The chain's tip of migration 0029
-- served the one-statement line this replaces.
CREATE INDEX audit_log_unchained ON audit_log(id) WHERE seq IS NULL;
DROP TABLE audit_tip;
