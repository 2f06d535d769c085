-- K3 face check-in: one face template per person (an embedding the kiosk
-- computed from the check-in photo of someone who agreed to face
-- check-in), sealed like every personal column. A row exists only while
-- the person's consent to `face_recognition` is in force: it is written
-- only under one, and a "no" or a withdrawal deletes it in the same
-- transaction. Kept one year after the person's last visit (the notice
-- says so): `last_visit_at` is renewed by every check-in that brings one,
-- and the gallery leaves older rows out until the pruning deletes them.
-- Portable SQL only (see db/mod.rs).
CREATE TABLE face_templates (
    person_key    TEXT PRIMARY KEY REFERENCES people(person_key),
    model         TEXT NOT NULL,
    embedding     TEXT NOT NULL,
    booking_id    BIGINT NOT NULL,
    kiosk_id      TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_visit_at TEXT NOT NULL
);
CREATE INDEX face_templates_last_visit ON face_templates(last_visit_at);
