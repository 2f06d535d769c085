//! Signing in and out. One message for every wrong name or password, the
//! same time spent on unknown accounts, a lock after repeated failures (S1).

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::session::{cleared_cookie, require_user, session_cookie, session_token};
use crate::db::LoginOutcome;
use crate::metrics::Metrics;
use crate::workflow::render;
use crate::{AppState, password};

const WRONG: &str = "用户名或密码错误 / Wrong user name or password";
const LOCKED: &str = "账户已锁定，请 15 分钟后再试 / Account locked: try again in 15 minutes";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

pub(super) async fn login_page() -> Response {
    render(&LoginPage { error: None })
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
}

pub(super) async fn login(State(st): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    // One message for every failure, so the page does not tell which accounts exist.
    let refused = |msg: &str| {
        render(&LoginPage {
            error: Some(msg.to_string()),
        })
    };
    let user = match st.db.user_by_name(f.username.trim()).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            // Spend the same time as a real check.
            let _ = password::verify(f.password, password::dummy_hash().await).await;
            Metrics::inc(&st.metrics.staff_logins_failed);
            return refused(WRONG);
        }
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let now = Utc::now();
    if user.locked_until.is_some_and(|t| t > now) {
        Metrics::inc(&st.metrics.staff_logins_failed);
        return refused(LOCKED);
    }
    if !password::verify(f.password, user.password_hash.clone()).await {
        Metrics::inc(&st.metrics.staff_logins_failed);
        return match st.db.login_failed(&user, now).await {
            Ok(LoginOutcome::Locked) => refused(LOCKED),
            _ => refused(WRONG),
        };
    }
    let token = exam_protocol::auth::random_token();
    let csrf = exam_protocol::auth::random_token();
    if st
        .db
        .login_succeeded(&user, &exam_protocol::auth::sha256_hex(&token), &csrf, now)
        .await
        .is_err()
    {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Metrics::inc(&st.metrics.staff_logins_ok);
    let cookie = session_cookie(&token, st.config.secure_cookies);
    let to = if user.must_change {
        "/password"
    } else {
        "/registrations"
    };
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
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
    if let (Ok(u), Some(token)) = (require_user(&st, &headers).await, session_token(&headers))
        && u.csrf_matches(&f.csrf)
    {
        let _ = st.db.end_session(&token).await;
        let _ = st.db.audit(&u.username, "logout", "").await;
    }
    (
        [(header::SET_COOKIE, cleared_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}
