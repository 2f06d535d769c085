//! K9 at the kiosk: a person with their ID card on the reader lists their
//! published reports and fetches a PDF to print. The report office's side
//! (publish, preview, withdraw) is `workflow::reports`. A kiosk sees the
//! reports of its own campus's visits only, and only from a zone that may
//! print reports (`report_zones`); anything else is answered as if there
//! were no report (see `scope`).

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use exam_domain::{IdNumber, IdentityQuery};
use exam_protocol::{ReportPdf, ReportPdfRequest, ReportSummary, ReportsRequest, ReportsResponse};

use super::{SignedJson, actor, scope};
use crate::AppState;
use crate::db::KioskRow;
use crate::error::ApiErr;

/// This person's live reports as this kiosk may show them, with their name
/// (empty, like an unknown person's, when they have no visit at this
/// campus); and how many reports were withheld.
async fn scoped_reports(
    st: &AppState,
    kiosk: &KioskRow,
    id_number: &IdNumber,
) -> Result<(String, Vec<ReportSummary>, usize), ApiErr> {
    let (name, reports) = st.db.person_reports(id_number).await?.unwrap_or_default();
    if !scope::prints_reports(&st.config.report_zones, &kiosk.zone) {
        return Ok((String::new(), vec![], reports.len()));
    }
    // The person's visits at this campus.
    let here: HashSet<i64> = st
        .db
        .lookup(&IdentityQuery::IdNumber {
            id_number: id_number.clone(),
        })
        .await?
        .into_iter()
        .filter(|r| r.booking.campus == kiosk.campus)
        .map(|r| r.booking.id)
        .collect();
    let total = reports.len();
    let reports: Vec<ReportSummary> = reports
        .into_iter()
        .filter(|r| here.contains(&r.booking_id))
        .collect();
    let name = if here.is_empty() { String::new() } else { name };
    let withheld = total - reports.len();
    Ok((name, reports, withheld))
}

pub(super) async fn list(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<ReportsRequest>,
) -> Result<Json<ReportsResponse>, ApiErr> {
    let (name, reports, withheld) = scoped_reports(&st, &kiosk, &req.id_number).await?;
    if withheld > 0 {
        scope::out_of_scope(&st, &kiosk, "reports", withheld).await?;
    }
    Ok(Json(ReportsResponse { name, reports }))
}

pub(super) async fn pdf(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<ReportPdfRequest>,
) -> Result<Json<ReportPdf>, ApiErr> {
    let not_found = || {
        ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "报告已撤回或不属于您，请到服务台咨询",
        )
    };
    let (_, reports, _) = scoped_reports(&st, &kiosk, &req.id_number).await?;
    if !reports.iter().any(|r| r.id == req.id) {
        // Not this person's live report at all, or not this kiosk's to print.
        let exists = st
            .db
            .person_reports(&req.id_number)
            .await?
            .is_some_and(|(_, all)| all.iter().any(|r| r.id == req.id));
        if exists {
            scope::out_of_scope(&st, &kiosk, "report_pdf", 1).await?;
        }
        return Err(not_found());
    }
    let pdf = st
        .db
        .report_pdf(&actor(&kiosk), req.id, &req.id_number)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(ReportPdf::new(req.id, &pdf)))
}
