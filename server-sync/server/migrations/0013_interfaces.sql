-- Hospital interfaces (I1-I3, E15): the durable outbound queue, the lease
-- that lets one service instance at a time send a counterpart's messages,
-- what each item of a visit has ordered and received, the HIS patient ids,
-- and the inbound log. Portable SQL only (see db/mod.rs).

-- One row per message to a counterpart (his, lis, pacs, ...). `idem_key` is
-- the message's identity: the same fact never enqueues it twice, and the
-- counterpart sees it as the control id / idempotency key on every attempt.
-- `seq` comes from the row-locked counter `interface_seq` taken inside the
-- fact's transaction, so it is commit order: a counterpart's messages go
-- out by `seq`. `payload` is sealed JSON (patient data). States: pending,
-- sending, sent, acked, retrying, dead (`interfaces::MessageState`).
-- `failures` counts answers that refused the message (dead after
-- `[interfaces] max_failures`); `attempts` counts every try, outages too.
CREATE TABLE interface_messages (
    id              BIGINT PRIMARY KEY,
    seq             BIGINT NOT NULL,
    counterpart     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    idem_key        TEXT NOT NULL UNIQUE,
    booking_id      BIGINT,
    item_code       TEXT,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    failing_since   TEXT,
    last_error      TEXT,
    lease_holder    TEXT,
    lease_until     TEXT,
    remote_ref      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    acked_at        TEXT,
    dead_at         TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX interface_messages_line ON interface_messages(counterpart, state, seq);
CREATE INDEX interface_messages_booking ON interface_messages(booking_id);

INSERT INTO counters(name, value) VALUES ('interface_seq', 0);

-- Who sends a counterpart's line: taken by a conditional UPDATE (held by
-- `holder`, or expired), so two instances never send it at once.
CREATE TABLE interface_leases (
    counterpart TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    until       TEXT NOT NULL
);

-- Per item of a visit: where its order goes, the order's generation (an
-- order cancelled and due again is a new order number), whether an order is
-- live, whether HIS was charged and refunded, and what came back.
CREATE TABLE interface_items (
    booking_id  BIGINT NOT NULL,
    item_code   TEXT NOT NULL,
    counterpart TEXT,
    generation  INTEGER NOT NULL,
    order_no    TEXT,
    ordered     INTEGER NOT NULL,
    charged     INTEGER NOT NULL,
    refunded    INTEGER NOT NULL,
    result      TEXT NOT NULL,
    result_at   TEXT,
    PRIMARY KEY (booking_id, item_code)
);
CREATE INDEX interface_items_order ON interface_items(order_no);

-- HIS's patient id (建档), kept once HIS answered the patient record.
CREATE TABLE interface_patients (
    person_key     TEXT PRIMARY KEY,
    his_patient_id TEXT NOT NULL,
    recorded_at    TEXT NOT NULL
);

-- What counterparts send us (results, image reports, ACKs): each kept once,
-- by its control id and by its content (a result sent again under a new
-- control id). `payload` is sealed.
CREATE TABLE interface_inbound (
    id           BIGINT PRIMARY KEY,
    counterpart  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    control_id   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    order_no     TEXT,
    booking_id   BIGINT,
    item_code    TEXT,
    status       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (counterpart, control_id),
    UNIQUE (counterpart, content_hash)
);
CREATE INDEX interface_inbound_booking ON interface_inbound(booking_id);

-- The catalogue says where an item's order goes: a counterpart, 'none', or
-- NULL (not decided yet: set from the item's department at start).
ALTER TABLE exam_items ADD COLUMN counterpart TEXT;
