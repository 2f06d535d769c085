//! `sms_messages` and `sms_reports` (migration 0017): the request in the
//! fact's transaction, the release under the limits into the interfaces
//! queue, the status reports applied, and what the staff page counts.

use chrono::{DateTime, Duration, Utc};
use exam_sms::{Decision, Limiter, Limits, TemplateKind};
use sqlx::{Any, Row, Transaction};

use super::{SmsPayload, SmsRequest, expires_at, priority};
use crate::db::{Db, DbError, Result, ad, next_id, parse_ts, ts};
use crate::interfaces::store::NewMessage;
use crate::interfaces::{Counterpart, payload::Payload};

fn payload_ad(id: i64) -> Vec<u8> {
    ad("sms_messages", "payload", &[&id.to_string()])
}

/// Whether an SMS for this fact was requested already.
pub(crate) const SMS_EXISTS: &str = "SELECT 1 FROM sms_messages WHERE idem_key = $1";

/// Inserts a waiting message in the caller's transaction; false when its
/// key exists.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    req: &SmsRequest,
    mobile: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let exists = sqlx::query(SMS_EXISTS)
        .bind(&req.key)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    let id = next_id();
    let p = SmsPayload {
        sms_id: id,
        phone: mobile.trim().to_string(),
        facts: req.facts.clone(),
    };
    let json = serde_json::to_string(&p).map_err(|e| DbError::Corrupt(format!("sms: {e}")))?;
    let kind = req.facts.kind();
    let n = sqlx::query(
        "INSERT INTO sms_messages(id, idem_key, kind, booking_id, mobile_idx, mobile_masked, payload,
            priority, state, created_at, due_at, expires_at, duplicate_reports, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', $9, $9, $10, 0, $9)
         ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(id)
    .bind(&req.key)
    .bind(kind.as_str())
    .bind(req.booking_id)
    .bind(crate::db::mobile_index_of(keys, mobile))
    .bind(exam_sms::model::mask_phone(mobile.trim()))
    .bind(keys.seal_str(&json, &payload_ad(id))?)
    .bind(priority(kind))
    .bind(ts(now))
    .bind(expires_at(&req.facts, now).map(ts))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// What one release round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    pub queued: usize,
    pub waiting: usize,
    pub dropped: usize,
}

