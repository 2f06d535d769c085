//! Major abnormal results (重要异常结果) in the store: raised when a
//! laboratory result the inbound log keeps meets a rule of
//! [`exam_domain::abnormal`] (or carries the laboratory's critical flag),
//! in the same transaction that keeps the result, so a result is never
//! acknowledged to the laboratory without its major abnormal result.
//!
//! The small API the major-abnormal-results board (issue 20) builds on:
//! `raise_in` (inside a caller's transaction) and
//! [`Db::raise_major_abnormal`] (in its own: a staff member's entry),
//! [`Db::open_major_abnormal`] (open ones by category with
//! the time since raised: no personal data, for lists and the alarm) and
//! [`Db::visit_major_abnormal`] (a visit's, values opened: the caller
//! audits the read).
//!
//! Once per visit, item, analyte and category (a UNIQUE key): the same ORU
//! again is already dropped by the inbound log, and the same result under
//! a new control id, or a preliminary then its final, raises nothing more.
//! The value is sealed; each raise writes an audit line (subject the
//! person, the value not in it).

use chrono::{DateTime, Utc};
use exam_domain::abnormal::{Category, LabFlag, assess};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::db::{Db, DbError, Result, ad, log_line, next_id, parse_ts, ts};

/// Where a major abnormal result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A counterpart's result (HL7 ORU^R01 from the laboratory).
    Interface,
    /// Entered by staff.
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Interface => "interface",
            Source::Manual => "manual",
        }
    }
}

/// Where a major abnormal result is: its way from raised to closed
/// (`exam_domain::abnormal_case`, the board in `crate::abnormal`).
pub use exam_domain::abnormal_case::CaseState as State;

/// One observation of a result, as the listener read it (HL7 OBX).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedValue {
    /// OBX-3: code (LOINC or local) and name.
    pub code: String,
    pub name: String,
    /// OBX-5 as sent.
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    pub flag: Option<LabFlag>,
}

/// A major abnormal result to store.
#[derive(Debug, Clone)]
pub struct Raise<'a> {
    pub booking_id: i64,
    pub item_code: &'a str,
    pub inbound_id: Option<i64>,
    pub observed: &'a ObservedValue,
    pub category: Category,
    /// The rule's stored name (`exam_domain::abnormal::Reason::as_str`).
    pub rule: String,
    pub source: Source,
    /// `system:<counterpart>` or the staff member's name.
    pub by: &'a str,
}

