//! The queue in the store: enqueue inside a fact's transaction, the
//! per-counterpart lease, claiming the head, recording the outcome, and
//! staff's retry of a dead letter.
//!
//! Portable SQL (no SKIP LOCKED, no advisory locks): the lease is a row
//! taken by a conditional UPDATE, and a message is claimed by another
//! (`pending|retrying`, or `sending` with an expired claim → `sending` under
//! this holder), so the store's row locks decide between instances.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::adapter::Outgoing;
use super::payload::Payload;
use super::policy::Next;
use super::{Counterpart, MessageKind, MessageState};
use crate::db::{Db, DbError, Result, ad, next_id, parse_ts, ts};

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub counterpart: Counterpart,
    /// Unique for the fact it stands for: the same fact never enqueues twice.
    pub key: String,
    pub booking_id: Option<i64>,
    pub item_code: Option<String>,
    pub payload: Payload,
}

fn payload_ad(id: i64) -> Vec<u8> {
    ad("interface_messages", "payload", &[&id.to_string()])
}

/// The number `ms`'s first must exceed: the line is sent in the order of
/// these numbers, and each message takes its own id (`db::next_id`) or
/// the number before it plus one, whichever is more (`enqueue_many`).
///
/// No shared counter (issue 21): `interface_seq` was a row every writer
/// locked from its bump to its commit, so every walk-in of every instance
/// queued behind the one before (a mean 12–22 ms a walk-in under the desk
/// load). Now a number is the time-ordered id (`db::next_id`, rising within
/// an instance) and above every number the messages' visits hold already.
/// What that keeps: a visit's messages are sent in the order their facts
/// committed — a transaction that starts after another committed sees its
/// messages in the read below and numbers after them, whatever the clocks
/// of the instances (and two transactions on one visit are not concurrent:
/// `facts::sync_visits` takes its row first). What it gives up: between
/// different visits the line follows the instances' clocks rather than
/// commit order, and a message numbered just before another commits may
/// commit just after it; its visit's messages still go in order, and
/// messages of different visits never depended on each other's.
/// The highest number `n` visits' messages hold (plans test: by visit).
pub(crate) fn seq_floor_sql(n: usize) -> String {
    format!(
        "SELECT MAX(seq) FROM interface_messages WHERE booking_id IN ({})",
        crate::db::placeholders(n)
    )
}

async fn seq_floor(tx: &mut Transaction<'_, Any>, ms: &[NewMessage]) -> Result<i64> {
    let mut visits: Vec<i64> = ms.iter().filter_map(|m| m.booking_id).collect();
    visits.sort_unstable();
    visits.dedup();
    let mut floor = 0i64;
    for chunk in visits.chunks(crate::db::ROWS_PER_STATEMENT) {
        let sql = seq_floor_sql(chunk.len());
        let mut q = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        floor = floor.max(q.fetch_one(&mut **tx).await?.unwrap_or(0));
    }
    Ok(floor)
}

/// Enqueues `m` in the caller's transaction (before its audit line, which
/// must stay the last write). False when a message with its key exists.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    m: &NewMessage,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(enqueue_many(tx, keys, std::slice::from_ref(m), now).await? == 1)
}

/// Enqueues `ms` in the caller's transaction: one read of their visits'
/// numbers and one multi-row INSERT per hundred, whatever their number (a push of a
/// hundred check-ins enqueues two hundred). A message whose key exists is
/// skipped (the same fact never enqueues twice); returns how many were new.
pub(crate) async fn enqueue_many(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    ms: &[NewMessage],
    now: DateTime<Utc>,
) -> Result<usize> {
    if ms.is_empty() {
        return Ok(0);
    }
    let floor = seq_floor(tx, ms).await?;
    enqueue_above(tx, keys, ms, now, floor).await
}

