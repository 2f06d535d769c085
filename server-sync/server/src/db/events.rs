//! Kiosk events: deduplicated by event id, so at-least-once delivery takes
//! effect exactly once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use exam_protocol::{Ack, AckStatus, CheckIn, Event, EventBody};
use sqlx::{Any, Row, Transaction};

use super::at_rest::ad;
use super::bookings::next_change_seqs;
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
    ///
    /// `nonce` is the request's: used up in the same transaction, so a push
    /// costs one commit (one fsync), not two, and a request whose writes
    /// failed has not used its nonce either (`None`: the caller used it
    /// already). A nonce used before makes the answer `Replayed`, with
    /// nothing written.
    pub async fn apply_events(
        &self,
        kiosk_id: &str,
        nonce: Option<&str>,
        events: &[(Event, EventBody)],
        now: DateTime<Utc>,
    ) -> Result<Pushed> {
        // A push joins the group commit: four kiosks pushing one event
        // each share one flush.
        let mut w = self.write().await?;
        let mut unstamped = Vec::new();
        let r = self
            .apply_events_in(w.tx(), kiosk_id, nonce, events, &mut unstamped, now)
            .await;
        let pushed = w.finish(r).await?;
        // PostgreSQL: the check-ins' change numbers after the commit (see
        // `check_in_bookings`). Committed either way: a stamp that fails
        // here is made by the prune job's sweep, a minute later.
        if let Err(e) = super::bookings::stamp_committed_many(self, &unstamped).await {
            tracing::warn!(error = %e, n = unstamped.len(), "stamping check-ins' changes failed; the sweep will");
        }
        Ok(pushed)
    }

    async fn apply_events_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        kiosk_id: &str,
        nonce: Option<&str>,
        events: &[(Event, EventBody)],
        unstamped: &mut Vec<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pushed> {
        if let Some(nonce) = nonce
            && !super::kiosks::use_nonce_in(tx, kiosk_id, nonce, now).await?
        {
            // Nothing was written.
            return Ok(Pushed::Replayed);
        }
        let mut new = insert_events(tx, &self.keys, kiosk_id, events, now).await?;
        let mut out = PushOutcome {
            acks: Vec::with_capacity(events.len()),
            accepted: 0,
            duplicates: 0,
        };
        // Check-ins are applied a run at a time, set-wise; any other event
        // ends the run first, so every event still sees the ones before it
        // (a photo, the consent its check-in carried).
        let mut run: Vec<(&Event, &CheckIn)> = Vec::new();
        for (event, body) in events {
            // The first of an id in the batch is the one that was inserted.
            let status = if new.remove(&event.id.to_string()) {
                match body {
                    EventBody::CheckIn(c) => run.push((event, c)),
                    other => {
                        let run = std::mem::take(&mut run);
                        self.check_ins(tx, kiosk_id, &run, unstamped, now).await?;
                        self.apply_one(tx, kiosk_id, event, other, unstamped, now)
                            .await?;
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
        self.check_ins(tx, kiosk_id, &run, unstamped, now).await?;
        Ok(Pushed::Applied(out))
    }

    async fn apply_one(
        &self,
        tx: &mut Transaction<'_, Any>,
        kiosk_id: &str,
        event: &Event,
        body: &EventBody,
        unstamped: &mut Vec<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match body {
            EventBody::CheckIn(c) => {
                self.check_ins(tx, kiosk_id, &[(event, c)], unstamped, now)
                    .await
            }
            EventBody::DocumentsWaiting(d) => super::pickups::record(tx, kiosk_id, event, d).await,
            EventBody::PrintReleased(r) => {
                super::moves::released(tx, &self.keys, kiosk_id, r, now).await
            }
            EventBody::PrintAccepted(a) => {
                super::moves::accepted(tx, kiosk_id, a.move_id, now).await
            }
            EventBody::Photo(p) => super::photos::record(tx, &self.keys, kiosk_id, event, p).await,
            EventBody::ReportPrinted(r) => super::reports::printed(tx, kiosk_id, event, r).await,
        }
    }

    /// Registers check-ins and marks their bookings checked in, a fixed
    /// number of statements for the lot. A second check-in of the same
    /// booking (two kiosks, the patient twice, or twice in one push) is
    /// kept, flagged `repeat`, for the desk to see; an unknown booking,
    /// another person's or a cancelled one is flagged too.
    async fn check_ins(
        &self,
        tx: &mut Transaction<'_, Any>,
        kiosk_id: &str,
        run: &[(&Event, &CheckIn)],
        unstamped: &mut Vec<i64>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if run.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<i64> = run.iter().map(|(_, c)| c.booking_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut bookings = BTreeMap::new();
        for chunk in ids.chunks(super::ROWS_PER_STATEMENT) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(bookings_for_check_in_sql(chunk.len())));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut **tx).await? {
                bookings.insert(
                    r.try_get::<i64, _>("id")?,
                    (
                        r.try_get::<String, _>("state")?,
                        r.try_get::<String, _>("person_key")?,
                    ),
                );
            }
        }
        let mut outcomes: Vec<Outcome> = run
            .iter()
            .map(|(_, c)| match bookings.get(&c.booking_id) {
                None => Outcome::UnknownBooking,
                Some((_, key)) if *key != person_key(&self.keys, &c.id_number) => {
                    Outcome::IdentityMismatch
                }
                Some((state, _)) if state == "cancelled" => Outcome::CancelledBooking,
                Some(_) => Outcome::Registered,
            })
            .collect();
        let mut due: Vec<i64> = run
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o == Outcome::Registered)
            .map(|((_, c), _)| c.booking_id)
            .collect();
        due.sort_unstable();
        due.dedup();
        // Conditional update: of two concurrent check-ins of one booking
        // the row lock lets one through; the other sees it done.
        let after_commit = self.backend == super::Backend::Postgres;
        let changed = check_in_bookings(tx, &due, after_commit).await?;
        if after_commit {
            unstamped.extend(changed.iter().copied());
        }
        // I1-I3: HIS's record and registration, orders for what is paid.
        let changed_ids: Vec<i64> = changed.iter().copied().collect();
        // The UPDATE above holds the row locks of exactly these visits.
        let locked = crate::interfaces::facts::Locked::Yes;
        crate::interfaces::facts::sync_visits(tx, &self.keys, &changed_ids, locked, now).await?;
        let mut first = changed;
        for ((_, c), o) in run.iter().zip(outcomes.iter_mut()) {
            if *o == Outcome::Registered && !first.remove(&c.booking_id) {
                *o = Outcome::Repeat;
            }
        }
        insert_registrations(tx, kiosk_id, run, &outcomes, now).await?;
        for (event, c) in run {
            // PIPL: the consent step's answers, with the notice version.
            super::privacy::record_check_in(tx, &self.keys, kiosk_id, &event.id.to_string(), c)
                .await?;
        }
        Ok(())
    }
}