/// Inserts `r` inside `tx`, without its audit line (the caller writes
/// one, last). Returns the new row's id, or None when the visit already
/// has this analyte's result of this category for the item.
async fn insert_in(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    r: &Raise<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let id = next_id();
    let o = r.observed;
    let n = sqlx::query(
        "INSERT INTO major_abnormal_results(id, booking_id, item_code, inbound_id, analyte_code,
            analyte_name, value, unit, lab_flag, category, rule, source, state, raised_by, raised_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(r.booking_id)
    .bind(r.item_code)
    .bind(r.inbound_id)
    .bind(&o.code)
    .bind(&o.name)
    .bind(keys.seal_str(
        &o.value,
        &ad("major_abnormal_results", "value", &[&id.to_string()]),
    )?)
    .bind(&o.unit)
    .bind(o.flag.map(LabFlag::code))
    .bind(r.category.as_str())
    .bind(&r.rule)
    .bind(r.source.as_str())
    .bind(State::Raised.as_str())
    .bind(r.by)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok((n > 0).then_some(id))
}

/// The audit line of raised results (the value never in it).
async fn audit_raised(
    tx: &mut Transaction<'_, Any>,
    booking_id: i64,
    by: &str,
    raised: &[String],
) -> Result<()> {
    let key: Option<String> = sqlx::query("SELECT person_key FROM bookings WHERE id = $1")
        .bind(booking_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let subject = key.map_or_else(
        || format!("booking:{booking_id}"),
        |k| format!("person:{k}"),
    );
    log_line(
        tx,
        by,
        "abnormal.raised",
        &subject,
        &format!("booking={booking_id} {}", raised.join("; ")),
    )
    .await
}

fn describe(id: i64, r: &Raise<'_>) -> String {
    format!(
        "id={id} item={} analyte={} category={} rule={} source={}",
        r.item_code,
        r.observed.code,
        r.category.as_str(),
        r.rule,
        r.source.as_str()
    )
}

/// Stores `r` and its audit line inside `tx`, which the caller commits
/// next (the audit line is its last write). For a staff member's entry
/// (issue 20's board) and any other single raise. None: already raised.
pub(crate) async fn raise_in(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    r: &Raise<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let Some(id) = insert_in(tx, keys, r, now).await? else {
        return Ok(None);
    };
    audit_raised(tx, r.booking_id, r.by, &[describe(id, r)]).await?;
    Ok(Some(id))
}

/// Raises what the rules find in `observations` of one matched result,
/// inside the inbound log's transaction, with one audit line for them all
/// as that transaction's last write. Returns how many were raised.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn raise_from_result(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
    item_code: &str,
    inbound_id: i64,
    by: &str,
    observations: &[ObservedValue],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut raised = Vec::new();
    for o in observations {
        let a = assess(&exam_domain::abnormal::Observed {
            code: &o.code,
            value: &o.value,
            unit: &o.unit,
            reference_range: &o.reference_range,
            flag: o.flag,
        });
        if let Some(e) = &a.unit_problem {
            // No value or name in the log: the code and the unit only.
            tracing::warn!(analyte = %o.code, unit = %e.unit, "a result's unit meets no rule's");
        }
        let Some(f) = a.finding else { continue };
        let r = Raise {
            booking_id,
            item_code,
            inbound_id: Some(inbound_id),
            observed: o,
            category: f.category,
            rule: f.reason.as_str(),
            source: Source::Interface,
            by,
        };
        if let Some(id) = insert_in(tx, keys, &r, now).await? {
            tracing::info!(booking_id, analyte = %o.code, category = f.category.as_str(), "major abnormal result raised");
            raised.push(describe(id, &r));
        }
    }
    if !raised.is_empty() {
        audit_raised(tx, booking_id, by, &raised).await?;
    }
    Ok(raised.len())
}

/// An open major abnormal result without personal data (lists, alarms).
#[derive(Debug, Clone, Serialize)]
pub struct OpenResult {
    pub id: i64,
    pub booking_id: i64,
    pub item_code: String,
    pub analyte_code: String,
    pub analyte_name: String,
    pub category: Category,
    pub rule: String,
    pub raised_at: DateTime<Utc>,
    /// Minutes since it was raised (at the time of the query).
    pub open_minutes: i64,
}

/// A visit's major abnormal result with its value (opened).
#[derive(Debug, Clone, Serialize)]
pub struct VisitResult {
    pub id: i64,
    pub item_code: String,
    pub analyte_code: String,
    pub analyte_name: String,
    pub value: String,
    pub unit: String,
    pub lab_flag: Option<String>,
    pub category: Category,
    pub rule: String,
    /// The rule as staff read it.
    pub rule_zh: String,
    pub source: String,
    pub state: State,
    pub raised_by: String,
    pub raised_at: String,
}

fn category(s: &str) -> Result<Category> {
    Category::parse(s).ok_or_else(|| DbError::Corrupt(format!("category {s:?}")))
}

/// The stored rule name as staff read it.
pub fn rule_zh(rule: &str) -> String {
    if let Some(r) = exam_domain::abnormal::RuleId::parse(rule) {
        r.describe_zh()
    } else if let Some(flag) = rule.strip_prefix("lab_flag_") {
        format!("检验科危急值标识 {flag}")
    } else if rule.starts_with("finding_") {
        "分科所见（知识库标为重要异常）".to_string()
    } else if rule == "reported" {
        "人工上报".to_string()
    } else {
        rule.to_string()
    }
}

impl Db {
    /// Raises one major abnormal result in a transaction of its own (a
    /// staff member's entry: `source` manual, `by` their name). None: the
    /// visit's item already has this analyte's result of this category.
    pub async fn raise_major_abnormal(
        &self,
        r: &Raise<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let id = raise_in(&mut tx, &self.keys, r, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Open major abnormal results, of one category or all, oldest first.
    pub async fn open_major_abnormal(
        &self,
        of: Option<Category>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OpenResult>> {
        let rows = sqlx::query(
            "SELECT id, booking_id, item_code, analyte_code, analyte_name, category, rule, raised_at
               FROM major_abnormal_results
              WHERE state IN ('raised', 'reviewed', 'notified') AND ($1 = '' OR category = $1)
              ORDER BY raised_at, id",
        )
        .bind(of.map_or("", Category::as_str))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let raised_at = parse_ts(&r.try_get::<String, _>("raised_at")?)?;
                Ok(OpenResult {
                    id: r.try_get("id")?,
                    booking_id: r.try_get("booking_id")?,
                    item_code: r.try_get("item_code")?,
                    analyte_code: r.try_get("analyte_code")?,
                    analyte_name: r.try_get("analyte_name")?,
                    category: category(&r.try_get::<String, _>("category")?)?,
                    rule: r.try_get("rule")?,
                    open_minutes: (now - raised_at).num_minutes().max(0),
                    raised_at,
                })
            })
            .collect()
    }

    /// A visit's major abnormal results, values opened (the caller audits
    /// the read as one of personal data).
    pub async fn visit_major_abnormal(&self, booking_id: i64) -> Result<Vec<VisitResult>> {
        let rows = sqlx::query(
            "SELECT id, item_code, analyte_code, analyte_name, value, unit, lab_flag, category, rule,
                    source, state, raised_by, raised_at
               FROM major_abnormal_results WHERE booking_id = $1 ORDER BY category, raised_at, id",
        )
        .bind(booking_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let rule: String = r.try_get("rule")?;
                let state: String = r.try_get("state")?;
                Ok(VisitResult {
                    value: self.keys.open_string(
                        &r.try_get::<String, _>("value")?,
                        &ad("major_abnormal_results", "value", &[&id.to_string()]),
                    )?,
                    id,
                    item_code: r.try_get("item_code")?,
                    analyte_code: r.try_get("analyte_code")?,
                    analyte_name: r.try_get("analyte_name")?,
                    unit: r.try_get("unit")?,
                    lab_flag: r.try_get("lab_flag")?,
                    category: category(&r.try_get::<String, _>("category")?)?,
                    rule_zh: rule_zh(&rule),
                    rule,
                    source: r.try_get("source")?,
                    state: State::parse(&state)
                        .ok_or_else(|| DbError::Corrupt(format!("state {state:?}")))?,
                    raised_by: r.try_get("raised_by")?,
                    raised_at: r.try_get("raised_at")?,
                })
            })
            .collect()
    }

    /// Results whose patient is not reached yet, per category: how many and
    /// since when the oldest (the alarm and the metrics).
    pub async fn major_abnormal_open_counts(
        &self,
    ) -> Result<Vec<(Category, i64, Option<DateTime<Utc>>)>> {
        let mut out = Vec::new();
        for c in Category::ALL {
            let r = sqlx::query(
                "SELECT count(*), min(raised_at) FROM major_abnormal_results
                  WHERE state IN ('raised', 'reviewed') AND category = $1",
            )
            .bind(c.as_str())
            .fetch_one(&self.read)
            .await?;
            let oldest: Option<String> = r.try_get(1)?;
            out.push((
                c,
                r.try_get::<i64, _>(0)?,
                oldest.as_deref().map(parse_ts).transpose()?,
            ));
        }
        Ok(out)
    }
}
