-- Published exam reports (体检报告, E9 / K9): the PDF the report office
-- publishes for a visit, base64. Publishing again withdraws the earlier
-- version; a withdrawn report is kept (who, when, why) but no kiosk lists
-- it any more.
CREATE TABLE reports (
    id              BIGINT PRIMARY KEY,
    booking_id      BIGINT NOT NULL,
    title           TEXT NOT NULL,
    pages           BIGINT NOT NULL,
    pdf             TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    published_by    TEXT NOT NULL,
    withdrawn_at    TEXT,
    withdrawn_by    TEXT,
    withdraw_reason TEXT
);
CREATE INDEX reports_booking ON reports(booking_id);

-- Each print of a report at a kiosk, from its `report_printed` event.
CREATE TABLE report_prints (
    event_id   TEXT PRIMARY KEY,
    report_id  BIGINT NOT NULL,
    kiosk_id   TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    pages      BIGINT NOT NULL,
    printed_at TEXT NOT NULL
);
CREATE INDEX report_prints_report ON report_prints(report_id);
