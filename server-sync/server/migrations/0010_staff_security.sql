-- Staff account security (S1, S7; seed 002 §(九) 1.7-1.20, 8.7.2).
--
-- `role` loses its default of 'admin' (0004 added it with one): an INSERT
-- that forgets the role now fails instead of making an administrator, and
-- a CHECK names the roles. Neither SQLite nor portable SQL can change a
-- column's default or add a CHECK in place, so staff_users is rebuilt: a
-- new table, the rows copied, the old one dropped, the new one renamed
-- (the same statements on both stores). staff_sessions refers to
-- staff_users, so it goes first and is recreated with what sessions now
-- keep: everyone signs in again after this migration.

DROP TABLE staff_sessions;

CREATE TABLE staff_users_rebuilt (
    id                  BIGINT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    must_change         INTEGER NOT NULL,
    -- why: 'first' (one-time password), 'weak', 'expired', 'reset'
    must_change_reason  TEXT,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'front_desk', 'group_desk', 'auditor')),
    -- 1.18: 停用 (disabled, may be enabled again) and 注销 (closed for good)
    state               TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled', 'closed')),
    state_changed_at    TEXT,
    state_changed_by    TEXT,
    -- 1.17: the account stops working at this instant (NULL: no end)
    valid_until         TEXT,
    -- 1.18: daily hours it may be used in, "08:00-18:00" local (NULL: any time)
    access_hours        TEXT,
    -- 1.20: the TOTP secret once confirmed (sealed with the data key, bound
    -- to the row), and the last time step used (a code works once)
    totp_secret         TEXT,
    totp_last_step      BIGINT,
    -- 1.18: the query columns
    login_count         BIGINT NOT NULL DEFAULT 0,
    last_login_at       TEXT,
    updated_at          TEXT NOT NULL
);

INSERT INTO staff_users_rebuilt (id, username, password_hash, must_change, must_change_reason,
        failed_logins, created_at, password_changed_at, role, state, updated_at)
    SELECT id, username, password_hash, must_change,
           CASE WHEN must_change <> 0 THEN 'first' ELSE NULL END,
           failed_logins, created_at, password_changed_at, role, 'active', created_at
      FROM staff_users;

DROP TABLE staff_users;
ALTER TABLE staff_users_rebuilt RENAME TO staff_users;
CREATE INDEX staff_users_state ON staff_users(state);

-- A session: `stage` 'second_factor' is a password that was right, waiting
-- for the TOTP code; it opens nothing else. `login_id` is its row in
-- staff_logins once it is a real session.
CREATE TABLE staff_sessions (
    token_hash     TEXT PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES staff_users(id),
    csrf           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    stage          TEXT NOT NULL CHECK (stage IN ('ready', 'second_factor')),
    stage_failures INTEGER NOT NULL DEFAULT 0,
    login_id       BIGINT,
    source         TEXT NOT NULL,
    -- a TOTP secret being enrolled (sealed), until a code from it is confirmed
    totp_pending   TEXT
);
CREATE INDEX staff_sessions_user ON staff_sessions(user_id);

-- 1.9: earlier password hashes, so a new password repeats none of the last N.
CREATE TABLE staff_password_history (
    user_id       BIGINT NOT NULL REFERENCES staff_users(id),
    password_hash TEXT NOT NULL,
    changed_at    TEXT NOT NULL
);
CREATE INDEX staff_password_history_user ON staff_password_history(user_id, changed_at);

-- 8.7.2: every sign-in with its start and end (logout, idle, absolute
-- limit, password change, account change, outside hours).
CREATE TABLE staff_logins (
    id         BIGINT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    username   TEXT NOT NULL,
    source     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    end_reason TEXT CHECK (end_reason IN ('logout', 'idle', 'absolute', 'password_changed', 'account_changed', 'outside_hours'))
);
CREATE INDEX staff_logins_started ON staff_logins(started_at);
CREATE INDEX staff_logins_user ON staff_logins(username, started_at);
