-- A room's figures of the day (done, mean wait) are made of its entries
-- that were called or ended; on a busy day most of a room's entries are
-- people still waiting (a backlog of thousands), which a doctor station's
-- and a room screen's every refresh would otherwise step over. This
-- index holds only the others (issue 21). Portable SQL: both stores take
-- partial indexes and use one when the query says `state <> 'waiting'`.
CREATE INDEX queue_entries_seen ON queue_entries(campus, day, room) WHERE state <> 'waiting';

-- On PostgreSQL a new visit takes its change number just after its commit
-- (0 until then, which no cursor follows); the prune job's sweep stamps
-- the few a crash left at 0 every minute: found here, not by walking a
-- campus's bookings.
CREATE INDEX bookings_unstamped ON bookings(campus) WHERE change_seq = 0;
