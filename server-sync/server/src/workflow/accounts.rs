//! Account administration (seed 002 §(九) 1.17–1.20): the accounts page,
//! accounts queried by name fragment, creation time, sign-in count, state,
//! last sign-in and last change; bulk 停用 / 启用 / 注销; validity and
//! allowed hours; 解冻; password and second-factor resets; the report of
//! stopped accounts and the rights table; the sign-in durations (8.7.2).
//! Everything is audited in the store's transaction (`db/accounts.rs`).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::bad;
use crate::AppState;
use crate::db::{AccountRow, AccountState, LoginDuration, SessionUser, ts};
use crate::error::ApiErr;
use crate::roles::{Capability, Role};
use crate::routes::{Access, RouteTable};
use crate::staff_auth::policy::{AccessHours, EndReason};

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::Can;
    use Capability::ManageAccounts as M;
    t.get("/admin/accounts", Can(M), page)
        .get("/api/admin/accounts/search", Can(M), search)
        .post("/api/admin/accounts/state", Can(M), set_state)
        .post("/api/admin/accounts/{name}/limits", Can(M), set_limits)
        .post("/api/admin/accounts/{name}/campus", Can(M), set_campus)
        .post("/api/admin/accounts/{name}/unlock", Can(M), unlock)
        .post(
            "/api/admin/accounts/{name}/reset-password",
            Can(M),
            reset_password,
        )
        .post("/api/admin/accounts/{name}/reset-totp", Can(M), reset_totp)
        .get("/api/admin/accounts/report/stopped", Can(M), stopped_report)
        .get("/api/admin/accounts/report/rights", Can(M), rights_report)
        .get("/api/admin/logins", Can(M), logins);
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    campuses: Vec<super::pages::Choice>,
}

async fn page(State(st): State<AppState>, u: SessionUser) -> Response {
    super::render(&AccountsPage {
        campuses: super::pages::campus_choices(&st.catalogue.get(), |_| true),
        nav: crate::roles::Nav::of(u.role),
        username: u.username,
        csrf: u.csrf,
    })
}

/// 1.18: what accounts are searched by; every field optional. Dates are
/// the centre's calendar days, inclusive.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct AccountQuery {
    /// A fragment of the name, any case.
    pub name: Option<String>,
    /// active, disabled, closed, expired (past validity) or locked (failures in a row).
    pub state: Option<String>,
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    pub min_logins: Option<i64>,
    pub max_logins: Option<i64>,
    pub last_login_from: Option<NaiveDate>,
    pub last_login_to: Option<NaiveDate>,
    /// 末次维护: the last change to the account.
    pub changed_from: Option<NaiveDate>,
    pub changed_to: Option<NaiveDate>,
}

/// The stored timestamp text of the start of `d` (local) and of the day after.
fn day_bounds(d: NaiveDate) -> (String, String) {
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(exam_domain::centre_offset()).single())
            .map_or_else(String::new, |t| ts(t.with_timezone(&Utc)))
    };
    (start(d), start(d.succ_opt().unwrap_or(d)))
}

/// Is stored time `t` within the days `from..=to`? (No bound: yes; no time
/// but a bound: no.)
fn within(t: Option<&str>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(t) = t else { return false };
    from.is_none_or(|f| t >= day_bounds(f).0.as_str())
        && to.is_none_or(|d| t < day_bounds(d).1.as_str())
}

impl AccountQuery {
    /// Does `a` match? Pure.
    pub fn matches(&self, a: &AccountRow) -> bool {
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_lowercase();
        let state_ok = match self.state.as_deref().unwrap_or_default() {
            "" => true,
            "expired" => a.expired,
            "locked" => a.failed_logins > 0,
            s => AccountState::parse(s) == Some(a.state),
        };
        (name.is_empty() || a.username.to_lowercase().contains(&name))
            && state_ok
            && self.min_logins.is_none_or(|m| a.login_count >= m)
            && self.max_logins.is_none_or(|m| a.login_count <= m)
            && within(Some(&a.created_at), self.created_from, self.created_to)
            && within(
                a.last_login_at.as_deref(),
                self.last_login_from,
                self.last_login_to,
            )
            && within(Some(&a.updated_at), self.changed_from, self.changed_to)
    }
}

#[derive(Debug, Serialize)]
struct Found {
    accounts: Vec<AccountRow>,
}

async fn search(
    State(st): State<AppState>,
    Query(q): Query<AccountQuery>,
) -> Result<Json<Found>, ApiErr> {
    let accounts = st
        .db
        .accounts(Utc::now())
        .await?
        .into_iter()
        .filter(|a| q.matches(a))
        .collect();
    Ok(Json(Found { accounts }))
}

#[derive(Debug, Deserialize)]
struct StateChange {
    usernames: Vec<String>,
    state: AccountState,
}

#[derive(Debug, Serialize)]
struct StateResult {
    username: String,
    changed: bool,
    /// Why not, when not.
    note: Option<&'static str>,
}