/// [`enqueue_many`] numbering above `floor`, the highest number the
/// messages' visits hold (0 for visits created in this transaction).
pub(crate) async fn enqueue_above(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    ms: &[NewMessage],
    now: DateTime<Utc>,
    floor: i64,
) -> Result<usize> {
    if ms.is_empty() {
        return Ok(0);
    }
    let mut last = floor;
    let at = ts(now);
    let mut inserted = 0;
    for chunk in ms.chunks(crate::db::ROWS_PER_STATEMENT) {
        let rows = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=9).map(|c| format!("${}", r * 9 + c)).collect();
                let at = &p[8];
                format!("({}, 'pending', 0, 0, {at}, {at}, {at})", p[..8].join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO interface_messages(id, seq, counterpart, kind, idem_key, booking_id, item_code,
                payload, state, attempts, failures, next_attempt_at, created_at, updated_at)
             VALUES {rows} ON CONFLICT (idem_key) DO NOTHING RETURNING id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            let id = next_id();
            // Its id as a rule (ids rise), above what its visit holds.
            let seq = id.max(last + 1);
            last = seq;
            let json = serde_json::to_string(&m.payload)
                .map_err(|e| DbError::Corrupt(format!("payload: {e}")))?;
            q = q
                .bind(id)
                .bind(seq)
                .bind(m.counterpart.as_str())
                .bind(m.payload.kind().as_str())
                .bind(&m.key)
                .bind(m.booking_id)
                .bind(m.item_code.as_deref())
                .bind(keys.seal_str(&json, &payload_ad(id))?)
                .bind(at.clone());
        }
        inserted += q.fetch_all(&mut **tx).await?.len();
    }
    Ok(inserted)
}

/// The open message at the head of a counterpart's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub id: i64,
    pub seq: i64,
    pub state: MessageState,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
}

fn state_of(r: &AnyRow) -> Result<MessageState> {
    let s: String = r.try_get("state")?;
    MessageState::parse(&s).ok_or_else(|| DbError::Corrupt(format!("message state {s:?}")))
}

fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

/// The line's next message (the sender's head, the alarms' failing
/// head): the first entry of the index of open messages (migration 0032,
/// whose predicate this repeats word for word).
pub(crate) const LINE_NEXT: &str = "SELECT id, seq, state, next_attempt_at, lease_until,
        failing_since, last_error
   FROM interface_messages
  WHERE counterpart = $1 AND state IN ('pending', 'retrying', 'sending') ORDER BY seq LIMIT 1";

