//! Kiosks: enrolment, their public keys, replay protection, heartbeats.

use chrono::{DateTime, Utc};
use exam_protocol::Heartbeat;
use exam_protocol::auth::sha256_hex;
use sqlx::{Any, Row, Transaction};

use super::{Db, Result, ts};

#[derive(Debug, Clone)]
pub struct KioskRow {
    pub id: String,
    pub campus: String,
    pub zone: String,
    pub public_key: Option<String>,
    pub last_seen: Option<String>,
    pub app_version: Option<String>,
    pub backlog: Option<i64>,
    /// Device states from the last heartbeat, as JSON.
    pub devices: Option<String>,
    /// Events the kiosk set aside because this server refused them.
    pub rejected: Option<i64>,
    /// Print parts waiting at the kiosk, and since when the oldest waits.
    pub print_waiting: Option<i64>,
    pub print_waiting_since: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("unknown kiosk, or the enrolment secret is wrong or already used")]
    Refused,
    #[error(transparent)]
    Db(#[from] super::DbError),
}

impl From<sqlx::Error> for EnrolError {
    fn from(e: sqlx::Error) -> Self {
        EnrolError::Db(e.into())
    }
}

impl Db {
    /// Registers a kiosk, or re-issues its enrolment: then the old key is
    /// revoked at once (a stolen or replaced kiosk signs nothing more).
    /// Only the secret's hash is stored.
    pub async fn add_kiosk(&self, id: &str, campus: &str, zone: &str, secret: &str) -> Result<()> {
        // The change and its audit line commit together.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO kiosks(id, campus, zone, enrolment_secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET campus = excluded.campus, zone = excluded.zone,
               enrolment_secret_hash = excluded.enrolment_secret_hash, public_key = NULL, enrolled_at = NULL",
        )
        .bind(id)
        .bind(campus)
        .bind(zone)
        .bind(sha256_hex(secret))
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        super::oplog::log(
            &mut tx,
            "system",
            "kiosk.add",
            &format!("kiosk:{id}"),
            &format!("kiosk {id} campus {campus} zone {zone}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Exchanges the enrolment secret for the kiosk's public key. The secret
    /// works for one key only: once used, only that same key may repeat the
    /// enrolment (when its answer was lost), and a re-issue revokes it.
    pub async fn enrol(
        &self,
        id: &str,
        secret: &str,
        public_key: &str,
    ) -> Result<KioskRow, EnrolError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            // The secret binds to the first key enrolled with it: the same key
            // may enrol again (its answer was lost), any other key may not.
            "UPDATE kiosks SET public_key = $3, enrolled_at = COALESCE(enrolled_at, $4)
              WHERE id = $1 AND enrolment_secret_hash = $2 AND (public_key IS NULL OR public_key = $3)",
        )
        .bind(id)
        .bind(sha256_hex(secret))
        .bind(public_key)
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Audited by the caller, within the limit on unauthenticated
            // events (kiosk_api::sync::enrol).
            return Err(EnrolError::Refused);
        }
        super::oplog::log(
            &mut tx,
            id,
            "kiosk.enrolled",
            &format!("kiosk:{id}"),
            "new public key",
        )
        .await?;
        tx.commit().await?;
        self.kiosk(id).await?.ok_or(EnrolError::Refused)
    }

    pub async fn kiosk(&self, id: &str) -> Result<Option<KioskRow>> {
        let row = sqlx::query("SELECT id, campus, zone, public_key, last_seen, app_version, backlog, devices, rejected, print_waiting, print_waiting_since FROM kiosks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| kiosk_row(&r)).transpose()
    }

    pub async fn kiosks(&self) -> Result<Vec<KioskRow>> {
        let rows = sqlx::query("SELECT id, campus, zone, public_key, last_seen, app_version, backlog, devices, rejected, print_waiting, print_waiting_since FROM kiosks ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(kiosk_row).collect()
    }

    /// Records a request nonce; false when it was seen before (a replay).
    pub async fn use_nonce(&self, kiosk_id: &str, nonce: &str, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let fresh = use_nonce_in(&mut tx, kiosk_id, nonce, now).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// Nonces older than the signature window can no longer be replayed
    /// (their requests are refused as expired), so they are dropped.
    pub async fn prune_nonces(&self, before: DateTime<Utc>) -> Result<u64> {
        let r = sqlx::query("DELETE FROM kiosk_nonces WHERE seen_at < $1")
            .bind(ts(before))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    pub async fn heartbeat(
        &self,
        kiosk_id: &str,
        hb: &Heartbeat,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE kiosks SET last_seen = $2, app_version = $3, backlog = $4, devices = $5, rejected = $6,
               print_waiting = $7, print_waiting_since = $8, prints = $9 WHERE id = $1",
        )
            .bind(kiosk_id)
            .bind(ts(now))
            .bind(&hb.app_version)
            .bind(hb.backlog as i64)
            .bind(serde_json::to_string(&hb.condition()).unwrap_or_default())
            .bind(hb.rejected as i64)
            .bind(hb.print_waiting as i64)
            .bind(hb.oldest_print_waiting.map(ts))
            .bind(
                hb.prints
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn kiosk_row(r: &sqlx::any::AnyRow) -> Result<KioskRow> {
    Ok(KioskRow {
        id: r.try_get("id")?,
        campus: r.try_get("campus")?,
        zone: r.try_get("zone")?,
        public_key: r.try_get("public_key")?,
        last_seen: r.try_get("last_seen")?,
        app_version: r.try_get("app_version")?,
        backlog: r.try_get("backlog")?,
        devices: r.try_get("devices")?,
        rejected: r.try_get("rejected")?,
        print_waiting: r.try_get("print_waiting")?,
        print_waiting_since: r.try_get("print_waiting_since")?,
    })
}

/// Uses up a request's nonce inside `tx`: false when it was used before
/// (a replay), or is being used by a transaction that commits first.
pub(crate) async fn use_nonce_in(
    tx: &mut Transaction<'_, Any>,
    kiosk_id: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO kiosk_nonces(kiosk_id, nonce, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(kiosk_id)
    .bind(nonce)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
