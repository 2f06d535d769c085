-- Issue 20: department results (分科结果, E6). Portable SQL only.

-- One row per visit item entered: the values (sealed JSON: field code to
-- exam_domain::results::Value, `item_results.entry|<booking>|<item>`), how
-- many were abnormal (in clear: the chief examination grades by it), where
-- it came from ('department': typed at the department page; 'manual': a
-- laboratory, ECG or imaging result typed by hand until its interface
-- delivers it), who entered it and when, and a version that counts
-- re-entries (each one audited).
CREATE TABLE item_results (
    booking_id  BIGINT NOT NULL,
    item_code   TEXT NOT NULL,
    department  TEXT NOT NULL,
    entry       TEXT NOT NULL,
    abnormal    INTEGER NOT NULL,
    source      TEXT NOT NULL,
    entered_by  TEXT NOT NULL,
    entered_at  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (booking_id, item_code)
);
CREATE INDEX item_results_department ON item_results(booking_id, department);

-- One row per visit and department: the summary (小结) as saved and its
-- conclusions (both sealed: a JSON list of dictionary codes), the
-- conclusions' weights in clear (a JSON list of 1-3: the chief
-- examination's worklist grades by them without opening anything).
CREATE TABLE department_summaries (
    booking_id  BIGINT NOT NULL,
    department  TEXT NOT NULL,
    summary     TEXT NOT NULL,
    conclusions TEXT NOT NULL,
    weights     TEXT NOT NULL,
    written_by  TEXT NOT NULL,
    written_at  TEXT NOT NULL,
    PRIMARY KEY (booking_id, department)
);

-- Major abnormal results' way (E7): raised -> reviewed -> notified ->
-- closed, or dismissed with a reason (exam_domain::abnormal_case). When
-- the patient was reached and when it closed, in clear for the board's
-- timers; each step one row: what was done (sealed JSON of the action:
-- its notes are medical, `major_abnormal_steps.detail|<id>`), the state
-- after, who and when.
ALTER TABLE major_abnormal_results ADD COLUMN notified_at TEXT;
ALTER TABLE major_abnormal_results ADD COLUMN closed_at TEXT;
CREATE TABLE major_abnormal_steps (
    id          BIGINT PRIMARY KEY,
    result_id   BIGINT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    state_after TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX major_abnormal_steps_result ON major_abnormal_steps(result_id, at);
