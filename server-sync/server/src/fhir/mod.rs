//! The FHIR R4 read API for outside systems (I6, I7): the mini-program's
//! back end and the hospital's integration platform read people, visits,
//! their items and published reports.
//!
//! - `model`: the resources as typed structs (serde + schemars);
//! - `map`: rows of the store as resources (pure);
//! - `search`: search parameters, parsed and checked (pure);
//! - `scope`: scopes, identity levels and allow-lists (pure);
//! - `rate`: token buckets (pure);
//! - `auth`: [`ApiCaller`], the bearer-token extractor every read takes;
//! - `token`: the OAuth 2.0 client-credentials token endpoint;
//! - `clients`: registering and revoking clients (administrators);
//! - `read`: the read and search handlers, each answer audited;
//! - `capability`: the CapabilityStatement at `/fhir/metadata`.
//!
//! JSON only (`application/fhir+json`); every error is an OperationOutcome.

pub mod auth;
mod capability;
pub mod clients;
pub mod map;
pub mod model;
pub mod rate;
mod read;
pub mod scope;
pub mod search;
pub mod token;

use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use auth::ApiCaller;

use crate::audit::limiter::Limiter;
use crate::db::DbError;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// What the API keeps in memory: rate buckets and the refusal limiter.
#[derive(Debug, Default)]
pub struct ApiState {
    /// Per client.
    pub(crate) rates: Mutex<rate::Buckets>,
    /// Per calling address, at the token endpoint.
    pub(crate) token_rates: Mutex<rate::Buckets>,
    /// Coalesces audit rows of refusals (anyone can send a bad token).
    pub(crate) refusals: Mutex<Limiter>,
}

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::{ApiClient, Can, Public};
    t.get("/fhir/metadata", Public, capability::metadata)
        .post("/fhir/token", Public, token::token)
        .get("/fhir/Patient", ApiClient, read::search_patients)
        .get("/fhir/Patient/{id}", ApiClient, read::read_patient)
        .get("/fhir/Appointment", ApiClient, read::search_appointments)
        .get("/fhir/Appointment/{id}", ApiClient, read::read_appointment)
        .get("/fhir/ServiceRequest", ApiClient, read::search_requests)
        .get("/fhir/ServiceRequest/{id}", ApiClient, read::read_request)
        .get("/fhir/Observation", ApiClient, read::search_observations)
        .get("/fhir/Observation/{id}", ApiClient, read::read_observation)
        .get("/fhir/DiagnosticReport", ApiClient, read::search_reports)
        .get("/fhir/DiagnosticReport/{id}", ApiClient, read::read_report)
        .get("/fhir/Binary/{id}", ApiClient, read::read_binary)
        .get(
            "/api/admin/api-clients",
            Can(Capability::ManageAccounts),
            clients::list,
        )
        .post(
            "/api/admin/api-clients",
            Can(Capability::ManageAccounts),
            clients::create,
        )
        .post(
            "/api/admin/api-clients/{id}/revoke",
            Can(Capability::ManageAccounts),
            clients::revoke,
        );
}

/// A resource as `application/fhir+json`.
pub(crate) fn fhir_json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a FHIR resource did not serialise");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An OperationOutcome with one error issue.
pub(crate) fn outcome(status: StatusCode, code: &str, text: impl Into<String>) -> Response {
    fhir_json(status, &model::OperationOutcome::error(code, text))
}

/// The store failed (or an audit row could not be written): 503, detail
/// to the log only.
pub(crate) fn store_down(e: DbError) -> Response {
    tracing::error!(error = %e, "FHIR: the store failed");
    outcome(
        StatusCode::SERVICE_UNAVAILABLE,
        "transient",
        "the central store is unavailable; retry later",
    )
}

/// The API's base URL as the caller reached it (for fullUrl and links).
pub(crate) fn base_url(st: &crate::AppState, headers: &HeaderMap) -> String {
    let scheme = if st.config.tls_cert.is_some() || st.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}/fhir")
}
