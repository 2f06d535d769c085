//! `/emergency` (`Capability::ViewEmergency`): the centre's state, why it
//! is or is not eligible, the switch (`SwitchEmergency`: desk supervisors
//! and administrators; before eligibility administrators only, with a
//! reason), past episodes with their reports, the report as CSV (audited
//! as an export); the same as JSON under `/api/emergency`. And the banner
//! every staff page carries while the mode is on.

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::machine::{Phase, Refusal, SwitchOn};
use super::report::{Delivery, Report};
use super::{EmergencyError, Episode, Status};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::{SwitchEmergency as S, ViewEmergency as V};
    t.get("/emergency", Access::Can(V), page)
        .get("/emergency/episodes/{id}/report.csv", Access::Can(V), csv)
        .get("/api/emergency", Access::Can(V), status_json)
        .post("/api/emergency/on", Access::Can(S), on)
        .post("/api/emergency/off", Access::Can(S), off)
        .get(
            "/api/emergency/episodes/{id}/report",
            Access::Can(V),
            report_json,
        );
}

impl From<EmergencyError> for ApiErr {
    fn from(e: EmergencyError) -> Self {
        match e {
            EmergencyError::Refused(r @ Refusal::NotPermitted) => {
                ApiErr::new(StatusCode::FORBIDDEN, "not_allowed", r.to_string())
            }
            EmergencyError::Refused(r @ Refusal::Text(_)) => {
                ApiErr::new(StatusCode::BAD_REQUEST, "invalid", r.to_string())
            }
            EmergencyError::Refused(r) => {
                ApiErr::new(StatusCode::CONFLICT, "emergency_refused", r.to_string())
            }
            EmergencyError::Db(d) => d.into(),
        }
    }
}

async fn status_json(State(st): State<AppState>) -> Result<Json<Status>, ApiErr> {
    Ok(Json(super::status(&st, Utc::now()).await?))
}

#[derive(Debug, Deserialize)]
struct OnBody {
    reason: String,
    #[serde(default)]
    leadership: Option<String>,
    #[serde(default)]
    recovery_estimate: Option<String>,
    #[serde(default)]
    override_reason: Option<String>,
}

async fn on(
    State(st): State<AppState>,
    u: SessionUser,
    Json(b): Json<OnBody>,
) -> Result<Json<Episode>, ApiErr> {
    let req = SwitchOn {
        reason: b.reason,
        leadership: b.leadership,
        recovery_estimate: b.recovery_estimate,
        override_reason: b.override_reason,
    };
    Ok(Json(
        super::switch_on(&st, &u.username, u.role, &req, Utc::now()).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct OffBody {
    reason: String,
}

async fn off(
    State(st): State<AppState>,
    u: SessionUser,
    Json(b): Json<OffBody>,
) -> Result<Json<Episode>, ApiErr> {
    Ok(Json(
        super::switch_off(&st, &u.username, u.role, &b.reason, Utc::now()).await?,
    ))
}

async fn report_of(st: &AppState, id: i64) -> Result<Report, ApiErr> {
    let ep = st
        .db
        .emergency_episode(id)
        .await?
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有这次应急记录"))?;
    Ok(st.db.emergency_report(ep).await?)
}

async fn report_json(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Report>, ApiErr> {
    Ok(Json(report_of(&st, id).await?))
}

async fn csv(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let r = report_of(&st, id).await?;
    let body = super::report::csv(&r);
    st.db
        .audit(
            &u.username,
            "export.emergency_report",
            &format!(
                "emergency:{id} entries={} messages={}",
                r.entries.len(),
                r.messages.len()
            ),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"emergency-{id}.csv\""),
            ),
        ],
        // A BOM so that spreadsheet programs read the Chinese as UTF-8.
        format!("\u{feff}{body}"),
    )
        .into_response())
}

/// A line of the page's tables, formatted.
struct EpisodeLine {
    id: i64,
    state: &'static str,
    basis: &'static str,
    started: String,
    started_by: String,
    ended: String,
}

