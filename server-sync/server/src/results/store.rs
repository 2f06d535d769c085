//! The results' rows: item entries and department summaries, sealed, and
//! what the department page reads back (this visit's, other departments',
//! earlier years').

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use exam_domain::results::Value;
use exam_domain::results::summary::{Earlier, ItemEntry};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::db::{Db, Result, ad, parse_ts, ts};

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Typed at the department page by its doctor.
    Department,
    /// A laboratory, ECG or imaging result typed by hand (its interface
    /// did not deliver it): marked so on the report.
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Department => "department",
            Source::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "manual" {
            Source::Manual
        } else {
            Source::Department
        }
    }
}

/// One stored item entry, opened.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEntry {
    pub item: String,
    pub department: String,
    pub values: Vec<(String, Value)>,
    pub abnormal: i64,
    pub source: Source,
    pub entered_by: String,
    pub entered_at: DateTime<Utc>,
    pub version: i64,
}

/// One stored department summary, opened.
#[derive(Debug, Clone, Serialize)]
pub struct StoredSummary {
    pub department: String,
    pub text: String,
    pub conclusions: Vec<String>,
    pub written_by: String,
    pub written_at: DateTime<Utc>,
}

fn entry_ad(booking: i64, item: &str) -> Vec<u8> {
    ad("item_results", "entry", &[&booking.to_string(), item])
}

fn summary_ad(booking: i64, dept: &str, column: &str) -> Vec<u8> {
    ad(
        "department_summaries",
        column,
        &[&booking.to_string(), dept],
    )
}

/// Upserts one item's entry in `tx` (a re-entry counts its version up).
#[allow(clippy::too_many_arguments)]
pub(super) async fn put_entry(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    department: &str,
    e: &ItemEntry,
    abnormal: usize,
    source: Source,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let json =
        serde_json::to_string(&e.values).map_err(|x| crate::db::DbError::Corrupt(x.to_string()))?;
    sqlx::query(
        "INSERT INTO item_results(booking_id, item_code, department, entry, abnormal, source,
            entered_by, entered_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
         ON CONFLICT (booking_id, item_code) DO UPDATE SET entry = $4, abnormal = $5,
            source = $6, entered_by = $7, entered_at = $8, version = item_results.version + 1",
    )
    .bind(booking)
    .bind(&e.item)
    .bind(department)
    .bind(keys.seal_str(&json, &entry_ad(booking, &e.item))?)
    .bind(i64::try_from(abnormal).unwrap_or(i64::MAX))
    .bind(source.as_str())
    .bind(by)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Upserts a department's summary in `tx`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn put_summary(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    department: &str,
    text: &str,
    conclusions: &[String],
    weights: &[u8],
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let codes = serde_json::to_string(conclusions).unwrap_or_else(|_| "[]".into());
    let weights = serde_json::to_string(weights).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO department_summaries(booking_id, department, summary, conclusions, weights,
            written_by, written_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (booking_id, department) DO UPDATE SET summary = $3, conclusions = $4,
            weights = $5, written_by = $6, written_at = $7",
    )
    .bind(booking)
    .bind(department)
    .bind(keys.seal_str(text, &summary_ad(booking, department, "summary"))?)
    .bind(keys.seal_str(&codes, &summary_ad(booking, department, "conclusions"))?)
    .bind(weights)
    .bind(by)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn open_entry(
    keys: &exam_vault::KeyRing,
    booking: i64,
    r: &sqlx::any::AnyRow,
) -> Result<StoredEntry> {
    let item: String = r.try_get("item_code")?;
    let json = keys.open_string(&r.try_get::<String, _>("entry")?, &entry_ad(booking, &item))?;
    let values = serde_json::from_str(&json)
        .map_err(|e| crate::db::DbError::Corrupt(format!("item_results {booking}/{item}: {e}")))?;
    Ok(StoredEntry {
        department: r.try_get("department")?,
        values,
        abnormal: r.try_get("abnormal")?,
        source: Source::parse(&r.try_get::<String, _>("source")?),
        entered_by: r.try_get("entered_by")?,
        entered_at: parse_ts(&r.try_get::<String, _>("entered_at")?)?,
        version: r.try_get("version")?,
        item,
    })
}

/// A visit's entries (every department's), by item.
pub(crate) async fn entries(db: &Db, booking: i64) -> Result<Vec<StoredEntry>> {
    let rows = sqlx::query(
        "SELECT item_code, department, entry, abnormal, source, entered_by, entered_at, version
           FROM item_results WHERE booking_id = $1 ORDER BY item_code",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| open_entry(&db.keys, booking, r))
        .collect()
}

/// A department's entries of a visit inside `tx` (to write its summary).
pub(super) async fn department_entries(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    department: &str,
) -> Result<Vec<ItemEntry>> {
    let rows = sqlx::query(
        "SELECT item_code, department, entry, abnormal, source, entered_by, entered_at, version
           FROM item_results WHERE booking_id = $1 AND department = $2 ORDER BY item_code",
    )
    .bind(booking)
    .bind(department)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            open_entry(keys, booking, r).map(|e| ItemEntry {
                item: e.item,
                values: e.values,
            })
        })
        .collect()
}

/// A visit's department summaries.
pub(crate) async fn summaries(db: &Db, booking: i64) -> Result<Vec<StoredSummary>> {
    let rows = sqlx::query(
        "SELECT department, summary, conclusions, written_by, written_at
           FROM department_summaries WHERE booking_id = $1 ORDER BY department",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let dept: String = r.try_get("department")?;
            let text = db.keys.open_string(
                &r.try_get::<String, _>("summary")?,
                &summary_ad(booking, &dept, "summary"),
            )?;
            let codes = db.keys.open_string(
                &r.try_get::<String, _>("conclusions")?,
                &summary_ad(booking, &dept, "conclusions"),
            )?;
            Ok(StoredSummary {
                text,
                conclusions: serde_json::from_str(&codes).unwrap_or_default(),
                written_by: r.try_get("written_by")?,
                written_at: parse_ts(&r.try_get::<String, _>("written_at")?)?,
                department: dept,
            })
        })
        .collect()
}

/// What earlier visits of the same person recorded for `items` (item 30,
/// and the quality check against earlier years), newest first.
pub(crate) async fn earlier(db: &Db, booking: i64, items: &[String]) -> Result<Vec<Earlier>> {
    let rows = sqlx::query(
        "SELECT r.booking_id, r.item_code, r.department, r.entry, r.abnormal, r.source,
                r.entered_by, r.entered_at, r.version, b.exam_date
           FROM item_results r
           JOIN bookings b ON b.id = r.booking_id
           JOIN bookings me ON me.person_key = b.person_key
          WHERE me.id = $1 AND b.id <> $1 AND b.exam_date < me.exam_date
          ORDER BY b.exam_date DESC",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let item: String = r.try_get("item_code")?;
        if !items.contains(&item) {
            continue;
        }
        let other: i64 = r.try_get("booking_id")?;
        let date: String = r.try_get("exam_date")?;
        let year = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let e = open_entry(&db.keys, other, r)?;
        for (field, value) in e.values {
            out.push(Earlier {
                year,
                item: item.clone(),
                field,
                value,
            });
        }
    }
    Ok(out)
}

/// Entries by item, for lookups.
pub(super) fn by_item(entries: Vec<StoredEntry>) -> BTreeMap<String, StoredEntry> {
    entries.into_iter().map(|e| (e.item.clone(), e)).collect()
}
