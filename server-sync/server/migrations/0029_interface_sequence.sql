-- A transaction's interface messages are written with `seq` 0 and
-- numbered from `interface_seq` as its last step (under the audit chain's
-- lock when it writes an audit line): the counter's row is no longer held
-- from the messages through the rest of the transaction (issue 21,
-- invariant 34). The rows at 0 are found through this index: a
-- transaction's own few, and the senders' sweep finds none.
CREATE INDEX interface_messages_unsequenced ON interface_messages(seq) WHERE seq = 0;
