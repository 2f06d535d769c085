//! Signing in and out (S1, items 8 and 10 of the review). The sign-in form
//! carries a token that must match its cookie (double submit: a page on
//! another site cannot sign anyone in); the limits of [`super::limits`]
//! apply before any hash is computed; at most a bounded number of hashes
//! run at once (a flood is answered "busy"); one message for a wrong name,
//! a wrong password and a lock, whose timing does not tell names apart; a
//! captcha after a failure; then the account's state, validity and hours,
//! the password's strength and age, and the second factor.

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::captcha::{self, Answer};
use super::limits::Admit;
use super::policy::{AccessHours, EndReason, Expiry};
use super::session::{
    cleared_cookie, cookie_value, second_factor_required, session_cookie, session_token,
};
use super::{ClientAddr, ct_eq, form_key};
use crate::AppState;
use crate::db::{AccountState, ChangeReason, StaffUser, Stage};
use crate::metrics::Metrics;
use crate::password::{self, Busy};
use crate::workflow::render;

/// The one answer to a wrong name, a wrong password and a locked address.
const WRONG: &str = "用户名或密码错误 / Wrong user name or password";
const BUSY: &str = "系统繁忙，请稍后重试 / Busy: please try again in a moment";
const CAPTCHA_NEEDED: &str = "请输入图中的验证码 / Type the characters in the picture";
const CAPTCHA_WRONG: &str = "验证码错误或已过期 / Wrong or expired characters: try the new picture";
pub(super) const STALE_FORM: &str =
    "登录页已过期，请重新输入 / The sign-in page expired: please type again";
/// The sign-in form's cookie (its token is also a hidden field).
const FORM_COOKIE: &str = "exam_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    form: String,
    username: String,
    captcha: bool,
    /// Changes with each render, so the browser fetches a new picture.
    nonce: String,
}

/// The form's token: the cookie's if it has a well-formed one, else new.
pub(super) fn form_token(headers: &HeaderMap) -> (String, bool) {
    match cookie_value(headers, FORM_COOKIE) {
        Some(t) if t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t, false),
        _ => (exam_protocol::auth::random_token(), true),
    }
}

