//! The board's rows and steps. A step is one transaction: the case read,
//! the domain's `step` applied, the step row written (its notes sealed),
//! the state moved only if nobody moved it meanwhile (`WHERE state = <the
//! state read>`), an SMS requested when the step sends one, the audit
//! line last.

use chrono::{DateTime, Utc};
use exam_domain::abnormal::Category;
use exam_domain::abnormal_case::{CaseAction, CaseState, Channel, step};
use serde::Serialize;
use sqlx::Row;

use crate::db::{Db, DbError, Result, ad, log_line, next_id, parse_ts, ts};

/// One row of the board, no personal data beyond the exam number.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub id: i64,
    pub booking_id: i64,
    pub exam_no: String,
    pub item_code: String,
    pub analyte_name: String,
    pub category: Category,
    pub state: CaseState,
    pub source: String,
    pub raised_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn opt_ts(r: &sqlx::any::AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

fn row(r: &sqlx::any::AnyRow) -> Result<BoardRow> {
    let category: String = r.try_get("category")?;
    let state: String = r.try_get("state")?;
    Ok(BoardRow {
        id: r.try_get("id")?,
        booking_id: r.try_get("booking_id")?,
        exam_no: r.try_get("exam_no")?,
        item_code: r.try_get("item_code")?,
        analyte_name: r.try_get("analyte_name")?,
        category: Category::parse(&category)
            .ok_or_else(|| DbError::Corrupt(format!("category {category:?}")))?,
        state: CaseState::parse(&state)
            .ok_or_else(|| DbError::Corrupt(format!("state {state:?}")))?,
        source: r.try_get("source")?,
        raised_at: parse_ts(&r.try_get::<String, _>("raised_at")?)?,
        notified_at: opt_ts(r, "notified_at")?,
        closed_at: opt_ts(r, "closed_at")?,
    })
}

const SELECT: &str =
    "SELECT m.id, m.booking_id, b.exam_no, m.item_code, m.analyte_name, m.category,
        m.state, m.source, m.raised_at, m.notified_at, m.closed_at
   FROM major_abnormal_results m JOIN bookings b ON b.id = m.booking_id";

/// The open cases (or, `all`, those raised since `since` too), oldest first.
pub(super) async fn board(db: &Db, all: bool, since: DateTime<Utc>) -> Result<Vec<BoardRow>> {
    let sql = format!(
        "{SELECT} WHERE m.state IN ('raised', 'reviewed', 'notified') OR ($1 = 1 AND m.raised_at >= $2)
          ORDER BY m.raised_at, m.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(all))
        .bind(ts(since))
        .fetch_all(&db.read)
        .await?;
    rows.iter().map(row).collect()
}

pub(super) async fn case(db: &Db, id: i64) -> Result<Option<BoardRow>> {
    let sql = format!("{SELECT} WHERE m.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.read)
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

/// One step as the history shows it (notes opened).
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub action: CaseAction,
    pub state_after: CaseState,
    pub by: String,
    pub at: DateTime<Utc>,
}

fn step_ad(id: i64) -> Vec<u8> {
    ad("major_abnormal_steps", "detail", &[&id.to_string()])
}

pub(super) async fn steps(db: &Db, result: i64) -> Result<Vec<StepRow>> {
    let rows = sqlx::query(
        "SELECT id, detail, state_after, by_user, at FROM major_abnormal_steps
          WHERE result_id = $1 ORDER BY at, id",
    )
    .bind(result)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let json = db
                .keys
                .open_string(&r.try_get::<String, _>("detail")?, &step_ad(id))?;
            let state: String = r.try_get("state_after")?;
            Ok(StepRow {
                action: serde_json::from_str(&json)
                    .map_err(|e| DbError::Corrupt(format!("step {id}: {e}")))?,
                state_after: CaseState::parse(&state)
                    .ok_or_else(|| DbError::Corrupt(format!("state {state:?}")))?,
                by: r.try_get("by_user")?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect()
}

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Refused(#[from] exam_domain::abnormal_case::CaseError),
    #[error("没有这条重要异常")]
    NotFound,
    /// Someone else moved it meanwhile: reload and look again.
    #[error("这条重要异常刚被他人处理，请刷新后再试")]
    Moved,
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        StepError::Db(e.into())
    }
}

/// Takes `action` on case `id` for `by`: the new state, and whether an SMS
/// was requested.
pub(super) async fn act(
    db: &Db,
    id: i64,
    action: &CaseAction,
    by: &str,
    now: DateTime<Utc>,
) -> std::result::Result<(CaseState, bool), StepError> {
    let mut tx = db.pool.begin().await?;
    let r = sqlx::query(
        "SELECT m.state, m.category, m.booking_id, b.person_key FROM major_abnormal_results m
           JOIN bookings b ON b.id = m.booking_id WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StepError::NotFound)?;
    let before: String = r.try_get("state")?;
    let state =
        CaseState::parse(&before).ok_or_else(|| DbError::Corrupt(format!("state {before:?}")))?;
    let category: String = r.try_get("category")?;
    let booking: i64 = r.try_get("booking_id")?;
    let person: String = r.try_get("person_key")?;
    let after = step(state, action)?;
    let reached = after == CaseState::Notified && state != CaseState::Notified;
    let closed = matches!(after, CaseState::Closed | CaseState::Dismissed);
    let n = sqlx::query(
        "UPDATE major_abnormal_results SET state = $1,
                notified_at = CASE WHEN $2 = 1 THEN $3 ELSE notified_at END,
                closed_at = CASE WHEN $4 = 1 THEN $3 ELSE closed_at END
          WHERE id = $5 AND state = $6",
    )
    .bind(after.as_str())
    .bind(i64::from(reached))
    .bind(ts(now))
    .bind(i64::from(closed))
    .bind(id)
    .bind(&before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StepError::Moved);
    }
    let step_id = next_id();
    let json = serde_json::to_string(action).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let kind = match action {
        CaseAction::Review { .. } => "review",
        CaseAction::Notify { .. } => "notify",
        CaseAction::FollowUp { .. } => "follow_up",
    };
    sqlx::query(
        "INSERT INTO major_abnormal_steps(id, result_id, action, detail, state_after, by_user, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(step_id)
    .bind(id)
    .bind(kind)
    .bind(
        db.keys
            .seal_str(&json, &step_ad(step_id))
            .map_err(DbError::from)?,
    )
    .bind(after.as_str())
    .bind(by)
    .bind(ts(now))
    .execute(&mut *tx)
    .await?;
    // The SMS carries no result: "please call the centre" (I5's templates).
    let mut sms = false;
    if let CaseAction::Notify {
        channel: Channel::Sms,
        ..
    } = action
    {
        let notice = if category == "A" {
            crate::sms::ResultNotice::Critical
        } else {
            crate::sms::ResultNotice::Abnormal
        };
        let requested = crate::sms::on_result(
            &mut tx,
            &db.keys,
            booking,
            notice,
            &format!("abnormal:{id}"),
        )
        .await?;
        sms = requested == crate::sms::Requested::Created;
    }
    log_line(
        &mut tx,
        by,
        &format!("abnormal.{kind}"),
        &format!("person:{person}"),
        &format!(
            "id={id} booking={booking} {} -> {}{}",
            state.as_str(),
            after.as_str(),
            if sms { " sms" } else { "" }
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((after, sms))
}
