//! Keeping a kiosk in step with the centre: enrolment (the one unsigned
//! request), then heartbeats, check-in events pushed up, bookings pulled
//! down page by page, and the online lookup of a person at the screen.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use exam_protocol::auth;
use exam_protocol::{
    ChangesResponse, EnrolRequest, EnrolResponse, EventError, Heartbeat, HeartbeatResponse,
    LookupRequest, LookupResponse, MAX_BATCH, PushRequest, PushResponse, paths,
};

use super::{SignedJson, SignedJsonOnce, SignedQuery, parse, read_body, scope};
use crate::AppState;
use crate::db::{EnrolError, Pushed};
use crate::error::ApiErr;
use crate::metrics::Metrics;

pub(super) async fn enrol(
    State(st): State<AppState>,
    crate::staff_auth::ClientAddr(ip): crate::staff_auth::ClientAddr,
    body: Body,
) -> Result<Json<EnrolResponse>, ApiErr> {
    // Unauthenticated: an address refused too often this minute is not
    // heard (no hash, no audit row), so nobody can fill the audit log.
    if let Err(wait) = st.login.enrol_allowed(ip, Utc::now()) {
        Metrics::inc(&st.metrics.auth_refused);
        return Err(ApiErr::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_enrolments",
            format!(
                "too many refused enrolments from this address: retry in {} s",
                wait.num_seconds().max(1)
            ),
        ));
    }
    let body = read_body(&st, body).await?;
    let req: EnrolRequest = parse(&st, &body)?;
    if !auth::valid_kiosk_id(&req.kiosk_id) {
        return Err(ApiErr::new(
            StatusCode::BAD_REQUEST,
            "bad_kiosk_id",
            "kiosk ids are 1-64 letters, digits, '-' or '_'",
        ));
    }
    match st
        .db
        .enrol(&req.kiosk_id, &req.enrolment_secret, &req.public_key)
        .await
    {
        Ok(k) => {
            tracing::info!(kiosk = %k.id, version = %req.app_version, "kiosk enrolled");
            Ok(Json(EnrolResponse {
                kiosk_id: k.id,
                campus: k.campus,
                zone: k.zone,
                server_time: Utc::now(),
            }))
        }
        Err(EnrolError::Refused) => {
            Metrics::inc(&st.metrics.auth_refused);
            if st.login.enrol_refused(ip, Utc::now()) {
                st.db
                    .audit(
                        &req.kiosk_id,
                        "kiosk.enrol_refused",
                        &format!("wrong, used or unknown enrolment secret, from {ip}"),
                    )
                    .await?;
            } else {
                Metrics::inc(&st.metrics.staff_audit_suppressed);
            }
            Err(ApiErr::new(
                StatusCode::UNAUTHORIZED,
                "enrolment_refused",
                EnrolError::Refused.to_string(),
            ))
        }
        Err(EnrolError::Db(e)) => Err(e.into()),
    }
}

pub(super) async fn heartbeat(
    State(st): State<AppState>,
    SignedJson { kiosk, body: hb }: SignedJson<Heartbeat>,
) -> Result<Json<HeartbeatResponse>, ApiErr> {
    st.db.heartbeat(&kiosk.id, &hb, Utc::now()).await?;
    Metrics::inc(&st.metrics.heartbeats);
    let (release_printing, incoming_printing) = st.db.moves_for(&kiosk.id).await?;
    Ok(Json(HeartbeatResponse {
        server_time: Utc::now(),
        release_printing,
        incoming_printing,
    }))
}

