//! Staff accounts, sessions and the registrations view (the audit log is
//! `audit.rs`).

use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::{Db, DbError, Result, next_id, parse_ts, ts};
use crate::roles::Role;

/// S1: this many failed logins lock the account for [`LOCKOUT`].
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT: Duration = Duration::minutes(15);

#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub must_change: bool,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: i64,
    pub username: String,
    pub must_change: bool,
    pub csrf: String,
    /// What the workflow pages allow (see [`crate::roles`]).
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok,
    Failed,
    Locked,
}

/// One registration as the staff page shows it (unmasked here: the web
/// layer masks before rendering).
#[derive(Debug, Clone)]
pub struct RegistrationRow {
    pub id: i64,
    pub kiosk_id: String,
    pub checked_in_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub booking_code: Option<String>,
    pub package: Option<String>,
    pub outcome: String,
    pub offline: bool,
    pub identified_by: String,
}

/// Registrations joined with their booking and person; the SQL must be a
/// literal, hence a macro.
macro_rules! select_registrations {
    ($order:literal) => {
        concat!(
            "SELECT r.id, r.kiosk_id, r.checked_in_at, r.received_at, r.outcome, r.offline, r.identified_by, ",
            "b.code, b.package, p.name, p.id_number FROM registrations r ",
            "LEFT JOIN bookings b ON b.id = r.booking_id LEFT JOIN people p ON p.id_number = b.id_number ",
            "WHERE r.received_at >= $1 AND r.id > $2 ",
            $order
        )
    };
}

