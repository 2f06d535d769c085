//! The session behind a request: its cookie, the user it belongs to, and
//! the checks every staff request passes (signed in, first-login password
//! changed, CSRF token on changes, the role's capability).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};

use crate::AppState;
use crate::db::{DbError, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;

const COOKIE: &str = "exam_sid";

/// The session token the request's cookie carries.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == COOKIE).then(|| v.to_string())
        })
}

/// What the store keeps of the request's session token (its SHA-256), for
/// a stream that checks the session again later.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_token(headers).map(|t| exam_protocol::auth::sha256_hex(&t))
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

/// The live session of the request's cookie, if any (touching it).
async fn session_of(st: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, DbError> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let idle = Duration::minutes(st.config.session_idle_minutes);
    st.db.session(&token, Utc::now(), idle).await
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
        let (a, b) = (sent.as_bytes(), self.csrf.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
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

/// As [`require_user`], and the first-login password change is done.
pub(crate) async fn require_ready_user(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<SessionUser, Response> {
    let u = require_user(st, headers).await?;
    if u.must_change {
        return Err(Redirect::to("/password").into_response());
    }
    Ok(u)
}

/// As [`require_ready_user`], and the role may `c`: else a plain 403 saying why.
pub(crate) async fn page_user(
    st: &AppState,
    headers: &HeaderMap,
    c: Capability,
) -> Result<SessionUser, Response> {
    let u = require_ready_user(st, headers).await?;
    if !u.role.may(c) {
        return Err((StatusCode::FORBIDDEN, c.refusal_zh()).into_response());
    }
    Ok(u)
}

// ---- the JSON API: typed refusals ----

/// A live session past the first-login password change, and for changes
/// the session's CSRF token in `x-csrf`.
async fn api_user(
    st: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<SessionUser, ApiErr> {
    let user = session_of(st, headers).await?.ok_or_else(|| {
        let msg = if cookie_token(headers).is_some() {
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
            "请先修改初始密码",
        ));
    }
    if method != Method::GET && method != Method::HEAD {
        let sent = headers.get("x-csrf").and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|s| user.csrf_matches(s)) {
            return Err(ApiErr::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "请求来源校验失败，请刷新页面",
            ));
        }
    }
    Ok(user)
}

/// Signs every staff API call in ([`api_user`]) before the body is read,
/// so a forged request is refused whatever it carries; the handlers take
/// the user as a [`SessionUser`] argument.
pub(crate) async fn api_session(
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiErr> {
    let user = api_user(&st, req.method(), req.headers()).await?;
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}

/// The signed-in staff member of an API call: the one [`api_session`]
/// found, or (on a route outside that layer) checked here the same way.
impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiErr> {
        if let Some(u) = parts.extensions.get::<SessionUser>() {
            return Ok(u.clone());
        }
        api_user(st, &parts.method, &parts.headers).await
    }
}
