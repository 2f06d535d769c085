//! The front-desk and group-desk pages: server-rendered shells whose script
//! (`static/desk.js`, `static/groups.js`) talks to the JSON API. Signed-out
//! staff are sent to the login page like everywhere else.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Router, routing::get};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desk", get(desk))
        .route("/groups", get(groups))
        .route("/admin", get(admin))
        .route(
            "/static/desk.js",
            get(|| js(include_str!("../../static/desk.js"))),
        )
        .route(
            "/static/groups.js",
            get(|| js(include_str!("../../static/groups.js"))),
        )
        .route(
            "/static/common.js",
            get(|| js(include_str!("../../static/common.js"))),
        )
}

async fn js(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], body).into_response()
}

/// What the page shells need: the package list and the campuses for the
/// selects, and the user's CSRF token for the script.
pub struct Choice {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    username: String,
    csrf: String,
    packages: Vec<Choice>,
    campuses: Vec<Choice>,
    today: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    username: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    username: String,
    csrf: String,
    packages: Vec<Choice>,
    campuses: Vec<Choice>,
    today: String,
}

fn choices(st: &AppState) -> (Vec<Choice>, Vec<Choice>) {
    let cat = st.catalogue.get();
    (
        cat.packages
            .iter()
            .map(|p| Choice {
                code: p.code.clone(),
                name: format!("{}（¥{:.2}）", p.name, p.price_fen as f64 / 100.0),
            })
            .collect(),
        cat.campuses
            .iter()
            .map(|c| Choice {
                code: c.code.clone(),
                name: c.name.clone(),
            })
            .collect(),
    )
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn desk(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let u = match crate::staff::require_ready_user(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (packages, campuses) = choices(&st);
    render(&DeskPage {
        username: u.username,
        csrf: u.csrf,
        packages,
        campuses,
        today: super::now_local().date().to_string(),
    })
}

async fn groups(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let u = match crate::staff::require_ready_user(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (packages, campuses) = choices(&st);
    render(&GroupsPage {
        username: u.username,
        csrf: u.csrf,
        packages,
        campuses,
        today: super::now_local().date().to_string(),
    })
}

async fn admin(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let u = match crate::staff::require_ready_user(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if u.role != "admin" {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "只有管理员可以进入系统维护",
        )
            .into_response();
    }
    render(&AdminPage {
        username: u.username,
        csrf: u.csrf,
    })
}