impl Db {
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT count(*) FROM staff_users")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        must_change: bool,
    ) -> Result<i64> {
        let id = next_id();
        let now = ts(Utc::now());
        sqlx::query(
            "INSERT INTO staff_users(id, username, password_hash, must_change, created_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(username)
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.audit("system", "user.create", username).await?;
        Ok(id)
    }

    /// Sets a user's role; false when there is no such user.
    pub async fn set_role(&self, username: &str, role: Role) -> Result<bool> {
        let n = sqlx::query("UPDATE staff_users SET role = $2 WHERE username = $1")
            .bind(username)
            .bind(role.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 1 {
            self.audit_on("system", "user.role", username, role.as_str())
                .await?;
        }
        Ok(n == 1)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<StaffUser>> {
        let row = sqlx::query("SELECT id, username, password_hash, must_change, locked_until FROM staff_users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| -> Result<StaffUser> {
            Ok(StaffUser {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                password_hash: r.try_get("password_hash")?,
                must_change: r.try_get::<i64, _>("must_change")? != 0,
                locked_until: r
                    .try_get::<Option<String>, _>("locked_until")?
                    .as_deref()
                    .map(parse_ts)
                    .transpose()?,
            })
        })
        .transpose()
    }

    /// Counts a failed login; the fifth in a row locks the account.
    pub async fn login_failed(&self, user: &StaffUser, now: DateTime<Utc>) -> Result<LoginOutcome> {
        let row = sqlx::query("UPDATE staff_users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
            .bind(user.id)
            .fetch_one(&self.pool)
            .await?;
        let failed: i64 = row.try_get(0)?;
        self.audit(&user.username, "login.failed", &format!("attempt {failed}"))
            .await?;
        if failed >= MAX_FAILED_LOGINS {
            sqlx::query(
                "UPDATE staff_users SET failed_logins = 0, locked_until = $2 WHERE id = $1",
            )
            .bind(user.id)
            .bind(ts(now + LOCKOUT))
            .execute(&self.pool)
            .await?;
            self.audit(&user.username, "login.locked", "too many failed logins")
                .await?;
            return Ok(LoginOutcome::Locked);
        }
        Ok(LoginOutcome::Failed)
    }

    pub async fn login_succeeded(
        &self,
        user: &StaffUser,
        token_hash: &str,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO staff_sessions(token_hash, user_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)")
            .bind(token_hash)
            .bind(user.id)
            .bind(csrf)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.audit(&user.username, "login.ok", "").await
    }

    /// The session's user, if the session exists and was used within `idle`;
    /// touching it extends it. Expired sessions are deleted.
    pub async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.csrf, s.last_seen, u.username, u.must_change, u.role
               FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let last_seen = parse_ts(&r.try_get::<String, _>("last_seen")?)?;
        if last_seen + idle < now {
            self.end_session(token_hash).await?;
            return Ok(None);
        }
        // A write per request would be most of a busy desk's writes; the
        // idle limit is minutes, so touching twice a minute is exact enough.
        if now - last_seen >= Duration::seconds(30) {
            sqlx::query("UPDATE staff_sessions SET last_seen = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(ts(now))
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionUser {
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            must_change: r.try_get::<i64, _>("must_change")? != 0,
            csrf: r.try_get("csrf")?,
            role: role_of(&r.try_get::<String, _>("role")?)?,
        }))
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_password(
        &self,
        user_id: i64,
        username: &str,
        password_hash: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE staff_users SET password_hash = $2, must_change = 0, password_changed_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .bind(ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        self.audit(username, "password.changed", "").await
    }

    pub async fn count(&self, table: CountTable) -> Result<i64> {
        let sql = match table {
            CountTable::Registrations => "SELECT count(*) FROM registrations",
            CountTable::KioskEvents => "SELECT count(*) FROM kiosk_events",
            CountTable::Nonces => "SELECT count(*) FROM kiosk_nonces",
            CountTable::ReportPrints => "SELECT count(*) FROM report_prints",
        };
        Ok(sqlx::query(sql).fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Registrations received since `since`, newer than `after_id`, newest first.
    pub async fn registrations(
        &self,
        since: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<RegistrationRow>> {
        self.registrations_ordered(since, after_id, limit, false)
            .await
    }

    /// Registrations received since `since`, newer than `after_id`: the
    /// newest `limit` of them newest first (a page), or with `oldest_first`
    /// the next `limit` after `after_id` (to follow them without a gap).
    pub async fn registrations_ordered(
        &self,
        since: DateTime<Utc>,
        after_id: i64,
        limit: i64,
        oldest_first: bool,
    ) -> Result<Vec<RegistrationRow>> {
        let sql = if oldest_first {
            select_registrations!("ORDER BY r.id ASC LIMIT $3")
        } else {
            select_registrations!("ORDER BY r.id DESC LIMIT $3")
        };
        let rows = sqlx::query(sql)
            .bind(ts(since))
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RegistrationRow {
                    id: r.try_get("id")?,
                    kiosk_id: r.try_get("kiosk_id")?,
                    checked_in_at: parse_ts(&r.try_get::<String, _>("checked_in_at")?)?,
                    received_at: parse_ts(&r.try_get::<String, _>("received_at")?)?,
                    name: r.try_get("name")?,
                    id_number: r.try_get("id_number")?,
                    booking_code: r.try_get("code")?,
                    package: r.try_get("package")?,
                    outcome: r.try_get("outcome")?,
                    offline: r.try_get::<i64, _>("offline")? != 0,
                    identified_by: r.try_get("identified_by")?,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub enum CountTable {
    Registrations,
    KioskEvents,
    Nonces,
    ReportPrints,
}

/// A staff account as the administrator's page lists it (no hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountRow {
    pub username: String,
    pub role: Role,
    pub must_change: bool,
    pub locked: bool,
    pub created_at: String,
}

impl Db {
    pub async fn accounts(&self, now: DateTime<Utc>) -> Result<Vec<AccountRow>> {
        sqlx::query(
            "SELECT username, role, must_change, locked_until, created_at FROM staff_users ORDER BY username",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            let locked: Option<String> = r.try_get("locked_until")?;
            Ok(AccountRow {
                username: r.try_get("username")?,
                role: role_of(&r.try_get::<String, _>("role")?)?,
                must_change: r.try_get::<i64, _>("must_change")? != 0,
                locked: locked.is_some_and(|l| l > ts(now)),
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
    }
}

/// A stored role; only [`Role`]'s own text is ever written, so anything
/// else is a corrupt row, not an account without rights.
fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| DbError::Corrupt(format!("staff role {s:?}")))
}
