-- The no-show sweep runs every minute over booked visits by date; without
-- an index it read every booking, a cost that grew with the table.
CREATE INDEX bookings_state_date ON bookings(state, exam_date);
