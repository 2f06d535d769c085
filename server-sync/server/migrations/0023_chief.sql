-- Issue 20 (E8, E9): the chief examination. One report per visit: its
-- state, grade and chief physician in clear (the worklist is read by
-- them); its conclusions sealed (`chief_reports.conclusions|<booking>`).
CREATE TABLE chief_reports (
    booking_id  BIGINT PRIMARY KEY,
    state       TEXT NOT NULL,
    grade       INTEGER NOT NULL,
    physician   TEXT,
    conclusions TEXT NOT NULL,
    version     INTEGER NOT NULL,
    locked_by   TEXT,
    reviewed_by TEXT,
    report_id   BIGINT,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX chief_reports_state ON chief_reports(state, physician);

-- Each return by a reviewer (item 60's statistics per physician and reason);
-- its note sealed (`chief_returns.note|<id>`).
CREATE TABLE chief_returns (
    id         BIGINT PRIMARY KEY,
    booking_id BIGINT NOT NULL,
    physician  TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    note       TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX chief_returns_physician ON chief_returns(physician, reason);

-- Who does the chief examination, the hardest grade each takes, who may
-- review (总审), and the signature image (PNG, base64) printed on reviewed
-- reports.
CREATE TABLE chief_physicians (
    login     TEXT PRIMARY KEY,
    level     INTEGER NOT NULL,
    reviewer  INTEGER NOT NULL,
    signature TEXT
);

-- E6 (item 31): a visit's medical history, and each department's
-- questionnaire answers; both sealed (`medical_histories.history|<booking>`,
-- `questionnaire_answers.answers|<booking>|<department>`).
CREATE TABLE medical_histories (
    booking_id BIGINT PRIMARY KEY,
    history    TEXT NOT NULL,
    written_by TEXT NOT NULL,
    written_at TEXT NOT NULL
);

CREATE TABLE questionnaire_answers (
    booking_id BIGINT NOT NULL,
    department TEXT NOT NULL,
    answers    TEXT NOT NULL,
    written_by TEXT NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (booking_id, department)
);

-- E9: each hand-over of a published report (to the person, a proxy, the
-- company, by post); who took it and their signature sealed
-- (`report_handovers.detail|<id>`, `report_handovers.signature|<id>`).
CREATE TABLE report_handovers (
    id         BIGINT PRIMARY KEY,
    booking_id BIGINT NOT NULL,
    report_id  BIGINT NOT NULL,
    receiver   TEXT NOT NULL,
    detail     TEXT NOT NULL,
    signature  TEXT,
    by_user    TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX report_handovers_booking ON report_handovers(booking_id);
