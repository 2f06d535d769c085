//! The chief examination's rows: a visit's report (state, grade, chief
//! physician, conclusions sealed), the reviewers' returns, the chief
//! physicians with their levels and signatures.

use chrono::{DateTime, Utc};
use exam_domain::results::chief::{ReportConclusion, ReportState, ReturnReason};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::db::{Db, DbError, Result, ad, next_id, parse_ts, ts};

fn conclusions_ad(booking: i64) -> Vec<u8> {
    ad("chief_reports", "conclusions", &[&booking.to_string()])
}

fn note_ad(id: i64) -> Vec<u8> {
    ad("chief_returns", "note", &[&id.to_string()])
}

pub(super) fn state_str(s: ReportState) -> &'static str {
    match s {
        ReportState::Waiting => "waiting",
        ReportState::Assigned => "assigned",
        ReportState::Draft => "draft",
        ReportState::Locked => "locked",
        ReportState::Published => "published",
    }
}

fn parse_state(s: &str) -> Result<ReportState> {
    Ok(match s {
        "waiting" => ReportState::Waiting,
        "assigned" => ReportState::Assigned,
        "draft" => ReportState::Draft,
        "locked" => ReportState::Locked,
        "published" => ReportState::Published,
        other => return Err(DbError::Corrupt(format!("chief_reports.state {other:?}"))),
    })
}

fn reason_str(r: ReturnReason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A visit's report as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub booking_id: i64,
    pub state: ReportState,
    pub grade: u8,
    pub physician: Option<String>,
    pub conclusions: Vec<ReportConclusion>,
    pub version: i64,
    pub locked_by: Option<String>,
    pub reviewed_by: Option<String>,
    pub report_id: Option<i64>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn open_row(db: &Db, r: &sqlx::any::AnyRow) -> Result<ReportRow> {
    let booking_id: i64 = r.try_get("booking_id")?;
    let json = db.keys.open_string(
        &r.try_get::<String, _>("conclusions")?,
        &conclusions_ad(booking_id),
    )?;
    Ok(ReportRow {
        booking_id,
        state: parse_state(&r.try_get::<String, _>("state")?)?,
        grade: u8::try_from(r.try_get::<i64, _>("grade")?).unwrap_or(3),
        physician: r.try_get("physician")?,
        conclusions: serde_json::from_str(&json)
            .map_err(|e| DbError::Corrupt(format!("chief_reports {booking_id}: {e}")))?,
        version: r.try_get("version")?,
        locked_by: r.try_get("locked_by")?,
        reviewed_by: r.try_get("reviewed_by")?,
        report_id: r.try_get("report_id")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: parse_ts(&r.try_get::<String, _>("updated_at")?)?,
    })
}

/// `SELECT <every column> FROM chief_reports <rest>`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT booking_id, state, grade, physician, conclusions, version, locked_by,
                reviewed_by, report_id, updated_by, updated_at FROM chief_reports ",
            $rest
        )
    };
}

pub(super) async fn get(db: &Db, booking: i64) -> Result<Option<ReportRow>> {
    let row = sqlx::query(select!("WHERE booking_id = $1"))
        .bind(booking)
        .fetch_optional(&db.read)
        .await?;
    row.map(|r| open_row(db, &r)).transpose()
}

/// Reports in `states`, oldest change first; only `physician`'s when given.
pub(super) async fn list(
    db: &Db,
    states: &[ReportState],
    physician: Option<&str>,
) -> Result<Vec<ReportRow>> {
    let rows = sqlx::query(select!("ORDER BY updated_at, booking_id"))
        .fetch_all(&db.read)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let state = parse_state(&r.try_get::<String, _>("state")?)?;
        let who: Option<String> = r.try_get("physician")?;
        if states.contains(&state) && physician.is_none_or(|p| who.as_deref() == Some(p)) {
            out.push(open_row(db, r)?);
        }
    }
    Ok(out)
}

/// Enters a ready visit into the pool (no physician yet). False when it
/// is there already.
pub(super) async fn enter(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    grade: u8,
    draft: &[ReportConclusion],
    now: DateTime<Utc>,
) -> Result<bool> {
    let json = serde_json::to_string(draft).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let n = sqlx::query(
        "INSERT INTO chief_reports(booking_id, state, grade, conclusions, version, updated_by,
            updated_at)
         VALUES ($1, 'assigned', $2, $3, 1, 'system', $4) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(booking)
    .bind(i64::from(grade))
    .bind(keys.seal_str(&json, &conclusions_ad(booking))?)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// What a state change writes besides the state.
#[derive(Debug, Default)]
pub(super) struct Change<'a> {
    pub conclusions: Option<&'a [ReportConclusion]>,
    pub physician: Option<&'a str>,
    pub locked_by: Option<Option<&'a str>>,
    pub reviewed_by: Option<&'a str>,
    pub report_id: Option<i64>,
}

