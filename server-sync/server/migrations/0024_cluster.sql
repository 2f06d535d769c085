-- Several instances of the service on one store (issue 21, R1 / R2).
-- Portable SQL only (see db/mod.rs).

-- One table of leases for everything that must run once across instances:
-- the interfaces' lines (named by counterpart, as before), the background
-- jobs (`job.<name>`) and the instances' id nodes (`node.<n>`). Taken by a
-- conditional UPDATE (held by `holder`, or expired): the store's row lock
-- decides between instances on every engine.
ALTER TABLE interface_leases RENAME TO leases;
ALTER TABLE leases RENAME COLUMN counterpart TO name;

-- What changed, for the live pages of every instance: a row per change
-- (topic: `registrations`, `queue.<campus>`), read by each instance from its
-- cursor (ids are time-ordered; see cluster::feed for commits that land
-- out of id order). Rows older than an hour are pruned.
CREATE TABLE change_log (
    id      BIGINT PRIMARY KEY,
    topic   TEXT NOT NULL,
    origin  TEXT NOT NULL,
    at      TEXT NOT NULL
);

-- The room screens' calls (was one instance's memory): the facts only, no
-- name (the screen masks it when it reads), numbered per campus in commit
-- order under the campus's queue counter.
CREATE TABLE queue_calls (
    campus  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    room    TEXT NOT NULL,
    named   TEXT NOT NULL,
    person  BIGINT NOT NULL,
    is_call INTEGER NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (campus, seq)
);

-- The sign-in guard's changes (limits, captchas), each instance's applied
-- by the others (staff_auth::shared). Names as digests. Pruned after an hour.
CREATE TABLE signin_events (
    id      BIGINT PRIMARY KEY,
    origin  TEXT NOT NULL,
    at      TEXT NOT NULL,
    event   TEXT NOT NULL
);
