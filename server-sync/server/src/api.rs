//! The kiosk sync API: enrolment, then signed heartbeat, push, pull and lookup.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::{Json, Router, routing::get, routing::post};
use chrono::Utc;
use exam_protocol::auth::{self, AuthError, SignedHeaders};
use exam_protocol::{
    ChangesResponse, EnrolRequest, EnrolResponse, Heartbeat, HeartbeatResponse, LookupRequest,
    LookupResponse, MAX_BATCH, MAX_BODY_BYTES, PROTOCOL_VERSION, PushRequest, PushResponse, paths,
};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::db::{EnrolError, KioskRow};
use crate::error::ApiErr;
use crate::metrics::Metrics;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::ENROL, post(enrol))
        .route(paths::HEARTBEAT, post(heartbeat))
        .route(paths::EVENTS, post(push))
        .route(paths::CHANGES, get(changes))
        .route(paths::LOOKUP, post(lookup))
}

/// Reads the body ourselves so an oversized one gets a JSON 413, not a bare one.
async fn read_body(st: &AppState, body: Body) -> Result<Bytes, ApiErr> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Metrics::inc(&st.metrics.bad_requests);
        ApiErr::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes; push fewer events at a time"),
        )
    })
}

pub(crate) fn parse<T: DeserializeOwned>(st: &AppState, bytes: &[u8]) -> Result<T, ApiErr> {
    serde_json::from_slice(bytes).map_err(|e| {
        Metrics::inc(&st.metrics.bad_requests);
        ApiErr::bad_json(e)
    })
}

/// A request proven to come from an enrolled kiosk.
pub(crate) struct Signed {
    pub kiosk: KioskRow,
    pub body: Bytes,
}

/// Verifies version, signature, time window and nonce, in that order; a
/// request that fails any of them has written nothing but its refusal.
pub(crate) async fn authenticate(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Signed, ApiErr> {
    if let Some(v) = headers.get(auth::H_VERSION)
        && v.to_str().ok().and_then(|v| v.parse::<u32>().ok()) != Some(PROTOCOL_VERSION)
    {
        return Err(ApiErr::new(
            StatusCode::BAD_REQUEST,
            "unsupported_version",
            format!("this server speaks protocol version {PROTOCOL_VERSION}"),
        ));
    }
    let body = read_body(st, body).await?;
    let refuse = |e: AuthError| {
        Metrics::inc(&st.metrics.auth_refused);
        tracing::warn!(error = %e, path = %uri.path(), "kiosk request refused");
        ApiErr::from(e)
    };
    let signed = SignedHeaders::from_lookup(|h| headers.get(h).and_then(|v| v.to_str().ok()))
        .map_err(refuse)?;
    let kiosk = st
        .db
        .kiosk(&signed.kiosk_id)
        .await?
        .ok_or_else(|| refuse(AuthError::UnknownKiosk))?;
    let key = kiosk
        .public_key
        .as_deref()
        .ok_or_else(|| refuse(AuthError::UnknownKiosk))?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = Utc::now();
    auth::verify(
        key,
        &signed,
        method.as_str(),
        path,
        &body,
        now.timestamp_millis(),
    )
    .map_err(refuse)?;
    if !st.db.use_nonce(&kiosk.id, &signed.nonce, now).await? {
        return Err(refuse(AuthError::Replayed));
    }
    Ok(Signed { kiosk, body })
}

async fn enrol(State(st): State<AppState>, body: Body) -> Result<Json<EnrolResponse>, ApiErr> {
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
            Err(ApiErr::new(
                StatusCode::UNAUTHORIZED,
                "enrolment_refused",
                EnrolError::Refused.to_string(),
            ))
        }
        Err(EnrolError::Db(e)) => Err(e.into()),
    }
}

async fn heartbeat(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatResponse>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let hb: Heartbeat = parse(&st, &s.body)?;
    st.db.heartbeat(&s.kiosk.id, &hb, Utc::now()).await?;
    Metrics::inc(&st.metrics.heartbeats);
    let (release_printing, incoming_printing) = st.db.moves_for(&s.kiosk.id).await?;
    Ok(Json(HeartbeatResponse {
        server_time: Utc::now(),
        release_printing,
        incoming_printing,
    }))
}

async fn push(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PushResponse>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    Metrics::inc(&st.metrics.push_requests);
    let req: PushRequest = parse(&st, &s.body)?;
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
            .fetch_add(bad.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let code = if bad
            .iter()
            .any(|e| matches!(e, exam_protocol::EventError::UnknownKind { .. }))
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
        tracing::warn!(kiosk = %s.kiosk.id, %message, "push refused");
        return Err(
            ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_events(
                bad.iter()
                    .map(exam_protocol::EventError::event_id)
                    .collect(),
            ),
        );
    }
    let out = st.db.apply_events(&s.kiosk.id, &valid, Utc::now()).await?;
    st.metrics
        .events_accepted
        .fetch_add(out.accepted, std::sync::atomic::Ordering::Relaxed);
    st.metrics
        .events_duplicate
        .fetch_add(out.duplicates, std::sync::atomic::Ordering::Relaxed);
    if out.accepted > 0 {
        tracing::info!(kiosk = %s.kiosk.id, accepted = out.accepted, duplicates = out.duplicates, "events applied");
        let _ = st.changed.send(());
    }
    Ok(Json(PushResponse { acks: out.acks }))
}

#[derive(Debug, serde::Deserialize)]
struct CursorQuery {
    #[serde(default)]
    cursor: i64,
    limit: Option<i64>,
}

async fn changes(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ChangesResponse>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let q: CursorQuery = serde_urlencoded_query(uri.query().unwrap_or(""))?;
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    let mut page = st
        .db
        .changes_since(&s.kiosk.campus, q.cursor.max(0), limit)
        .await?;
    crate::workflow::attach_documents(&st, &mut page.records).await?;
    Metrics::inc(&st.metrics.pulls);
    Ok(Json(ChangesResponse {
        records: page.records,
        next_cursor: page.next_cursor,
        more: page.more,
    }))
}

fn serde_urlencoded_query(q: &str) -> Result<CursorQuery, ApiErr> {
    axum::extract::Query::<CursorQuery>::try_from_uri(
        &format!("/?{q}").parse().map_err(ApiErr::bad_json)?,
    )
    .map(|axum::extract::Query(q)| q)
    .map_err(|e| ApiErr::new(StatusCode::BAD_REQUEST, "bad_query", e.to_string()))
}

async fn lookup(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<LookupResponse>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let req: LookupRequest = parse(&st, &s.body)?;
    Metrics::inc(&st.metrics.lookups);
    let mut records = st.db.lookup(&req.query).await?;
    crate::workflow::attach_documents(&st, &mut records).await?;
    st.db
        .audit(&s.kiosk.id, "lookup", req.query.method())
        .await?;
    Ok(Json(LookupResponse { records }))
}
