-- SMS (I5): each message requested by a fact (booking confirmed, report
-- ready, abnormal result, critical value), held here while our rate limits
-- hold it, then released into the interfaces queue under the same key
-- (`idem_key`, unique: a fact done twice requests one SMS). `payload` is
-- sealed JSON (the number and what to say); `mobile_idx` is the mobile's
-- blind index (the limits' key); `mobile_masked` is what pages show
-- (138****5678). States (`sms::SmsState`): waiting, queued, delivered,
-- failed, dropped; `reason` says why one waits, failed or was dropped.
-- Portable SQL only (see db/mod.rs).
CREATE TABLE sms_messages (
    id                BIGINT PRIMARY KEY,
    idem_key          TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,
    booking_id        BIGINT,
    mobile_idx        TEXT NOT NULL,
    mobile_masked     TEXT NOT NULL,
    payload           TEXT NOT NULL,
    priority          INTEGER NOT NULL,
    state             TEXT NOT NULL,
    reason            TEXT,
    created_at        TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    expires_at        TEXT,
    released_at       TEXT,
    serial_no         TEXT,
    report_status     TEXT,
    report_code       TEXT,
    reported_at       TEXT,
    received_at       TEXT,
    duplicate_reports INTEGER NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX sms_messages_due ON sms_messages(state, due_at);
CREATE INDEX sms_messages_released ON sms_messages(released_at);
CREATE INDEX sms_messages_booking ON sms_messages(booking_id);

-- The platform's status reports, one per serial number (the first wins; a
-- repeat is counted on its message). `sms_id` NULL: a serial number of no
-- message of ours.
CREATE TABLE sms_reports (
    serial_no   TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    code        TEXT NOT NULL,
    sms_id      BIGINT,
    received_at TEXT,
    recorded_at TEXT NOT NULL
);

-- A status report finds its message by the platform's serial number, kept
-- as the queue message's remote_ref.
CREATE INDEX interface_messages_remote_ref ON interface_messages(counterpart, remote_ref);

-- Locked by each release round to its commit: one instance at a time
-- counts the limits.
INSERT INTO counters(name, value) VALUES ('sms_release', 0);
