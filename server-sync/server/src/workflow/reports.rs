//! Exam reports (E9, K9) over HTTP. The report office (front desk role)
//! publishes a visit's PDF, previews or withdraws it; a kiosk with the
//! person's ID card on its reader lists their reports and fetches the PDFs
//! to print (those routes are `kiosk_api::reports`). The group desk sees no
//! reports (least privilege: they are medical data).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use exam_protocol::MAX_REPORT_BYTES;
use serde::{Deserialize, Serialize};

use super::bad;
use crate::AppState;
use crate::db::{ReportError, ReportRow, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

/// The desk's routes (behind the staff sign-in layer).
pub(crate) fn desk_routes(t: &mut RouteTable) {
    let reports = Access::Can(Capability::HandleReports);
    t.get("/api/desk/visits/{id}/report", reports, detail)
        .with_body_limit(
            Method::PUT,
            "/api/desk/visits/{id}/report",
            reports,
            MAX_REPORT_BYTES + 1024,
            publish,
        )
        .delete("/api/desk/visits/{id}/report", reports, withdraw)
        .get("/api/desk/visits/{id}/report/pdf", reports, preview);
}

impl From<ReportError> for ApiErr {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NoVisit | ReportError::NoReport => {
                ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            ReportError::Cancelled => {
                ApiErr::new(StatusCode::CONFLICT, "wrong_state", e.to_string())
            }
            ReportError::Invalid(m) => bad("pdf", m),
            ReportError::Db(e) => e.into(),
        }
    }
}

/// A published report as the desk sees it, with its prints at kiosks.
#[derive(Debug, Serialize)]
struct ReportView {
    id: i64,
    booking_id: i64,
    title: String,
    pages: i32,
    published_at: DateTime<Utc>,
    published_by: String,
    prints: Vec<PrintView>,
}

#[derive(Debug, Serialize)]
struct PrintView {
    kiosk: String,
    job: String,
    at: DateTime<Utc>,
}

impl From<ReportRow> for ReportView {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            booking_id: r.booking_id,
            title: r.title,
            pages: r.pages,
            published_at: r.published_at,
            published_by: r.published_by,
            prints: r
                .prints
                .into_iter()
                .map(|p| PrintView {
                    kiosk: p.kiosk_id,
                    job: p.job_id,
                    at: p.printed_at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Withdrawn {
    withdrawn: bool,
}

async fn detail(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<ReportView>, ApiErr> {
    let r = st.db.visit_report(id).await?.ok_or(ReportError::NoReport)?;
    Ok(Json(r.into()))
}

#[derive(Debug, Deserialize)]
struct PublishQuery {
    title: Option<String>,
}

/// `PUT` with the PDF as the body (`Content-Type: application/pdf`).
async fn publish(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReportView>, ApiErr> {
    let pdf_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/pdf"));
    if !pdf_type {
        return Err(bad("content_type", "请上传 PDF 文件（application/pdf）"));
    }
    let r = st
        .db
        .publish_report(&user.username, id, q.title.as_deref(), &body)
        .await?;
    tracing::info!(
        booking = id,
        report = r.id,
        pages = r.pages,
        "report published"
    );
    Ok(Json(r.into()))
}

#[derive(Debug, Deserialize)]
struct WithdrawQuery {
    /// Defaulted, so that a missing reason gets the same 422 as an empty one
    /// (not axum's plain-text 400 for a query it cannot read).
    #[serde(default)]
    reason: String,
}

async fn withdraw(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<WithdrawQuery>,
) -> Result<Json<Withdrawn>, ApiErr> {
    let reason = q.reason.trim();
    if reason.is_empty() {
        return Err(bad("reason", "撤回报告须填写原因"));
    }
    let reason: String = reason.chars().take(200).collect();
    st.db.withdraw_report(&user.username, id, &reason).await?;
    Ok(Json(Withdrawn { withdrawn: true }))
}

async fn preview(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let pdf = st
        .db
        .visit_report_pdf(&user.username, id)
        .await?
        .ok_or(ReportError::NoReport)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        pdf,
    )
        .into_response())
}
