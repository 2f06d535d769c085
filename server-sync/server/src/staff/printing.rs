//! The desk's side of printing (K15): documents waiting for pickup, handed
//! over one by one, and waiting documents moved from a kiosk whose printer
//! is out to another kiosk of the same campus.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use exam_domain::mask;
use serde::Deserialize;

use super::require_ready_user;
use crate::AppState;
use crate::db::{MoveError, PickupRow, SessionUser};

/// Documents in a kiosk's tray for a patient who left (masked person).
pub(super) struct PickupView {
    pub(super) job_id: String,
    pub(super) kiosk_id: String,
    pub(super) since: String,
    pub(super) name: String,
    pub(super) id_number: String,
    pub(super) booking_code: String,
    pub(super) document: &'static str,
}

pub(super) fn document_name(kind: &str) -> &'static str {
    match kind {
        "guide_sheet" => "指引单",
        "lab_labels" => "条码标签",
        "fee_list" => "费用清单",
        "report" => "体检报告",
        _ => "单据",
    }
}

/// The signed-in staff member posting a form with the right CSRF token.
async fn form_user(
    st: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<SessionUser, Response> {
    let u = require_ready_user(st, headers).await?;
    if !u.csrf_matches(csrf) {
        // S7: a forged or stale form is a security event.
        return Err(
            match crate::audit::csrf_failed(st, &u.username, "form on the registrations page").await
            {
                Ok(()) => StatusCode::FORBIDDEN.into_response(),
                Err(e) => crate::error::ApiErr::from(e).into_response(),
            },
        );
    }
    Ok(u)
}

#[derive(Deserialize)]
pub(super) struct HandOverForm {
    csrf: String,
    job_id: String,
    kiosk_id: String,
}

/// The desk handed a patient the documents a kiosk printed after they left.
pub(super) async fn hand_over(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HandOverForm>,
) -> Response {
    let u = match form_user(&st, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = kiosks_served(&st, &u, &[&f.kiosk_id], "POST /pickups/handed-over").await {
        return r;
    }
    match st
        .db
        .hand_over(&f.job_id, &f.kiosk_id, &u.username, Utc::now())
        .await
    {
        Ok(_) => Redirect::to("/registrations#pickups").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "hand over");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

impl PickupView {
    pub(super) fn new(p: PickupRow, local: impl Fn(DateTime<Utc>) -> String) -> Self {
        Self {
            since: local(p.since),
            name: p.name.as_deref().map(mask::name).unwrap_or_default(),
            id_number: p
                .id_number
                .as_deref()
                .map(mask::id_number)
                .unwrap_or_default(),
            document: document_name(&p.document),
            job_id: p.job_id,
            kiosk_id: p.kiosk_id,
            booking_code: p.booking_code,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct MoveForm {
    csrf: String,
    from: String,
    to: String,
}

/// Staff send a kiosk's waiting documents to another kiosk (its printer is
/// out): the kiosks carry it out at their next heartbeats.
pub(super) async fn move_printing(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<MoveForm>,
) -> Response {
    let u = match form_user(&st, &headers, &f.csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = kiosks_served(&st, &u, &[&f.from, &f.to], "POST /kiosks/move-printing").await {
        return r;
    }
    match st.db.request_move(&f.from, &f.to, &u.username, Utc::now()).await {
        Ok(_) => Redirect::to("/registrations").into_response(),
        Err(MoveError::Db(e)) => {
            tracing::error!(error = %e, "move printing");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Err(e) => (
            StatusCode::CONFLICT,
            Html(format!(
                "<!doctype html><meta charset=utf-8><p>无法转移 / Cannot move: {}</p><p><a href=\"/registrations\">返回 / Back</a></p>",
                askama_escape(&e.to_string())
            )),
        )
            .into_response(),
    }
}

/// A campus-bound account (E14) hands over and moves its own campus's
/// kiosks' documents only; a kiosk that does not exist is left to the
/// store's answer.
async fn kiosks_served(
    st: &AppState,
    u: &SessionUser,
    ids: &[&str],
    what: &str,
) -> Result<(), Response> {
    if u.campus.is_none() {
        return Ok(());
    }
    let mut campuses = Vec::new();
    for id in ids {
        match st.db.kiosk(id).await {
            Ok(k) => campuses.extend(k.map(|k| k.campus)),
            Err(e) => {
                tracing::error!(error = %e, "kiosk's campus");
                return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        }
    }
    u.must_serve(st, campuses.iter().map(String::as_str), what)
        .await
        .map_err(|e| (e.status, e.body.message).into_response())
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
