//! Bookings and people, the kiosks' change feed and identity lookups.

use chrono::{NaiveDate, NaiveTime, Utc};
use exam_domain::{Booking, BookingState, IdNumber, IdentityQuery, Person, Sex};
use exam_protocol::BookingRecord;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, DbError, Result, ts};

/// A booking joined with its person; the SQL must be a literal, hence a macro.
macro_rules! select_bookings {
    ($tail:literal) => {
        concat!(
            "SELECT b.id, b.code, b.exam_no, b.id_number, b.campus, b.package, b.exam_date, b.slot_start, ",
            "b.slot_end, b.amount_due_fen, b.state, b.change_seq, p.name, p.sex, p.birth_date, p.mobile ",
            "FROM bookings b JOIN people p ON p.id_number = b.id_number ",
            $tail
        )
    };
}

#[derive(Debug, Clone)]
pub struct ChangesPage {
    pub records: Vec<BookingRecord>,
    pub next_cursor: i64,
    pub more: bool,
}

fn corrupt(what: &str) -> DbError {
    DbError::Corrupt(format!("booking row: bad {what}"))
}

pub(crate) fn decode(r: &AnyRow) -> Result<BookingRecord> {
    let s = |c: &str| r.try_get::<String, _>(c);
    let date = |c: &str| -> Result<NaiveDate> {
        NaiveDate::parse_from_str(&s(c)?, "%Y-%m-%d").map_err(|_| corrupt(c))
    };
    let time = |c: &str| -> Result<NaiveTime> {
        NaiveTime::parse_from_str(&s(c)?, "%H:%M:%S").map_err(|_| corrupt(c))
    };
    let id_number = IdNumber::parse(&s("id_number")?).map_err(|_| corrupt("id_number"))?;
    Ok(BookingRecord {
        booking: Booking {
            id: r.try_get("id")?,
            code: s("code")?,
            exam_no: s("exam_no")?,
            id_number: id_number.clone(),
            campus: s("campus")?,
            package: s("package")?,
            exam_date: date("exam_date")?,
            slot_start: time("slot_start")?,
            slot_end: time("slot_end")?,
            amount_due_fen: r.try_get("amount_due_fen")?,
            state: BookingState::parse(&s("state")?).ok_or_else(|| corrupt("state"))?,
        },
        change_seq: r.try_get("change_seq")?,
        documents: None,
        person: Person {
            id_number,
            name: s("name")?,
            sex: Sex::parse(&s("sex")?).ok_or_else(|| corrupt("sex"))?,
            birth_date: date("birth_date")?,
            mobile: s("mobile")?,
        },
    })
}

/// Takes the next booking change number inside the caller's transaction.
/// The counter row stays locked until commit, so numbers are handed out in
/// commit order and a kiosk's cursor never steps over a later-committed change.
pub(crate) async fn next_change_seq(tx: &mut Transaction<'_, Any>) -> Result<i64> {
    let row = sqlx::query(
        "UPDATE counters SET value = value + 1 WHERE name = 'booking_change' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

impl Db {
    /// Inserts people and bookings, leaving rows that already exist alone
    /// (seeding twice changes nothing).
    pub async fn insert_bookings(&self, people: &[Person], bookings: &[Booking]) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let now = ts(Utc::now());
        for p in people {
            sqlx::query(
                "INSERT INTO people(id_number, name, sex, birth_date, mobile, created_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id_number) DO NOTHING",
            )
            .bind(p.id_number.as_str())
            .bind(&p.name)
            .bind(p.sex.as_str())
            .bind(p.birth_date.format("%Y-%m-%d").to_string())
            .bind(&p.mobile)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        let mut inserted = 0;
        for b in bookings {
            let exists = sqlx::query("SELECT 1 FROM bookings WHERE id = $1")
                .bind(b.id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                continue;
            }
            let seq = next_change_seq(&mut tx).await?;
            sqlx::query(
                "INSERT INTO bookings(id, code, exam_no, id_number, campus, package, exam_date, slot_start, slot_end,
                   amount_due_fen, state, change_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(b.id)
            .bind(&b.code)
            .bind(&b.exam_no)
            .bind(b.id_number.as_str())
            .bind(&b.campus)
            .bind(&b.package)
            .bind(b.exam_date.format("%Y-%m-%d").to_string())
            .bind(b.slot_start.format("%H:%M:%S").to_string())
            .bind(b.slot_end.format("%H:%M:%S").to_string())
            .bind(b.amount_due_fen)
            .bind(b.state.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            inserted += 1;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Bookings of a campus changed after `cursor`, oldest change first.
    pub async fn changes_since(
        &self,
        campus: &str,
        cursor: i64,
        limit: i64,
    ) -> Result<ChangesPage> {
        let rows = sqlx::query(select_bookings!(
            "WHERE b.campus = $1 AND b.change_seq > $2 ORDER BY b.change_seq LIMIT $3"
        ))
        .bind(campus)
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() as i64 > limit;
        let records = rows
            .iter()
            .take(limit as usize)
            .map(decode)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = records.last().map_or(cursor, |r| r.change_seq);
        Ok(ChangesPage {
            records,
            next_cursor,
            more,
        })
    }

    /// Bookings (any campus) that answer an identity query.
    pub async fn lookup(&self, query: &IdentityQuery) -> Result<Vec<BookingRecord>> {
        let rows = match query {
            IdentityQuery::IdNumber { id_number }
            | IdentityQuery::IdNumberAndMobile { id_number, .. } => {
                sqlx::query(select_bookings!(
                    "WHERE b.id_number = $1 ORDER BY b.exam_date, b.slot_start, b.id"
                ))
                .bind(id_number.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            IdentityQuery::BookingCode { code } => {
                sqlx::query(select_bookings!("WHERE b.code = $1"))
                    .bind(code)
                    .fetch_all(&self.pool)
                    .await?
            }
            IdentityQuery::ExamNo { exam_no } => {
                sqlx::query(select_bookings!("WHERE b.exam_no = $1"))
                    .bind(exam_no)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut out = Vec::new();
        for r in &rows {
            let rec = decode(r)?;
            if query.matches(&rec.booking, Some(&rec.person)) {
                out.push(rec);
            }
        }
        Ok(out)
    }
}
