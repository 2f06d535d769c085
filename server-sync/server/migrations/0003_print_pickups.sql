-- Printing as kiosks report it (K15): parts waiting at each kiosk (a paused
-- printer), and documents printed for patients who had already left, kept
-- until the desk hands them over.
ALTER TABLE kiosks ADD COLUMN print_waiting BIGINT;
ALTER TABLE kiosks ADD COLUMN print_waiting_since TEXT;

CREATE TABLE pickups (
    job_id         TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES kiosk_events(event_id),
    kiosk_id       TEXT NOT NULL REFERENCES kiosks(id),
    booking_code   TEXT NOT NULL,
    document       TEXT NOT NULL,
    since          TEXT NOT NULL,
    handed_over_at TEXT,
    handed_over_by TEXT
);
CREATE INDEX pickups_waiting ON pickups(since) WHERE handed_over_at IS NULL;
