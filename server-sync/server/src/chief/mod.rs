//! The chief examination (总检, E8, items 46–62) and the generated report
//! (E9): visits whose results are all in (a make-up item holds one back, a
//! deferred one does not) enter a pool, graded by company, amount, age and
//! abnormality; assignment gives them out evenly, the harder grades only
//! to senior physicians; the chief physician's draft is the departments'
//! conclusions from the dictionary, which they order, merge, add to (by
//! pinyin initials) and edit, then lock; a reviewer (总审, not the one who
//! locked it) previews the PDF and passes it, which publishes it for the
//! kiosk and the desk, or returns it with a reason (counted per physician).
//! The company's group book is made from the published reports.
//!
//! The rules are `exam_domain::results::chief` (pure); rows in `store`;
//! the report's data and PDF in `render` (crate exam-report); the group
//! book in `book`.

mod api;
mod book;
pub(crate) mod render;
mod store;

use askama::Template;
use axum::response::Response;

use crate::db::SessionUser;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    let c = Access::Can(Capability::ChiefExamine);
    t.get("/chief", c, page)
        .get("/api/chief/worklist", c, api::worklist)
        .post("/api/chief/assign", c, api::assign)
        .get("/api/chief/conclusions", c, api::conclusions)
        .get("/api/chief/reports/{id}", c, api::report)
        .post("/api/chief/reports/{id}", c, api::act)
        .post("/api/chief/reports/{id}/edits", c, api::edit)
        .get("/api/chief/reports/{id}/preview.pdf", c, api::preview)
        .get("/api/chief/stats", c, api::stats)
        .post(
            "/api/chief/physicians/{login}",
            Access::Can(Capability::ManageAccounts),
            api::set_physician,
        )
        .get(
            "/api/group/companies/{id}/book.pdf",
            Access::Can(Capability::HandleReports),
            book::pdf,
        );
}

#[derive(Template)]
#[template(path = "chief.html")]
struct ChiefPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    reasons: Vec<(String, &'static str)>,
}

async fn page(u: SessionUser) -> Response {
    use exam_domain::results::chief::ReturnReason;
    let reasons = ReturnReason::ALL
        .iter()
        .map(|r| {
            let code = serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (code, r.label_zh())
        })
        .collect();
    crate::workflow::render(&ChiefPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
        reasons,
    })
}
