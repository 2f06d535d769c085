//! Outside systems' API clients and their bearer tokens (I6, I7; S2, S4).
//! A client is registered by an administrator; its secret and every token
//! are 256 random bits, stored as SHA-256 hashes only (a slow hash guards
//! guessable passwords; these cannot be guessed, and a token is checked on
//! every request). Registering, revoking and issuing a token each commit
//! with their audit row.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError, Result, audit, parse_ts, ts};
use crate::audit::{AuditEvent, Category};
use crate::fhir::scope::{AllowList, IdentityLevel, Scope, parse_scopes, scopes_text};

/// A registered client as the administrator and the API see it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub identity: IdentityLevel,
    pub allow_from: AllowList,
    pub rate_per_minute: u32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What an administrator registers.
#[derive(Debug, Clone)]
pub struct NewApiClient {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub identity: IdentityLevel,
    pub allow_from: AllowList,
    pub rate_per_minute: u32,
}

/// A valid token's client and the scopes the token carries.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub client: ApiClient,
    pub scopes: Vec<Scope>,
}

/// SHA-256, hex: how secrets and tokens are stored and looked up.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn row_of(r: &AnyRow) -> Result<ApiClient> {
    let bad = |what: &str, e: String| DbError::Corrupt(format!("api client {what}: {e}"));
    let identity: String = r.try_get("identity")?;
    Ok(ApiClient {
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        scopes: parse_scopes(&r.try_get::<String, _>("scopes")?).map_err(|e| bad("scopes", e))?,
        identity: IdentityLevel::parse(&identity)
            .ok_or_else(|| bad("identity", identity.clone()))?,
        allow_from: AllowList::parse(&r.try_get::<String, _>("allow_from")?)
            .map_err(|e| bad("allow_from", e))?,
        rate_per_minute: r.try_get::<i64, _>("rate_per_minute")?.clamp(1, 1_000_000) as u32,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        created_by: r.try_get("created_by")?,
        revoked_at: r
            .try_get::<Option<String>, _>("revoked_at")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
    })
}

const COLUMNS: &str = "c.client_id, c.name, c.scopes, c.identity, c.allow_from, \
                       c.rate_per_minute, c.created_at, c.created_by, c.revoked_at";

impl Db {
    /// Registers a client with the given secret's hash; audited.
    pub async fn create_api_client(
        &self,
        actor: &str,
        client_id: &str,
        secret: &str,
        c: &NewApiClient,
    ) -> Result<ApiClient> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO api_clients(client_id, name, secret_hash, scopes, identity, allow_from,
                                     rate_per_minute, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(client_id)
        .bind(&c.name)
        .bind(secret_hash(secret))
        .bind(scopes_text(&c.scopes))
        .bind(c.identity.as_str())
        .bind(c.allow_from.to_string())
        .bind(i64::from(c.rate_per_minute))
        .bind(ts(now))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &AuditEvent::new(Category::Permission, actor, "api_client.create")
                .subject(format!("api:{client_id}"))
                .detail(format!(
                    "{} · {} · identity {} · from {} · {}/min",
                    c.name,
                    scopes_text(&c.scopes),
                    c.identity.as_str(),
                    c.allow_from,
                    c.rate_per_minute
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(ApiClient {
            client_id: client_id.to_string(),
            name: c.name.clone(),
            scopes: c.scopes.clone(),
            identity: c.identity,
            allow_from: c.allow_from.clone(),
            rate_per_minute: c.rate_per_minute,
            created_at: parse_ts(&ts(now))?,
            created_by: actor.to_string(),
            revoked_at: None,
        })
    }

    pub async fn api_clients(&self) -> Result<Vec<ApiClient>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_clients c ORDER BY c.created_at, c.client_id"
        )))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// Revokes a client and drops its tokens at once; audited. False: no
    /// such client, or revoked already.
    pub async fn revoke_api_client(&self, actor: &str, client_id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE api_clients SET revoked_at = $2, revoked_by = $3
              WHERE client_id = $1 AND revoked_at IS NULL",
        )
        .bind(client_id)
        .bind(ts(Utc::now()))
        .bind(actor)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM api_tokens WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &AuditEvent::new(Category::Permission, actor, "api_client.revoke")
                .subject(format!("api:{client_id}")),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A client that is not revoked, if `secret` is its secret.
    pub async fn api_client_by_secret(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<ApiClient>> {
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, c.secret_hash FROM api_clients c
              WHERE c.client_id = $1 AND c.revoked_at IS NULL"
        )))
        .bind(client_id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let stored: String = r.try_get("secret_hash")?;
        if !constant_time_eq(stored.as_bytes(), secret_hash(secret).as_bytes()) {
            return Ok(None);
        }
        row_of(&r).map(Some)
    }

    /// Stores a token (by its hash) for `client` until `expires`, drops
    /// the client's expired ones, and audits the issue.
    pub async fn issue_api_token(
        &self,
        client: &ApiClient,
        token: &str,
        scopes: &[Scope],
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM api_tokens WHERE client_id = $1 AND expires_at <= $2")
            .bind(&client.client_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO api_tokens(token_hash, client_id, scopes, issued_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secret_hash(token))
        .bind(&client.client_id)
        .bind(scopes_text(scopes))
        .bind(ts(now))
        .bind(ts(expires))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &AuditEvent::new(
                Category::Security,
                format!("api:{}", client.client_id),
                "api.token",
            )
            .subject(format!("api:{}", client.client_id))
            .detail(format!("{} until {}", scopes_text(scopes), ts(expires))),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The grant of a bearer token that is unexpired and whose client is
    /// not revoked.
    pub async fn api_token(&self, token: &str) -> Result<Option<TokenGrant>> {
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, t.scopes AS token_scopes
               FROM api_tokens t JOIN api_clients c ON c.client_id = t.client_id
              WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL"
        )))
        .bind(secret_hash(token))
        .bind(ts(Utc::now()))
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let scopes = parse_scopes(&r.try_get::<String, _>("token_scopes")?)
            .map_err(|e| DbError::Corrupt(format!("token scopes: {e}")))?;
        Ok(Some(TokenGrant {
            client: row_of(&r)?,
            scopes,
        }))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex_and_compared_whole() {
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