/// 1.18 批量停用 / 启用 / 注销. An administrator cannot stop their own
/// account (the centre would be left without one by mistake); a closed
/// account stays closed; stopping an account ends its sessions.
async fn set_state(
    State(st): State<AppState>,
    user: SessionUser,
    Json(c): Json<StateChange>,
) -> Result<Json<Vec<StateResult>>, ApiErr> {
    if c.usernames.len() > 500 {
        return Err(bad("usernames", "一次最多处理 500 个账号"));
    }
    let now = Utc::now();
    let mut out = Vec::new();
    for name in &c.usernames {
        let note = if *name == user.username && c.state != AccountState::Active {
            Some("不能停用或注销自己的账号")
        } else {
            None
        };
        let changed = note.is_none()
            && st
                .db
                .set_account_state(&user.username, name, c.state)
                .await?;
        if changed
            && c.state != AccountState::Active
            && let Some(u) = st.db.user_by_name(name).await?
        {
            st.db
                .end_user_sessions(u.id, None, EndReason::AccountChanged, now)
                .await?;
        }
        out.push(StateResult {
            username: name.clone(),
            changed,
            note: note.or((!changed).then_some("无此账号、已注销或已是该状态")),
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct Limits {
    /// The last day the account works (local), or null: no end.
    valid_until: Option<NaiveDate>,
    /// "08:00-18:00", or null: any time.
    access_hours: Option<String>,
}

#[derive(Debug, Serialize)]
struct Done {
    username: String,
}

/// 1.17 validity (the account works through the given day) and 1.18 hours.
async fn set_limits(
    State(st): State<AppState>,
    user: SessionUser,
    Path(name): Path<String>,
    Json(l): Json<Limits>,
) -> Result<Json<Done>, ApiErr> {
    let hours = match l
        .access_hours
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(h) => Some(
            AccessHours::parse(h)
                .map_err(|e| bad("access_hours", e.to_string()))?
                .to_string(),
        ),
        None => None,
    };
    let until: Option<DateTime<Utc>> = l.valid_until.and_then(|d| {
        d.succ_opt()?
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(exam_domain::centre_offset())
            .single()
            .map(|t| t.with_timezone(&Utc))
    });
    if !st
        .db
        .set_account_limits(&user.username, &name, until, hours.as_deref())
        .await?
    {
        return Err(bad("username", "没有这个账号"));
    }
    Ok(Json(Done { username: name }))
}

#[derive(Debug, Deserialize)]
struct CampusIn {
    /// A campus code of the catalogue, or null: every campus.
    campus: Option<String>,
}

/// E14: binds the account to one campus, or to every campus.
async fn set_campus(
    State(st): State<AppState>,
    user: SessionUser,
    Path(name): Path<String>,
    Json(c): Json<CampusIn>,
) -> Result<Json<Done>, ApiErr> {
    let campus = checked_campus(&st, c.campus.as_deref())?;
    if !st
        .db
        .set_account_campus(&user.username, &name, campus.as_deref())
        .await?
    {
        return Err(bad("username", "没有这个账号"));
    }
    Ok(Json(Done { username: name }))
}

/// A campus code the catalogue holds, or None for an empty one (every
/// campus).
pub(super) fn checked_campus(
    st: &AppState,
    campus: Option<&str>,
) -> Result<Option<String>, ApiErr> {
    match campus.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if st.catalogue.get().campuses.iter().any(|x| x.code == c) => {
            Ok(Some(c.to_string()))
        }
        Some(c) => Err(bad("campus", format!("没有院区 {c:?}"))),
    }
}

/// 解冻: lifts the locks on the account (every address) and clears its
/// run of failures.
async fn unlock(
    State(st): State<AppState>,
    user: SessionUser,
    Path(name): Path<String>,
) -> Result<Json<Done>, ApiErr> {
    if !st.db.unlock_account(&user.username, &name).await? {
        return Err(bad("username", "没有这个账号"));
    }
    st.login.unlock(&name);
    Ok(Json(Done { username: name }))
}

#[derive(Debug, Serialize)]
struct Reset {
    username: String,
    one_time_password: String,
}

/// A new one-time password, shown once, changed at the next sign-in; the
/// account's sessions end.
async fn reset_password(
    State(st): State<AppState>,
    user: SessionUser,
    Path(name): Path<String>,
) -> Result<Json<Reset>, ApiErr> {
    let pw = crate::password::generate();
    let hash = st.login.hashes.hash(pw.clone()).await.map_err(|e| {
        ApiErr::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            e.to_string(),
        )
    })?;
    if !st.db.reset_password(&user.username, &name, &hash).await? {
        return Err(bad("username", "没有这个账号，或账号已注销"));
    }
    if let Some(u) = st.db.user_by_name(&name).await? {
        st.db
            .end_user_sessions(u.id, None, EndReason::AccountChanged, Utc::now())
            .await?;
    }
    Ok(Json(Reset {
        username: name,
        one_time_password: pw,
    }))
}

/// 1.20 recovery: another administrator removes the second factor (never
/// one's own: that would let a stolen session drop it); the owner enrols a
/// new one at the next sign-in, and the account's sessions end.
async fn reset_totp(
    State(st): State<AppState>,
    user: SessionUser,
    Path(name): Path<String>,
) -> Result<Json<Done>, ApiErr> {
    if name == user.username {
        return Err(bad(
            "username",
            "不能重置自己的双因子认证，请由另一位管理员操作",
        ));
    }
    if !st.db.reset_totp(&user.username, &name).await? {
        return Err(bad("username", "没有这个账号"));
    }
    if let Some(u) = st.db.user_by_name(&name).await? {
        st.db
            .end_user_sessions(u.id, None, EndReason::AccountChanged, Utc::now())
            .await?;
    }
    Ok(Json(Done { username: name }))
}

/// 1.19 停用用户报表: every account that cannot sign in (disabled, closed,
/// past its validity), with when and by whom it was stopped.
async fn stopped_report(State(st): State<AppState>) -> Result<Json<Found>, ApiErr> {
    let accounts = st
        .db
        .accounts(Utc::now())
        .await?
        .into_iter()
        .filter(|a| a.state != AccountState::Active || a.expired)
        .collect();
    Ok(Json(Found { accounts }))
}

#[derive(Debug, Serialize)]
struct RightsRow {
    username: String,
    role: Role,
    state: AccountState,
    expired: bool,
    /// Every capability the account's role grants.
    capabilities: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Rights {
    /// Every capability there is, in the table's order.
    capabilities: Vec<String>,
    accounts: Vec<RightsRow>,
}

/// 1.19 系统用户权限明细表: each account and what its role may do.
async fn rights_report(State(st): State<AppState>) -> Result<Json<Rights>, ApiErr> {
    let name = |c: &Capability| format!("{c:?}");
    let accounts = st
        .db
        .accounts(Utc::now())
        .await?
        .into_iter()
        .map(|a| RightsRow {
            capabilities: Capability::ALL
                .iter()
                .filter(|c| a.role.may(**c))
                .map(name)
                .collect(),
            username: a.username,
            role: a.role,
            state: a.state,
            expired: a.expired,
        })
        .collect();
    Ok(Json(Rights {
        capabilities: Capability::ALL.iter().map(name).collect(),
        accounts,
    }))
}

#[derive(Debug, Deserialize)]
struct LoginsQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    username: Option<String>,
}

#[derive(Debug, Serialize)]
struct Logins {
    logins: Vec<LoginDuration>,
}

/// 8.7.2: sign-ins and how long they lasted (the last 30 days by default).
async fn logins(
    State(st): State<AppState>,
    Query(q): Query<LoginsQuery>,
) -> Result<Json<Logins>, ApiErr> {
    let now = Utc::now();
    let from = q.from.unwrap_or(now - chrono::Duration::days(30));
    let to = q.to.unwrap_or(now + chrono::Duration::minutes(1));
    let logins = st
        .db
        .login_durations(
            from,
            to,
            q.username.as_deref().filter(|u| !u.is_empty()),
            now,
            1000,
        )
        .await?;
    Ok(Json(Logins { logins }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, created: &str, logins: i64, last: Option<&str>) -> AccountRow {
        AccountRow {
            username: name.into(),
            role: Role::FrontDesk,
            state: AccountState::Active,
            expired: false,
            must_change: false,
            failed_logins: 0,
            created_at: created.into(),
            login_count: logins,
            last_login_at: last.map(Into::into),
            password_changed_at: created.into(),
            updated_at: created.into(),
            valid_until: None,
            access_hours: None,
            totp: false,
            state_changed_at: None,
            state_changed_by: None,
            campus: None,
        }
    }

    fn q(json: &str) -> AccountQuery {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn accounts_match_by_name_fragment_dates_counts_and_state() {
        // Created 2026-03-02 09:00 local (01:00 UTC).
        let a = row(
            "Nurse-Zhang",
            "2026-03-02T01:00:00.000Z",
            12,
            Some("2026-03-05T02:00:00.000Z"),
        );
        assert!(q("{}").matches(&a));
        assert!(q(r#"{"name":"zhang"}"#).matches(&a));
        assert!(!q(r#"{"name":"li"}"#).matches(&a));
        assert!(q(r#"{"created_from":"2026-03-02","created_to":"2026-03-02"}"#).matches(&a));
        assert!(!q(r#"{"created_from":"2026-03-03"}"#).matches(&a));
        // 2026-03-01 23:30 UTC is 2026-03-02 07:30 in the centre: the 2nd.
        let early = row("x", "2026-03-01T23:30:00.000Z", 0, None);
        assert!(q(r#"{"created_to":"2026-03-02","created_from":"2026-03-02"}"#).matches(&early));
        assert!(q(r#"{"min_logins":12,"max_logins":12}"#).matches(&a));
        assert!(!q(r#"{"min_logins":13}"#).matches(&a));
        assert!(q(r#"{"last_login_from":"2026-03-05"}"#).matches(&a));
        assert!(
            !q(r#"{"last_login_from":"2026-03-05"}"#).matches(&early),
            "never signed in"
        );
        assert!(q(r#"{"state":"active"}"#).matches(&a));
        assert!(!q(r#"{"state":"disabled"}"#).matches(&a));
        let mut gone = a.clone();
        gone.expired = true;
        assert!(q(r#"{"state":"expired"}"#).matches(&gone));
    }
}
