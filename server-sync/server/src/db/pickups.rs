//! Documents waiting for pickup: printed at a kiosk for a patient who had
//! already left (K15). The desk sees them with the person (masked) and
//! marks each one handed over; both steps are kept.

use chrono::{DateTime, Utc};
use exam_protocol::{DocumentsWaiting, Event};
use sqlx::{Any, Row, Transaction};

use super::{Db, Result, parse_ts, ts};

#[derive(Debug, Clone)]
pub struct PickupRow {
    pub job_id: String,
    pub kiosk_id: String,
    pub booking_code: String,
    pub document: String,
    pub since: DateTime<Utc>,
    /// Unmasked: the page masks them before rendering.
    pub name: Option<String>,
    pub id_number: Option<String>,
}

/// Records one kiosk's report (an event applied once, by event id). Moved
/// documents are reported again by the kiosk that prints the rest: the
/// desk sees both trays.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    kiosk_id: &str,
    event: &Event,
    d: &DocumentsWaiting,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pickups(job_id, event_id, kiosk_id, booking_code, document, since)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id, kiosk_id) DO NOTHING",
    )
    .bind(d.job_id.to_string())
    .bind(event.id.to_string())
    .bind(kiosk_id)
    .bind(&d.booking_code)
    .bind(&d.document)
    .bind(ts(d.since))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Db {
    /// Documents not yet handed over, oldest first.
    pub async fn pickups_waiting(&self) -> Result<Vec<PickupRow>> {
        let rows = sqlx::query(
            "SELECT k.job_id, k.kiosk_id, k.booking_code, k.document, k.since, p.person_key, p.name, p.id_number
             FROM pickups k LEFT JOIN bookings b ON b.code = k.booking_code
             LEFT JOIN people p ON p.person_key = b.person_key
             WHERE k.handed_over_at IS NULL ORDER BY k.since, k.job_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (name, id_number) = super::people::joined_name_and_id(&self.keys, r)?;
                Ok(PickupRow {
                    job_id: r.try_get("job_id")?,
                    kiosk_id: r.try_get("kiosk_id")?,
                    booking_code: r.try_get("booking_code")?,
                    document: r.try_get("document")?,
                    since: parse_ts(&r.try_get::<String, _>("since")?)?,
                    name,
                    id_number,
                })
            })
            .collect()
    }

    /// The desk handed the documents in a kiosk's tray to their owner;
    /// false when they were already handed over (or never waited).
    pub async fn hand_over(
        &self,
        job_id: &str,
        kiosk_id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE pickups SET handed_over_at = $3, handed_over_by = $4
             WHERE job_id = $1 AND kiosk_id = $2 AND handed_over_at IS NULL",
        )
        .bind(job_id)
        .bind(kiosk_id)
        .bind(ts(now))
        .bind(by)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            // The hand-over and its audit line commit together.
            super::oplog::log(
                &mut tx,
                by,
                "pickup.handed_over",
                &format!("kiosk:{kiosk_id}"),
                &format!("print job {job_id} at {kiosk_id}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }
}
