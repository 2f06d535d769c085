//! The kiosk API: every route a kiosk calls. Enrolment is the one unsigned
//! request; every other one is signed with the kiosk's Ed25519 key, and the
//! signature is checked in one place, the [`SignedJson`] and [`SignedQuery`]
//! extractors, so a handler is only ever reached by an enrolled kiosk and
//! receives its body already typed.
//!
//! By sub-capability: `sync` (enrol, heartbeat, push, changes, lookup),
//! `booking` (K17 self-service booking), `reports` (K9 report listing and
//! PDF fetch).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Query, Request};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::Utc;
use exam_protocol::auth::{self, AuthError, SignedHeaders};
use exam_protocol::{MAX_BODY_BYTES, PROTOCOL_VERSION, paths};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::db::KioskRow;
use crate::error::ApiErr;
use crate::metrics::Metrics;
use crate::routes::{Access, RouteTable};

mod booking;
mod faces;
mod payments;
mod reports;
mod scope;
mod sync;

/// Every kiosk route: enrolment is public (the one-time secret is the
/// credential), every other one needs a signed request and is answered for
/// the kiosk's own campus only.
pub(crate) fn routes(t: &mut RouteTable) {
    use Access::{Enrol, Kiosk};
    t.post(paths::ENROL, Enrol, sync::enrol)
        .post(paths::HEARTBEAT, Kiosk, sync::heartbeat)
        .post(paths::EVENTS, Kiosk, sync::push)
        .get(paths::CHANGES, Kiosk, sync::changes)
        .post(paths::LOOKUP, Kiosk, sync::lookup)
        .post(paths::BOOKING_OPTIONS, Kiosk, booking::options)
        .post(paths::BOOK, Kiosk, booking::book)
        .post(paths::REBOOK, Kiosk, booking::rebook)
        .post(paths::CANCEL, Kiosk, booking::cancel)
        .post(paths::REPORTS, Kiosk, reports::list)
        .post(paths::REPORT_PDF, Kiosk, reports::pdf)
        .post(paths::PAYMENT, Kiosk, payments::create)
        .post(paths::PAYMENT_STATE, Kiosk, payments::state)
        .post(paths::PAYMENT_CANCEL, Kiosk, payments::cancel)
        .get(paths::FACES, Kiosk, faces::gallery);
}

/// A signed request from an enrolled kiosk with its JSON body read as `T`.
/// The body is parsed only after the signature, time window and nonce have
/// passed, so an unsigned caller learns nothing about what a body should be.
pub(crate) struct SignedJson<T> {
    pub kiosk: KioskRow,
    pub body: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignedJson<T> {
    type Rejection = ApiErr;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiErr> {
        let (kiosk, _, body, _) = signed(req, st, Nonce::UseNow).await?;
        Ok(Self {
            kiosk,
            body: parse(st, &body)?,
        })
    }
}

/// `SignedJson` whose nonce the handler uses up in its own transaction
/// (the push: one commit a request). The handler must use it before it
/// writes anything, and refuse the request with [`replayed`] if it was used.
pub(crate) struct SignedJsonOnce<T> {
    pub kiosk: KioskRow,
    pub body: T,
    pub nonce: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignedJsonOnce<T> {
    type Rejection = ApiErr;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiErr> {
        let (kiosk, _, body, nonce) = signed(req, st, Nonce::Handler).await?;
        Ok(Self {
            kiosk,
            body: parse(st, &body)?,
            nonce,
        })
    }
}

/// Where a request's nonce is used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nonce {
    /// Here, in a commit of its own, before the handler runs.
    UseNow,
    /// By the handler, in its transaction.
    Handler,
}

/// A signed `GET` from an enrolled kiosk with its query string read as `T`
/// (the signature covers path and query). A query that does not parse is a
/// JSON 400 `bad_query`, after authentication, like a bad body.
pub(crate) struct SignedQuery<T> {
    pub kiosk: KioskRow,
    pub query: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignedQuery<T> {
    type Rejection = ApiErr;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiErr> {
        let (kiosk, uri, _, _) = signed(req, st, Nonce::UseNow).await?;
        let Query(query) = Query::try_from_uri(&uri)
            .map_err(|e| ApiErr::new(StatusCode::BAD_REQUEST, "bad_query", e.to_string()))?;
        Ok(Self { kiosk, query })
    }
}

/// The one place a kiosk request is authenticated: every extractor comes here.
async fn signed(
    req: Request,
    st: &AppState,
    nonce: Nonce,
) -> Result<(KioskRow, Uri, Bytes, String), ApiErr> {
    let (parts, body) = req.into_parts();
    match authenticate(st, &parts.method, &parts.uri, &parts.headers, body, nonce).await {
        Ok((kiosk, body, nonce)) => Ok((kiosk, parts.uri, body, nonce)),
        // S7: a refused kiosk request is a security event (coalesced per
        // source and kind); if its row cannot be written, neither is the
        // refusal answered as if all were well.
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            let claimed = parts
                .headers
                .get(auth::H_KIOSK)
                .and_then(|v| v.to_str().ok());
            crate::audit::kiosk_refused(
                st,
                &e.body.error,
                &e.body.message,
                claimed,
                parts.uri.path(),
            )
            .await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// The refusal of a request whose nonce its handler found used: counted,
/// logged and audited as the extractors do every refusal.
pub(crate) async fn replayed(st: &AppState, kiosk: &KioskRow, path: &str) -> ApiErr {
    Metrics::inc(&st.metrics.auth_refused);
    tracing::warn!(error = %AuthError::Replayed, %path, "kiosk request refused");
    let e = ApiErr::from(AuthError::Replayed);
    if let Err(audit) =
        crate::audit::kiosk_refused(st, &e.body.error, &e.body.message, Some(&kiosk.id), path).await
    {
        return audit.into();
    }
    e
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

fn parse<T: DeserializeOwned>(st: &AppState, bytes: &[u8]) -> Result<T, ApiErr> {
    serde_json::from_slice(bytes).map_err(|e| {
        Metrics::inc(&st.metrics.bad_requests);
        ApiErr::bad_json(e)
    })
}

/// Verifies version, signature, time window and nonce, in that order; a
/// request that fails any of them has written nothing but its refusal.
async fn authenticate(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    nonce: Nonce,
) -> Result<(KioskRow, Bytes, String), ApiErr> {
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
    if nonce == Nonce::UseNow && !st.db.use_nonce(&kiosk.id, &signed.nonce, now).await? {
        return Err(refuse(AuthError::Replayed));
    }
    Ok((kiosk, body, signed.nonce))
}

/// How a kiosk appears in the operation log and on the records it changes.
fn actor(kiosk: &KioskRow) -> String {
    format!("kiosk:{}", kiosk.id)
}
