//! Staff sessions and the sign-in history (8.7.2 login durations). A
//! session row is either `ready` (signed in) or `second_factor` (the
//! password was right, the TOTP code is awaited: it opens nothing else).
//! Every ready session has a row in `staff_logins` that records when it
//! started and when and why it ended.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::accounts::{AccountState, role_of, state_of};
use super::oplog::log;
use super::{Db, DbError, Result, next_id, parse_ts, ts};
use crate::roles::Role;
use crate::staff_auth::policy::{EndReason, SessionLimits};

#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: i64,
    pub username: String,
    pub must_change: bool,
    pub csrf: String,
    /// What the workflow pages allow (see [`crate::roles`]).
    pub role: Role,
    /// A second factor is enrolled.
    pub totp: bool,
    /// The one campus this account works for (E14), or None: every campus.
    pub campus: Option<String>,
}

/// A session as stored, with what decides whether it is still good.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: SessionUser,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub state: AccountState,
    pub valid_until: Option<DateTime<Utc>>,
    pub access_hours: Option<String>,
    /// A TOTP secret being enrolled (base32), not yet confirmed.
    pub totp_pending: Option<String>,
}

/// A password-checked sign-in waiting for its TOTP code.
#[derive(Debug, Clone)]
pub struct PendingSecondFactor {
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub failures: i64,
}

/// Which kind of session to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Ready,
    SecondFactor,
}

/// One sign-in and how long it lasted (8.7.2). `ended_at` is None while
/// the session is open; `seconds` is then the time so far.
#[derive(Debug, Clone, Serialize)]
pub struct LoginDuration {
    pub username: String,
    pub source: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub end_reason: Option<EndReason>,
    pub seconds: i64,
}

/// Where a session's offered TOTP secret is sealed.
fn pending_ad(token_hash: &str) -> Vec<u8> {
    format!("staff_sessions.totp_pending:{token_hash}").into_bytes()
}

/// Every staff request: the session behind the cookie, with its user.
pub(crate) const SESSION_RECORD: &str = "SELECT s.user_id, s.csrf, s.created_at, s.last_seen, s.totp_pending, u.username, u.must_change,
                    u.role, u.state, u.valid_until, u.access_hours, u.totp_secret, u.campus
               FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
              WHERE s.token_hash = $1 AND s.stage = 'ready'";
/// Every request of the user's own: the session was used now.
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE staff_sessions SET last_seen = $2 WHERE token_hash = $1";