/// Moves waiting messages that are due into the interfaces queue, as far
/// as `limits` allow at `now`. One round at a time across instances: the
/// `sms_release` counter row is locked to the commit, so two instances
/// never count the same history twice.
pub async fn release(db: &Db, limits: &Limits, now: DateTime<Utc>) -> Result<Released> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'sms_release'")
        .execute(&mut *tx)
        .await?;
    let at = ts(now);
    let due = sqlx::query(
        "SELECT s.id, s.idem_key, s.kind, s.booking_id, s.mobile_idx, s.payload, s.expires_at,
                s.created_at, b.state AS visit_state
           FROM sms_messages s LEFT JOIN bookings b ON b.id = s.booking_id
          WHERE s.state = 'waiting' AND s.due_at <= $1
          ORDER BY s.priority DESC, s.created_at, s.id LIMIT 200",
    )
    .bind(&at)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Released::default();
    if due.is_empty() {
        tx.commit().await?;
        return Ok(out);
    }
    let mut limiter = Limiter::new(limits.clone());
    let history = sqlx::query(
        "SELECT mobile_idx, released_at FROM sms_messages WHERE released_at IS NOT NULL AND released_at > $1",
    )
    .bind(ts(now - Duration::days(1)))
    .fetch_all(&mut *tx)
    .await?;
    for r in &history {
        let when: String = r.try_get("released_at")?;
        limiter.record(&r.try_get::<String, _>("mobile_idx")?, parse_ts(&when)?);
    }
    for r in &due {
        let id: i64 = r.try_get("id")?;
        let kind_s: String = r.try_get("kind")?;
        let kind = TemplateKind::parse(&kind_s)
            .ok_or_else(|| DbError::Corrupt(format!("sms kind {kind_s:?}")))?;
        let visit: Option<String> = r.try_get("visit_state")?;
        if kind == TemplateKind::BookingConfirmed && visit.as_deref() == Some("cancelled") {
            set_state(
                &mut tx,
                id,
                "dropped",
                Some("预约已取消 / visit cancelled before it went"),
                None,
                &at,
            )
            .await?;
            out.dropped += 1;
            continue;
        }
        let expires: Option<String> = r.try_get("expires_at")?;
        if let Some(e) = expires.as_deref().map(parse_ts).transpose()?
            && e <= now
            && !kind.urgent()
        {
            set_state(
                &mut tx,
                id,
                "dropped",
                Some("过期未发 / expired while held by the rate limits"),
                None,
                &at,
            )
            .await?;
            out.dropped += 1;
            continue;
        }
        // Confirmations and report notices need the person's consent to
        // text messages (PIPL; `Purpose::SmsNotifications`); result
        // notices are part of the examination itself and go regardless.
        // A booking is often made before its consent is recorded (the
        // desk's next step, the kiosk's check-in): it is held a while.
        if needs_consent(kind) {
            let booking: Option<i64> = r.try_get("booking_id")?;
            if !consented(db, booking).await? {
                let created = parse_ts(&r.try_get::<String, _>("created_at")?)?;
                if now - created < consent_grace() {
                    sqlx::query(
                        "UPDATE sms_messages SET due_at = $2, reason = $3, updated_at = $4 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(ts(now + Duration::seconds(5)))
                    .bind("等待短信通知同意 / waiting for consent to text messages")
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                    out.waiting += 1;
                } else {
                    set_state(
                        &mut tx,
                        id,
                        "dropped",
                        Some("未同意短信通知 / no consent to text messages"),
                        None,
                        &at,
                    )
                    .await?;
                    out.dropped += 1;
                }
                continue;
            }
        }
        match limiter.admit(&r.try_get::<String, _>("mobile_idx")?, kind.urgent(), now) {
            Decision::Admit => {
                let sealed: String = r.try_get("payload")?;
                let payload: SmsPayload =
                    serde_json::from_str(&db.keys.open_string(&sealed, &payload_ad(id))?)
                        .map_err(|e| DbError::Corrupt(format!("sms {id}: {e}")))?;
                let key: String = r.try_get("idem_key")?;
                crate::interfaces::store::enqueue(
                    &mut tx,
                    &db.keys,
                    &NewMessage {
                        counterpart: Counterpart::Sms,
                        key,
                        booking_id: r.try_get("booking_id")?,
                        item_code: None,
                        payload: Payload::Sms(payload),
                    },
                    now,
                )
                .await?;
                set_state(&mut tx, id, "queued", None, Some(&at), &at).await?;
                out.queued += 1;
            }
            Decision::WaitUntil(t) => {
                sqlx::query(
                    "UPDATE sms_messages SET due_at = $2, reason = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(ts(t))
                .bind(format!("频率限制，{} 后发送 / rate limit", ts(t)))
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                out.waiting += 1;
            }
        }
    }
    tx.commit().await?;
    if out.dropped > 0 {
        tracing::warn!(
            dropped = out.dropped,
            "SMS expired while held by the rate limits"
        );
    }
    Ok(out)
}

/// Which kinds go only with the person's consent to text messages.
pub fn needs_consent(k: TemplateKind) -> bool {
    matches!(
        k,
        TemplateKind::BookingConfirmed | TemplateKind::ReportReady
    )
}

/// How long a message waits for a consent not yet recorded.
pub fn consent_grace() -> Duration {
    Duration::minutes(10)
}

async fn consented(db: &Db, booking: Option<i64>) -> Result<bool> {
    let Some(b) = booking else { return Ok(false) };
    match db
        .consent_allows(b, exam_domain::privacy::Purpose::SmsNotifications)
        .await
    {
        Ok(yes) => Ok(yes),
        Err(crate::db::PrivacyError::Db(e)) => Err(e),
        Err(_) => Ok(false),
    }
}

async fn set_state(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    state: &str,
    reason: Option<&str>,
    released_at: Option<&str>,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE sms_messages SET state = $2, reason = COALESCE($3, reason),
                released_at = COALESCE($4, released_at), updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(reason)
    .bind(released_at)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a status report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    Applied,
    /// The same serial number reported before: counted, not applied.
    Duplicate,
    /// No message of ours has that serial number (kept aside).
    Unknown,
}

/// Applies one status report: the message by its serial number (the queue
/// message's `remote_ref`) or by our key in the report, `delivered` or
/// `failed`, the queue's message acknowledged. The first report of a
/// serial number wins.
pub async fn apply_report(
    db: &Db,
    r: &exam_sms::DeliveryReport,
    now: DateTime<Utc>,
) -> Result<ReportOutcome> {
    let mut tx = db.pool.begin().await?;
    let at = ts(now);
    let msg = sqlx::query(
        "SELECT s.id, s.idem_key FROM interface_messages m JOIN sms_messages s ON s.idem_key = m.idem_key
          WHERE m.counterpart = 'sms' AND m.remote_ref = $1",
    )
    .bind(&r.serial_no)
    .fetch_optional(&mut *tx)
    .await?;
    // A pulled report also names our key (its SessionContext): it finds a
    // message whose send was answered late or not at all (no serial number
    // kept yet).
    let msg = match msg {
        None if r.session_context.starts_with("sms.") => {
            sqlx::query("SELECT id, idem_key FROM sms_messages WHERE idem_key = $1")
                .bind(&r.session_context)
                .fetch_optional(&mut *tx)
                .await?
        }
        m => m,
    };
    let sms_id: Option<i64> = msg.as_ref().map(|m| m.try_get("id")).transpose()?;
    let code = if r.errmsg.is_empty() {
        &r.description
    } else {
        &r.errmsg
    };
    let n = sqlx::query(
        "INSERT INTO sms_reports(serial_no, status, code, sms_id, received_at, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (serial_no) DO NOTHING",
    )
    .bind(&r.serial_no)
    .bind(r.status.as_str())
    .bind(code.chars().take(64).collect::<String>())
    .bind(sms_id)
    .bind(r.received_at.map(ts))
    .bind(&at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let Some(m) = msg else {
        tx.commit().await?;
        return Ok(ReportOutcome::Unknown);
    };
    let id: i64 = m.try_get("id")?;
    if n == 0 {
        sqlx::query(
            "UPDATE sms_messages SET duplicate_reports = duplicate_reports + 1 WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(ReportOutcome::Duplicate);
    }
    let (state, reason) = match r.status {
        exam_sms::ReportStatus::Success => ("delivered", None),
        exam_sms::ReportStatus::Fail => ("failed", Some(format!("未送达 / not delivered: {code}"))),
    };
    sqlx::query(
        "UPDATE sms_messages SET state = $2, serial_no = $3, report_status = $4, report_code = $5,
                reported_at = $6, received_at = $7, reason = COALESCE($8, reason), updated_at = $6
          WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(&r.serial_no)
    .bind(r.status.as_str())
    .bind(code.chars().take(64).collect::<String>())
    .bind(&at)
    .bind(r.received_at.map(ts))
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE interface_messages SET state = 'acked', acked_at = $2, updated_at = $2
          WHERE counterpart = 'sms' AND idem_key = $1 AND state = 'sent'",
    )
    .bind(m.try_get::<String, _>("idem_key")?)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ReportOutcome::Applied)
}

/// Messages the queue gave up (dead letters) become `failed` with the
/// queue's last error.
pub async fn sync_dead_letters(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE sms_messages SET state = 'failed', updated_at = $1,
                reason = (SELECT m.last_error FROM interface_messages m WHERE m.idem_key = sms_messages.idem_key)
          WHERE state = 'queued' AND EXISTS (SELECT 1 FROM interface_messages m
                 WHERE m.idem_key = sms_messages.idem_key AND m.state = 'dead')",
    )
    .bind(ts(now))
    .execute(&db.pool)
    .await?
    .rows_affected())
}