/// What became of a push: applied, or refused as a replay with nothing written.
#[derive(Debug, Clone)]
pub enum Pushed {
    Applied(PushOutcome),
    Replayed,
}

/// What a check-in did, as the desk's list of registrations shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Registered,
    Repeat,
    UnknownBooking,
    IdentityMismatch,
    CancelledBooking,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Registered => "registered",
            Outcome::Repeat => "repeat",
            Outcome::UnknownBooking => "unknown_booking",
            Outcome::IdentityMismatch => "identity_mismatch",
            Outcome::CancelledBooking => "cancelled_booking",
        }
    }
}

/// Inserts the batch's events, one multi-row statement per hundred; the
/// ids inserted come back (an id already stored, or twice in the batch,
/// is inserted once).
async fn insert_events(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    kiosk_id: &str,
    events: &[(Event, EventBody)],
    now: DateTime<Utc>,
) -> Result<BTreeSet<String>> {
    let mut new = BTreeSet::new();
    let received = ts(now);
    // In id order: two pushes racing with the same events then take their
    // insert locks in the same order (PostgreSQL), so neither deadlocks.
    let mut events: Vec<&(Event, EventBody)> = events.iter().collect();
    events.sort_by_key(|(e, _)| e.id);
    for chunk in events.chunks(super::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO kiosk_events(event_id, kiosk_id, seq, kind, payload, created_at, received_at)
             VALUES {} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            super::value_rows(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (event, body) in chunk.iter().copied() {
            let id = event.id.to_string();
            let payload = keys.seal_str(
                &stored_payload(event, body),
                &ad("kiosk_events", "payload", &[&id]),
            )?;
            q = q
                .bind(id)
                .bind(kiosk_id)
                .bind(event.seq)
                .bind(&event.kind)
                .bind(payload)
                .bind(ts(event.created_at))
                .bind(received.clone());
        }
        for r in q.fetch_all(&mut **tx).await? {
            new.insert(r.try_get::<String, _>("event_id")?);
        }
    }
    Ok(new)
}

/// Marks booked visits checked in, each with its own change number; the
/// ids actually changed come back (one already checked in is not).
/// Marks `ids` checked in (those still booked; returned). Their change
/// numbers: in the transaction on SQLite (one writer anyway); on
/// PostgreSQL 0 here and stamped after the commit (`after_commit`,
/// `bookings::stamp_committed_many`), as the desk's new visits are: the
/// counter's row is locked from its bump to the commit, and in the push's
/// transaction that held its HIS messages, registrations and flush, so
/// concurrent pushes queued for it one commit at a time (issue 21). A 0 is
/// followed by no cursor until stamped.
async fn check_in_bookings(
    tx: &mut Transaction<'_, Any>,
    ids: &[i64],
    after_commit: bool,
) -> Result<BTreeSet<i64>> {
    let mut changed = BTreeSet::new();
    if ids.is_empty() {
        return Ok(changed);
    }
    let mut seq = if after_commit {
        0
    } else {
        next_change_seqs(tx, ids.len()).await?
    };
    for chunk in ids.chunks(super::ROWS_PER_STATEMENT) {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(check_in_bookings_sql(chunk.len())));
        for id in chunk {
            q = q.bind(*id).bind(seq);
            if !after_commit {
                seq += 1;
            }
        }
        for r in q.fetch_all(&mut **tx).await? {
            changed.insert(r.try_get::<i64, _>("id")?);
        }
    }
    Ok(changed)
}

