-- The exam workflow (E1-E4, E12, E14): dictionaries, time slots with
-- capacity, items per booking, group exams, roles and a searchable
-- operation log. Portable SQL only (see db/mod.rs).

CREATE TABLE campuses (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    exam_no_prefix TEXT NOT NULL
);

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE rooms (
    campus     TEXT NOT NULL REFERENCES campuses(code),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    floor      INTEGER NOT NULL,
    department TEXT NOT NULL REFERENCES departments(code),
    PRIMARY KEY (campus, code)
);

CREATE TABLE exam_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- conflicts: JSON list of {"with", "reason"}.
CREATE TABLE exam_items (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments(code),
    room       TEXT NOT NULL,
    sex        TEXT NOT NULL,
    marital    TEXT NOT NULL,
    fasting    INTEGER NOT NULL,
    price_fen  BIGINT NOT NULL,
    sample     TEXT,
    conflicts  TEXT NOT NULL,
    position   INTEGER NOT NULL
);

-- items: JSON list of item codes.
CREATE TABLE packages (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    sex       TEXT NOT NULL,
    price_fen BIGINT NOT NULL,
    exam_type TEXT NOT NULL REFERENCES exam_types(code),
    items     TEXT NOT NULL,
    position  INTEGER NOT NULL
);

-- One row per bookable slot; `booked` only moves inside a guarded UPDATE
-- (booked < capacity), which row locks make safe under concurrency.
CREATE TABLE slots (
    campus     TEXT NOT NULL,
    exam_date  TEXT NOT NULL,
    slot_start TEXT NOT NULL,
    slot_end   TEXT NOT NULL,
    capacity   INTEGER NOT NULL,
    booked     INTEGER NOT NULL,
    PRIMARY KEY (campus, exam_date, slot_start)
);

ALTER TABLE people ADD COLUMN initials TEXT NOT NULL DEFAULT '';
CREATE INDEX people_initials ON people(initials);
CREATE INDEX people_mobile ON people(mobile);
CREATE INDEX people_name ON people(name);

ALTER TABLE bookings ADD COLUMN kind TEXT NOT NULL DEFAULT 'individual';
ALTER TABLE bookings ADD COLUMN package_code TEXT;
ALTER TABLE bookings ADD COLUMN marital TEXT NOT NULL DEFAULT 'unknown';
-- Comma-separated: vip, complaint, proxy.
ALTER TABLE bookings ADD COLUMN flags TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN member_id BIGINT;
ALTER TABLE bookings ADD COLUMN registered_at TEXT;
ALTER TABLE bookings ADD COLUMN state_reason TEXT;
ALTER TABLE bookings ADD COLUMN created_at TEXT;
-- JSON list of package items the rules left out, with reasons.
ALTER TABLE bookings ADD COLUMN excluded TEXT NOT NULL DEFAULT '[]';
CREATE INDEX bookings_slot ON bookings(campus, exam_date, slot_start);

-- signature: base64 PNG of the patient's signature for a waived item.
CREATE TABLE booking_items (
    booking_id   BIGINT NOT NULL REFERENCES bookings(id),
    item_code    TEXT NOT NULL,
    price_fen    BIGINT NOT NULL,
    from_package INTEGER NOT NULL,
    paid         INTEGER NOT NULL,
    status       TEXT NOT NULL,
    signature    TEXT,
    changed_at   TEXT NOT NULL,
    changed_by   TEXT NOT NULL,
    PRIMARY KEY (booking_id, item_code)
);

CREATE TABLE companies (
    id         BIGINT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    contact    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE exam_groups (
    id           BIGINT PRIMARY KEY,
    company_id   BIGINT NOT NULL REFERENCES companies(id),
    name         TEXT NOT NULL,
    package_code TEXT NOT NULL REFERENCES packages(code),
    sex          TEXT,
    min_age      INTEGER,
    max_age      INTEGER,
    marital      TEXT,
    discount_pct INTEGER NOT NULL,
    pay_later    INTEGER NOT NULL,
    banned       INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE group_members (
    id          BIGINT PRIMARY KEY,
    company_id  BIGINT NOT NULL REFERENCES companies(id),
    group_id    BIGINT REFERENCES exam_groups(id),
    id_number   TEXT NOT NULL REFERENCES people(id_number),
    marital     TEXT NOT NULL,
    department  TEXT,
    employee_no TEXT,
    note        TEXT,
    banned      INTEGER NOT NULL,
    booking_id  BIGINT,
    import_id   BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (company_id, id_number)
);

CREATE TABLE roster_imports (
    id         BIGINT PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    file_name  TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    data_rows  INTEGER NOT NULL,
    errors     INTEGER NOT NULL,
    imported   INTEGER NOT NULL,
    report     TEXT NOT NULL
);

ALTER TABLE staff_users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';

-- What the operation log is searched by (E12): an ID number, a booking, a company.
ALTER TABLE audit_log ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_subject ON audit_log(subject);
CREATE INDEX audit_log_actor ON audit_log(actor, at);
