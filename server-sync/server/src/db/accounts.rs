//! Staff accounts (S1, seed 002 §(九) 1.7–1.20): the account row, its
//! password and password history, its second factor, its state and
//! validity, and the administrator's queries over all of them. Every change
//! writes its audit line in the same transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::oplog::log;
use super::{Db, DbError, Result, next_id, parse_ts, ts};
use crate::roles::Role;

/// 1.18: an account is active, disabled (停用, may be enabled again) or
/// closed (注销, for good: the name stays taken, the history kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Active,
    Disabled,
    Closed,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Disabled => "disabled",
            AccountState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Disabled, Self::Closed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            AccountState::Active => "正常",
            AccountState::Disabled => "已停用",
            AccountState::Closed => "已注销",
        }
    }
}

/// Why a password must be changed before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// The one-time password of a new account.
    First,
    /// The password typed at sign-in breaks the policy (1.8).
    Weak,
    /// Older than the configured period (1.9).
    Expired,
    /// An administrator reset it.
    Reset,
}

impl ChangeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeReason::First => "first",
            ChangeReason::Weak => "weak",
            ChangeReason::Expired => "expired",
            ChangeReason::Reset => "reset",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::First, Self::Weak, Self::Expired, Self::Reset]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            ChangeReason::First => {
                "首次登录请先修改初始密码。/ Please replace the one-time password before going on."
            }
            ChangeReason::Weak => {
                "当前密码不符合密码强度要求（弱口令），请立即修改。/ Your password is too weak: change it now."
            }
            ChangeReason::Expired => {
                "密码已到期，请修改后继续。/ Your password has expired: change it to go on."
            }
            ChangeReason::Reset => {
                "管理员已重置您的密码，请设置新密码。/ An administrator reset your password: set a new one."
            }
        }
    }
}

/// A staff account as sign-in and the password page need it.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub must_change: bool,
    pub change_reason: Option<ChangeReason>,
    pub role: Role,
    pub state: AccountState,
    pub valid_until: Option<DateTime<Utc>>,
    pub access_hours: Option<String>,
    /// The confirmed TOTP secret (base32).
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub password_changed_at: DateTime<Utc>,
    /// The one campus the account works for, or None: every campus.
    pub campus: Option<String>,
}

/// A staff account as the administrator's page lists it (no hash, no secret).
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub username: String,
    pub role: Role,
    pub state: AccountState,
    /// Past its validity (1.17): stopped whatever `state` says.
    pub expired: bool,
    pub must_change: bool,
    pub failed_logins: i64,
    pub created_at: String,
    pub login_count: i64,
    pub last_login_at: Option<String>,
    pub password_changed_at: String,
    /// 末次维护: the last change to the account by anyone.
    pub updated_at: String,
    pub valid_until: Option<String>,
    pub access_hours: Option<String>,
    pub totp: bool,
    pub state_changed_at: Option<String>,
    pub state_changed_by: Option<String>,
    /// 院区: the one campus the account works for, or None: every campus.
    pub campus: Option<String>,
}

/// A stored role; only [`Role`]'s own text is ever written, so anything
/// else is a corrupt row, not an account without rights.
pub(super) fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| DbError::Corrupt(format!("staff role {s:?}")))
}

pub(super) fn state_of(s: &str) -> Result<AccountState> {
    AccountState::parse(s).ok_or_else(|| DbError::Corrupt(format!("account state {s:?}")))
}

fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

const USER_COLUMNS: &str = "id, username, password_hash, must_change, must_change_reason, role, state, \
     valid_until, access_hours, totp_secret, totp_last_step, password_changed_at, campus";

/// Where a TOTP secret is sealed (bound to its row, so a sealed value
/// copied to another account does not open).
fn totp_ad(user_id: i64) -> Vec<u8> {
    format!("staff_users.totp_secret:{user_id}").into_bytes()
}

fn staff_user(r: &AnyRow, keys: &exam_vault::KeyRing) -> Result<StaffUser> {
    let id: i64 = r.try_get("id")?;
    // Sealed at rest (S2: a key is never stored in clear).
    let totp_secret = r
        .try_get::<Option<String>, _>("totp_secret")?
        .map(|s| keys.open_string(&s, &totp_ad(id)))
        .transpose()?;
    Ok(StaffUser {
        id,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        must_change: r.try_get::<i64, _>("must_change")? != 0,
        change_reason: r
            .try_get::<Option<String>, _>("must_change_reason")?
            .as_deref()
            .and_then(ChangeReason::parse),
        role: role_of(&r.try_get::<String, _>("role")?)?,
        state: state_of(&r.try_get::<String, _>("state")?)?,
        valid_until: opt_ts(r, "valid_until")?,
        access_hours: r.try_get("access_hours")?,
        totp_secret,
        totp_last_step: r.try_get("totp_last_step")?,
        password_changed_at: parse_ts(&r.try_get::<String, _>("password_changed_at")?)?,
        campus: r.try_get("campus")?,
    })
}

