//! Staff sign-in, shared by the staff pages and the staff JSON API: the
//! session cookie, login and logout (`login`), the signed-in user as an
//! extractor, the CSRF check and the role check (`session`). What each role
//! may do is written once, in [`crate::roles`].

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod login;
mod session;

pub(crate) use session::{api_session, page_user, require_ready_user, require_user, session_token};

/// `/login` and `/logout`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
}
