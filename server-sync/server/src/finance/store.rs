//! The ledger's lines, written in the transaction that moves the money,
//! and the sums a day's figures are made of.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Entry, LedgerSum, Method, VisitCount, VisitState};
use crate::db::{Db, DbError, Result, next_id, ts};

/// The business day of an instant: the centre's local date.
pub fn business_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&exam_domain::centre_offset()).date_naive()
}

fn day_s(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// One movement of money for a visit.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub booking: i64,
    pub entry: Entry,
    pub method: Method,
    pub fen: i64,
    pub by: &'a str,
    /// The platform's order or refund number.
    pub reference: Option<&'a str>,
}

/// Writes `line` in the caller's transaction, under the visit's campus
/// and the day of `now`. Nothing for a zero amount (a line is money).
pub(crate) async fn record_in(
    tx: &mut Transaction<'_, Any>,
    line: &Line<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    if line.fen <= 0 {
        return Ok(());
    }
    // The visit's campus from its row, read in this transaction: the line
    // cannot be put under another campus than the visit it accounts for.
    sqlx::query(
        "INSERT INTO ledger(id, campus, day, at, booking_id, entry, method, amount_fen, by_user, reference)
         SELECT $1, campus, $2, $3, id, $4, $5, $6, $7, $8 FROM bookings WHERE id = $9",
    )
    .bind(next_id())
    .bind(day_s(business_day(now)))
    .bind(ts(now))
    .bind(line.entry.as_str())
    .bind(line.method.as_str())
    .bind(line.fen)
    .bind(line.by)
    .bind(line.reference)
    .bind(line.booking)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How the visit's money was last taken at the desk (what a desk refund
/// goes back by); None when it never was.
pub(crate) async fn desk_method_in(
    tx: &mut Transaction<'_, Any>,
    booking: i64,
) -> Result<Option<Method>> {
    let m: Option<String> = sqlx::query_scalar(
        "SELECT method FROM ledger WHERE booking_id = $1 AND entry = 'charge' AND method <> 'platform'
          ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(booking)
    .fetch_optional(&mut **tx)
    .await?;
    m.map(|m| Method::parse(&m).ok_or_else(|| DbError::Corrupt(format!("ledger method {m}"))))
        .transpose()
}

/// The lines of the days `$1`..=`$2` summed by campus, entry and method.
pub(crate) const DAY_LEDGER: &str = "SELECT campus, entry, method, CAST(COUNT(*) AS BIGINT) AS n,
        CAST(SUM(amount_fen) AS BIGINT) AS fen
   FROM ledger WHERE day >= $1 AND day <= $2 GROUP BY campus, entry, method";

pub async fn day_ledger(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<LedgerSum>> {
    let rows = sqlx::query(DAY_LEDGER)
        .bind(day_s(from))
        .bind(day_s(to))
        .fetch_all(&db.read)
        .await?;
    rows.iter()
        .map(|r| {
            let entry: String = r.try_get("entry")?;
            let method: String = r.try_get("method")?;
            Ok(LedgerSum {
                campus: r.try_get("campus")?,
                entry: Entry::parse(&entry)
                    .ok_or_else(|| DbError::Corrupt(format!("ledger entry {entry}")))?,
                method: Method::parse(&method)
                    .ok_or_else(|| DbError::Corrupt(format!("ledger method {method}")))?,
                lines: r.try_get("n")?,
                fen: r.try_get("fen")?,
            })
        })
        .collect()
}

/// A campus's visits of the days `$2`..=`$3` by state and kind (through
/// the campus's slot index).
pub(crate) const DAY_VISITS: &str =
    "SELECT state, kind, CAST(COUNT(*) AS BIGINT) AS n FROM bookings
  WHERE campus = $1 AND exam_date >= $2 AND exam_date <= $3 GROUP BY state, kind";

/// What a campus's arrived visits of the days `$2`..=`$3` still owe.
pub(crate) const DAY_OUTSTANDING: &str =
    "SELECT CAST(COALESCE(SUM(i.price_fen), 0) AS BIGINT) AS fen
   FROM bookings b JOIN booking_items i ON i.booking_id = b.id
  WHERE b.campus = $1 AND b.exam_date >= $2 AND b.exam_date <= $3 AND b.state = 'checked_in'
    AND i.status = 'active' AND i.paid = 0";

pub async fn day_visits(
    db: &Db,
    campuses: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<VisitCount>, Vec<(String, i64)>)> {
    let mut counts = Vec::new();
    let mut owed = Vec::new();
    for campus in campuses {
        for r in sqlx::query(DAY_VISITS)
            .bind(campus)
            .bind(day_s(from))
            .bind(day_s(to))
            .fetch_all(&db.read)
            .await?
        {
            let state: String = r.try_get("state")?;
            let kind: String = r.try_get("kind")?;
            let state = match exam_domain::BookingState::parse(&state) {
                Some(exam_domain::BookingState::Booked) => VisitState::Booked,
                Some(exam_domain::BookingState::CheckedIn) => VisitState::Arrived,
                Some(exam_domain::BookingState::Cancelled) => VisitState::Cancelled,
                None => return Err(DbError::Corrupt(format!("booking state {state}"))),
            };
            counts.push(VisitCount {
                campus: campus.clone(),
                state,
                group: kind == "group",
                visits: r.try_get("n")?,
            });
        }
        let fen: i64 = sqlx::query(DAY_OUTSTANDING)
            .bind(campus)
            .bind(day_s(from))
            .bind(day_s(to))
            .fetch_one(&db.read)
            .await?
            .try_get("fen")?;
        if fen != 0 {
            owed.push((campus.clone(), fen));
        }
    }
    Ok((counts, owed))
}