impl Db {
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT count(*) FROM staff_users")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// A new account with its role (the column has no default: an account
    /// is never an administrator by omission) and, when bound to one, its
    /// campus (the caller checks the code against the catalogue).
    pub async fn create_user(
        &self,
        actor: &str,
        username: &str,
        password_hash: &str,
        must_change: bool,
        role: Role,
        campus: Option<&str>,
    ) -> Result<i64> {
        let id = next_id();
        let now = ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO staff_users(id, username, password_hash, must_change, must_change_reason, role,
                                     state, created_at, password_changed_at, updated_at, campus)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7, $7, $8)",
        )
        .bind(id)
        .bind(username)
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(must_change.then_some(ChangeReason::First.as_str()))
        .bind(role.as_str())
        .bind(&now)
        .bind(campus)
        .execute(&mut *tx)
        .await?;
        let detail = match campus {
            Some(c) => format!("{} campus={c}", role.as_str()),
            None => role.as_str().to_string(),
        };
        log(&mut tx, actor, "user.create", username, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets a user's role; false when there is no such user.
    pub async fn set_role(&self, username: &str, role: Role) -> Result<bool> {
        self.set_role_by("system", username, role).await
    }

    pub async fn set_role_by(&self, actor: &str, username: &str, role: Role) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n =
            sqlx::query("UPDATE staff_users SET role = $2, updated_at = $3 WHERE username = $1")
                .bind(username)
                .bind(role.as_str())
                .bind(ts(Utc::now()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n == 1 {
            log(&mut tx, actor, "user.role", username, role.as_str()).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Binds an account to one campus, or with None to every campus;
    /// false when there is no such user. Takes effect at the account's next
    /// request (every request reads it with the session).
    pub async fn set_account_campus(
        &self,
        actor: &str,
        username: &str,
        campus: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n =
            sqlx::query("UPDATE staff_users SET campus = $2, updated_at = $3 WHERE username = $1")
                .bind(username)
                .bind(campus)
                .bind(ts(Utc::now()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n == 1 {
            log(
                &mut tx,
                actor,
                "user.campus",
                username,
                campus.unwrap_or("*"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<StaffUser>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM staff_users WHERE username = $1");
        // The readers: a sign-in flood does not queue behind the one writer.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(|r| staff_user(r, &self.keys)).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<StaffUser>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM staff_users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| staff_user(r, &self.keys)).transpose()
    }

    /// Counts a failed sign-in (or current-password check) of an existing
    /// account and audits it; `locked` says the limiter locked the address out.
    pub async fn login_failed(&self, user: &StaffUser, detail: &str, locked: bool) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let failed: i64 = sqlx::query(
            "UPDATE staff_users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(user.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        log(
            &mut tx,
            &user.username,
            "login.failed",
            &user.username,
            &format!("{detail}; failures in a row {failed}"),
        )
        .await?;
        if locked {
            // 8.7.3: the lock itself is a security event of its own.
            log(
                &mut tx,
                &user.username,
                "login.locked",
                &user.username,
                detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A new password: the old hash goes to the history (only the newest
    /// `keep` are kept), the change reason is cleared.
    pub async fn set_password(
        &self,
        user_id: i64,
        username: &str,
        password_hash: &str,
        keep: u32,
    ) -> Result<()> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO staff_password_history(user_id, password_hash, changed_at)
             SELECT id, password_hash, password_changed_at FROM staff_users WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE staff_users SET password_hash = $2, must_change = 0, must_change_reason = NULL,
                    password_changed_at = $3, failed_logins = 0, updated_at = $3 WHERE id = $1",
        )
        .bind(user_id)
        .bind(password_hash)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        // The history keeps the newest `keep` earlier passwords.
        let old: Vec<String> = sqlx::query(
            "SELECT changed_at FROM staff_password_history WHERE user_id = $1 ORDER BY changed_at DESC",
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .skip(keep as usize)
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
        if let Some(cut) = old.first() {
            sqlx::query(
                "DELETE FROM staff_password_history WHERE user_id = $1 AND changed_at <= $2",
            )
            .bind(user_id)
            .bind(cut)
            .execute(&mut *tx)
            .await?;
        }
        log(&mut tx, username, "password.changed", username, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The current hash and the earlier ones kept (1.9: no reuse).
    pub async fn password_hashes(&self, user_id: i64) -> Result<Vec<String>> {
        let mut all: Vec<String> =
            sqlx::query("SELECT password_hash FROM staff_users WHERE id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        for r in sqlx::query(
            "SELECT password_hash FROM staff_password_history WHERE user_id = $1 ORDER BY changed_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        {
            all.push(r.try_get(0)?);
        }
        Ok(all)
    }

    /// The password must be changed before anything else (1.8, 1.9, reset).
    pub async fn require_password_change(
        &self,
        user: &StaffUser,
        reason: ChangeReason,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE staff_users SET must_change = 1, must_change_reason = $2 WHERE id = $1",
        )
        .bind(user.id)
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?;
        log(
            &mut tx,
            actor,
            "password.must_change",
            &user.username,
            reason.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An administrator's password reset: a new one-time password that
    /// must be changed at the next sign-in.
    pub async fn reset_password(&self, actor: &str, username: &str, hash: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE staff_users SET password_hash = $2, must_change = 1, must_change_reason = 'reset',
                    password_changed_at = $3, updated_at = $3 WHERE username = $1 AND state <> 'closed'",
        )
        .bind(username)
        .bind(hash)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            log(&mut tx, actor, "password.reset", username, "").await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// A confirmed second factor (1.20), its secret sealed with the data key.
    pub async fn set_totp(&self, user: &StaffUser, secret_b32: &str, step: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE staff_users SET totp_secret = $2, totp_last_step = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(user.id)
        .bind(self.keys.seal_str(secret_b32, &totp_ad(user.id))?)
        .bind(step)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        log(&mut tx, &user.username, "totp.enrolled", &user.username, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a code of `step` was used; false if that step (or a
    /// later one) was used already: a code works once, even when two
    /// requests race with it.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE staff_users SET totp_last_step = $2
              WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Recovery (1.20): another administrator removes an account's second
    /// factor; its owner enrols again at the next sign-in.
    pub async fn reset_totp(&self, actor: &str, username: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE staff_users SET totp_secret = NULL, totp_last_step = NULL, updated_at = $2 WHERE username = $1",
        )
        .bind(username)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            log(&mut tx, actor, "totp.reset", username, "").await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// 1.18 批量停用 / 启用 / 注销: sets `state` on one account. A closed
    /// account stays closed. False when nothing changed.
    pub async fn set_account_state(
        &self,
        actor: &str,
        username: &str,
        state: AccountState,
    ) -> Result<bool> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE staff_users SET state = $2, state_changed_at = $3, state_changed_by = $4, updated_at = $3
              WHERE username = $1 AND state <> 'closed' AND state <> $2",
        )
        .bind(username)
        .bind(state.as_str())
        .bind(&now)
        .bind(actor)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            log(&mut tx, actor, "user.state", username, state.as_str()).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// 1.17 validity and 1.18 access hours (None: no limit).
    pub async fn set_account_limits(
        &self,
        actor: &str,
        username: &str,
        valid_until: Option<DateTime<Utc>>,
        access_hours: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE staff_users SET valid_until = $2, access_hours = $3, updated_at = $4 WHERE username = $1",
        )
        .bind(username)
        .bind(valid_until.map(ts))
        .bind(access_hours)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            let detail = format!(
                "valid until {}; hours {}",
                valid_until.map_or("—".into(), ts),
                access_hours.unwrap_or("any")
            );
            log(&mut tx, actor, "user.limits", username, &detail).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// 解冻: clears the stored run of failures (the limiter's locks are
    /// lifted by the caller).
    pub async fn unlock_account(&self, actor: &str, username: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE staff_users SET failed_logins = 0, updated_at = $2 WHERE username = $1",
        )
        .bind(username)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            log(&mut tx, actor, "user.unlock", username, "").await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Every account, by name (the administrator's page filters them: a
    /// centre has dozens of accounts, not millions).
    pub async fn accounts(&self, now: DateTime<Utc>) -> Result<Vec<AccountRow>> {
        sqlx::query(
            "SELECT username, role, state, must_change, failed_logins, created_at, login_count, last_login_at,
                    password_changed_at, updated_at, valid_until, access_hours, totp_secret,
                    state_changed_at, state_changed_by, campus
               FROM staff_users ORDER BY username",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            let valid_until: Option<String> = r.try_get("valid_until")?;
            Ok(AccountRow {
                username: r.try_get("username")?,
                role: role_of(&r.try_get::<String, _>("role")?)?,
                state: state_of(&r.try_get::<String, _>("state")?)?,
                expired: valid_until.as_deref().is_some_and(|v| *v <= *ts(now)),
                must_change: r.try_get::<i64, _>("must_change")? != 0,
                failed_logins: r.try_get("failed_logins")?,
                created_at: r.try_get("created_at")?,
                login_count: r.try_get("login_count")?,
                last_login_at: r.try_get("last_login_at")?,
                password_changed_at: r.try_get("password_changed_at")?,
                updated_at: r.try_get("updated_at")?,
                valid_until,
                access_hours: r.try_get("access_hours")?,
                totp: r.try_get::<Option<String>, _>("totp_secret")?.is_some(),
                state_changed_at: r.try_get("state_changed_at")?,
                state_changed_by: r.try_get("state_changed_by")?,
                campus: r.try_get("campus")?,
            })
        })
        .collect()
    }
}
