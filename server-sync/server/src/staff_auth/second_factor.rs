//! The second step of a sign-in for an account with a second factor: the
//! password was right (a `second_factor` session row waits, opening
//! nothing), the TOTP code is asked. A right code drops the waiting row and
//! begins a session under a new token; five wrong ones drop the sign-in and
//! count as a failure of the account from that address.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::login::{STALE_FORM, first_page, form_token, throttled};
use super::policy::EndReason;
use super::session::{cleared_cookie, session_cookie, session_token};
use super::{ClientAddr, ct_eq, totp};
use crate::AppState;
use crate::db::Stage;
use crate::metrics::Metrics;
use crate::workflow::render;

/// Minutes a password-checked sign-in may wait for its TOTP code.
const SECOND_FACTOR_MINUTES: i64 = 5;
/// Wrong TOTP codes before the waiting sign-in is dropped.
const SECOND_FACTOR_TRIES: i64 = 5;

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    error: Option<String>,
    csrf: String,
}

/// The sign-in waiting for its second factor, if the cookie has one that
/// is still waiting.
async fn pending(
    st: &AppState,
    headers: &HeaderMap,
) -> Option<(String, crate::db::PendingSecondFactor)> {
    let token = session_token(headers)?;
    let p = st.db.pending_second_factor(&token).await.ok()??;
    if Utc::now() - p.created_at > Duration::minutes(SECOND_FACTOR_MINUTES) {
        let _ = st
            .db
            .end_session(&token, EndReason::Logout, Utc::now())
            .await;
        return None;
    }
    Some((token, p))
}

pub(super) async fn code_page(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match pending(&st, &headers).await {
        Some(_) => render(&CodePage {
            error: None,
            csrf: form_token(&headers).0,
        }),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    code: String,
    /// The sign-in form's token (its cookie's path covers this page too).
    #[serde(default)]
    form: String,
}

/// The TOTP code of a password-checked sign-in. Right: the waiting row is
/// dropped and a new session (new token) begins. Wrong five times: the
/// sign-in is dropped and counted as a failure of the account.
pub(super) async fn code(
    State(st): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let now = Utc::now();
    if let Some(r) = throttled(&st, ip, now) {
        return r;
    }
    let Some((token, p)) = pending(&st, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    let form = form_token(&headers);
    if form.1 || !ct_eq(form.0.as_bytes(), f.form.as_bytes()) {
        return (StatusCode::FORBIDDEN, STALE_FORM).into_response();
    }
    let Ok(Some(user)) = st.db.user_by_id(p.user_id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let secret = user.totp_secret.as_deref().and_then(totp::base32_decode);
    let step = secret
        .as_deref()
        .and_then(|s| totp::verify(s, &f.code, now.timestamp(), user.totp_last_step));
    let fresh = match step {
        Some(step) => st.db.use_totp_step(user.id, step).await.unwrap_or(false),
        None => false,
    };
    if !fresh {
        let tries = st.db.second_factor_failed(&token).await.unwrap_or(i64::MAX);
        if tries < SECOND_FACTOR_TRIES {
            return render(&CodePage {
                error: Some("动态口令错误 / Wrong code".into()),
                csrf: form.0,
            });
        }
        let _ = st.db.end_session(&token, EndReason::Logout, now).await;
        let failure = st.login.failure(ip, &user.username, now);
        let detail = format!("wrong second-factor codes from {ip}");
        if let Err(e) = st.db.login_failed(&user, &detail, failure.locked).await {
            tracing::error!(error = %e, "could not record a failed sign-in");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        return (
            [(header::SET_COOKIE, cleared_cookie())],
            Redirect::to("/login"),
        )
            .into_response();
    }
    // A new token for the signed-in session: the one that waited was
    // issued before the second factor.
    let _ = st.db.end_session(&token, EndReason::Logout, now).await;
    let (new, csrf) = (
        exam_protocol::auth::random_token(),
        exam_protocol::auth::random_token(),
    );
    let hash = exam_protocol::auth::sha256_hex(&new);
    if st
        .db
        .begin_session(
            user.id,
            &user.username,
            &hash,
            &csrf,
            &ip.to_string(),
            Stage::Ready,
            now,
        )
        .await
        .is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Metrics::inc(&st.metrics.staff_logins_ok);
    let to = first_page(&st, &user, false, now);
    let cookie = session_cookie(&new, st.config.secure_cookies);
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}