impl Db {
    /// Opens a session. A ready one is a sign-in: its `staff_logins` row,
    /// the account's count and time of last sign-in, and the audit line
    /// are written with it.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_session(
        &self,
        user_id: i64,
        username: &str,
        token_hash: &str,
        csrf: &str,
        source: &str,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let login_id = match stage {
            Stage::SecondFactor => None,
            Stage::Ready => {
                let id = next_id();
                sqlx::query(
                    "INSERT INTO staff_logins(id, user_id, username, source, started_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(user_id)
                .bind(username)
                .bind(source)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE staff_users SET failed_logins = 0, login_count = login_count + 1, last_login_at = $2
                      WHERE id = $1",
                )
                .bind(user_id)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                log(
                    &mut tx,
                    username,
                    "login.ok",
                    username,
                    &format!("from {source}"),
                )
                .await?;
                Some(id)
            }
        };
        sqlx::query(
            "INSERT INTO staff_sessions(token_hash, user_id, csrf, created_at, last_seen, stage, login_id, source)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(ts(now))
        .bind(match stage {
            Stage::Ready => "ready",
            Stage::SecondFactor => "second_factor",
        })
        .bind(login_id)
        .bind(source)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ready session behind `token_hash`, as stored (the caller decides
    /// whether it is still good: see `staff_auth::session`).
    pub async fn session_record(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(SESSION_RECORD)
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            user: SessionUser {
                user_id: r.try_get("user_id")?,
                username: r.try_get("username")?,
                must_change: r.try_get::<i64, _>("must_change")? != 0,
                csrf: r.try_get("csrf")?,
                role: role_of(&r.try_get::<String, _>("role")?)?,
                totp: r.try_get::<Option<String>, _>("totp_secret")?.is_some(),
                campus: r.try_get("campus")?,
            },
            created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
            last_seen: parse_ts(&r.try_get::<String, _>("last_seen")?)?,
            state: state_of(&r.try_get::<String, _>("state")?)?,
            valid_until: r
                .try_get::<Option<String>, _>("valid_until")?
                .as_deref()
                .map(parse_ts)
                .transpose()?,
            access_hours: r.try_get("access_hours")?,
            totp_pending: r
                .try_get::<Option<String>, _>("totp_pending")?
                .map(|s| self.keys.open_string(&s, &pending_ad(token_hash)))
                .transpose()?,
        }))
    }

    /// A user request: the session was used at `now`.
    pub async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        // Two a minute per user: joins the group commit rather than
        // taking a flush of its own.
        let mut w = self.write().await?;
        let r = sqlx::query(TOUCH_SESSION)
            .bind(token_hash)
            .bind(ts(now))
            .execute(&mut **w.tx())
            .await
            .map(|_| ())
            .map_err(DbError::from);
        w.finish(r).await
    }

    /// Ends a session (any stage): its login row gets its end.
    pub async fn end_session(
        &self,
        token_hash: &str,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let login: Option<Option<i64>> =
            sqlx::query("SELECT login_id FROM staff_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        if let Some(Some(id)) = login {
            sqlx::query(
                "UPDATE staff_logins SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL",
            )
            .bind(id)
            .bind(ts(at))
            .bind(reason.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of `user_id` except `keep` (a password change
    /// ends the others; an account change ends all).
    pub async fn end_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&str>,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        let tokens: Vec<String> =
            sqlx::query("SELECT token_hash FROM staff_sessions WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        let mut n = 0;
        for t in tokens.iter().filter(|t| Some(t.as_str()) != keep) {
            self.end_session(t, reason, at).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Ends every session past its idle or absolute limit at the moment it
    /// expired (the pruner calls this, so a session nobody comes back to
    /// still gets its end in the login history).
    pub async fn end_stale_sessions(
        &self,
        now: DateTime<Utc>,
        limits: SessionLimits,
    ) -> Result<usize> {
        let rows = sqlx::query("SELECT token_hash, created_at, last_seen FROM staff_sessions")
            .fetch_all(&self.pool)
            .await?;
        let mut n = 0;
        for r in rows {
            let created = parse_ts(&r.try_get::<String, _>("created_at")?)?;
            let seen = parse_ts(&r.try_get::<String, _>("last_seen")?)?;
            if let Some((why, at)) = limits.ended(created, seen, now) {
                self.end_session(&r.try_get::<String, _>("token_hash")?, why, at)
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The sign-in waiting for its second factor behind `token_hash`.
    pub async fn pending_second_factor(
        &self,
        token_hash: &str,
    ) -> Result<Option<PendingSecondFactor>> {
        let row = sqlx::query(
            "SELECT user_id, created_at, stage_failures FROM staff_sessions
              WHERE token_hash = $1 AND stage = 'second_factor'",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<PendingSecondFactor> {
            Ok(PendingSecondFactor {
                user_id: r.try_get("user_id")?,
                created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                failures: r.try_get::<i64, _>("stage_failures")?,
            })
        })
        .transpose()
    }

    /// A wrong second-factor code: the count so far.
    pub async fn second_factor_failed(&self, token_hash: &str) -> Result<i64> {
        let r = sqlx::query(
            "UPDATE staff_sessions SET stage_failures = stage_failures + 1 WHERE token_hash = $1
             RETURNING stage_failures",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(i64::MAX))
    }

    /// A TOTP secret offered to the session for enrolment (None: withdrawn).
    pub async fn set_totp_pending(&self, token_hash: &str, secret: Option<&str>) -> Result<()> {
        let sealed = secret
            .map(|s| self.keys.seal_str(s, &pending_ad(token_hash)))
            .transpose()?;
        sqlx::query("UPDATE staff_sessions SET totp_pending = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Has `username` signed in from `source` since `since`? (Rule 4 of the
    /// sign-in limits: such an address may still try an account under attack.)
    pub async fn known_source(
        &self,
        username: &str,
        source: &str,
        since: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 FROM staff_logins WHERE username = $1 AND source = $2 AND started_at >= $3 LIMIT 1",
        )
        .bind(username)
        .bind(source)
        .bind(ts(since))
        .fetch_optional(&self.read)
        .await?
        .is_some())
    }

    /// 8.7.2: sign-ins that started in `[from, to)`, of `username` if given,
    /// newest first, at most `limit`: who, from where, when it started and
    /// ended, why it ended, and how long it lasted in seconds (open
    /// sessions: so far, measured to `now`).
    pub async fn login_durations(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        username: Option<&str>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<LoginDuration>> {
        let rows = sqlx::query(
            "SELECT username, source, started_at, ended_at, end_reason FROM staff_logins
              WHERE started_at >= $1 AND started_at < $2 AND ($3 = '' OR username = $3)
              ORDER BY started_at DESC, id DESC LIMIT $4",
        )
        .bind(ts(from))
        .bind(ts(to))
        .bind(username.unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let started: String = r.try_get("started_at")?;
                let ended: Option<String> = r.try_get("ended_at")?;
                let end = ended.as_deref().map(parse_ts).transpose()?.unwrap_or(now);
                Ok(LoginDuration {
                    username: r.try_get("username")?,
                    source: r.try_get("source")?,
                    seconds: (end - parse_ts(&started)?).num_seconds().max(0),
                    started_at: started,
                    ended_at: ended,
                    end_reason: r
                        .try_get::<Option<String>, _>("end_reason")?
                        .as_deref()
                        .and_then(EndReason::parse),
                })
            })
            .collect()
    }
}
