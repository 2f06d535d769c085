-- Issue 18: major abnormal results (重要异常结果) raised from the
-- laboratory's results, and HIS's prices applied to the catalogue with
-- their change log. Portable SQL only (see db/mod.rs).

-- One row per major abnormal result of a visit's item. Raised when a
-- result the laboratory sent (interface_inbound, `inbound_id`) meets a rule
-- of exam_domain::abnormal or carries the laboratory's critical flag
-- (source 'interface'), or by staff (source 'manual'). Raised once per
-- visit, item, analyte and category: the same result sent again, or a
-- preliminary then its final, adds nothing; a later result that makes a
-- B an A raises the A. `value` is sealed (a person's health datum, with
-- `major_abnormal_results.value|<id>` as associated data); the category
-- and rule stay in clear for the lists. States: raised (issue 20's board
-- adds the notification steps).
CREATE TABLE major_abnormal_results (
    id           BIGINT PRIMARY KEY,
    booking_id   BIGINT NOT NULL,
    item_code    TEXT NOT NULL,
    inbound_id   BIGINT,
    analyte_code TEXT NOT NULL,
    analyte_name TEXT NOT NULL,
    value        TEXT NOT NULL,
    unit         TEXT NOT NULL,
    lab_flag     TEXT,
    category     TEXT NOT NULL,
    rule         TEXT NOT NULL,
    source       TEXT NOT NULL,
    state        TEXT NOT NULL,
    raised_by    TEXT NOT NULL,
    raised_at    TEXT NOT NULL,
    UNIQUE (booking_id, item_code, analyte_code, category)
);
CREATE INDEX major_abnormal_open ON major_abnormal_results(state, category, raised_at);
CREATE INDEX major_abnormal_booking ON major_abnormal_results(booking_id);

-- HIS's price list, fetched by the job or a staff member: one row per
-- run, with what it found (HIS's version, the HIS codes we could not map
-- and our items HIS does not list, as JSON arrays of codes).
CREATE TABLE his_price_syncs (
    id          BIGINT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT,
    his_version BIGINT,
    effective_at TEXT,
    changes     INTEGER NOT NULL,
    unmapped    TEXT NOT NULL,
    missing     TEXT NOT NULL
);

-- The change log: one row per item whose price HIS changed in a version,
-- applied to exam_items.price_fen once `effective_from` has come
-- (`applied_at` set then). Prices already booked (booking_items) never
-- change.
CREATE TABLE his_price_changes (
    id             BIGINT PRIMARY KEY,
    sync_id        BIGINT NOT NULL,
    item_code      TEXT NOT NULL,
    his_code       TEXT NOT NULL,
    old_price_fen  BIGINT NOT NULL,
    new_price_fen  BIGINT NOT NULL,
    his_version    BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    applied_at     TEXT,
    actor          TEXT NOT NULL,
    UNIQUE (item_code, his_version)
);
CREATE INDEX his_price_changes_due ON his_price_changes(applied_at, effective_from);
