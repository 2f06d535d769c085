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
//! book in `book`; batch printing, pickup slips and hand-overs in
//! `delivery`.

mod api;
mod book;
mod delivery;
mod physicians;
mod pool;
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
        .get("/api/chief/worklist", c, pool::worklist)
        .post("/api/chief/assign", c, pool::assign)
        .get("/api/chief/conclusions", c, api::conclusions)
        .get("/api/chief/reports/{id}", c, api::report)
        .post("/api/chief/reports/{id}", c, api::act)
        .post("/api/chief/reports/{id}/edits", c, api::edit)
        .get("/api/chief/reports/{id}/preview.pdf", c, api::preview)
        .get("/api/chief/reports/{id}/documents/{n}", c, api::document)
        .get("/api/chief/stats", c, physicians::stats)
        .post(
            "/api/chief/physicians/{login}",
            Access::Can(Capability::ManageAccounts),
            physicians::set_physician,
        )
        .get(
            "/api/group/companies/{id}/book.pdf",
            Access::Can(Capability::HandleReports),
            book::pdf,
        )
        .get(
            "/api/group/companies/{id}/pickup-slip.pdf",
            Access::Can(Capability::HandleReports),
            delivery::pickup_slip,
        )
        .get(
            "/api/desk/reports/companies",
            Access::Can(Capability::HandleReports),
            delivery::companies,
        )
        .get(
            "/api/desk/reports/batch.pdf",
            Access::Can(Capability::HandleReports),
            delivery::batch,
        )
        .post(
            "/api/desk/visits/{id}/report/handover",
            Access::Can(Capability::HandleReports),
            delivery::hand_over,
        )
        .get(
            "/api/desk/visits/{id}/report/handovers",
            Access::Can(Capability::HandleReports),
            delivery::handovers,
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

/// The demo's simulated chief physicians: ready visits enter the pool;
/// `chief` takes each one given to nobody or to them, keeps the
/// departments' conclusions, locks it; `reviewer` passes it, which
/// generates and publishes the PDF, through the same code as the page.
/// Both are listed as chief physicians (level 3) if they are not.
/// Returns how many reports were published.
pub async fn simulate(
    st: &crate::AppState,
    chief: &str,
    reviewer: &str,
) -> Result<usize, crate::error::ApiErr> {
    use exam_domain::results::chief::{ReportAction, ReportState};
    let listed = store::physicians(&st.db).await?;
    for (login, review) in [(chief, false), (reviewer, true)] {
        if !listed.iter().any(|p| p.login == login) {
            st.db
                .set_chief_physician("demo", login, 3, review, None)
                .await?;
        }
    }
    pool::enter_ready(st).await?;
    let mut published = 0;
    for row in store::list(&st.db, &[ReportState::Assigned, ReportState::Draft], None).await? {
        if row.physician.as_deref().is_some_and(|p| p != chief) {
            continue;
        }
        let id = row.booking_id;
        let conclusions = Some(row.conclusions.clone());
        let step = |action, version, conclusions| api::ActIn {
            version,
            action,
            conclusions,
        };
        let r = api::run(
            st,
            chief,
            id,
            step(ReportAction::Save, row.version, conclusions),
        )
        .await?;
        let r = api::run(st, chief, id, step(ReportAction::Lock, r.version, None)).await?;
        api::run(
            st,
            reviewer,
            id,
            step(ReportAction::Approve, r.version, None),
        )
        .await?;
        published += 1;
    }
    Ok(published)
}

/// Whether a visit can go to the chief examination, and what holds it
/// back (make-up items, items without results).
pub async fn readiness(
    st: &crate::AppState,
    booking: i64,
) -> Result<exam_domain::results::chief::Readiness, crate::error::ApiErr> {
    pool::readiness_of(st, booking).await
}
