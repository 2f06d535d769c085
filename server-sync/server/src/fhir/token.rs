//! The token endpoint (`POST /fhir/token`): OAuth 2.0 client credentials
//! (RFC 6749 §4.4). A registered client sends its id and secret (HTTP
//! Basic, or `client_id` and `client_secret` in the form) and the scopes it
//! wants; it gets an opaque bearer token for at most those it was granted,
//! valid for [`TOKEN_MINUTES`] (S4: a credential that expires within 30
//! minutes). Limited per calling address; every refusal is audited
//! (coalesced), every issue too.

use std::net::IpAddr;
use std::sync::PoisonError;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;

use super::scope::{Scope, parse_scopes, scopes_text};
use crate::AppState;
use crate::audit::limiter::Decision;
use crate::audit::{AuditEvent, Category};

pub const TOKEN_MINUTES: i64 = 15;
/// Token requests per minute from one address.
const PER_SOURCE_PER_MINUTE: u32 = 30;

/// A token issued (RFC 6749 §5.1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: i64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// A refused token request (RFC 6749 §5.2).
#[derive(Debug, Serialize, JsonSchema)]
pub struct TokenError {
    /// invalid_request, invalid_client, unsupported_grant_type or invalid_scope.
    pub error: String,
    pub error_description: String,
}

fn refusal(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let mut r = (
        status,
        Json(TokenError {
            error: error.into(),
            error_description: description.into(),
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"fhir\""),
        );
    }
    r
}

/// Client credentials from HTTP Basic (each part form-urlencoded, RFC
/// 6749 §2.3.1) or from the form.
fn credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some((scheme, b64)) = v.split_once(' ')
        && scheme.eq_ignore_ascii_case("basic")
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (id, secret) = text.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((dec(id)?, dec(secret)?));
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some((get("client_id")?, get("client_secret")?))
}

pub async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let source = crate::audit::source();
    let ip: Option<IpAddr> = source.parse().ok();
    let limited = st
        .api
        .token_rates
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take(&source, PER_SOURCE_PER_MINUTE, Utc::now());
    if let Err(wait) = limited {
        let mut r = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request",
            format!("too many token requests from this address: retry in {wait} s"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return r;
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {other:?}: only client_credentials is served"),
            );
        }
        None => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type=client_credentials is needed (application/x-www-form-urlencoded)",
            );
        }
    }
    let Some((client_id, secret)) = credentials(&headers, &form) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client credentials are needed (HTTP Basic, or client_id and client_secret)",
        );
    };
    let client = match st.db.api_client_by_secret(&client_id, &secret).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return refused(&st, &client_id, "bad credentials or revoked client").await;
        }
        Err(e) => return super::store_down(e),
    };
    if !ip.is_some_and(|ip| client.allow_from.allows(ip)) {
        return refused(&st, &client_id, "source address not allowed").await;
    }
    let wanted = match get("scope") {
        None | Some("") => client.scopes.clone(),
        Some(s) => match parse_scopes(s) {
            Ok(w) => w,
            Err(e) => return refusal(StatusCode::BAD_REQUEST, "invalid_scope", e),
        },
    };
    if let Some(extra) = wanted.iter().find(|s| !s.within(&client.scopes)) {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("{extra} is not granted to this client"),
        );
    }
    let token = hex::encode(exam_protocol::auth::random_bytes::<32>());
    let expires = Utc::now() + chrono::Duration::minutes(TOKEN_MINUTES);
    if let Err(e) = st
        .db
        .issue_api_token(&client, &token, &wanted, expires)
        .await
    {
        return super::store_down(e);
    }
    let mut r = Json(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: TOKEN_MINUTES * 60,
        scope: scopes_text(&wanted),
    })
    .into_response();
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// A token request with wrong credentials: audited (coalesced), 401.
async fn refused(st: &AppState, claimed: &str, why: &str) -> Response {
    let source = crate::audit::source();
    // The claimed id is the caller's text: kept only if it looks like one.
    let claimed = if super::clients::valid_client_id(claimed) {
        claimed
    } else {
        "?"
    };
    let decision = st
        .api
        .refusals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .check(&format!("{source} {claimed} token"), Utc::now());
    if let Decision::Write { suppressed } = decision {
        let mut detail = format!("token request refused: {why}");
        if suppressed > 0 {
            detail.push_str(&format!(" (and {suppressed} more like it not written)"));
        }
        let e = AuditEvent::new(Category::Security, format!("api:{claimed}"), "api.refused")
            .subject(format!("api:{claimed}"))
            .detail(detail)
            .denied();
        if let Err(e) = st.db.audit_event(&e).await {
            return super::store_down(e);
        }
    }
    refusal(StatusCode::UNAUTHORIZED, "invalid_client", why)
}

/// Scopes a token may carry, for the OpenAPI description.
pub fn scope_names() -> Vec<String> {
    std::iter::once(Scope(None))
        .chain(super::scope::ResourceType::ALL.map(|r| Scope(Some(r))))
        .map(|s| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_basic_or_the_form() {
        let mut h = HeaderMap::new();
        let b = base64::engine::general_purpose::STANDARD.encode("api-1:s%3Ae");
        h.insert(header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
        assert_eq!(credentials(&h, &[]), Some(("api-1".into(), "s:e".into())));
        let form = vec![
            ("client_id".to_string(), "api-2".to_string()),
            ("client_secret".to_string(), "x".to_string()),
        ];
        assert_eq!(
            credentials(&HeaderMap::new(), &form),
            Some(("api-2".into(), "x".into()))
        );
        assert_eq!(credentials(&HeaderMap::new(), &[]), None);
    }
}
