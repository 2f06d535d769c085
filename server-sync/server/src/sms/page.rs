//! `/sms` (administrators: `ManageInterfaces`): per kind what was sent,
//! delivered, failed, waiting, dropped; the latest problems with their
//! reasons; the latest messages, numbers masked, no names. And the staff
//! route that sends an abnormal-result or critical-value notice for a
//! visit by hand (`HandleReports`, audited).

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::store::SmsRow;
use super::{Requested, ResultNotice};
use crate::AppState;
use crate::db::{DbError, SessionUser};
use crate::error::ApiErr;
use crate::interfaces::Counterpart;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::ManageInterfaces as M;
    t.post("/sms/reports/{token}", Access::Public, receive_reports)
        .get("/sms", Access::Can(M), page)
        .get("/api/sms", Access::Can(M), summary_json)
        .post(
            "/api/sms/visits/{id}/notice",
            Access::Can(Capability::HandleReports),
            send_notice,
        );
}

/// One kind's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindCounts {
    pub kind: &'static str,
    pub label: &'static str,
    pub waiting: i64,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub dropped: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmsSummary {
    /// The adapter, or None: messages wait.
    pub adapter: Option<String>,
    pub kinds: Vec<KindCounts>,
    pub problems: Vec<SmsRow>,
    pub latest: Vec<SmsRow>,
    pub unknown_reports: i64,
}

async fn summary(st: &AppState) -> Result<SmsSummary, DbError> {
    let mut kinds: Vec<KindCounts> = exam_sms::TemplateKind::ALL
        .into_iter()
        .map(|k| KindCounts {
            kind: k.as_str(),
            label: k.label_zh(),
            ..KindCounts::default()
        })
        .collect();
    for (kind, shown, n) in st.db.sms_counts().await? {
        let Some(k) = kinds.iter_mut().find(|k| k.kind == kind) else {
            continue;
        };
        match shown.as_str() {
            "waiting" => k.waiting += n,
            "queued" => k.queued += n,
            "sent" => k.sent += n,
            "delivered" => k.delivered += n,
            "failed" => k.failed += n,
            _ => k.dropped += n,
        }
    }
    Ok(SmsSummary {
        adapter: st
            .config
            .interfaces
            .counterparts
            .get(&Counterpart::Sms)
            .map(|s| s.adapter.clone()),
        kinds,
        problems: st.db.sms_problems(20).await?,
        latest: st.db.sms_messages(None, 50).await?,
        unknown_reports: st.db.sms_unknown_reports().await?,
    })
}

#[derive(Template)]
#[template(path = "sms.html")]
struct SmsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    s: SmsSummary,
}

async fn page(State(st): State<AppState>, u: SessionUser) -> Result<Response, ApiErr> {
    let s = summary(&st).await?;
    Ok(crate::workflow::render(&SmsPage {
        s,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}

async fn summary_json(State(st): State<AppState>) -> Result<Json<SmsSummary>, ApiErr> {
    Ok(Json(summary(&st).await?))
}

#[derive(Debug, Deserialize)]
struct NoticeBody {
    notice: ResultNotice,
    /// What the notice is about (a result's id); by default the day, so a
    /// second click the same day sends nothing more.
    reference: Option<String>,
}

#[derive(Debug, Serialize)]
struct NoticeAnswer {
    outcome: Requested,
}

async fn send_notice(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(b): Json<NoticeBody>,
) -> Result<Json<NoticeAnswer>, ApiErr> {
    let reference: String = b
        .reference
        .map(|r| {
            r.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect()
        })
        .filter(|r: &String| !r.is_empty())
        .unwrap_or_else(|| {
            format!(
                "manual-{}",
                Utc::now()
                    .with_timezone(&exam_domain::centre_offset())
                    .format("%Y%m%d")
            )
        });
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    let outcome = super::on_result(&mut tx, &st.db.keys, id, b.notice, &reference).await?;
    if outcome == Requested::NoVisit {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_visit",
            "没有这个体检记录 / no such visit",
        ));
    }
    let what = match b.notice {
        ResultNotice::Abnormal => "abnormal",
        ResultNotice::Critical => "critical",
    };
    crate::db::log_line(
        &mut tx,
        &u.username,
        "sms.notice",
        &format!("booking:{id}"),
        &format!("notice={what} reference={reference} outcome={outcome:?}"),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(NoticeAnswer { outcome }))
}

/// The platform's pushed status reports (a JSON array), at the secret path
/// configured as `callback_token`: anything else is a 404, as if the route
/// did not exist. Each report applied once (as pulled ones); the platform
/// gets its `{"result":0}` once they are stored.
async fn receive_reports(
    State(st): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiErr> {
    use axum::response::IntoResponse;
    let want = st
        .config
        .interfaces
        .counterparts
        .get(&Counterpart::Sms)
        .and_then(|spec| super::adapter::SmsSettings::from_spec(spec).ok())
        .and_then(|s| s.callback_token)
        .filter(|t| t.len() >= 16);
    let same = want.as_deref().is_some_and(|w| {
        w.len() == token.len()
            && w.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !same {
        tracing::warn!("SMS status reports refused: unknown callback path");
        return Err(ApiErr::new(StatusCode::NOT_FOUND, "not_found", "not found"));
    }
    let reports = match exam_sms::model::parse_callback(&body) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "SMS status reports refused: unreadable");
            return Ok((
                StatusCode::BAD_REQUEST,
                [("content-type", "application/json")],
                r#"{"result":1,"errmsg":"bad request"}"#,
            )
                .into_response());
        }
    };
    let now = Utc::now();
    for r in &reports {
        super::store::apply_report(&st.db, r, now).await?;
    }
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        exam_sms::model::CALLBACK_ACK,
    )
        .into_response())
}