fn form_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{FORM_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

/// The sign-in page with `error`, the captcha when `captcha`.
fn page(
    st: &AppState,
    status: StatusCode,
    form: (String, bool),
    username: &str,
    captcha: bool,
    error: Option<&str>,
) -> Response {
    let mut res = render(&LoginPage {
        error: error.map(str::to_string),
        form: form.0.clone(),
        username: username.chars().take(64).collect(),
        captcha,
        nonce: exam_protocol::auth::random_token()[..12].to_string(),
    });
    *res.status_mut() = status;
    if form.1
        && let Ok(v) = HeaderValue::from_str(&form_cookie(&form.0, st.config.secure_cookies))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    no_store(&mut res);
    res
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub(super) async fn login_page(
    State(st): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
) -> Response {
    let captcha = st.login.source_failed_recently(ip, Utc::now());
    page(&st, StatusCode::OK, form_token(&headers), "", captcha, None)
}

/// The captcha picture for the form of the request's cookie (a new
/// captcha each time; fetching it counts as an attempt of the address).
pub(super) async fn captcha_image(
    State(st): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
) -> Response {
    let now = Utc::now();
    let Some((form, false)) = Some(form_token(&headers)) else {
        return (StatusCode::FORBIDDEN, STALE_FORM).into_response();
    };
    if let Some(r) = throttled(&st, ip, now) {
        return r;
    }
    let Some(answer) = st.login.issue_captcha(&form_key(&form), now) else {
        return busy(&st);
    };
    let seed = u64::from_le_bytes(exam_protocol::auth::random_bytes::<8>());
    let png = captcha::render(&answer, seed);
    let mut res = ([(header::CONTENT_TYPE, "image/png")], png).into_response();
    no_store(&mut res);
    res
}

/// 429 when the address is over its rate (or 503 when the limiter is full).
pub(super) fn throttled(st: &AppState, ip: IpAddr, now: DateTime<Utc>) -> Option<Response> {
    match st.login.attempt(ip, now) {
        Admit::Go => None,
        Admit::Throttled(wait) => {
            Metrics::inc(&st.metrics.staff_logins_throttled);
            let secs = wait.num_seconds().max(1);
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                format!("登录尝试过于频繁，请 {secs} 秒后再试 / Too many attempts from this address: try again in {secs} s"),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(res)
        }
        Admit::Full => Some(busy(st)),
    }
}

fn busy(st: &AppState) -> Response {
    Metrics::inc(&st.metrics.staff_logins_busy);
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, BUSY).into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    captcha: String,
}

pub(super) async fn login(
    State(st): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let now = Utc::now();
    if let Some(r) = throttled(&st, ip, now) {
        return r;
    }
    let name = f.username.trim().to_string();
    let form = form_token(&headers);
    // Double submit: the field must equal the cookie (a forged cross-site
    // post has neither the cookie's value nor a way to read it).
    if form.1 || !ct_eq(form.0.as_bytes(), f.form.as_bytes()) {
        audit_anonymous(
            &st,
            ip,
            "login.csrf_failed",
            "sign-in form token missing or wrong",
            now,
        )
        .await;
        let form = (exam_protocol::auth::random_token(), true);
        return page(
            &st,
            StatusCode::FORBIDDEN,
            form,
            &name,
            false,
            Some(STALE_FORM),
        );
    }
    let needs_captcha = st.login.captcha_required(ip, &name, now);
    if needs_captcha {
        let answer = st.login.check_captcha(&form_key(&form.0), &f.captcha, now);
        if answer != Answer::Right {
            let msg = if f.captcha.trim().is_empty() {
                CAPTCHA_NEEDED
            } else {
                CAPTCHA_WRONG
            };
            return page(&st, StatusCode::OK, form, &name, true, Some(msg));
        }
    }
    let refuse = |st: &AppState| {
        page(
            st,
            StatusCode::OK,
            form_token(&headers),
            &name,
            true,
            Some(WRONG),
        )
    };
    let (locked, guarded) = {
        (
            st.login.locked(&name, ip, now),
            st.login.known_sources_only(&name, now),
        )
    };
    if locked {
        Metrics::inc(&st.metrics.staff_logins_failed);
        return refuse(&st);
    }
    if guarded {
        let since = now - Duration::days(90);
        match st.db.known_source(&name, &ip.to_string(), since).await {
            Ok(true) => {}
            Ok(false) => {
                Metrics::inc(&st.metrics.staff_logins_failed);
                return refuse(&st);
            }
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    // Every hash slot taken and the line full: "busy" before any lookup.
    if st.login.hashes.saturated() {
        return busy(&st);
    }
    let user = match st.db.user_by_name(&name).await {
        Ok(u) => u,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    // Unknown names spend the same hash as real ones.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => password::dummy_hash().await,
    };
    let right = match st.login.hashes.verify(f.password.clone(), hash).await {
        Ok(right) => right && user.is_some(),
        Err(Busy) => return busy(&st),
    };
    let Some(user) = user.filter(|_| right) else {
        Metrics::inc(&st.metrics.staff_logins_failed);
        let failure = st.login.failure(ip, &name, now);
        let detail = format!("wrong password from {ip}");
        match st.db.user_by_name(&name).await {
            Ok(Some(u)) => {
                if let Err(e) = st.db.login_failed(&u, &detail, failure.locked).await {
                    // S7: an unrecorded failure is not answered as usual.
                    tracing::error!(error = %e, "could not record a failed sign-in");
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
            _ if failure.audit => {
                // 10: failed sign-ins with unknown names are audited too,
                // the name masked (it may be a password typed in the wrong box).
                let what = if failure.locked {
                    "login.locked"
                } else {
                    "login.failed"
                };
                let detail = format!("unknown name {} from {ip}", mask_name(&name));
                if let Err(e) = st.db.audit("anonymous", what, &detail).await {
                    tracing::error!(error = %e, "could not audit a failed sign-in");
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
            _ => Metrics::inc(&st.metrics.staff_audit_suppressed),
        }
        return refuse(&st);
    };
    st.login.success(ip, &name);
    signed_in(&st, user, &f.password, ip, now).await
}

/// "ad***(5)": enough for an auditor to see a pattern, not the text.
fn mask_name(name: &str) -> String {
    let n = name.chars().count();
    let head: String = name.chars().take(2.min(n / 3)).collect();
    format!("{head}***({n})")
}

/// An unauthenticated security event, audited within the budget.
async fn audit_anonymous(
    st: &AppState,
    ip: IpAddr,
    action: &str,
    detail: &str,
    now: DateTime<Utc>,
) {
    if st.login.audit_allowed(now) {
        if let Err(e) = st
            .db
            .audit("anonymous", action, &format!("{detail} from {ip}"))
            .await
        {
            tracing::error!(error = %e, "could not audit a security event");
        }
    } else {
        Metrics::inc(&st.metrics.staff_audit_suppressed);
    }
}

/// A refusal after a right password: it may say why (the password proved who asks).
fn refused_after_password(st: &AppState, msg: String) -> Response {
    let mut res = page(
        st,
        StatusCode::FORBIDDEN,
        (exam_protocol::auth::random_token(), true),
        "",
        false,
        Some(&msg),
    );
    no_store(&mut res);
    res
}

/// The password was right: the account's state, validity and hours, the
/// password's strength and age, then a session (or the second factor).
async fn signed_in(
    st: &AppState,
    user: StaffUser,
    typed: &str,
    ip: IpAddr,
    now: DateTime<Utc>,
) -> Response {
    let p = &st.login.policy;
    let stop = match (user.state, p.account_expiry(user.valid_until, now)) {
        (AccountState::Closed, _) => Some((
            "account closed",
            "账号已注销 / This account is closed".to_string(),
        )),
        (AccountState::Disabled, _) => Some((
            "account disabled",
            "账号已停用，请联系管理员 / This account is disabled: ask an administrator".into(),
        )),
        (_, Expiry::Ended) => Some((
            "account expired",
            "账号已过有效期，已自动停用，请联系管理员 / This account's validity has ended".into(),
        )),
        _ => None,
    };
    let hours = user
        .access_hours
        .as_deref()
        .and_then(|h| AccessHours::parse(h).ok());
    let stop = stop.or_else(|| {
        hours
            .filter(|h| !h.allows(now, exam_domain::centre_offset()))
            .map(|h| {
                (
                    "outside hours",
                    format!("当前时段不允许登录（允许 {h}） / Sign-in is allowed {h} only"),
                )
            })
    });
    if let Some((why, msg)) = stop {
        if let Err(e) = st
            .db
            .audit(
                &user.username,
                "login.refused",
                &format!("{why}, from {ip}"),
            )
            .await
        {
            tracing::error!(error = %e, "could not audit a refused sign-in");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        return refused_after_password(st, msg);
    }
    // 1.8: a password that breaks today's rules must be changed now; 1.9:
    // so must one past its age.
    let reason = if exam_domain::password::check(&user.username, typed).is_err() {
        Some(ChangeReason::Weak)
    } else if p.password_expiry(user.password_changed_at, now) == Expiry::Ended {
        Some(ChangeReason::Expired)
    } else {
        None
    };
    if let Some(reason) = reason.filter(|_| !user.must_change)
        && st
            .db
            .require_password_change(&user, reason, "system")
            .await
            .is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let stage = if user.totp_secret.is_some() {
        Stage::SecondFactor
    } else {
        Stage::Ready
    };
    let token = exam_protocol::auth::random_token();
    let csrf = exam_protocol::auth::random_token();
    let hash = exam_protocol::auth::sha256_hex(&token);
    if st
        .db
        .begin_session(
            user.id,
            &user.username,
            &hash,
            &csrf,
            &ip.to_string(),
            stage,
            now,
        )
        .await
        .is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let to = match stage {
        Stage::SecondFactor => "/login/code",
        Stage::Ready => {
            Metrics::inc(&st.metrics.staff_logins_ok);
            first_page(st, &user, reason.is_some(), now)
        }
    };
    let cookie = session_cookie(&token, st.config.secure_cookies);
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

/// Where a new session goes first: the password change, the second-factor
/// enrolment, the notice of what expires soon, or the role's first page.
pub(super) fn first_page(
    st: &AppState,
    user: &StaffUser,
    must_change: bool,
    now: DateTime<Utc>,
) -> &'static str {
    let p = &st.login.policy;
    if user.must_change || must_change {
        "/password"
    } else if user.totp_secret.is_none() && second_factor_required(user.role) {
        "/account/totp"
    } else if matches!(
        p.password_expiry(user.password_changed_at, now),
        Expiry::EndsSoon(_)
    ) || matches!(p.account_expiry(user.valid_until, now), Expiry::EndsSoon(_))
    {
        "/account/notice"
    } else {
        "/"
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let (Ok(u), Some(token)) = (
        super::require_user(&st, &headers).await,
        session_token(&headers),
    ) && u.csrf_matches(&f.csrf)
    {
        // S7: the sign-out is recorded, or the request fails (no silent loss).
        if let Err(e) = st
            .db
            .end_session(&token, EndReason::Logout, Utc::now())
            .await
        {
            return crate::error::ApiErr::from(e).into_response();
        }
        if let Err(e) = st.db.audit(&u.username, "logout", "").await {
            return crate::error::ApiErr::from(e).into_response();
        }
    }
    (
        [(header::SET_COOKIE, cleared_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_names_keep_their_length_only() {
        assert_eq!(mask_name("administrator"), "ad***(13)");
        assert_eq!(mask_name("ab"), "***(2)");
        assert_eq!(mask_name("张三丰"), "张***(3)");
    }
}
