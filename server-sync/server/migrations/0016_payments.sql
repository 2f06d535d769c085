-- The unified payment platform (K16, I4; seed 000 §1.4): local orders made
-- before the platform hears of them, the items each one pays, refunds by
-- merchant refund number, the log of the platform's notifications, and the
-- daily bill's reconciliation runs with every difference. Portable SQL only.

-- One row per merchant order. `state` is exam_payment::OrderState
-- (created, paying, paid, closed, partially_refunded, refunded, mismatch);
-- `version` is bumped by every change, which is also how a change takes the
-- row's lock first (UPDATE ... SET version = version + 1). Amounts in fen,
-- computed by the service from the store, never taken from a kiosk.
CREATE TABLE payment_orders (
    out_trade_no     TEXT PRIMARY KEY,
    amount_fen       BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    kiosk_id         TEXT,
    created_by       TEXT NOT NULL,
    state            TEXT NOT NULL,
    code_url         TEXT,
    expires_at       TEXT NOT NULL,
    transaction_id   TEXT,
    success_time     TEXT,
    paid_at          TEXT,
    mismatch         TEXT,
    paid_after_close INTEGER NOT NULL,
    -- The order's items could not all be marked paid (changed or paid by
    -- another order meanwhile): its money is given back in full.
    auto_refund      INTEGER NOT NULL,
    notified_at      TEXT,
    last_query_at    TEXT,
    closed_at        TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX payment_orders_state ON payment_orders(state, created_at);

-- What an order pays: the visit's unpaid active items when it was made.
CREATE TABLE payment_order_items (
    out_trade_no TEXT NOT NULL REFERENCES payment_orders(out_trade_no),
    booking_id   BIGINT NOT NULL,
    item_code    TEXT NOT NULL,
    price_fen    BIGINT NOT NULL,
    PRIMARY KEY (out_trade_no, booking_id, item_code)
);
CREATE INDEX payment_order_items_item ON payment_order_items(booking_id, item_code);

-- Refunds: the number is decided and stored before the platform is asked,
-- so every retry sends the same out_refund_no. `state` is
-- exam_payment::order::LocalRefundState (requested, processing, success,
-- closed, abnormal).
CREATE TABLE payment_refunds (
    out_refund_no TEXT PRIMARY KEY,
    out_trade_no  TEXT NOT NULL REFERENCES payment_orders(out_trade_no),
    seq           INTEGER NOT NULL,
    amount_fen    BIGINT NOT NULL,
    state         TEXT NOT NULL,
    refund_id     TEXT,
    success_time  TEXT,
    booking_id    BIGINT,
    item_code     TEXT,
    reason        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX payment_refunds_order ON payment_refunds(out_trade_no);

-- Every notification that verified, once per platform notification id
-- (a resend carries the same id); `outcome` is what applying it did.
CREATE TABLE payment_notifications (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    out_trade_no  TEXT NOT NULL,
    out_refund_no TEXT,
    outcome       TEXT NOT NULL,
    deliveries    INTEGER NOT NULL,
    received_at   TEXT NOT NULL,
    last_at       TEXT NOT NULL
);

-- One reconciliation of a day's bill (days in China Standard Time); a
-- day may be run again (a late bill, a fixed difference): each run kept.
CREATE TABLE payment_reconciliations (
    id               BIGINT PRIMARY KEY,
    bill_day         TEXT NOT NULL,
    run_at           TEXT NOT NULL,
    run_by           TEXT NOT NULL,
    bill_rows        INTEGER NOT NULL,
    matched_payments INTEGER NOT NULL,
    matched_refunds  INTEGER NOT NULL,
    differences      INTEGER NOT NULL,
    error            TEXT
);
CREATE INDEX payment_reconciliations_day ON payment_reconciliations(bill_day, run_at);

CREATE TABLE payment_differences (
    run_id        BIGINT NOT NULL REFERENCES payment_reconciliations(id),
    n             INTEGER NOT NULL,
    out_trade_no  TEXT NOT NULL,
    out_refund_no TEXT,
    cause         TEXT NOT NULL,
    detail        TEXT NOT NULL,
    PRIMARY KEY (run_id, n)
);
