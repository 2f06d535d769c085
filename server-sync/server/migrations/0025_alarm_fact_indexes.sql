-- The alarms (alarms/facts.rs) ask every minute whether any booking or
-- item row holds a negative amount and whether any check-in is dated in
-- the future. Without an index each count read its whole table every
-- minute: on PostgreSQL a parallel scan of every item row on both cores
-- (about 140 ms at 4.8 M rows on the 2-core test machine), a cost that
-- grows with the store. Portable SQL only (see db/mod.rs).

-- Partial indexes of rows that should not exist: empty, so free to keep
-- up, and the counts are answered from them.
CREATE INDEX bookings_negative_due ON bookings(amount_due_fen) WHERE amount_due_fen < 0;
CREATE INDEX booking_items_negative_price ON booking_items(price_fen) WHERE price_fen < 0;

-- Check-ins by when the kiosk says they happened.
CREATE INDEX registrations_checked_in ON registrations(checked_in_at);

-- Each interface line's newest error (the /interfaces page, the metrics
-- and the alarms, every minute): among the messages that met one, not
-- among every message the line ever sent.
CREATE INDEX interface_messages_errors ON interface_messages(counterpart, updated_at) WHERE last_error IS NOT NULL;
