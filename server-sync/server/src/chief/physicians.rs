//! The chief physicians (levels, review right, signature) and the
//! statistics of the chief examination.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use exam_domain::results::chief::{ReportState, ReturnReason};
use serde::{Deserialize, Serialize};

use super::api::not_found;
use super::store;
use crate::AppState;
use crate::db::{DbError, SessionUser};
use crate::error::ApiErr;

#[derive(Debug, Serialize)]
pub(super) struct Stats {
    /// (physician, reason, label, count)
    returns: Vec<(String, ReturnReason, &'static str, i64)>,
    /// Reports per state.
    states: Vec<(ReportState, usize)>,
}

/// `GET /api/chief/stats`: returns per physician and reason (item 60).
pub(super) async fn stats(State(st): State<AppState>) -> Result<Json<Stats>, ApiErr> {
    let returns = store::return_counts(&st.db)
        .await?
        .into_iter()
        .map(|(p, r, n)| (p, r, r.label_zh(), n))
        .collect();
    let all = store::list(
        &st.db,
        &[
            ReportState::Assigned,
            ReportState::Draft,
            ReportState::Locked,
            ReportState::Published,
        ],
        None,
    )
    .await?;
    let states = [
        ReportState::Assigned,
        ReportState::Draft,
        ReportState::Locked,
        ReportState::Published,
    ]
    .into_iter()
    .map(|s| (s, all.iter().filter(|r| r.state == s).count()))
    .collect();
    Ok(Json(Stats { returns, states }))
}

#[derive(Debug, Deserialize)]
pub(super) struct PhysicianIn {
    level: u8,
    reviewer: bool,
    /// The signature image, PNG in base64.
    #[serde(default)]
    signature_png: Option<String>,
}

/// `POST /api/chief/physicians/{login}` (account managers).
pub(super) async fn set_physician(
    State(st): State<AppState>,
    u: SessionUser,
    Path(login): Path<String>,
    Json(body): Json<PhysicianIn>,
) -> Result<StatusCode, ApiErr> {
    use base64::Engine as _;
    let bad = |m: &str| {
        ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_physician",
            m.to_string(),
        )
    };
    if !(1..=3).contains(&body.level) {
        return Err(bad("级别须为 1–3"));
    }
    let png = match &body.signature_png {
        Some(b) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| bad("签名图片须为 base64 编码的 PNG"))?;
            if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.len() > 512 * 1024 {
                return Err(bad("签名图片须为 PNG，且不超过 512 KB"));
            }
            Some(bytes)
        }
        None => None,
    };
    let known: Option<String> =
        sqlx::query_scalar("SELECT username FROM staff_users WHERE username = $1")
            .bind(&login)
            .fetch_optional(&st.db.read)
            .await
            .map_err(DbError::from)?;
    if known.is_none() {
        return Err(not_found("没有这个账号"));
    }
    st.db
        .set_chief_physician(
            &u.username,
            &login,
            body.level,
            body.reviewer,
            png.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
