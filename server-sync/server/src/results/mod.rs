//! Department results (分科录入, E6): the department page (`/dept`), where a
//! room's doctor scans the guide sheet and enters this person's items in
//! this room from the knowledge base's templates (normal findings in one
//! tap, numbers flagged against the person's reference range, positive
//! findings writing the summary and its conclusions), sees the other
//! departments' summaries and earlier years' values, and saves after the
//! quality checks. Saving raises the major abnormal results the entry
//! holds (`interfaces::abnormal`, the board's source).
//!
//! The rules are `exam_domain::results` (pure); this module stores
//! entries and summaries sealed (`store`) and serves the page (`api`).
//! The knowledge base is the seeded one (`exam_domain::results::seed`).

mod api;
mod extra;
pub(crate) mod history;
pub(crate) mod store;

use std::sync::OnceLock;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use exam_domain::results::Knowledge;

use crate::AppState;
use crate::db::SessionUser;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub use api::{EntryIn, Preview, save_entries};
pub use store::Source;

/// The visit a scanned code names (exam number, tube label, booking code).
pub(crate) async fn find_visit(st: &AppState, typed: &str) -> Result<i64, crate::error::ApiErr> {
    api::find(st, typed).await
}

/// The knowledge base in use.
pub fn knowledge() -> &'static Knowledge {
    static K: OnceLock<Knowledge> = OnceLock::new();
    K.get_or_init(exam_domain::results::seed::knowledge)
}

pub(crate) fn routes(t: &mut RouteTable) {
    let e = Access::Can(Capability::EnterResults);
    t.get("/dept", e, page)
        .get("/api/results/find", e, api::find_visit)
        .get("/api/results/visits/{id}", e, api::visit)
        .post(
            "/api/results/visits/{id}/departments/{dept}/preview",
            e,
            api::preview,
        )
        .post("/api/results/visits/{id}/departments/{dept}", e, api::save)
        .post("/api/results/visits/{id}/history", e, history::save_history)
        .post("/api/results/visits/{id}/extra-items", e, extra::add)
        .get("/api/results/payments/{no}", e, extra::state)
        .get("/api/results/payments/{no}/qr.png", e, extra::qr)
        .post(
            "/api/results/visits/{id}/departments/{dept}/questionnaire",
            e,
            history::save_answers,
        );
}

#[derive(Template)]
#[template(path = "dept.html")]
struct DeptPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    rooms: Vec<(String, String)>,
}

async fn page(State(st): State<AppState>, u: SessionUser) -> Response {
    let campus = st.config.demo_campus.clone();
    let rooms = st
        .catalogue
        .get()
        .rooms
        .iter()
        .filter(|r| r.campus == campus)
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    crate::workflow::render(&DeptPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        rooms,
        username: u.username,
        csrf: u.csrf,
    })
}
