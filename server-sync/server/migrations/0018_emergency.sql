-- Emergency mode (E15; seed 000 §七 2.1): its episodes and what the desk
-- did during each. Portable SQL only (see db/mod.rs).

-- One row per episode. `state`: active, ending, closed
-- (`emergency::machine::EpisodeState`). `open_slot` is 1 while the episode
-- is not closed and NULL after: the unique index lets one open episode at a
-- time exist (NULLs never collide, on both stores). `seq_start` / `seq_end`
-- are the interface queue's `interface_seq` when it was switched on / off:
-- the messages it queued are those in between. `receipt_seq` is the last
-- emergency receipt number handed out (taken under the row's lock).
CREATE TABLE emergency_episodes (
    id                BIGINT PRIMARY KEY,
    state             TEXT NOT NULL,
    open_slot         INTEGER,
    basis             TEXT NOT NULL,
    eligibility       TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    started_by        TEXT NOT NULL,
    started_role      TEXT NOT NULL,
    reason            TEXT NOT NULL,
    override_reason   TEXT,
    leadership        TEXT,
    recovery_estimate TEXT,
    receipt_prefix    TEXT NOT NULL,
    receipt_seq       BIGINT NOT NULL,
    seq_start         BIGINT NOT NULL,
    seq_end           BIGINT,
    ended_at          TEXT,
    ended_by          TEXT,
    end_reason        TEXT,
    closed_at         TEXT
);
CREATE UNIQUE INDEX emergency_one_open ON emergency_episodes(open_slot);

-- What the desk did during an episode, written in the same transaction as
-- the fact: registrations, charges (each with its emergency receipt number)
-- and refunds, with amounts (fen) and the payment method.
CREATE TABLE emergency_entries (
    id          BIGINT PRIMARY KEY,
    episode_id  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    booking_id  BIGINT NOT NULL,
    exam_no     TEXT NOT NULL,
    amount_fen  BIGINT NOT NULL,
    method      TEXT,
    receipt_no  TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX emergency_entries_episode ON emergency_entries(episode_id);
CREATE UNIQUE INDEX emergency_entries_receipt ON emergency_entries(receipt_no);
