-- Printing as kiosks report it (K15): parts waiting at each kiosk (a paused
-- printer), and documents printed for patients who had already left, kept
-- until the desk hands them over.
ALTER TABLE kiosks ADD COLUMN print_waiting BIGINT;
ALTER TABLE kiosks ADD COLUMN print_waiting_since TEXT;

-- One row per job and kiosk: a moved job may have parts in both trays.
CREATE TABLE pickups (
    job_id         TEXT NOT NULL,
    event_id       TEXT NOT NULL REFERENCES kiosk_events(event_id),
    kiosk_id       TEXT NOT NULL REFERENCES kiosks(id),
    booking_code   TEXT NOT NULL,
    document       TEXT NOT NULL,
    since          TEXT NOT NULL,
    handed_over_at TEXT,
    handed_over_by TEXT,
    PRIMARY KEY (job_id, kiosk_id)
);
CREATE INDEX pickups_waiting ON pickups(since) WHERE handed_over_at IS NULL;

-- Waiting documents moved by staff from one kiosk to another: requested
-- (the source kiosk has not answered yet), released (the source gave up its
-- jobs, carried here until the target confirms), delivered (payload gone).
CREATE TABLE print_moves (
    id           BIGINT PRIMARY KEY,
    from_kiosk   TEXT NOT NULL REFERENCES kiosks(id),
    to_kiosk     TEXT NOT NULL REFERENCES kiosks(id),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    state        TEXT NOT NULL,
    jobs         TEXT,
    released_at  TEXT,
    delivered_at TEXT
);
CREATE INDEX print_moves_open ON print_moves(from_kiosk, to_kiosk) WHERE state <> 'delivered';
-- One request at a time per kiosk, even from two desks at once.
CREATE UNIQUE INDEX print_moves_one_requested ON print_moves(from_kiosk) WHERE state = 'requested';
