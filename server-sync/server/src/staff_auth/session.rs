//! The session behind a request: its cookie, the user it belongs to, and
//! the checks every staff request passes (signed in, within the idle and
//! absolute limits, the account still active, valid and within its hours,
//! first-login password changed, second factor enrolled where the role
//! needs one, CSRF token on changes).
//!
//! Only a user's own requests keep a session alive: an event stream
//! (`Accept: text/event-stream`, the live page) is checked without being
//! counted as use, so an open live page does not stop the idle timeout.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};

use super::policy::{AccessHours, EndReason, SessionLimits};
use crate::db::{AccountState, Db, DbError, SessionRecord, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::{AppState, Config};

pub(super) const COOKIE: &str = "exam_sid";

/// A named cookie's value from the request.
pub(super) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

/// What the store keeps of the request's session token (its SHA-256), for
/// a stream that checks the session again later.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE).map(|t| exam_protocol::auth::sha256_hex(&t))
}

/// The cookie that opens a session (`token` is the secret half).
pub(super) fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The cookie that ends one.
pub(super) fn cleared_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The idle and absolute limits of the configuration.
pub(crate) fn limits(config: &Config) -> SessionLimits {
    SessionLimits {
        idle: Duration::minutes(config.session_idle_minutes),
        absolute: Duration::hours(config.accounts.session_absolute_hours),
    }
}

/// Whether a stored session is still good at `now`; if not, why it ends
/// and when it ended. Pure.
pub(crate) fn verdict(
    rec: &SessionRecord,
    limits: SessionLimits,
    now: DateTime<Utc>,
) -> Option<(EndReason, DateTime<Utc>)> {
    if let Some(end) = limits.ended(rec.created_at, rec.last_seen, now) {
        return Some(end);
    }
    let expired = rec.valid_until.is_some_and(|v| v <= now);
    if rec.state != AccountState::Active || expired {
        return Some((EndReason::AccountChanged, now));
    }
    let hours = rec
        .access_hours
        .as_deref()
        .and_then(|h| AccessHours::parse(h).ok());
    if hours.is_some_and(|h| !h.allows(now, exam_domain::centre_offset())) {
        return Some((EndReason::OutsideHours, now));
    }
    None
}

/// Does this request count as the user's use of the session?
fn counts_as_use(headers: &HeaderMap) -> bool {
    !headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// The live session of the request's cookie, if any. A user request
/// touches it (at most twice a minute: the limit is minutes); an ended one
/// is removed with its end recorded.
async fn session_of(st: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, DbError> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let now = Utc::now();
    let Some(rec) = st.db.session_record(&token).await? else {
        return Ok(None);
    };
    if let Some((why, at)) = verdict(&rec, limits(&st.config), now) {
        st.db.end_session(&token, why, at).await?;
        return Ok(None);
    }
    if counts_as_use(headers) && now - rec.last_seen >= Duration::seconds(30) {
        st.db.touch_session(&token, now).await?;
    }
    Ok(Some(rec.user))
}

/// Is the session `token_hash` still good? Checked by the live page's
/// stream between events: it never extends the session.
pub(crate) async fn session_alive(st: &AppState, token_hash: &str) -> Result<bool, DbError> {
    let Some(rec) = st.db.session_record(token_hash).await? else {
        return Ok(false);
    };
    if let Some((why, at)) = verdict(&rec, limits(&st.config), Utc::now()) {
        st.db.end_session(token_hash, why, at).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Ends the sessions nobody came back to (the pruner, once a minute), so
/// the login history gets their end.
pub(crate) async fn end_stale_sessions(db: &Db, config: &Config) -> Result<usize, DbError> {
    db.end_stale_sessions(Utc::now(), limits(config)).await
}

impl SessionUser {
    /// Refuses (403 `not_allowed`) what this user's role may not do.
    pub(crate) fn require(&self, c: Capability) -> Result<(), ApiErr> {
        if self.role.may(c) {
            Ok(())
        } else {
            Err(ApiErr::new(
                StatusCode::FORBIDDEN,
                "not_allowed",
                c.refusal_zh(),
            ))
        }
    }

    /// Is `sent` this session's CSRF token? (Constant time.)
    pub(crate) fn csrf_matches(&self, sent: &str) -> bool {
        super::ct_eq(sent.as_bytes(), self.csrf.as_bytes())
    }

    /// Must this account enrol a second factor before anything else? Every
    /// account that may manage accounts must have one (1.20); for the
    /// others it is optional.
    pub(crate) fn must_enrol_totp(&self) -> bool {
        !self.totp && second_factor_required(self.role)
    }
}

/// Accounts that may manage accounts sign in with a second factor.
pub(crate) fn second_factor_required(role: crate::roles::Role) -> bool {
    role.may(Capability::ManageAccounts)
}

// ---- pages: redirects and plain-text refusals ----

/// The signed-in user, or a redirect to the login page.
pub(crate) async fn require_user(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<SessionUser, Response> {
    match session_of(st, headers).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(Redirect::to("/login").into_response()),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// As [`require_user`], and the password change (first login, weak or
/// expired password) and the second-factor enrolment are done.
pub(crate) async fn require_ready_user(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<SessionUser, Response> {
    let u = require_user(st, headers).await?;
    if u.must_change {
        return Err(Redirect::to("/password").into_response());
    }
    if u.must_enrol_totp() {
        return Err(Redirect::to("/account/totp").into_response());
    }
    Ok(u)
}

// ---- the JSON API: typed refusals ----

/// A live session past the password change and second-factor enrolment,
/// and for changes the session's CSRF token in `x-csrf`.
async fn api_user(
    st: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<SessionUser, ApiErr> {
    let user = session_of(st, headers).await?.ok_or_else(|| {
        let msg = if cookie_value(headers, COOKIE).is_some() {
            "登录已过期，请重新登录"
        } else {
            "请先登录"
        };
        ApiErr::new(StatusCode::UNAUTHORIZED, "signed_out", msg)
    })?;
    if user.must_change {
        return Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            "password_change",
            "请先修改密码",
        ));
    }
    if user.must_enrol_totp() {
        return Err(ApiErr::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            "管理员账号须先启用双因子认证（动态口令）",
        ));
    }
    if method != Method::GET && method != Method::HEAD {
        let sent = headers.get("x-csrf").and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|s| user.csrf_matches(s)) {
            // S7: a forged or stale request is a security event.
            crate::audit::csrf_failed(st, &user.username, &format!("{method} {path}")).await?;
            return Err(ApiErr::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "请求来源校验失败，请刷新页面",
            ));
        }
    }
    Ok(user)
}

/// The signed-in staff member of an API call: the one the route gate
/// (`crate::routes`) found, or checked here the same way.
impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiErr> {
        if let Some(u) = parts.extensions.get::<SessionUser>() {
            return Ok(u.clone());
        }
        api_user(st, &parts.method, parts.uri.path(), &parts.headers).await
    }
}
