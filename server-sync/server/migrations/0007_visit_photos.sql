-- The photo step of a kiosk check-in (K6): what the patient chose and, with
-- consent, the picture (grayscale PNG, base64). One per booking, the latest
-- kept; kept out of the event log (personal data).
CREATE TABLE visit_photos (
    booking_id BIGINT PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    png TEXT,
    taken_at TEXT NOT NULL
);
