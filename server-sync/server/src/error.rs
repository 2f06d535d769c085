//! API errors: every refusal is a status code and an [`ApiError`] body that
//! says what was wrong, so a kiosk log or a person with curl can act on it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use exam_protocol::ApiError;
use exam_protocol::auth::AuthError;
use uuid::Uuid;

use crate::db::DbError;

#[derive(Debug)]
pub struct ApiErr {
    pub status: StatusCode,
    pub body: ApiError,
}

impl ApiErr {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError {
                error: code.into(),
                message: message.into(),
                event_ids: vec![],
            },
        }
    }
    pub fn with_events(mut self, ids: Vec<Uuid>) -> Self {
        self.body.event_ids = ids;
        self
    }
    pub fn bad_json(e: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not valid JSON for this request: {e}"),
        )
    }
}

impl From<AuthError> for ApiErr {
    fn from(e: AuthError) -> Self {
        let code = match e {
            AuthError::MissingHeader(_) => "unsigned",
            AuthError::Malformed(_) => "malformed_signature",
            AuthError::Expired { .. } => "expired",
            AuthError::BadSignature => "bad_signature",
            AuthError::Replayed => "replayed",
            AuthError::UnknownKiosk => "unknown_kiosk",
        };
        Self::new(StatusCode::UNAUTHORIZED, code, e.to_string())
    }
}

impl From<DbError> for ApiErr {
    fn from(e: DbError) -> Self {
        // The detail goes to the log, not to the caller.
        tracing::error!(error = %e, "database error");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the central store is unavailable; retry later",
        )
    }
}

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
