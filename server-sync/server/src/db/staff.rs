//! The registrations view and table counts (staff accounts are
//! `accounts.rs`, sessions `sessions.rs`, the audit log `audit.rs`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, Result, parse_ts, ts};

/// One registration as the staff page shows it (unmasked here: the web
/// layer masks before rendering).
#[derive(Debug, Clone)]
pub struct RegistrationRow {
    pub id: i64,
    pub kiosk_id: String,
    pub checked_in_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub booking_code: Option<String>,
    pub package: Option<String>,
    pub outcome: String,
    pub offline: bool,
    pub identified_by: String,
    /// The campus of the kiosk that checked the person in (None: a kiosk
    /// no longer listed).
    pub campus: Option<String>,
}

/// Registrations joined with their booking and person; the SQL must be a
/// literal, hence a macro.
macro_rules! select_registrations {
    ($order:literal) => {
        concat!(
            "SELECT r.id, r.kiosk_id, r.checked_in_at, r.received_at, r.outcome, r.offline, r.identified_by, ",
            "b.code, b.package, p.person_key, p.name, p.id_number, k.campus FROM registrations r ",
            "LEFT JOIN bookings b ON b.id = r.booking_id LEFT JOIN people p ON p.person_key = b.person_key ",
            "LEFT JOIN kiosks k ON k.id = r.kiosk_id ",
            "WHERE r.received_at >= $1 AND r.id > $2 ",
            $order
        )
    };
}

/// The registrations page: the newest first.
pub(crate) const REGISTRATIONS_NEWEST_FIRST: &str =
    select_registrations!("ORDER BY r.id DESC LIMIT $3");
/// The live stream: the next ones after its cursor, without a gap.
pub(crate) const REGISTRATIONS_OLDEST_FIRST: &str =
    select_registrations!("ORDER BY r.id ASC LIMIT $3");

impl Db {
    pub async fn count(&self, table: CountTable) -> Result<i64> {
        let sql = match table {
            CountTable::Registrations => "SELECT count(*) FROM registrations",
            CountTable::KioskEvents => "SELECT count(*) FROM kiosk_events",
            CountTable::Nonces => "SELECT count(*) FROM kiosk_nonces",
            CountTable::ReportPrints => "SELECT count(*) FROM report_prints",
        };
        Ok(sqlx::query(sql).fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Registrations received since `since`, newer than `after_id`, newest first.
    pub async fn registrations(
        &self,
        since: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<RegistrationRow>> {
        self.registrations_ordered(since, after_id, limit, false)
            .await
    }

    /// Registrations received since `since`, newer than `after_id`: the
    /// newest `limit` of them newest first (a page), or with `oldest_first`
    /// the next `limit` after `after_id` (to follow them without a gap).
    pub async fn registrations_ordered(
        &self,
        since: DateTime<Utc>,
        after_id: i64,
        limit: i64,
        oldest_first: bool,
    ) -> Result<Vec<RegistrationRow>> {
        let sql = if oldest_first {
            REGISTRATIONS_OLDEST_FIRST
        } else {
            REGISTRATIONS_NEWEST_FIRST
        };
        // A row received since `since` got its id then too (same instance,
        // same clock): its key range starts there, with a minute to spare,
        // rather than at the first registration ever kept.
        let floor = since
            .checked_sub_signed(chrono::Duration::minutes(1))
            .unwrap_or(since);
        let after_id = after_id.max(super::id_floor(floor));
        let rows = sqlx::query(sql)
            .bind(ts(since))
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let (name, id_number) = super::people::joined_name_and_id(&self.keys, r)?;
                Ok(RegistrationRow {
                    id: r.try_get("id")?,
                    kiosk_id: r.try_get("kiosk_id")?,
                    checked_in_at: parse_ts(&r.try_get::<String, _>("checked_in_at")?)?,
                    received_at: parse_ts(&r.try_get::<String, _>("received_at")?)?,
                    name,
                    id_number,
                    booking_code: r.try_get("code")?,
                    package: r.try_get("package")?,
                    outcome: r.try_get("outcome")?,
                    offline: r.try_get::<i64, _>("offline")? != 0,
                    identified_by: r.try_get("identified_by")?,
                    campus: r.try_get("campus")?,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub enum CountTable {
    Registrations,
    KioskEvents,
    Nonces,
    ReportPrints,
}