/// One message as the staff page lists it (no name, the number masked).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SmsRow {
    pub id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    pub booking_id: Option<i64>,
    pub mobile: String,
    /// The row's state, with `queued` told apart by the queue's state:
    /// `queued` (on its way), `sent` (platform took it, no report yet).
    pub state: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub released_at: Option<String>,
    pub serial_no: Option<String>,
    pub report: Option<String>,
    pub duplicate_reports: i64,
}

/// The columns and joins of [`SmsRow`] (a macro: sqlx takes static SQL).
macro_rules! row_sql {
    () => {
        "SELECT s.id, s.kind, s.booking_id, s.mobile_masked, s.state, s.reason, s.created_at,
        s.released_at, COALESCE(s.serial_no, m.remote_ref) AS serial_no, s.report_code,
        s.duplicate_reports, m.state AS queue_state, m.last_error
   FROM sms_messages s LEFT JOIN interface_messages m ON m.idem_key = s.idem_key "
    };
}

fn row_of(r: &sqlx::any::AnyRow) -> Result<SmsRow> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let queue: Option<String> = r.try_get("queue_state")?;
    let shown = match (state.as_str(), queue.as_deref()) {
        ("queued", Some("sent" | "acked")) => "sent".to_string(),
        _ => state,
    };
    let reason: Option<String> = r.try_get("reason")?;
    let last_error: Option<String> = r.try_get("last_error")?;
    Ok(SmsRow {
        id: r.try_get("id")?,
        kind_label: TemplateKind::parse(&kind).map_or("?", TemplateKind::label_zh),
        kind,
        booking_id: r.try_get("booking_id")?,
        mobile: r.try_get("mobile_masked")?,
        reason: reason.or(if shown == "queued" { last_error } else { None }),
        state: shown,
        created_at: r.try_get("created_at")?,
        released_at: r.try_get("released_at")?,
        serial_no: r.try_get("serial_no")?,
        report: r.try_get("report_code")?,
        duplicate_reports: r.try_get("duplicate_reports")?,
    })
}

