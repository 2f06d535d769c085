-- 排队叫号 (issue 19, Q1–Q6). Portable SQL only (see db/mod.rs).
--
-- The queue's log: every event the engine took, in order, per campus and
-- day. The engine's state is the replay of this log (exam_domain::queue is
-- deterministic), so any instance rebuilds it, and one that is behind reads
-- on from its cursor (`id`).
CREATE TABLE queue_events (
    id         BIGINT PRIMARY KEY,
    campus     TEXT NOT NULL,
    day        TEXT NOT NULL,
    at         TEXT NOT NULL,
    by_user    TEXT NOT NULL,
    event      TEXT NOT NULL
);
CREATE INDEX queue_events_day ON queue_events(campus, day, id);

-- Who waited where, how long: a move ends one entry and starts the next
-- (the OpenMRS queue module's model). `state`: waiting, called, done,
-- no_show, moved, left. `called_at` is set when the room called them.
CREATE TABLE queue_entries (
    id         BIGINT PRIMARY KEY,
    campus     TEXT NOT NULL,
    day        TEXT NOT NULL,
    booking_id BIGINT NOT NULL,
    room       TEXT NOT NULL,
    state      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    called_at  TEXT,
    ended_at   TEXT,
    by_user    TEXT
);
CREATE INDEX queue_entries_booking ON queue_entries(booking_id, ended_at);
CREATE INDEX queue_entries_room ON queue_entries(campus, day, room, state);

-- A room's queue settings (the catalogue names the room; these say how it
-- queues): doctors' desks, minutes per person, pre-queue (预排).
CREATE TABLE queue_rooms (
    campus     TEXT NOT NULL,
    code       TEXT NOT NULL,
    desks      INTEGER NOT NULL,
    minutes    INTEGER NOT NULL,
    prequeue   INTEGER NOT NULL,
    PRIMARY KEY (campus, code)
);

-- Per campus: the rules (JSON of exam_domain::queue::Rules) and the room
-- screens' look (JSON), set on /admin.
CREATE TABLE queue_settings (
    campus     TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (campus, name)
);

-- The doctor's rating after a room (Q6): once per visit and room.
CREATE TABLE queue_ratings (
    booking_id BIGINT NOT NULL,
    room       TEXT NOT NULL,
    stars      INTEGER NOT NULL,
    remark     TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (booking_id, room)
);

-- Who joined the day's queue (registered at the desk, or checked in at a
-- kiosk and reached the service): joined once per day.
CREATE TABLE queue_people (
    campus     TEXT NOT NULL,
    day        TEXT NOT NULL,
    booking_id BIGINT NOT NULL,
    joined_at  TEXT NOT NULL,
    PRIMARY KEY (day, booking_id)
);
