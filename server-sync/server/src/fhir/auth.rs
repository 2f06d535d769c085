//! Who is calling the FHIR API: [`ApiCaller`], the one extractor every
//! FHIR read takes. It checks, in order, the bearer token (RFC 6750: a
//! token issued at `/fhir/token`, unexpired, of a client not revoked), the
//! calling address against the client's allow-list (S4), the token's scope
//! for the path's resource type, and the client's rate, before the handler
//! reads anything. Every refusal is a security row in the audit trail
//! (coalesced per source, client and kind: anyone can send a bad token)
//! and an OperationOutcome.

use std::net::IpAddr;
use std::sync::PoisonError;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::outcome;
use super::scope::{ResourceType, Scope};
use crate::AppState;
use crate::audit::limiter::Decision;
use crate::audit::{AuditEvent, Category};
use crate::db::ApiClient;

/// An authenticated API client allowed to read the path's resource type.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub client: ApiClient,
    pub scopes: Vec<Scope>,
}

impl ApiCaller {
    /// The audit trail's actor.
    pub fn actor(&self) -> String {
        format!("api:{}", self.client.client_id)
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    NoToken,
    BadToken,
    Source,
    Scope(ResourceType),
    Rate(u64),
}

impl Why {
    fn code(self) -> &'static str {
        match self {
            Why::NoToken => "no_token",
            Why::BadToken => "invalid_token",
            Why::Source => "source_not_allowed",
            Why::Scope(_) => "insufficient_scope",
            Why::Rate(_) => "rate_limited",
        }
    }
}

/// The bearer token of an `Authorization` header (scheme case-insensitive).
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path().to_string();
        let Some(token) = bearer(parts) else {
            return Err(refuse(st, None, Why::NoToken, &path).await);
        };
        let grant = match st.db.api_token(token).await {
            Ok(Some(g)) => g,
            Ok(None) => return Err(refuse(st, None, Why::BadToken, &path).await),
            Err(e) => return Err(super::store_down(e)),
        };
        let client = grant.client;
        let source: Option<IpAddr> = crate::audit::source().parse().ok();
        if !source.is_some_and(|ip| client.allow_from.allows(ip)) {
            return Err(refuse(st, Some(&client), Why::Source, &path).await);
        }
        if let Some(r) = ResourceType::of_path(&path)
            && !grant.scopes.iter().any(|s| s.covers(r))
        {
            return Err(refuse(st, Some(&client), Why::Scope(r), &path).await);
        }
        let taken = st
            .api
            .rates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(&client.client_id, client.rate_per_minute, Utc::now());
        if let Err(wait) = taken {
            return Err(refuse(st, Some(&client), Why::Rate(wait), &path).await);
        }
        Ok(ApiCaller {
            client,
            scopes: grant.scopes,
        })
    }
}

/// Writes the refusal's audit row (coalesced) and answers it.
async fn refuse(st: &AppState, client: Option<&ApiClient>, why: Why, path: &str) -> Response {
    let source = crate::audit::source();
    let who = client.map_or("?", |c| c.client_id.as_str());
    let decision = st
        .api
        .refusals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .check(&format!("{source} {who} {}", why.code()), Utc::now());
    if let Decision::Write { suppressed } = decision {
        let mut detail = format!("{} {path}", why.code());
        if suppressed > 0 {
            detail.push_str(&format!(" (and {suppressed} more like it not written)"));
        }
        let e = AuditEvent::new(Category::Security, format!("api:{who}"), "api.refused")
            .subject(format!("api:{who}"))
            .detail(detail)
            .denied();
        if let Err(e) = st.db.audit_event(&e).await {
            // A refusal that cannot be recorded answers 503 (S7).
            return super::store_down(e);
        }
    }
    tracing::warn!(
        client = who,
        code = why.code(),
        path,
        "FHIR request refused"
    );
    let (status, code, text, challenge) = match why {
        Why::NoToken => (
            StatusCode::UNAUTHORIZED,
            "login",
            "a bearer token is needed: POST /fhir/token with the client's credentials".to_string(),
            "Bearer realm=\"fhir\"".to_string(),
        ),
        Why::BadToken => (
            StatusCode::UNAUTHORIZED,
            "login",
            "the token is unknown, expired, or its client was revoked".to_string(),
            "Bearer realm=\"fhir\", error=\"invalid_token\"".to_string(),
        ),
        Why::Source => (
            StatusCode::FORBIDDEN,
            "forbidden",
            "this client may not call from this address".to_string(),
            String::new(),
        ),
        Why::Scope(r) => {
            let scope = Scope(Some(r)).to_string();
            (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the token's scopes do not include {scope}"),
                format!("Bearer realm=\"fhir\", error=\"insufficient_scope\", scope=\"{scope}\""),
            )
        }
        Why::Rate(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            format!("too many requests from this client: retry in {wait} s"),
            String::new(),
        ),
    };
    let mut res = outcome(status, code, text);
    if !challenge.is_empty()
        && let Ok(v) = HeaderValue::from_str(&challenge)
    {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if let Why::Rate(wait) = why {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    res.into_response()
}