impl Db {
    /// Critical-value and abnormal-result messages that failed since
    /// `since` (the alarms': someone must call those people).
    pub async fn sms_notices_failed_since(&self, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM sms_messages
              WHERE state = 'failed' AND kind IN ('critical_value', 'abnormal_result')
                AND updated_at >= $1",
        )
        .bind(ts(since))
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The latest messages, newest first (optionally of one visit).
    pub async fn sms_messages(&self, booking: Option<i64>, limit: i64) -> Result<Vec<SmsRow>> {
        let rows = match booking {
            Some(b) => {
                sqlx::query(concat!(
                    row_sql!(),
                    "WHERE s.booking_id = $1 ORDER BY s.created_at DESC, s.id DESC LIMIT $2"
                ))
                .bind(b)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    row_sql!(),
                    "ORDER BY s.created_at DESC, s.id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(row_of).collect()
    }

    /// Per kind and shown state, how many.
    pub async fn sms_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let sql = "SELECT x.kind, x.shown, CAST(COUNT(*) AS BIGINT) AS n FROM (
               SELECT s.kind, CASE WHEN s.state = 'queued' AND m.state IN ('sent', 'acked') THEN 'sent'
                                   ELSE s.state END AS shown
                 FROM sms_messages s LEFT JOIN interface_messages m ON m.idem_key = s.idem_key) x
              GROUP BY x.kind, x.shown";
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("shown")?, r.try_get("n")?)))
            .collect()
    }

    /// The latest failures and drops, with their reasons.
    pub async fn sms_problems(&self, limit: i64) -> Result<Vec<SmsRow>> {
        let rows = sqlx::query(concat!(
            row_sql!(),
            "WHERE s.state IN ('failed', 'dropped') OR (s.state = 'queued' AND m.state = 'retrying')
              ORDER BY s.updated_at DESC, s.id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_of).collect()
    }

    /// Reports for serial numbers no message of ours has.
    pub async fn sms_unknown_reports(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM sms_reports WHERE sms_id IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}
