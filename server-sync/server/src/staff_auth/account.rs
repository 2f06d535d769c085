//! A staff member's own account: the password change (first login, weak,
//! expired or reset passwords, and by choice), the second factor's
//! enrolment, and the notice of a password or account that ends soon.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::policy::{EndReason, Expiry};
use super::session::session_token;
use super::{ClientAddr, totp};
use crate::AppState;
use crate::db::{SessionUser, StaffUser};
use crate::password::Busy;
use crate::workflow::render;

fn local_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&exam_domain::centre_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    username: String,
    csrf: String,
    /// Why the change is required now, if it is.
    reason: Option<&'static str>,
    /// When the current password has to be changed by.
    due: Option<String>,
    history: u32,
    error: Option<String>,
}

async fn password_view(st: &AppState, u: &SessionUser, error: Option<String>) -> Response {
    let Ok(Some(user)) = st.db.user_by_id(u.user_id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    render(&PasswordPage {
        username: u.username.clone(),
        csrf: u.csrf.clone(),
        reason: user.must_change.then(|| {
            user.change_reason
                .unwrap_or(crate::db::ChangeReason::First)
                .zh()
        }),
        due: st
            .login
            .policy
            .password_due(user.password_changed_at)
            .map(local_date),
        history: st.login.policy.password_history,
        error,
    })
}

pub(super) async fn password_page(State(st): State<AppState>, u: SessionUser) -> Response {
    password_view(&st, &u, None).await
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

/// Changes the password: the current one is checked (a wrong one counts
/// as a failed sign-in of the account from this address, and the lock
/// that follows ends this session), the new one must meet the policy
/// and repeat none of the last passwords; the account's other sessions end.
pub(super) async fn change_password(
    State(st): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    u: SessionUser,
    Form(f): Form<PasswordForm>,
) -> Response {
    if !u.csrf_matches(&f.csrf) {
        return (StatusCode::FORBIDDEN, "stale form: reload the page").into_response();
    }
    let now = Utc::now();
    let Ok(Some(user)) = st.db.user_by_id(u.user_id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let gate = &st.login.hashes;
    let busy = || "系统繁忙，请稍后重试 / Busy: please try again in a moment".to_string();
    match gate
        .verify(f.current.clone(), user.password_hash.clone())
        .await
    {
        Err(Busy) => return password_view(&st, &u, Some(busy())).await,
        Ok(false) => return wrong_current(&st, &headers, &user, ip, now).await,
        Ok(true) => {}
    }
    if f.new != f.confirm {
        let msg = "两次输入的新密码不一致 / The new passwords differ".to_string();
        return password_view(&st, &u, Some(msg)).await;
    }
    if let Err(e) = exam_domain::password::check(&u.username, &f.new) {
        let msg = format!("新密码不符合要求：{} / {e}", e.zh());
        return password_view(&st, &u, Some(msg)).await;
    }
    let Ok(earlier) = st.db.password_hashes(u.user_id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let keep = st.login.policy.password_history as usize;
    match gate
        .matches_any(f.new.clone(), earlier.into_iter().take(keep + 1).collect())
        .await
    {
        Err(Busy) => return password_view(&st, &u, Some(busy())).await,
        Ok(true) => {
            let msg = format!(
                "新密码不能与最近 {keep} 次使用过的密码相同 / The new password must differ from your last {keep}"
            );
            return password_view(&st, &u, Some(msg)).await;
        }
        Ok(false) => {}
    }
    let hash = match gate.hash(f.new).await {
        Ok(h) => h,
        Err(Busy) => return password_view(&st, &u, Some(busy())).await,
    };
    if st
        .db
        .set_password(
            u.user_id,
            &u.username,
            &hash,
            st.login.policy.password_history,
        )
        .await
        .is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // Whoever else holds a session of this account holds it no longer.
    let keep = session_token(&headers);
    if let Err(e) = st
        .db
        .end_user_sessions(u.user_id, keep.as_deref(), EndReason::PasswordChanged, now)
        .await
    {
        tracing::error!(error = %e, "could not end the other sessions after a password change");
    }
    Redirect::to("/").into_response()
}

/// A wrong current password on the change form: counted like a failed
/// sign-in; once the address is locked out of the account, this session ends.
async fn wrong_current(
    st: &AppState,
    headers: &HeaderMap,
    user: &StaffUser,
    ip: std::net::IpAddr,
    now: DateTime<Utc>,
) -> Response {
    let failure = st.login.failure(ip, &user.username, now);
    let detail = format!("wrong current password on the password form, from {ip}");
    if let Err(e) = st.db.login_failed(user, &detail, failure.locked).await {
        tracing::error!(error = %e, "could not record a failed password check");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if failure.locked {
        if let Some(t) = session_token(headers) {
            let _ = st.db.end_session(&t, EndReason::Logout, now).await;
        }
        return Redirect::to("/login").into_response();
    }
    let Ok(Some(u)) = st
        .db
        .session_record(&session_token(headers).unwrap_or_default())
        .await
    else {
        return Redirect::to("/login").into_response();
    };
    password_view(
        st,
        &u.user,
        Some("当前密码错误 / The current password is wrong".into()),
    )
    .await
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    username: String,
    csrf: String,
    enrolled: bool,
    required: bool,
    /// The secret in groups of four, for typing into an app by hand.
    secret: String,
    uri: String,
    error: Option<String>,
}

/// The second factor: if none is enrolled, a new secret is offered to this
/// session (shown as a QR code and as text) until a code from it is
/// confirmed.
pub(super) async fn totp_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    u: SessionUser,
) -> Response {
    totp_view(&st, &headers, &u, None).await
}

async fn totp_view(
    st: &AppState,
    headers: &HeaderMap,
    u: &SessionUser,
    error: Option<String>,
) -> Response {
    let token = session_token(headers).unwrap_or_default();
    let Ok(Some(rec)) = st.db.session_record(&token).await else {
        return Redirect::to("/login").into_response();
    };
    let secret = if u.totp {
        String::new()
    } else if let Some(s) = rec.totp_pending {
        s
    } else {
        let s = totp::base32(&totp::new_secret());
        if st.db.set_totp_pending(&token, Some(&s)).await.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        s
    };
    let uri = if secret.is_empty() {
        String::new()
    } else {
        let raw = totp::base32_decode(&secret).unwrap_or_default();
        totp::otpauth_uri(&st.login.policy.totp_issuer, &u.username, &raw)
    };
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut res = render(&TotpPage {
        username: u.username.clone(),
        csrf: u.csrf.clone(),
        enrolled: u.totp,
        required: super::session::second_factor_required(u.role),
        secret: grouped,
        uri,
        error,
    });
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The QR code of the secret offered to this session.
pub(super) async fn totp_qr(
    State(st): State<AppState>,
    headers: HeaderMap,
    u: SessionUser,
) -> Response {
    let token = session_token(&headers).unwrap_or_default();
    let Ok(Some(rec)) = st.db.session_record(&token).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(raw) = rec.totp_pending.as_deref().and_then(totp::base32_decode) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let uri = totp::otpauth_uri(&st.login.policy.totp_issuer, &u.username, &raw);
    totp::qr_response(Some(&uri))
}

#[derive(Deserialize)]
pub(super) struct TotpForm {
    csrf: String,
    code: String,
}

/// Confirms the offered secret with a code from the app.
pub(super) async fn totp_confirm(
    State(st): State<AppState>,
    headers: HeaderMap,
    u: SessionUser,
    Form(f): Form<TotpForm>,
) -> Response {
    if !u.csrf_matches(&f.csrf) {
        return (StatusCode::FORBIDDEN, "stale form: reload the page").into_response();
    }
    if u.totp {
        return Redirect::to("/").into_response();
    }
    let token = session_token(&headers).unwrap_or_default();
    let (Ok(Some(rec)), Ok(Some(user))) = (
        st.db.session_record(&token).await,
        st.db.user_by_id(u.user_id).await,
    ) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let Some(secret) = rec.totp_pending else {
        return Redirect::to("/account/totp").into_response();
    };
    let raw = totp::base32_decode(&secret).unwrap_or_default();
    let Some(step) = totp::verify(&raw, &f.code, Utc::now().timestamp(), None) else {
        let msg =
            "动态口令不正确，请核对手机时间后重试 / Wrong code: check the phone's clock".into();
        return totp_view(&st, &headers, &u, Some(msg)).await;
    };
    if st.db.set_totp(&user, &secret, step).await.is_err()
        || st.db.set_totp_pending(&token, None).await.is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Redirect::to("/").into_response()
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    password_due: Option<String>,
    account_ends: Option<String>,
}

/// 1.9 and 1.17: the password ends within a week, or the account within a
/// month: said once after signing in, with the way to act.
pub(super) async fn notice_page(State(st): State<AppState>, u: SessionUser) -> Response {
    let Ok(Some(user)) = st.db.user_by_id(u.user_id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let (p, now) = (&st.login.policy, Utc::now());
    let soon = |e: Expiry| match e {
        Expiry::EndsSoon(t) => Some(local_date(t)),
        _ => None,
    };
    render(&NoticePage {
        password_due: soon(p.password_expiry(user.password_changed_at, now)),
        account_ends: soon(p.account_expiry(user.valid_until, now)),
    })
}
