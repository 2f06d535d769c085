//! Tubes and their events. An event is one transaction: the tube read (or
//! created at its first event), the domain's `step` applied, the state
//! moved only if nobody moved it meanwhile, the event row sealed, the
//! audit line last.

use chrono::{DateTime, Utc};
use exam_domain::specimen::{Tube, TubeError, TubeEvent, TubeState, step};
use serde::Serialize;
use sqlx::Row;

use crate::db::{Db, DbError, Result, ad, log_line, next_id, parse_ts, ts};

/// A stored tube.
#[derive(Debug, Clone, Serialize)]
pub struct TubeRow {
    pub barcode: String,
    pub booking_id: i64,
    pub sample: String,
    pub state: TubeState,
    pub draws: i64,
    pub drawn_at: Option<DateTime<Utc>>,
}

fn tube_row(r: &sqlx::any::AnyRow) -> Result<TubeRow> {
    let state: String = r.try_get("state")?;
    Ok(TubeRow {
        barcode: r.try_get("barcode")?,
        booking_id: r.try_get("booking_id")?,
        sample: r.try_get("sample")?,
        state: TubeState::parse(&state)
            .ok_or_else(|| DbError::Corrupt(format!("tube state {state:?}")))?,
        draws: r.try_get("draws")?,
        drawn_at: r
            .try_get::<Option<String>, _>("drawn_at")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
    })
}

const COLUMNS: &str = "barcode, booking_id, sample, state, draws, drawn_at";

pub(super) async fn of_visit(db: &Db, booking: i64) -> Result<Vec<TubeRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM specimens WHERE booking_id = $1 ORDER BY barcode"
    )))
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(tube_row).collect()
}

/// Tubes drawn or sent and not at the laboratory, and rejected ones (the
/// specimen desk's checks).
pub(super) async fn unsettled(db: &Db) -> Result<Vec<Tube>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM specimens WHERE state IN ('drawn', 'sent', 'rejected')
          ORDER BY drawn_at, barcode"
    )))
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let t = tube_row(r)?;
            Ok(Tube {
                barcode: t.barcode,
                state: t.state,
                drawn_at: t.drawn_at,
            })
        })
        .collect()
}

/// One event as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub barcode: String,
    pub event: TubeEvent,
    pub state_after: TubeState,
    pub by: String,
    pub at: DateTime<Utc>,
}

fn event_ad(id: i64) -> Vec<u8> {
    ad("specimen_events", "event", &[&id.to_string()])
}

