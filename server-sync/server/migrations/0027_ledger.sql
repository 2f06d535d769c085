-- 财务收入独立核算 (E14): every sum of money taken or given back, one line
-- each, under the campus of its visit and the business day it happened
-- (the centre's local date), written in the transaction that took or
-- returned it. `entry`: charge or refund; `method`: cash, card, wechat,
-- alipay (the desk's terminal) or platform (the unified payment platform,
-- at a kiosk or the desk's QR); `reference`: the platform's order or
-- refund number. Lines are never changed: a refund is a line of its own.
-- Portable SQL only (see db/mod.rs).
CREATE TABLE ledger (
    id         BIGINT PRIMARY KEY,
    campus     TEXT NOT NULL,
    day        TEXT NOT NULL,
    at         TEXT NOT NULL,
    booking_id BIGINT NOT NULL,
    entry      TEXT NOT NULL CHECK (entry IN ('charge', 'refund')),
    method     TEXT NOT NULL CHECK (method IN ('cash', 'card', 'wechat', 'alipay', 'platform')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    by_user    TEXT NOT NULL,
    reference  TEXT
);
CREATE INDEX ledger_day ON ledger(day, campus);
CREATE INDEX ledger_booking ON ledger(booking_id);
