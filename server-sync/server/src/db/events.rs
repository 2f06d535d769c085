//! Kiosk events: deduplicated by event id, so at-least-once delivery takes
//! effect exactly once.

use chrono::{DateTime, Utc};
use exam_protocol::{Ack, AckStatus, CheckIn, Event, EventBody};
use sqlx::{Any, Row, Transaction};

use super::at_rest::ad;
use super::bookings::next_change_seq;
use super::people::person_key;
use super::{Db, Result, next_id, ts};

#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub acks: Vec<Ack>,
    pub accepted: u64,
    pub duplicates: u64,
}

impl Db {
    /// Applies a validated batch in one transaction: each event is recorded
    /// once by id; a repeat is acknowledged as a duplicate and changes nothing.
    pub async fn apply_events(
        &self,
        kiosk_id: &str,
        events: &[(Event, EventBody)],
        now: DateTime<Utc>,
    ) -> Result<PushOutcome> {
        let mut tx = self.pool.begin().await?;
        let mut out = PushOutcome {
            acks: Vec::with_capacity(events.len()),
            accepted: 0,
            duplicates: 0,
        };
        for (event, body) in events {
            let inserted = sqlx::query(
                "INSERT INTO kiosk_events(event_id, kiosk_id, seq, kind, payload, created_at, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(event.id.to_string())
            .bind(kiosk_id)
            .bind(event.seq)
            .bind(&event.kind)
            .bind(self.keys.seal_str(
                &stored_payload(event, body),
                &ad("kiosk_events", "payload", &[&event.id.to_string()]),
            )?)
            .bind(ts(event.created_at))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let status = if inserted {
                match body {
                    EventBody::CheckIn(c) => {
                        register_check_in(&mut tx, &self.keys, kiosk_id, event, c, now).await?;
                        // PIPL: the consent step's answers, with the notice version.
                        super::privacy::record_check_in(
                            &mut tx,
                            &self.keys,
                            kiosk_id,
                            &event.id.to_string(),
                            c,
                        )
                        .await?
                    }
                    EventBody::DocumentsWaiting(d) => {
                        super::pickups::record(&mut tx, kiosk_id, event, d).await?
                    }
                    EventBody::PrintReleased(r) => {
                        super::moves::released(&mut tx, &self.keys, kiosk_id, r, now).await?
                    }
                    EventBody::PrintAccepted(a) => {
                        super::moves::accepted(&mut tx, kiosk_id, a.move_id, now).await?
                    }
                    EventBody::Photo(p) => {
                        super::photos::record(&mut tx, &self.keys, kiosk_id, event, p).await?
                    }
                    EventBody::ReportPrinted(r) => {
                        super::reports::printed(&mut tx, kiosk_id, event, r).await?
                    }
                }
                out.accepted += 1;
                AckStatus::Accepted
            } else {
                out.duplicates += 1;
                AckStatus::Duplicate
            };
            out.acks.push(Ack {
                id: event.id,
                status,
            });
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// What the event log keeps (sealed, as is every payload: a check-in
/// carries the ID number): the payload, except the documents of moved
/// print jobs (personal data), which live in `print_moves` only until the
/// target kiosk has them, and photos, which live in `visit_photos`.
fn stored_payload(event: &Event, body: &EventBody) -> String {
    match body {
        EventBody::PrintReleased(r) => {
            let mut r = r.clone();
            for part in r.jobs.iter_mut().flat_map(|j| j.parts.iter_mut()) {
                part.body.clear();
            }
            serde_json::to_string(&r).unwrap_or_default()
        }
        EventBody::Photo(p) => {
            let mut p = p.clone();
            p.png = p.png.map(|_| String::new());
            serde_json::to_string(&p).unwrap_or_default()
        }
        _ => event.payload.to_string(),
    }
}

/// The booking a check-in names: its state and whose it is.
pub(crate) const BOOKING_FOR_CHECK_IN: &str =
    "SELECT state, person_key FROM bookings WHERE id = $1";
/// Marks a booked visit checked in; changes nothing once it is.
pub(crate) const CHECK_IN_BOOKING: &str =
    "UPDATE bookings SET state = 'checked_in', change_seq = $2 WHERE id = $1 AND state = 'booked'";

/// Registers a check-in and marks the booking checked in. A second check-in
/// of the same booking (two kiosks, or the patient twice) is kept, flagged
/// `repeat`, for the desk to see; an unknown booking is flagged too.
async fn register_check_in(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    kiosk_id: &str,
    event: &Event,
    c: &CheckIn,
    now: DateTime<Utc>,
) -> Result<()> {
    let booking = sqlx::query(BOOKING_FOR_CHECK_IN)
        .bind(c.booking_id)
        .fetch_optional(&mut **tx)
        .await?;
    let outcome = match booking {
        None => "unknown_booking",
        Some(r) if r.try_get::<String, _>("person_key")? != person_key(keys, &c.id_number) => {
            "identity_mismatch"
        }
        Some(r) if r.try_get::<String, _>("state")? == "cancelled" => "cancelled_booking",
        Some(_) => {
            // Conditional update: of two concurrent check-ins of one booking
            // the row lock lets one through; the other sees it done.
            let seq = next_change_seq(tx).await?;
            let changed = sqlx::query(CHECK_IN_BOOKING)
                .bind(c.booking_id)
                .bind(seq)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if changed == 1 {
                // I1-I3: HIS's record and registration, orders for what is paid.
                crate::interfaces::facts::sync_visit(tx, keys, c.booking_id, now).await?;
                "registered"
            } else {
                "repeat"
            }
        }
    };
    sqlx::query(
        "INSERT INTO registrations(id, event_id, kiosk_id, booking_id, identified_by, offline, checked_in_at, received_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(next_id())
    .bind(event.id.to_string())
    .bind(kiosk_id)
    .bind(c.booking_id)
    .bind(&c.identified_by)
    .bind(i64::from(c.offline))
    .bind(ts(c.checked_in_at))
    .bind(ts(now))
    .bind(outcome)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_protocol::{MovedJob, MovedPart, PrintReleased};
    use uuid::Uuid;

    #[test]
    fn the_event_log_keeps_no_moved_documents() {
        let body = EventBody::PrintReleased(PrintReleased {
            move_id: 1,
            to_kiosk: "K-2".into(),
            jobs: vec![MovedJob {
                job_id: Uuid::now_v7(),
                kind: "guide_sheet".into(),
                person: "BK1".into(),
                parts: vec![MovedPart::new(
                    0,
                    exam_protocol::PrinterKind::Receipt,
                    "姓名：张三".as_bytes(),
                    false,
                )],
            }],
        });
        let event = Event::new(Uuid::now_v7(), 1, Utc::now(), &body);
        let secret = &serde_json::to_string(&event.payload).unwrap();
        let kept = stored_payload(&event, &body);
        assert!(kept.contains("BK1") && kept.contains("K-2"));
        let b64 = match &body {
            EventBody::PrintReleased(r) => r.jobs[0].parts[0].body.clone(),
            _ => unreachable!(),
        };
        assert!(secret.contains(&b64) && !kept.contains(&b64));
    }
}
