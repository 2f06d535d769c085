//! Staff sign-in, shared by the staff pages and the staff JSON API: the
//! session cookie, login and logout (`login`), the signed-in user as an
//! extractor, the CSRF check and the role check (`session`), the password
//! and second-factor pages (`account`). What each role may do is written
//! once, in [`crate::roles`].
//!
//! The account rules (S1) are pure and configured (`policy`), the sign-in
//! limits are pure bookkeeping (`limits`), the captcha is drawn here
//! (`captcha`) and the second factor is RFC 6238 TOTP (`totp`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::Duration;

use crate::AppState;
use crate::password::HashGate;
use crate::routes::{Access, RouteTable};

mod account;
mod campus;
pub(crate) mod captcha;
pub mod limits;
mod login;
pub mod policy;
mod second_factor;
mod session;
pub mod shared;
pub mod totp;

pub(crate) use campus::{StaffCampus, other_campus};
pub use policy::AccountPolicy;
pub(crate) use session::{
    end_stale_sessions, require_ready_user, require_user, session_alive, session_token,
};

/// `/login` and `/logout`: anyone (signing out without a session just
/// clears the cookie). The password and second-factor pages: any session,
/// before the first-login password change too.
pub(crate) fn routes(t: &mut RouteTable) {
    t.get("/login", Access::Public, login::login_page)
        .post("/login", Access::Public, login::login)
        .get("/login/captcha", Access::Public, login::captcha_image)
        .get("/login/code", Access::Public, second_factor::code_page)
        .post("/login/code", Access::Public, second_factor::code)
        .post("/logout", Access::Public, login::logout)
        .get("/password", Access::SignedIn, account::password_page)
        .post("/password", Access::SignedIn, account::change_password)
        .get("/account/totp", Access::SignedIn, account::totp_page)
        .post("/account/totp", Access::SignedIn, account::totp_confirm)
        .get("/account/totp/qr", Access::SignedIn, account::totp_qr)
        .get("/account/notice", Access::Staff, account::notice_page);
}

/// Compares two secrets in time that depends only on their lengths (form
/// tokens, CSRF tokens, captcha answers, TOTP codes).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What guards sign-in: the limiter, the captchas issued and the bound on
/// password hashes. Kept in memory and shared with the other instances
/// through the store (`shared`): each applies the others' changes within
/// a poll or two. The hash bound is this machine's own.
#[derive(Debug)]
pub struct LoginGuard {
    pub policy: AccountPolicy,
    limiter: Mutex<limits::Limiter>,
    captchas: Mutex<captcha::Captchas>,
    pub hashes: HashGate,
    /// This instance's changes not yet written for the others (`shared`).
    outbox: Mutex<Vec<(chrono::DateTime<chrono::Utc>, shared::GuardEvent)>>,
}

impl LoginGuard {
    pub fn new(policy: &AccountPolicy) -> Self {
        Self {
            limiter: Mutex::new(limits::Limiter::new(policy)),
            captchas: Mutex::new(captcha::Captchas::new(
                Duration::seconds(policy.captcha_ttl_seconds.max(10)),
                policy.max_tracked,
            )),
            hashes: HashGate::new(
                policy.hash_slots(),
                policy.max_waiting_hashes,
                StdDuration::from_millis(policy.hash_wait_ms),
            ),
            policy: policy.clone(),
            outbox: Mutex::default(),
        }
    }

    /// The limiter (a poisoned lock is recovered: its maps stay consistent
    /// between statements).
    pub(crate) fn limiter(&self) -> MutexGuard<'_, limits::Limiter> {
        self.limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn captchas(&self) -> MutexGuard<'_, captcha::Captchas> {
        self.captchas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The captcha answer issued to the sign-in form whose token is `form`:
    /// for tests, which cannot read the picture. Not reachable over HTTP.
    #[doc(hidden)]
    pub fn captcha_answer_for_tests(&self, form: &str) -> Option<String> {
        self.captchas().peek(&form_key(form))
    }
}

/// What the captcha store keys a form by: its token's hash.
fn form_key(form: &str) -> String {
    exam_protocol::auth::sha256_hex(form)
}

/// The client's address: the connection's peer, or behind a configured
/// proxy the address it forwarded. Without connection info (a router
/// served without `into_make_service_with_connect_info`) every client is
/// `0.0.0.0`: one shared address for the limits, logged once.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "no peer address on requests: sign-in limits treat every client as one"
                );
            });
            return Ok(Self(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        };
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(Self(policy::client_address(
            peer.ip(),
            forwarded,
            &st.login.policy.trusted_proxies,
        )))
    }
}
