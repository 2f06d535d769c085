//! K9 at the kiosk: a person with their ID card on the reader lists their
//! published reports and fetches a PDF to print. The report office's side
//! (publish, preview, withdraw) is `workflow::reports`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use exam_protocol::{ReportPdf, ReportPdfRequest, ReportsRequest, ReportsResponse};

use super::{SignedJson, actor};
use crate::AppState;
use crate::error::ApiErr;

pub(super) async fn list(
    State(st): State<AppState>,
    SignedJson { body: req, .. }: SignedJson<ReportsRequest>,
) -> Result<Json<ReportsResponse>, ApiErr> {
    let (name, reports) = st
        .db
        .person_reports(&req.id_number)
        .await?
        .unwrap_or_default();
    Ok(Json(ReportsResponse { name, reports }))
}

pub(super) async fn pdf(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<ReportPdfRequest>,
) -> Result<Json<ReportPdf>, ApiErr> {
    let pdf = st
        .db
        .report_pdf(&actor(&kiosk), req.id, &req.id_number)
        .await?
        .ok_or_else(|| {
            ApiErr::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "报告已撤回或不属于您，请到服务台咨询",
            )
        })?;
    Ok(Json(ReportPdf::new(req.id, &pdf)))
}