pub(super) async fn push(
    State(st): State<AppState>,
    SignedJsonOnce {
        kiosk,
        body: req,
        nonce,
    }: SignedJsonOnce<PushRequest>,
) -> Result<Json<PushResponse>, ApiErr> {
    Metrics::inc(&st.metrics.push_requests);
    if req.events.len() > MAX_BATCH {
        Metrics::inc(&st.metrics.bad_requests);
        return Err(ApiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "{} events in one push; the limit is {MAX_BATCH}",
                req.events.len()
            ),
        ));
    }
    // Validate the whole batch before writing any of it.
    let mut valid = Vec::with_capacity(req.events.len());
    let mut bad = Vec::new();
    for e in req.events {
        match e.body() {
            Ok(body) => valid.push((e, body)),
            Err(err) => bad.push(err),
        }
    }
    if !bad.is_empty() {
        st.metrics
            .events_refused
            .fetch_add(bad.len() as u64, Ordering::Relaxed);
        let code = if bad
            .iter()
            .any(|e| matches!(e, EventError::UnknownKind { .. }))
        {
            "unknown_event_kind"
        } else {
            "bad_event"
        };
        let message = bad
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        tracing::warn!(kiosk = %kiosk.id, %message, "push refused");
        return Err(ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            .with_events(bad.iter().map(EventError::event_id).collect()));
    }
    // Events about another campus's bookings are not applied: acknowledged
    // like any other (the kiosk learns nothing), counted and audited, once
    // the request is known not to be a replay.
    let (mut valid, foreign) = scope::split_events(&st, &kiosk, valid).await?;
    // K3: the centre's policy keeps no face templates: none is stored,
    // whatever a kiosk sends.
    if !st.config.face.keep_templates {
        super::faces::drop_templates(&kiosk.id, &mut valid);
    }
    // The nonce is used up in the events' own transaction: one commit.
    let mut out = match st
        .db
        .apply_events(&kiosk.id, Some(&nonce), &valid, Utc::now())
        .await?
    {
        Pushed::Applied(out) => out,
        Pushed::Replayed => return Err(super::replayed(&st, &kiosk, paths::EVENTS).await),
    };
    if !foreign.is_empty() {
        scope::out_of_scope(&st, &kiosk, "events", foreign.len()).await?;
    }
    out.acks.extend(foreign.iter().map(|e| exam_protocol::Ack {
        id: e.id,
        status: exam_protocol::AckStatus::Accepted,
    }));
    st.metrics
        .events_accepted
        .fetch_add(out.accepted, Ordering::Relaxed);
    st.metrics
        .events_duplicate
        .fetch_add(out.duplicates, Ordering::Relaxed);
    if out.accepted > 0 {
        tracing::info!(kiosk = %kiosk.id, accepted = out.accepted, duplicates = out.duplicates, "events applied");
        crate::cluster::feed::publish(&st, crate::cluster::feed::Topic::Registrations).await;
    }
    Ok(Json(PushResponse { acks: out.acks }))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct CursorQuery {
    #[serde(default)]
    cursor: i64,
    limit: Option<i64>,
}

pub(super) async fn changes(
    State(st): State<AppState>,
    SignedQuery { kiosk, query: q }: SignedQuery<CursorQuery>,
) -> Result<Json<ChangesResponse>, ApiErr> {
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    let mut page = st
        .db
        .changes_since(&kiosk.campus, q.cursor.max(0), limit)
        .await?;
    crate::workflow::attach_documents(&st, &mut page.records).await?;
    Metrics::inc(&st.metrics.pulls);
    // S5 (6.2.3, 8.7.5): a page that carries people is a read of their
    // data by this kiosk; the empty polls of a quiet campus write nothing.
    if !page.records.is_empty() {
        crate::audit::read_personal(
            &st.db,
            &kiosk.id,
            "read.kiosk_cache",
            &format!("campus:{}", kiosk.campus),
            format!(
                "{} bookings from cursor {}",
                page.records.len(),
                q.cursor.max(0)
            ),
        )
        .await?;
    }
    Ok(Json(ChangesResponse {
        records: page.records,
        next_cursor: page.next_cursor,
        more: page.more,
    }))
}

pub(super) async fn lookup(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<LookupRequest>,
) -> Result<Json<LookupResponse>, ApiErr> {
    Metrics::inc(&st.metrics.lookups);
    let mut records = st.db.lookup(&req.query).await?;
    // Another campus's bookings are not this kiosk's to see.
    let found = records.len();
    records.retain(|r| r.booking.campus == kiosk.campus);
    if records.len() < found {
        scope::out_of_scope(&st, &kiosk, "lookup", found - records.len()).await?;
    }
    crate::workflow::attach_documents(&st, &mut records).await?;
    // Q1: the guide sheet names where the queue sends them first.
    crate::queue::first_stations(&st, &mut records).await?;
    st.db.audit(&kiosk.id, "lookup", req.query.method()).await?;
    Ok(Json(LookupResponse { records }))
}
