-- Issue 20 (E5): each tube of a visit, by its label's barcode (the exam
-- number and the sample's two digits), created at its first event. Its
-- state and when it was last drawn in clear (the specimen desk's checks:
-- missing, to draw again); each event one row, the event itself sealed
-- (`specimen_events.event|<id>`: draw notes such as 晕针 are about the
-- person).
CREATE TABLE specimens (
    barcode    TEXT PRIMARY KEY,
    booking_id BIGINT NOT NULL,
    sample     TEXT NOT NULL,
    state      TEXT NOT NULL,
    draws      INTEGER NOT NULL,
    drawn_at   TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX specimens_booking ON specimens(booking_id);
CREATE INDEX specimens_state ON specimens(state, drawn_at);

CREATE TABLE specimen_events (
    id          BIGINT PRIMARY KEY,
    barcode     TEXT NOT NULL,
    event       TEXT NOT NULL,
    state_after TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX specimen_events_barcode ON specimen_events(barcode, at);