/// Writes the report's next state if it is still at `version` (two
/// people acting on one report: the second is told, nothing is lost).
#[allow(clippy::too_many_arguments)]
pub(super) async fn update(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    version: i64,
    state: ReportState,
    c: &Change<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let sealed = match c.conclusions {
        Some(list) => {
            let json = serde_json::to_string(list).map_err(|e| DbError::Corrupt(e.to_string()))?;
            Some(keys.seal_str(&json, &conclusions_ad(booking))?)
        }
        None => None,
    };
    let n = sqlx::query(
        "UPDATE chief_reports SET state = $3, conclusions = COALESCE($4, conclusions),
            physician = COALESCE($5, physician),
            locked_by = CASE WHEN $6 = 1 THEN $7 ELSE locked_by END,
            reviewed_by = COALESCE($8, reviewed_by), report_id = COALESCE($9, report_id),
            version = version + 1, updated_by = $10, updated_at = $11
          WHERE booking_id = $1 AND version = $2",
    )
    .bind(booking)
    .bind(version)
    .bind(state_str(state))
    .bind(sealed)
    .bind(c.physician)
    .bind(i64::from(c.locked_by.is_some()))
    .bind(c.locked_by.flatten())
    .bind(c.reviewed_by)
    .bind(c.report_id)
    .bind(by)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A reviewer's return of a physician's report.
pub(super) struct Return<'a> {
    pub physician: &'a str,
    pub reviewer: &'a str,
    pub reason: ReturnReason,
    pub note: &'a str,
}

pub(super) async fn record_return(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    r: &Return<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let Return {
        physician,
        reviewer,
        reason,
        note,
    } = *r;
    let id = next_id();
    sqlx::query(
        "INSERT INTO chief_returns(id, booking_id, physician, reviewer, reason, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(booking)
    .bind(physician)
    .bind(reviewer)
    .bind(reason_str(reason))
    .bind(keys.seal_str(note, &note_ad(id))?)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One return as the report's history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnRow {
    pub reviewer: String,
    pub physician: String,
    pub reason: ReturnReason,
    pub reason_zh: &'static str,
    pub note: String,
    pub at: DateTime<Utc>,
}

pub(super) async fn returns_of(db: &Db, booking: i64) -> Result<Vec<ReturnRow>> {
    let rows = sqlx::query(
        "SELECT id, physician, reviewer, reason, note, at FROM chief_returns
          WHERE booking_id = $1 ORDER BY at, id",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let reason: ReturnReason =
                serde_json::from_value(serde_json::Value::String(r.try_get("reason")?))
                    .map_err(|e| DbError::Corrupt(e.to_string()))?;
            Ok(ReturnRow {
                reviewer: r.try_get("reviewer")?,
                physician: r.try_get("physician")?,
                reason_zh: reason.label_zh(),
                reason,
                note: db
                    .keys
                    .open_string(&r.try_get::<String, _>("note")?, &note_ad(id))?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect()
}

/// Returns per physician and reason (item 60's statistics).
pub(super) async fn return_counts(db: &Db) -> Result<Vec<(String, ReturnReason, i64)>> {
    let rows = sqlx::query(
        "SELECT physician, reason, COUNT(*) AS n FROM chief_returns
          GROUP BY physician, reason ORDER BY physician, reason",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let reason: ReturnReason =
                serde_json::from_value(serde_json::Value::String(r.try_get("reason")?))
                    .map_err(|e| DbError::Corrupt(e.to_string()))?;
            Ok((r.try_get("physician")?, reason, r.try_get("n")?))
        })
        .collect()
}

/// A chief physician.
#[derive(Debug, Clone, Serialize)]
pub struct PhysicianRow {
    pub login: String,
    pub level: u8,
    pub reviewer: bool,
    pub signature: bool,
}

pub(super) async fn physicians(db: &Db) -> Result<Vec<PhysicianRow>> {
    let rows = sqlx::query(
        "SELECT login, level, reviewer, CASE WHEN signature IS NULL THEN 0 ELSE 1 END AS sig FROM chief_physicians
          ORDER BY login",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PhysicianRow {
                login: r.try_get("login")?,
                level: u8::try_from(r.try_get::<i64, _>("level")?).unwrap_or(1),
                reviewer: r.try_get::<i64, _>("reviewer")? != 0,
                signature: r.try_get::<i64, _>("sig")? != 0,
            })
        })
        .collect()
}

impl Db {
    /// Sets a chief physician's level, review right and (when given) the
    /// signature image; audited.
    pub async fn set_chief_physician(
        &self,
        actor: &str,
        login: &str,
        level: u8,
        reviewer: bool,
        signature_png: Option<&[u8]>,
    ) -> Result<()> {
        use base64::Engine as _;
        let sig = signature_png.map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO chief_physicians(login, level, reviewer, signature) VALUES ($1, $2, $3, $4)
             ON CONFLICT (login) DO UPDATE SET level = $2, reviewer = $3,
                signature = COALESCE($4, chief_physicians.signature)",
        )
        .bind(login)
        .bind(i64::from(level))
        .bind(i64::from(reviewer))
        .bind(sig)
        .execute(&mut *tx)
        .await?;
        crate::db::log_line(
            &mut tx,
            actor,
            "chief.physician",
            &format!("staff:{login}"),
            &format!(
                "level {level}, reviewer {reviewer}{}",
                if signature_png.is_some() {
                    ", signature"
                } else {
                    ""
                }
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(super) async fn signature(db: &Db, login: &str) -> Result<Option<Vec<u8>>> {
    use base64::Engine as _;
    let s: Option<Option<String>> =
        sqlx::query_scalar("SELECT signature FROM chief_physicians WHERE login = $1")
            .bind(login)
            .fetch_optional(&db.read)
            .await?;
    Ok(s.flatten()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()))
}