impl Db {
    /// The lowest-`seq` message of `c` still to deliver (dead letters are
    /// out of the line).
    pub async fn line_head(&self, c: Counterpart) -> Result<Option<Head>> {
        let r = sqlx::query(LINE_NEXT)
            .bind(c.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = r else { return Ok(None) };
        Ok(Some(Head {
            id: r.try_get("id")?,
            seq: r.try_get("seq")?,
            state: state_of(&r)?,
            next_attempt_at: parse_ts(&r.try_get::<String, _>("next_attempt_at")?)?,
            lease_until: opt_ts(&r, "lease_until")?,
        }))
    }

    /// Claims message `id` for `holder` (`sending`, one more attempt), if it
    /// is still waiting or its earlier claim expired; then opens it.
    pub async fn claim_message(
        &self,
        id: i64,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Outgoing>> {
        let n = sqlx::query(
            "UPDATE interface_messages
                SET state = 'sending', attempts = attempts + 1, lease_holder = $2, lease_until = $3,
                    updated_at = $4
              WHERE id = $1 AND (state IN ('pending', 'retrying')
                                 OR (state = 'sending' AND lease_until < $4))",
        )
        .bind(id)
        .bind(holder)
        .bind(ts(now + lease))
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(None);
        }
        let r = sqlx::query(
            "SELECT m.id, m.seq, m.counterpart, m.kind, m.idem_key, m.booking_id, m.item_code,
                    m.payload, m.attempts, p.his_patient_id
               FROM interface_messages m
               LEFT JOIN bookings b ON b.id = m.booking_id
               LEFT JOIN interface_patients p ON p.person_key = b.person_key
              WHERE m.id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let c: String = r.try_get("counterpart")?;
        let k: String = r.try_get("kind")?;
        let sealed: String = r.try_get("payload")?;
        let payload: Payload =
            serde_json::from_str(&self.keys.open_string(&sealed, &payload_ad(id))?)
                .map_err(|e| DbError::Corrupt(format!("message {id} payload: {e}")))?;
        Ok(Some(Outgoing {
            id,
            seq: r.try_get("seq")?,
            counterpart: Counterpart::parse(&c)
                .ok_or_else(|| DbError::Corrupt(format!("counterpart {c:?}")))?,
            kind: MessageKind::parse(&k).ok_or_else(|| DbError::Corrupt(format!("kind {k:?}")))?,
            key: r.try_get("idem_key")?,
            booking_id: r.try_get("booking_id")?,
            item_code: r.try_get("item_code")?,
            attempt: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            payload,
            his_patient_id: r.try_get("his_patient_id")?,
        }))
    }

    /// Records an attempt's outcome, if `holder` still holds the claim (a
    /// claim that expired and was taken over is the new holder's to finish).
    /// A patient record HIS acknowledged keeps HIS's patient id.
    pub async fn finish_message(
        &self,
        msg: &Outgoing,
        holder: &str,
        next: &Next,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let at = ts(now);
        let delivered = matches!(next.state, MessageState::Sent | MessageState::Acked);
        let n = sqlx::query(
            "UPDATE interface_messages
                SET state = $3, failures = $4, next_attempt_at = $5, last_error = COALESCE($6, last_error),
                    failing_since = CASE WHEN $7 = 1 THEN COALESCE(failing_since, $8) ELSE NULL END,
                    remote_ref = COALESCE($9, remote_ref),
                    sent_at = CASE WHEN $10 = 1 THEN $8 ELSE sent_at END,
                    acked_at = CASE WHEN $3 = 'acked' THEN $8 ELSE acked_at END,
                    dead_at = CASE WHEN $3 = 'dead' THEN $8 ELSE dead_at END,
                    lease_holder = NULL, lease_until = NULL, updated_at = $8
              WHERE id = $1 AND lease_holder = $2 AND state = 'sending'",
        )
        .bind(msg.id)
        .bind(holder)
        .bind(next.state.as_str())
        .bind(i64::from(next.failures))
        .bind(ts(next.next_attempt_at))
        .bind(next.error.as_deref())
        .bind(i64::from(next.failing))
        .bind(&at)
        .bind(next.remote_ref.as_deref())
        .bind(i64::from(delivered))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1
            && msg.kind == MessageKind::PatientRecord
            && let Some(his_id) = &next.remote_ref
        {
            sqlx::query(
                "INSERT INTO interface_patients(person_key, his_patient_id, recorded_at)
                 SELECT b.person_key, $2, $3 FROM bookings b WHERE b.id = $1
                 ON CONFLICT (person_key) DO UPDATE SET his_patient_id = $2, recorded_at = $3",
            )
            .bind(msg.booking_id)
            .bind(his_id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// A counterpart acknowledged later what was sent (an HL7 application
    /// ACK after a commit ACK): `sent` → `acked`, by the message's key.
    pub async fn acknowledge_message(
        &self,
        c: Counterpart,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE interface_messages SET state = 'acked', acked_at = $3, updated_at = $3
              WHERE counterpart = $1 AND idem_key = $2 AND state = 'sent'",
        )
        .bind(c.as_str())
        .bind(key)
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Staff put a dead letter back in its line (at its own place: it goes
    /// next), with a fresh count of refusals; audited with the change.
    pub async fn retry_dead_letter(
        &self,
        actor: &str,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(Counterpart, String)>> {
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "SELECT counterpart, kind, idem_key, booking_id FROM interface_messages WHERE id = $1 AND state = 'dead'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else {
            return Ok(None);
        };
        let c: String = r.try_get("counterpart")?;
        let key: String = r.try_get("idem_key")?;
        sqlx::query(
            "UPDATE interface_messages SET state = 'pending', failures = 0, next_attempt_at = $2,
                    failing_since = NULL, dead_at = NULL, updated_at = $2
              WHERE id = $1 AND state = 'dead'",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        crate::db::log_line(
            &mut tx,
            actor,
            "interface.retry",
            &format!("interface:{c}"),
            &format!("message={id} key={key}"),
        )
        .await?;
        tx.commit().await?;
        let c =
            Counterpart::parse(&c).ok_or_else(|| DbError::Corrupt(format!("counterpart {c:?}")))?;
        Ok(Some((c, key)))
    }
}
