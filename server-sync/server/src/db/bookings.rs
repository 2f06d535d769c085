//! Bookings and people, the kiosks' change feed and identity lookups.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::{Booking, BookingState, IdentityQuery, Person};
use exam_protocol::BookingRecord;
use exam_vault::KeyRing;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::people::{ensure_person, person_key, person_of_row};
use super::{Db, DbError, Result};

/// A booking joined with its person; the SQL must be a literal, hence a macro.
macro_rules! select_bookings {
    ($tail:literal) => {
        concat!(
            "SELECT b.id, b.code, b.exam_no, b.person_key, b.campus, b.package, b.exam_date, b.slot_start, ",
            "b.slot_end, b.amount_due_fen, b.state, b.change_seq, p.id_number, p.name, p.mobile ",
            "FROM bookings b JOIN people p ON p.person_key = b.person_key ",
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

/// A booking row joined with its person (`person_key` and the person's
/// sealed `id_number`, `name`, `mobile`), opened with `keys`.
pub(crate) fn decode(r: &AnyRow, keys: &KeyRing) -> Result<BookingRecord> {
    let s = |c: &str| r.try_get::<String, _>(c);
    let date = |c: &str| -> Result<NaiveDate> {
        NaiveDate::parse_from_str(&s(c)?, "%Y-%m-%d").map_err(|_| corrupt(c))
    };
    let time = |c: &str| -> Result<NaiveTime> {
        NaiveTime::parse_from_str(&s(c)?, "%H:%M:%S").map_err(|_| corrupt(c))
    };
    let person = person_of_row(keys, r)?;
    Ok(BookingRecord {
        booking: Booking {
            id: r.try_get("id")?,
            code: s("code")?,
            exam_no: s("exam_no")?,
            id_number: person.id_number.clone(),
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
        person,
    })
}

/// A kiosk's pull: the campus's bookings changed after its cursor.
pub(crate) const CHANGES_SINCE: &str =
    select_bookings!("WHERE b.campus = $1 AND b.change_seq > $2 ORDER BY b.change_seq LIMIT $3");

/// Takes the next booking change number inside the caller's transaction.
/// The counter row stays locked until commit, so numbers are handed out in
/// commit order and a kiosk's cursor never steps over a later-committed change.
pub(crate) async fn next_change_seq(tx: &mut Transaction<'_, Any>) -> Result<i64> {
    next_change_seqs(tx, 1).await
}

/// Takes `n` (≥ 1) consecutive change numbers at once, the first returned:
/// a push of many check-ins bumps the counter once.
pub(crate) async fn next_change_seqs(tx: &mut Transaction<'_, Any>, n: usize) -> Result<i64> {
    let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
    let row = sqlx::query(
        "UPDATE counters SET value = value + $1 WHERE name = 'booking_change' RETURNING value",
    )
    .bind(n)
    .fetch_one(&mut **tx)
    .await?;
    let last: i64 = row.try_get(0)?;
    Ok(last - n + 1)
}

/// Stamps a new booking with the next change number once its rows are
/// written, rather than before: the counter row stays locked from here to
/// the commit (numbers follow commit order, invariant 4), so the later it
/// is taken the shorter the other writers wait; but no later than the
/// other shared counters (the episode, `audit_seq`), which
/// every writer takes after it.
pub(crate) async fn stamp_change(tx: &mut Transaction<'_, Any>, booking: i64) -> Result<()> {
    let seq = next_change_seq(tx).await?;
    sqlx::query("UPDATE bookings SET change_seq = $2 WHERE id = $1")
        .bind(booking)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stamps a committed visit that has no change number yet (0) with the
/// next one. Taken in commit order like any other (the same row lock), so
/// a cursor never steps over it; a visit stamped already (by the sweep)
/// keeps its number (the counter then skips one: gaps are allowed).
///
/// On PostgreSQL with every other stamp waiting (db/batch.rs): each stamp
/// holds the counter's row from its statement through its commit's flush,
/// so stamps one a transaction queued the desks and the kiosks' pushes
/// behind each other's flushes; a batch takes the row once for them all.
/// The caller returns once its own visits are stamped, as before.
pub(crate) async fn stamp_committed(db: &Db, booking: i64) -> Result<()> {
    stamp_committed_many(db, &[booking]).await
}

/// [`stamp_committed`] for many visits (a kiosk's push of check-ins).
pub(crate) async fn stamp_committed_many(db: &Db, bookings: &[i64]) -> Result<()> {
    if bookings.is_empty() {
        return Ok(());
    }
    if let Some(b) = &db.stamps {
        return b.submit(bookings.to_vec()).await;
    }
    stamp_now(db, bookings).await
}

/// [`stamp_committed_many`] without the batch: SQLite's, and the sweep's
/// (which must not depend on the batch's writer).
async fn stamp_now(db: &Db, bookings: &[i64]) -> Result<()> {
    use super::batch::Writes;
    if db.backend == super::Backend::Postgres {
        return Stamps(db.pool.clone()).write(&[bookings.to_vec()]).await;
    }
    let mut tx = db.pool.begin().await?;
    for chunk in bookings.chunks(super::ROWS_PER_STATEMENT) {
        let mut seq = next_change_seqs(&mut tx, chunk.len()).await?;
        for id in chunk {
            sqlx::query("UPDATE bookings SET change_seq = $2 WHERE id = $1 AND change_seq = 0")
                .bind(*id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            seq += 1;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// PostgreSQL's stamps, batched (db/batch.rs): every waiting caller's
/// visits in one statement a hundred, each committed on its own (the
/// counter bumped by their number and each visit still at 0 given one of
/// the numbers).
/// A statement's numbers commit together, so no cursor can step over one
/// of them whatever their order within it.
pub(crate) struct Stamps(pub(crate) sqlx::AnyPool);

impl super::batch::Writes for Stamps {
    type Item = Vec<i64>;
    const WHAT: &'static str = "stamp";
    // A stamp fails with the store, not with its visits: every caller is
    // told at once (each only logs it; the sweep stamps what is left).
    const ONE_BY_ONE_ON_FAILURE: bool = false;
    async fn write(&self, callers: &[Vec<i64>]) -> Result<()> {
        let ids: Vec<i64> = callers.iter().flatten().copied().collect();
        // Each statement on its own (autocommit): the row is locked for
        // the server's own work and flush, no round trip to us inside.
        for chunk in ids.chunks(super::ROWS_PER_STATEMENT) {
            let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(stamp_sql(chunk.len()))).bind(n);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&self.0).await?;
        }
        Ok(())
    }
}

/// PostgreSQL's stamp of `n` visits ($2..): the counter's new value less
/// $1 plus each visit's place.
fn stamp_sql(n: usize) -> String {
    let cases: String = (0..n)
        .map(|i| format!(" WHEN ${} THEN {}", i + 2, i + 1))
        .collect();
    format!(
        "WITH c AS (UPDATE counters SET value = value + $1 WHERE name = 'booking_change' RETURNING value)
         UPDATE bookings SET change_seq = (SELECT value FROM c) - $1 + CASE id{cases} END
          WHERE id IN ({}) AND change_seq = 0",
        super::placeholders_from(2, n)
    )
}

/// A campus's committed visits still without a change number (through
/// the partial index `bookings_unstamped`, migration 0028).
pub(crate) const UNSTAMPED: &str =
    "SELECT id FROM bookings WHERE campus = $1 AND change_seq = 0 LIMIT 1000";

impl Db {
    /// Stamps the visits a crash or a lost connection left without their
    /// change number between their commit and their stamp (see
    /// [`stamp_committed`]): the prune job's sweep. Returns how many.
    pub async fn stamp_unstamped(&self, campuses: &[String]) -> Result<usize> {
        let mut n = 0;
        for campus in campuses {
            let ids: Vec<i64> = sqlx::query_scalar(UNSTAMPED)
                .bind(campus)
                .fetch_all(&self.pool)
                .await?;
            // Directly, not through the batch's writer; a hundred a statement.
            stamp_now(self, &ids).await?;
            n += ids.len();
        }
        Ok(n)
    }

    /// Inserts people and bookings, leaving rows that already exist alone
    /// (seeding twice changes nothing). Initials are computed afterwards
    /// (`workflow::backfill_initials`).
    pub async fn insert_bookings(&self, people: &[Person], bookings: &[Booking]) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        for p in people {
            ensure_person(&mut tx, &self.keys, p, "").await?;
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
                "INSERT INTO bookings(id, code, exam_no, person_key, campus, package, exam_date, slot_start, slot_end,
                   amount_due_fen, state, change_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(b.id)
            .bind(&b.code)
            .bind(&b.exam_no)
            .bind(person_key(&self.keys, &b.id_number))
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
        let rows = sqlx::query(CHANGES_SINCE)
            .bind(campus)
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        let records = rows
            .iter()
            .take(limit as usize)
            .map(|r| decode(r, &self.keys))
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
                    "WHERE b.person_key = $1 ORDER BY b.exam_date, b.slot_start, b.id"
                ))
                .bind(person_key(&self.keys, id_number))
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
            let rec = decode(r, &self.keys)?;
            if query.matches(&rec.booking, Some(&rec.person)) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// The demo's bookings carry a package name and an amount, as an
    /// import from another system does; a booking made at the desk has
    /// item rows. This gives each of the first kind with a package of the
    /// catalogue its items (cut to the person's sex, as registration does),
    /// so paying it orders them from the laboratory and imaging systems
    /// like any other visit. Demo only (`demo` binary); idempotent.
    pub async fn demo_items(
        &self,
        cat: &exam_domain::catalogue::Catalogue,
    ) -> std::result::Result<usize, super::DeskError> {
        let rows = sqlx::query(
            "SELECT b.id, b.package FROM bookings b WHERE b.state = 'booked'
               AND NOT EXISTS (SELECT 1 FROM booking_items i WHERE i.booking_id = b.id)",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut given = 0;
        for r in rows {
            let (id, package): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            let Some(p) = cat.packages.iter().find(|p| p.name == package) else {
                continue;
            };
            let sex = self.visit(id).await?.record.person.sex;
            let request = exam_domain::plan::PlanRequest {
                package: Some(p.code.clone()),
                add: Vec::new(),
                remove: Vec::new(),
            };
            let Ok(plan) = exam_domain::plan::plan(
                cat,
                sex,
                exam_domain::catalogue::Marital::Married,
                &request,
            ) else {
                continue;
            };
            let items: Vec<(&str, i64, bool)> = plan
                .items
                .iter()
                .map(|i| (i.code.as_str(), i.price_fen, i.from_package))
                .collect();
            let mut tx = self.pool.begin().await?;
            super::desk::insert_items(&mut tx, id, &items, "demo").await?;
            super::desk::touch(&mut tx, id, false).await?;
            tx.commit().await?;
            given += 1;
        }
        Ok(given)
    }
}
