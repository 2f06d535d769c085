//! Registering outside systems as API clients (an administrator's task,
//! `Capability::ManageAccounts`: they are accounts of other systems). The
//! secret is shown once, at registration; the store keeps its hash. A
//! revoked client's tokens stop working at once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scope::{AllowList, IdentityLevel, parse_scopes, scopes_text};
use crate::AppState;
use crate::db::{ApiClient, Db, DbError, NewApiClient, SessionUser};
use crate::error::ApiErr;

/// `api-` and 16 hex digits.
pub fn valid_client_id(s: &str) -> bool {
    s.strip_prefix("api-")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Registers a client; returns it with its secret (shown once, never stored).
pub async fn register(
    db: &Db,
    actor: &str,
    c: &NewApiClient,
) -> Result<(ApiClient, String), DbError> {
    let id = format!(
        "api-{}",
        hex::encode(exam_protocol::auth::random_bytes::<8>())
    );
    let secret = hex::encode(exam_protocol::auth::random_bytes::<32>());
    let client = db.create_api_client(actor, &id, &secret, c).await?;
    Ok((client, secret))
}

/// What an administrator registers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientForm {
    /// Who the client is, e.g. "微信小程序后台" or "集成平台".
    pub name: String,
    /// Granted scopes: `system/<Resource>.read` or `system/*.read`.
    pub scopes: Vec<String>,
    /// `masked` (default) or `full`.
    #[serde(default)]
    pub identity: Option<String>,
    /// Addresses and CIDR prefixes it may call from, comma-separated; `*` any.
    pub allow_from: String,
    /// Requests a minute (default 120).
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
}

impl NewClientForm {
    pub fn check(&self) -> Result<NewApiClient, String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err("name: 1 to 100 characters".into());
        }
        let scopes = parse_scopes(&self.scopes.join(" "))?;
        if scopes.is_empty() {
            return Err("at least one scope".into());
        }
        let identity = match self.identity.as_deref() {
            None => IdentityLevel::Masked,
            Some(s) => IdentityLevel::parse(s).ok_or("identity: masked or full")?,
        };
        let rate = self.rate_per_minute.unwrap_or(120);
        if !(1..=10_000).contains(&rate) {
            return Err("rate_per_minute: 1 to 10000".into());
        }
        Ok(NewApiClient {
            name: name.to_string(),
            scopes,
            identity,
            allow_from: AllowList::parse(&self.allow_from)?,
            rate_per_minute: rate,
        })
    }
}

/// A client as the administrator sees it (never its secret).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub identity: String,
    pub allow_from: String,
    pub rate_per_minute: u32,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

impl From<&ApiClient> for ClientView {
    fn from(c: &ApiClient) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            scopes: scopes_text(&c.scopes),
            identity: c.identity.as_str().into(),
            allow_from: c.allow_from.to_string(),
            rate_per_minute: c.rate_per_minute,
            created_at: c.created_at.to_rfc3339(),
            created_by: c.created_by.clone(),
            revoked_at: c.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientList {
    pub clients: Vec<ClientView>,
}

/// A registered client and its secret, shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientCreated {
    pub client: ClientView,
    pub client_secret: String,
    /// Where the client gets its tokens.
    pub token_url: String,
}

pub async fn list(
    State(st): State<AppState>,
    _user: SessionUser,
) -> Result<Json<ClientList>, ApiErr> {
    let clients = st.db.api_clients().await?;
    Ok(Json(ClientList {
        clients: clients.iter().map(ClientView::from).collect(),
    }))
}

pub async fn create(
    State(st): State<AppState>,
    user: SessionUser,
    body: Bytes,
) -> Result<Json<ClientCreated>, ApiErr> {
    let form: NewClientForm = serde_json::from_slice(&body).map_err(ApiErr::bad_json)?;
    let c = form
        .check()
        .map_err(|m| ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m))?;
    let (client, secret) = register(&st.db, &user.username, &c).await?;
    Ok(Json(ClientCreated {
        client: ClientView::from(&client),
        client_secret: secret,
        token_url: "/fhir/token".into(),
    }))
}

pub async fn revoke(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiErr> {
    if !valid_client_id(&id) || !st.db.revoke_api_client(&user.username, &id).await? {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有这个接口客户端（或已停用）",
        ));
    }
    Ok(Json(serde_json::json!({ "revoked": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_is_checked_whole() {
        let form = |scopes: &[&str], allow: &str| NewClientForm {
            name: "小程序".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            identity: None,
            allow_from: allow.into(),
            rate_per_minute: None,
        };
        let ok = form(
            &["system/Patient.read", "system/Appointment.read"],
            "10.0.0.0/8",
        )
        .check()
        .unwrap();
        assert_eq!(ok.identity, IdentityLevel::Masked);
        assert_eq!(ok.rate_per_minute, 120);
        assert!(form(&[], "*").check().is_err());
        assert!(form(&["patient/*.read"], "*").check().is_err());
        assert!(form(&["system/*.read"], "").check().is_err());
        assert!(valid_client_id("api-0123456789abcdef"));
        assert!(!valid_client_id("api-0123"));
        assert!(!valid_client_id("x-0123456789abcdef"));
    }
}
