//! What the FHIR read API reads (I6, I7): people, visits, their items and
//! published reports, as plain rows for `fhir::map`. Reads only; the
//! handlers audit every answer. People are found by their key (the ID
//! number's blind index, which is also the Patient's logical id), never by
//! a range over sealed columns.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use exam_domain::changes::ItemStatus;
use exam_domain::{BookingState, IdNumber, Person};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::people::{person_key, person_of_row};
use super::{Db, DbError, Result, parse_ts};

/// At most this many rows are read for one search: a wider one is refused
/// (narrow the dates) rather than paged out of a huge read.
pub const SEARCH_CAP: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRow {
    pub key: String,
    pub person: Person,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRow {
    pub id: i64,
    pub code: String,
    pub exam_no: String,
    pub person_key: String,
    pub campus: String,
    pub package: String,
    pub package_code: Option<String>,
    pub exam_date: NaiveDate,
    pub slot_start: NaiveTime,
    pub slot_end: NaiveTime,
    pub state: BookingState,
    pub state_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub booking_id: i64,
    pub exam_no: String,
    pub person_key: String,
    pub exam_date: NaiveDate,
    pub booking_state: BookingState,
    pub created_at: Option<DateTime<Utc>>,
    pub item_code: String,
    pub paid: bool,
    pub status: ItemStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDoc {
    pub id: i64,
    pub booking_id: i64,
    pub exam_no: String,
    pub person_key: String,
    pub exam_date: NaiveDate,
    pub title: String,
    pub published_at: DateTime<Utc>,
}

/// Which visits a search reads (every given condition holds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitFilter {
    pub booking_id: Option<i64>,
    pub person_key: Option<String>,
    /// A booking code or an exam number.
    pub code: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Report id (reports only).
    pub report_id: Option<i64>,
    /// Item code (items only).
    pub item_code: Option<String>,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// `WHERE …` over bookings `b` with numbered placeholders, and the values.
fn where_clause(f: &VisitFilter, extra: &[(&str, Bind)]) -> (String, Vec<Bind>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    // Each condition's `?` becomes the number of the value just bound.
    fn push(conds: &mut Vec<String>, binds: &mut Vec<Bind>, sql: &str, b: Bind) {
        binds.push(b);
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    }
    if let Some(id) = f.booking_id {
        push(&mut conds, &mut binds, "b.id = ?", Bind::Int(id));
    }
    if let Some(k) = &f.person_key {
        push(
            &mut conds,
            &mut binds,
            "b.person_key = ?",
            Bind::Text(k.clone()),
        );
    }
    if let Some(c) = &f.code {
        push(
            &mut conds,
            &mut binds,
            "(b.code = ? OR b.exam_no = ?)",
            Bind::Text(c.clone()),
        );
    }
    if let Some(d) = f.from {
        push(
            &mut conds,
            &mut binds,
            "b.exam_date >= ?",
            Bind::Text(day(d)),
        );
    }
    if let Some(d) = f.to {
        push(
            &mut conds,
            &mut binds,
            "b.exam_date <= ?",
            Bind::Text(day(d)),
        );
    }
    for (sql, b) in extra {
        let b = match b {
            Bind::Text(t) => Bind::Text(t.clone()),
            Bind::Int(i) => Bind::Int(*i),
        };
        push(&mut conds, &mut binds, sql, b);
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    (sql, binds)
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn corrupt(what: &str, v: &str) -> DbError {
    DbError::Corrupt(format!("{what} {v:?}"))
}

fn date_of(r: &AnyRow, c: &str) -> Result<NaiveDate> {
    let s: String = r.try_get(c)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| corrupt(c, &s))
}

fn time_of(r: &AnyRow, c: &str) -> Result<NaiveTime> {
    let s: String = r.try_get(c)?;
    NaiveTime::parse_from_str(&s, "%H:%M:%S").map_err(|_| corrupt(c, &s))
}

fn state_of(r: &AnyRow) -> Result<BookingState> {
    let s: String = r.try_get("state")?;
    BookingState::parse(&s).ok_or_else(|| corrupt("booking state", &s))
}

fn opt_ts(r: &AnyRow, c: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<String>, _>(c)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

impl Db {
    async fn fetch(&self, sql: String, binds: Vec<Bind>) -> Result<Vec<AnyRow>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        Ok(q.fetch_all(&self.read).await?)
    }

    /// A person by their key (the Patient's id), opened.
    pub async fn fhir_patient(&self, key: &str) -> Result<Option<PatientRow>> {
        let Some(r) = sqlx::query(
            "SELECT person_key, id_number, name, mobile FROM people WHERE person_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(PatientRow {
            key: key.to_string(),
            person: person_of_row(&self.keys, &r)?,
        }))
    }

    /// The key of the person with this ID number (their Patient id).
    pub fn fhir_patient_key(&self, id: &IdNumber) -> String {
        person_key(&self.keys, id)
    }

    /// Visits matching `f`, by date then id; at most `SEARCH_CAP + 1`.
    pub async fn fhir_appointments(&self, f: &VisitFilter) -> Result<Vec<AppointmentRow>> {
        let (w, binds) = where_clause(f, &[]);
        let sql = format!(
            "SELECT b.id, b.code, b.exam_no, b.person_key, b.campus, b.package, b.package_code,
                    b.exam_date, b.slot_start, b.slot_end, b.state, b.state_reason, b.created_at
               FROM bookings b {w} ORDER BY b.exam_date, b.slot_start, b.id LIMIT {}",
            SEARCH_CAP + 1
        );
        self.fetch(sql, binds)
            .await?
            .iter()
            .map(|r| {
                Ok(AppointmentRow {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    exam_no: r.try_get("exam_no")?,
                    person_key: r.try_get("person_key")?,
                    campus: r.try_get("campus")?,
                    package: r.try_get("package")?,
                    package_code: r.try_get("package_code")?,
                    exam_date: date_of(r, "exam_date")?,
                    slot_start: time_of(r, "slot_start")?,
                    slot_end: time_of(r, "slot_end")?,
                    state: state_of(r)?,
                    state_reason: r.try_get("state_reason")?,
                    created_at: opt_ts(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Items of the visits matching `f`; at most `SEARCH_CAP + 1`.
    pub async fn fhir_requests(&self, f: &VisitFilter) -> Result<Vec<RequestRow>> {
        let extra: Vec<(&str, Bind)> = f
            .item_code
            .iter()
            .map(|c| ("i.item_code = ?", Bind::Text(c.clone())))
            .collect();
        let (w, binds) = where_clause(f, &extra);
        let sql = format!(
            "SELECT b.id, b.exam_no, b.person_key, b.exam_date, b.state, b.created_at,
                    i.item_code, i.paid, i.status
               FROM booking_items i JOIN bookings b ON b.id = i.booking_id {w}
              ORDER BY b.exam_date, b.id, i.item_code LIMIT {}",
            SEARCH_CAP + 1
        );
        self.fetch(sql, binds)
            .await?
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(RequestRow {
                    booking_id: r.try_get("id")?,
                    exam_no: r.try_get("exam_no")?,
                    person_key: r.try_get("person_key")?,
                    exam_date: date_of(r, "exam_date")?,
                    booking_state: state_of(r)?,
                    created_at: opt_ts(r, "created_at")?,
                    item_code: r.try_get("item_code")?,
                    paid: r.try_get::<i64, _>("paid")? != 0,
                    status: ItemStatus::parse(&status)
                        .ok_or_else(|| corrupt("item status", &status))?,
                })
            })
            .collect()
    }

    /// Live (not withdrawn) reports of the visits matching `f`.
    pub async fn fhir_reports(&self, f: &VisitFilter) -> Result<Vec<ReportDoc>> {
        let extra: Vec<(&str, Bind)> = f
            .report_id
            .iter()
            .map(|id| ("r.id = ?", Bind::Int(*id)))
            .collect();
        let (w, binds) = where_clause(f, &extra);
        let w = if w.is_empty() {
            "WHERE r.withdrawn_at IS NULL".to_string()
        } else {
            format!("{w} AND r.withdrawn_at IS NULL")
        };
        let sql = format!(
            "SELECT r.id, r.booking_id, b.exam_no, b.person_key, b.exam_date, r.title, r.published_at
               FROM reports r JOIN bookings b ON b.id = r.booking_id {w}
              ORDER BY b.exam_date, r.id LIMIT {}",
            SEARCH_CAP + 1
        );
        self.fetch(sql, binds)
            .await?
            .iter()
            .map(|r| {
                Ok(ReportDoc {
                    id: r.try_get("id")?,
                    booking_id: r.try_get("booking_id")?,
                    exam_no: r.try_get("exam_no")?,
                    person_key: r.try_get("person_key")?,
                    exam_date: date_of(r, "exam_date")?,
                    title: r.try_get("title")?,
                    published_at: parse_ts(&r.try_get::<String, _>("published_at")?)?,
                })
            })
            .collect()
    }

    /// Appends several audit rows in one transaction (one per person an
    /// answer shows), so a read is recorded whole or not at all.
    pub async fn audit_events(&self, events: &[crate::audit::AuditEvent]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for e in events {
            super::audit::append(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A live report's PDF with its row (the caller audits the read).
    pub async fn fhir_report_pdf(&self, id: i64) -> Result<Option<(ReportDoc, Vec<u8>)>> {
        let f = VisitFilter {
            report_id: Some(id),
            ..VisitFilter::default()
        };
        let Some(doc) = self.fhir_reports(&f).await?.into_iter().next() else {
            return Ok(None);
        };
        let r = sqlx::query("SELECT pdf FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
        let ad = super::at_rest::ad("reports", "pdf", &[&id.to_string()]);
        let pdf = self.keys.open(&r.try_get::<String, _>("pdf")?, &ad)?;
        Ok(Some((doc, pdf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_where_clause_numbers_its_placeholders() {
        let f = VisitFilter {
            person_key: Some("k".into()),
            code: Some("E1".into()),
            from: NaiveDate::from_ymd_opt(2026, 12, 1),
            ..VisitFilter::default()
        };
        let (sql, binds) = where_clause(&f, &[("i.item_code = ?", Bind::Text("L".into()))]);
        assert_eq!(
            sql,
            "WHERE b.person_key = $1 AND (b.code = $2 OR b.exam_no = $2) AND b.exam_date >= $3 AND i.item_code = $4"
        );
        assert_eq!(binds.len(), 4);
        assert_eq!(where_clause(&VisitFilter::default(), &[]).0, "");
    }
}