/// The centre's clock (CST), to the minute.
fn hm(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&exam_domain::centre_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl EpisodeLine {
    fn of(e: &Episode) -> Self {
        Self {
            id: e.id,
            state: e.state.label_zh(),
            basis: match e.basis {
                super::machine::Basis::Eligible => "断线满时限",
                super::machine::Basis::Override => "管理员越权开启",
            },
            started: hm(e.started_at),
            started_by: e.started_by.clone(),
            ended: e.ended_at.map(hm).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "emergency.html")]
struct EmergencyPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    status: Status,
    phase_label: &'static str,
    reasons: Vec<String>,
    may_switch: bool,
    may_override: bool,
    open: Option<Episode>,
    episodes: Vec<EpisodeLine>,
    report: Option<Report>,
    report_line: Option<EpisodeLine>,
}

impl EmergencyPage {
    fn yuan(&self, fen: &i64) -> String {
        format!("¥{}.{:02}", fen / 100, (fen % 100).abs())
    }

    fn when(&self, t: &chrono::DateTime<Utc>) -> String {
        hm(*t)
    }

    fn delivery(&self, d: &Delivery) -> &'static str {
        d.label_zh()
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    episode: Option<i64>,
}

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiErr> {
    let status = super::status(&st, Utc::now()).await?;
    let episodes = st.db.emergency_episodes(50).await?;
    let chosen = q.episode.or_else(|| episodes.first().map(|e| e.id));
    let report = match chosen {
        Some(id) => Some(report_of(&st, id).await?),
        None => None,
    };
    let reasons = status
        .eligibility
        .reasons
        .iter()
        .map(|r| {
            format!(
                "{} 自 {} 起无应答，已 {} 分钟{}",
                r.away.label_zh(),
                hm(r.since),
                r.minutes,
                if r.enough { "（已满时限）" } else { "" }
            )
        })
        .collect();
    Ok(crate::workflow::render(&EmergencyPage {
        phase_label: match status.phase {
            Phase::Normal => "正常",
            Phase::Eligible => "可开启应急模式",
            Phase::Active => "应急模式运行中",
            Phase::Ending => "应急模式已关闭，等待补传",
        },
        reasons,
        may_switch: u.role.may(Capability::SwitchEmergency),
        may_override: u.role.may(Capability::OverrideEmergency),
        open: status.open.clone(),
        episodes: episodes.iter().map(EpisodeLine::of).collect(),
        report_line: report.as_ref().map(|r| EpisodeLine::of(&r.episode)),
        report,
        status,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}

/// The banner every staff page (those with the header bar) carries while
/// an episode is active: put right after the header, so no page needs to
/// know about it.
pub(crate) async fn banner(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html || res.status() != StatusCode::OK {
        return res;
    }
    let open = match st.db.emergency_open().await {
        Ok(Some(e)) if e.state == super::machine::EpisodeState::Active => e,
        Ok(_) => return res,
        Err(e) => {
            tracing::warn!(error = %e, "emergency banner: store");
            return res;
        }
    };
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 32 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = String::from_utf8_lossy(&bytes);
    let line = format!(
        "<div class=\"emergency-banner\" role=\"alert\" id=\"emergency-banner\">\
         应急模式运行中（{} 起，{}）：登记与现金收费照常，自助机请患者到收费处缴费；\
         所有数据在 HIS / 支付平台恢复后补传并对账。<a href=\"/emergency\">应急模式详情</a></div>",
        askama_escape(&hm(open.started_at)),
        askama_escape(&open.started_by),
    );
    let out = with_banner(&page, &line).unwrap_or_else(|| page.into_owned());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

/// Pure: the page with `banner` right after the staff header bar; None
/// when the page has no header bar (sign-in, print views, JSON errors).
fn with_banner(page: &str, banner: &str) -> Option<String> {
    const BAR: &str = "<header class=\"bar\">";
    const BAR_END: &str = "</header>";
    let start = page.find(BAR)?;
    let at = start + page[start..].find(BAR_END)? + BAR_END.len();
    Some(format!("{}\n{banner}{}", &page[..at], &page[at..]))
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_goes_after_the_staff_header_only() {
        let page = "<body><header class=\"bar\"><nav></nav></header><main>x</main></body>";
        assert_eq!(
            with_banner(page, "<div>B</div>").as_deref(),
            Some(
                "<body><header class=\"bar\"><nav></nav></header>\n<div>B</div><main>x</main></body>"
            )
        );
        // A page with another header first, or none: the staff bar decides.
        let other = "<header>h</header><header class=\"bar\">n</header><p>";
        assert_eq!(
            with_banner(other, "B").as_deref(),
            Some("<header>h</header><header class=\"bar\">n</header>\nB<p>")
        );
        assert_eq!(with_banner("<form>login</form>", "B"), None);
        assert_eq!(askama_escape("<a&\"'>"), "&lt;a&amp;&quot;&#39;&gt;");
    }
}
