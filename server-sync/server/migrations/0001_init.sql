-- Central store, version 1. Kept portable: BIGINT ids from the application,
-- money in fen, flags as INTEGER, times as RFC 3339 TEXT in UTC.
CREATE TABLE people (
    id_number  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    sex        TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    mobile     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE bookings (
    id             BIGINT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    exam_no        TEXT NOT NULL UNIQUE,
    id_number      TEXT NOT NULL REFERENCES people(id_number),
    campus         TEXT NOT NULL,
    package        TEXT NOT NULL,
    exam_date      TEXT NOT NULL,
    slot_start     TEXT NOT NULL,
    slot_end       TEXT NOT NULL,
    amount_due_fen BIGINT NOT NULL,
    state          TEXT NOT NULL,
    change_seq     BIGINT NOT NULL
);
CREATE INDEX bookings_campus_seq ON bookings(campus, change_seq);
CREATE INDEX bookings_id_number ON bookings(id_number);

-- Row-locked counters: taking the next value inside the writing transaction
-- orders change sequences by commit, so a pull cursor never skips a change.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters(name, value) VALUES ('booking_change', 0);

CREATE TABLE kiosks (
    id                    TEXT PRIMARY KEY,
    campus                TEXT NOT NULL,
    zone                  TEXT NOT NULL,
    enrolment_secret_hash TEXT,
    public_key            TEXT,
    enrolled_at           TEXT,
    created_at            TEXT NOT NULL,
    last_seen             TEXT,
    app_version           TEXT,
    backlog               BIGINT,
    devices               TEXT
);

CREATE TABLE kiosk_nonces (
    kiosk_id TEXT NOT NULL,
    nonce    TEXT NOT NULL,
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, nonce)
);
CREATE INDEX kiosk_nonces_seen ON kiosk_nonces(seen_at);

CREATE TABLE kiosk_events (
    event_id    TEXT PRIMARY KEY,
    kiosk_id    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE registrations (
    id            BIGINT PRIMARY KEY,
    event_id      TEXT NOT NULL UNIQUE REFERENCES kiosk_events(event_id),
    kiosk_id      TEXT NOT NULL,
    booking_id    BIGINT NOT NULL,
    identified_by TEXT NOT NULL,
    offline       INTEGER NOT NULL,
    checked_in_at TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX registrations_received ON registrations(received_at);

CREATE TABLE staff_users (
    id                  BIGINT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    must_change         INTEGER NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES staff_users(id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

CREATE TABLE audit_log (
    id     BIGINT PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
