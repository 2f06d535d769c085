//! Time slots with capacity per campus and day (K8, K17).
//!
//! A slot row is created on first use, counting the bookings it already
//! has (seeded or imported ones); after that `booked` moves only through a
//! guarded `UPDATE … WHERE booked < capacity`, which the row lock makes
//! exact under any number of concurrent bookings on both back ends.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::slot::SlotTemplate;
use sqlx::{Any, Row, Transaction};

use super::{Db, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct SlotRow {
    pub start: String,
    pub end: String,
    pub capacity: i64,
    pub booked: i64,
}

pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn hms(t: NaiveTime) -> String {
    t.format("%H:%M:%S").to_string()
}

/// How many of the day's slots exist at a campus.
pub(crate) const DAY_SLOT_COUNT: &str =
    "SELECT COUNT(*) FROM slots WHERE campus = $1 AND exam_date = $2";
/// A slot made on first use, counting the bookings it already has.
pub(crate) const SLOT_FROM_BOOKINGS: &str =
    "INSERT INTO slots(campus, exam_date, slot_start, slot_end, capacity, booked)
             SELECT $1, $2, $3, $4, $5, COUNT(*) FROM bookings
              WHERE campus = $1 AND exam_date = $2 AND slot_start = $3 AND state <> 'cancelled'
             ON CONFLICT (campus, exam_date, slot_start) DO NOTHING";

pub(crate) async fn ensure(
    tx: &mut Transaction<'_, Any>,
    tpl: &SlotTemplate,
    campus: &str,
    date: NaiveDate,
) -> Result<()> {
    // The usual case, one indexed count: the day's slots exist already.
    let have: i64 = sqlx::query(DAY_SLOT_COUNT)
        .bind(campus)
        .bind(day(date))
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    if have >= tpl.times().len() as i64 {
        return Ok(());
    }
    for (start, end) in tpl.times() {
        sqlx::query(SLOT_FROM_BOOKINGS)
            .bind(campus)
            .bind(day(date))
            .bind(hms(start))
            .bind(hms(end))
            .bind(i64::from(tpl.capacity))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// One place more in the slot, unless it is full.
pub(crate) const TAKE_PLACE: &str = "UPDATE slots SET booked = booked + 1
          WHERE campus = $1 AND exam_date = $2 AND slot_start = $3 AND booked < capacity";

/// Takes one place in the slot; false when it is full.
pub(crate) async fn take(
    tx: &mut Transaction<'_, Any>,
    campus: &str,
    date: NaiveDate,
    start: NaiveTime,
) -> Result<bool> {
    let n = sqlx::query(TAKE_PLACE)
        .bind(campus)
        .bind(day(date))
        .bind(hms(start))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Takes one place in the slot, making the day's slots first if they are
/// not there yet; false when it is full (or not one of the day's). The
/// usual case is one statement: the take, tried before the day's count,
/// which only a take that found nothing needs (the desk's hottest path).
pub(crate) async fn take_ensured(
    tx: &mut Transaction<'_, Any>,
    tpl: &SlotTemplate,
    campus: &str,
    date: NaiveDate,
    start: NaiveTime,
) -> Result<bool> {
    if take(tx, campus, date, start).await? {
        return Ok(true);
    }
    ensure(tx, tpl, campus, date).await?;
    take(tx, campus, date, start).await
}

pub(crate) async fn release(
    tx: &mut Transaction<'_, Any>,
    campus: &str,
    date: &str,
    start: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE slots SET booked = booked - 1
          WHERE campus = $1 AND exam_date = $2 AND slot_start = $3 AND booked > 0",
    )
    .bind(campus)
    .bind(date)
    .bind(start)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Db {
    /// The day's slots at a campus with their places taken.
    pub async fn slots(
        &self,
        tpl: &SlotTemplate,
        campus: &str,
        date: NaiveDate,
    ) -> Result<Vec<SlotRow>> {
        let mut tx = self.pool.begin().await?;
        ensure(&mut tx, tpl, campus, date).await?;
        let rows = sqlx::query(
            "SELECT slot_start, slot_end, capacity, booked FROM slots
              WHERE campus = $1 AND exam_date = $2 ORDER BY slot_start",
        )
        .bind(campus)
        .bind(day(date))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(SlotRow {
                    start: r.try_get("slot_start")?,
                    end: r.try_get("slot_end")?,
                    capacity: r.try_get::<i64, _>("capacity")?,
                    booked: r.try_get::<i64, _>("booked")?,
                })
            })
            .collect()
    }
}
