-- PIPL (个人信息保护法, S6) and bulk exports (S5). Portable SQL only.

-- Consents, one row per answer a person gave about one purpose
-- (exam_domain::privacy::Purpose): yes or no, where (kiosk, desk, phone),
-- after which version of the privacy notice, recorded by whom (a staff
-- user, or kiosk:<id>). A withdrawal sets withdrawn_at / withdrawn_by: the
-- row itself stays as the evidence of what was agreed and when. `person_key`
-- is the person's key as bookings.person_key holds it (copied from
-- there by the store, never typed in).
CREATE TABLE consents (
    id             BIGINT PRIMARY KEY,
    person_key     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    granted        INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    given_at       TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    booking_id     BIGINT,
    event_id       TEXT,
    withdrawn_at   TEXT,
    withdrawn_by   TEXT
);
CREATE INDEX consents_person ON consents(person_key, purpose);

-- Bulk exports (CSV of members, registrations, the audit trail) and the
-- ones refused, per staff user: the daily limit is counted here.
CREATE TABLE data_exports (
    id        BIGINT PRIMARY KEY,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    refused   INTEGER NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX data_exports_actor ON data_exports(actor, at);