async fn insert_registrations(
    tx: &mut Transaction<'_, Any>,
    kiosk_id: &str,
    run: &[(&Event, &CheckIn)],
    outcomes: &[Outcome],
    now: DateTime<Utc>,
) -> Result<()> {
    let received = ts(now);
    let rows: Vec<_> = run.iter().zip(outcomes).collect();
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO registrations(id, event_id, kiosk_id, booking_id, identified_by, offline, checked_in_at, received_at, outcome)
             VALUES {}",
            super::value_rows(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((event, c), o) in chunk {
            q = q
                .bind(next_id())
                .bind(event.id.to_string())
                .bind(kiosk_id)
                .bind(c.booking_id)
                .bind(&c.identified_by)
                .bind(i64::from(c.offline))
                .bind(ts(c.checked_in_at))
                .bind(received.clone())
                .bind(o.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
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
            // The template lives in `face_templates` (under its consent).
            p.face = None;
            serde_json::to_string(&p).unwrap_or_default()
        }
        _ => event.payload.to_string(),
    }
}

/// The bookings `n` check-ins name: their state and whose they are.
pub(crate) fn bookings_for_check_in_sql(n: usize) -> String {
    format!(
        "SELECT id, state, person_key FROM bookings WHERE id IN ({})",
        super::placeholders(n)
    )
}

/// Marks `n` booked visits checked in, binding (id, change number) pairs;
/// changes nothing in one that is not booked any more.
pub(crate) fn check_in_bookings_sql(n: usize) -> String {
    let cases: String = (0..n)
        .map(|i| format!(" WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2))
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("${}", 2 * i + 1)).collect();
    format!(
        "UPDATE bookings SET state = 'checked_in', change_seq = CASE id{cases} END
          WHERE id IN ({}) AND state = 'booked' RETURNING id",
        ids.join(", ")
    )
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

    #[test]
    fn the_event_log_keeps_no_photo_and_no_face_template() {
        let t =
            exam_protocol::FaceTemplate::new("sface_2021dec", &[0.25; exam_protocol::FACE_DIMS]);
        let body = EventBody::Photo(exam_protocol::PhotoRecord {
            booking_id: 7,
            booking_code: "BK7".into(),
            outcome: "camera".into(),
            png: Some("iVBORw0KGgo=".into()),
            taken_at: Utc::now(),
            face: Some(t.clone()),
        });
        let event = Event::new(Uuid::now_v7(), 1, Utc::now(), &body);
        let kept = stored_payload(&event, &body);
        assert!(kept.contains("BK7"));
        assert!(
            !kept.contains("iVBORw0KGgo=") && !kept.contains(&t.embedding),
            "{kept}"
        );
    }
}