pub(super) async fn events(db: &Db, booking: i64) -> Result<Vec<EventRow>> {
    let rows = sqlx::query(
        "SELECT e.id, e.barcode, e.event, e.state_after, e.by_user, e.at
           FROM specimen_events e JOIN specimens s ON s.barcode = e.barcode
          WHERE s.booking_id = $1 ORDER BY e.at, e.id",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let json = db
                .keys
                .open_string(&r.try_get::<String, _>("event")?, &event_ad(id))?;
            let state: String = r.try_get("state_after")?;
            Ok(EventRow {
                barcode: r.try_get("barcode")?,
                event: serde_json::from_str(&json)
                    .map_err(|e| DbError::Corrupt(format!("specimen event {id}: {e}")))?,
                state_after: TubeState::parse(&state)
                    .ok_or_else(|| DbError::Corrupt(format!("tube state {state:?}")))?,
                by: r.try_get("by_user")?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Refused(#[from] TubeError),
    /// Someone else moved it meanwhile.
    #[error("这支试管刚被他人处理，请刷新后再试")]
    Moved,
}

impl From<sqlx::Error> for EventError {
    fn from(e: sqlx::Error) -> Self {
        EventError::Db(e.into())
    }
}

/// The tube `barcode` of visit `booking` (sample `sample`) takes `event`
/// as `by`, audited, in a transaction of its own.
#[allow(clippy::too_many_arguments)]
pub(super) async fn apply(
    db: &Db,
    booking: i64,
    barcode: &str,
    sample: &str,
    event: &TubeEvent,
    by: &str,
    now: DateTime<Utc>,
) -> std::result::Result<TubeState, EventError> {
    let mut tx = db.pool.begin().await?;
    let (before, after) =
        apply_in(&mut tx, &db.keys, booking, barcode, sample, event, by, now).await?;
    log_line(
        &mut tx,
        by,
        &format!("specimen.{}", event.name()),
        &format!("booking:{booking}"),
        &format!(
            "barcode={barcode} {} -> {}",
            before.as_str(),
            after.as_str()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// `apply` inside the caller's transaction, without its audit line: the
/// state before and after.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    barcode: &str,
    sample: &str,
    event: &TubeEvent,
    by: &str,
    now: DateTime<Utc>,
) -> std::result::Result<(TubeState, TubeState), EventError> {
    sqlx::query(
        "INSERT INTO specimens(barcode, booking_id, sample, state, draws, drawn_at, updated_at)
         VALUES ($1, $2, $3, 'pending', 0, NULL, $4) ON CONFLICT (barcode) DO NOTHING",
    )
    .bind(barcode)
    .bind(booking)
    .bind(sample)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    let before: String = sqlx::query_scalar("SELECT state FROM specimens WHERE barcode = $1")
        .bind(barcode)
        .fetch_one(&mut **tx)
        .await?;
    let state = TubeState::parse(&before)
        .ok_or_else(|| DbError::Corrupt(format!("tube state {before:?}")))?;
    let after = step(state, event)?;
    let drawn = matches!(event, TubeEvent::Draw { .. } | TubeEvent::Redraw { .. });
    let n = sqlx::query(
        "UPDATE specimens SET state = $1, updated_at = $2,
                draws = draws + $3, drawn_at = CASE WHEN $3 = 1 THEN $2 ELSE drawn_at END
          WHERE barcode = $4 AND state = $5",
    )
    .bind(after.as_str())
    .bind(ts(now))
    .bind(i64::from(drawn))
    .bind(barcode)
    .bind(&before)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(EventError::Moved);
    }
    let id = next_id();
    let json = serde_json::to_string(event).map_err(|e| DbError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO specimen_events(id, barcode, event, state_after, by_user, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(barcode)
    .bind(keys.seal_str(&json, &event_ad(id)).map_err(DbError::from)?)
    .bind(after.as_str())
    .bind(by)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok((state, after))
}

/// A final laboratory result for `item` of visit `booking` arrived (inside
/// the inbound log's transaction): its tube, if we saw it drawn, is
/// received and resulted. A tube we never saw drawn is left as it is (the
/// draw was not recorded here; the specimen desk sees it pending).
pub(crate) async fn settle_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    item: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(r) = sqlx::query(
        "SELECT b.exam_no, i.sample FROM bookings b JOIN exam_items i ON i.code = $2
          WHERE b.id = $1 AND i.sample IS NOT NULL",
    )
    .bind(booking)
    .bind(item)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(());
    };
    let exam_no: String = r.try_get(0)?;
    let sample: String = r.try_get(1)?;
    let Ok(kind) = serde_json::from_value::<exam_domain::catalogue::SampleType>(
        serde_json::Value::String(sample.clone()),
    ) else {
        return Ok(());
    };
    let barcode = exam_domain::documents::label_barcode(&exam_no, kind);
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM specimens WHERE barcode = $1")
            .bind(&barcode)
            .fetch_optional(&mut **tx)
            .await?;
    let events: &[TubeEvent] = match state.as_deref().and_then(TubeState::parse) {
        Some(TubeState::Drawn) => &[TubeEvent::Receive, TubeEvent::Result],
        Some(TubeState::Sent | TubeState::Received) => &[TubeEvent::Result],
        _ => &[],
    };
    for e in events {
        match apply_in(tx, keys, booking, &barcode, &sample, e, by, now).await {
            Ok(_) => {}
            Err(EventError::Db(e)) => return Err(e),
            // Another item of the same tube settled it first.
            Err(EventError::Refused(_) | EventError::Moved) => break,
        }
    }
    Ok(())
}
