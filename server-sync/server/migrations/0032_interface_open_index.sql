-- The head of an interface line (the sender's next message, the alarms'
-- failing head): the lowest `seq` among the messages still to deliver.
-- The line's index (counterpart, state, seq) gives each state's messages
-- in order, not the three open states together, so a head was a sort of
-- every open message: with a year's backlog on PostgreSQL (852,262
-- messages for a line never connected) 0.3–1 s a head, and draining an
-- outage's backlog one head per message was quadratic. This index holds
-- the open messages only, in line order: a head is its first entry.
-- Portable SQL only (see db/mod.rs); the statements repeat its predicate
-- word for word, so both stores see that it applies.
CREATE INDEX interface_messages_open ON interface_messages(counterpart, seq)
  WHERE state IN ('pending', 'retrying', 'sending');
