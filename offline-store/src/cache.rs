//! The offline cache of this kiosk's campus: bookings and their people,
//! followed from the server by change cursor.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::{Booking, BookingState, IdNumber, IdentityQuery, Person, Sex};
use exam_protocol::BookingRecord;
use rusqlite::{OptionalExtension, Row, params};

use crate::{Journal, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    pub bookings: u64,
    pub people: u64,
    pub cursor: i64,
}

const SELECT: &str =
    "SELECT b.id, b.code, b.exam_no, b.id_number, b.campus, b.package, b.exam_date, b.slot_start,
        b.slot_end, b.amount_due_fen, b.state, b.change_seq, p.name, p.sex, p.birth_date, p.mobile,
        COALESCE(b.documents, '')
    FROM cache_bookings b JOIN cache_people p ON p.id_number = b.id_number";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("cache {what} {v:?}"))
}

fn record(r: &Row<'_>) -> rusqlite::Result<[String; 17]> {
    let mut out: [String; 17] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        let v: rusqlite::types::Value = r.get(i)?;
        *slot = match v {
            rusqlite::types::Value::Integer(n) => n.to_string(),
            rusqlite::types::Value::Text(s) => s,
            other => format!("{other:?}"),
        };
    }
    Ok(out)
}

fn decode(f: [String; 17]) -> Result<BookingRecord> {
    let int = |i: usize| f[i].parse::<i64>().map_err(|_| corrupt("integer", &f[i]));
    let date =
        |i: usize| NaiveDate::parse_from_str(&f[i], "%Y-%m-%d").map_err(|_| corrupt("date", &f[i]));
    let time =
        |i: usize| NaiveTime::parse_from_str(&f[i], "%H:%M:%S").map_err(|_| corrupt("time", &f[i]));
    let id_number = IdNumber::parse(&f[3]).map_err(|_| corrupt("id number", "<masked>"))?;
    Ok(BookingRecord {
        booking: Booking {
            id: int(0)?,
            code: f[1].clone(),
            exam_no: f[2].clone(),
            id_number: id_number.clone(),
            campus: f[4].clone(),
            package: f[5].clone(),
            exam_date: date(6)?,
            slot_start: time(7)?,
            slot_end: time(8)?,
            amount_due_fen: int(9)?,
            state: BookingState::parse(&f[10]).ok_or_else(|| corrupt("state", &f[10]))?,
        },
        change_seq: int(11)?,
        person: Person {
            id_number,
            name: f[12].clone(),
            sex: Sex::parse(&f[13]).ok_or_else(|| corrupt("sex", &f[13]))?,
            birth_date: date(14)?,
            mobile: f[15].clone(),
        },
        // A cache row that cannot be read back prints without stations
        // and labels rather than not at all.
        documents: serde_json::from_str(&f[16]).ok(),
    })
}

impl Journal {
    /// The server change sequence this cache has caught up to.
    pub fn cursor(&self) -> Result<i64> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM sync_state WHERE key = 'cursor'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        v.map_or(Ok(0), |v| v.parse().map_err(|_| corrupt("cursor", &v)))
    }

    /// Applies one page of server changes and moves the cursor, atomically.
    /// A booking this kiosk checked in stays checked in here even when the
    /// server has not seen that check-in yet.
    pub fn apply_changes(&mut self, records: &[BookingRecord], next_cursor: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut person = tx.prepare_cached(
                "INSERT INTO cache_people(id_number, name, sex, birth_date, mobile) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id_number) DO UPDATE SET name = excluded.name, sex = excluded.sex,
                   birth_date = excluded.birth_date, mobile = excluded.mobile",
            )?;
            let mut booking = tx.prepare_cached(
                "INSERT INTO cache_bookings(id, code, exam_no, id_number, campus, package, exam_date, slot_start,
                   slot_end, amount_due_fen, state, change_seq, documents)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                   CASE WHEN EXISTS (SELECT 1 FROM checkins WHERE booking_id = ?1) AND ?11 = 'booked'
                        THEN 'checked_in' ELSE ?11 END, ?12, ?13)
                 ON CONFLICT(id) DO UPDATE SET code = excluded.code, exam_no = excluded.exam_no,
                   id_number = excluded.id_number, campus = excluded.campus, package = excluded.package,
                   exam_date = excluded.exam_date, slot_start = excluded.slot_start, slot_end = excluded.slot_end,
                   amount_due_fen = excluded.amount_due_fen, state = excluded.state, change_seq = excluded.change_seq,
                   documents = excluded.documents",
            )?;
            for rec in records {
                let (b, p) = (&rec.booking, &rec.person);
                person.execute(params![
                    p.id_number.as_str(),
                    p.name,
                    p.sex.as_str(),
                    p.birth_date.format("%Y-%m-%d").to_string(),
                    p.mobile
                ])?;
                booking.execute(params![
                    b.id,
                    b.code,
                    b.exam_no,
                    b.id_number.as_str(),
                    b.campus,
                    b.package,
                    b.exam_date.format("%Y-%m-%d").to_string(),
                    b.slot_start.format("%H:%M:%S").to_string(),
                    b.slot_end.format("%H:%M:%S").to_string(),
                    b.amount_due_fen,
                    b.state.as_str(),
                    rec.change_seq,
                    rec.documents
                        .as_ref()
                        .map(|d| serde_json::to_string(d).expect("serialisable"))
                ])?;
            }
        }
        tx.execute(
            "INSERT INTO sync_state(key, value) VALUES ('cursor', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [next_cursor.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Bookings in the cache that answer an identity query.
    pub fn find_bookings(&self, query: &IdentityQuery) -> Result<Vec<BookingRecord>> {
        let (clause, key) = match query {
            IdentityQuery::IdNumber { id_number }
            | IdentityQuery::IdNumberAndMobile { id_number, .. } => {
                ("b.id_number = ?1", id_number.as_str().to_string())
            }
            IdentityQuery::BookingCode { code } => ("b.code = ?1", code.clone()),
            IdentityQuery::ExamNo { exam_no } => ("b.exam_no = ?1", exam_no.clone()),
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT} WHERE {clause} ORDER BY b.exam_date, b.slot_start, b.id"
        ))?;
        let rows = stmt.query_map([key], record)?;
        let mut out = Vec::new();
        for row in rows {
            let rec = decode(row?)?;
            if query.matches(&rec.booking, Some(&rec.person)) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// The cache's window (PIPL; seed 002 §(九) 6.4.1): bookings for a day
    /// before `before` can no longer be checked in, so they leave the cache,
    /// and so do people with no booking left. Later bookings stay: an
    /// offline check-in on their day needs them. Deleted content is zeroed
    /// in the file (`secure_delete`). Returns (bookings, people) removed.
    pub fn drop_past_bookings(&mut self, before: NaiveDate) -> Result<(usize, usize)> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = self.conn.transaction()?;
        let bookings = tx.execute(
            "DELETE FROM cache_bookings WHERE exam_date < ?1",
            [before.format("%Y-%m-%d").to_string()],
        )?;
        let people = tx.execute(
            "DELETE FROM cache_people WHERE NOT EXISTS
               (SELECT 1 FROM cache_bookings b WHERE b.id_number = cache_people.id_number)",
            [],
        )?;
        tx.commit()?;
        Ok((bookings, people))
    }

    pub fn cache_stats(&self) -> Result<CacheStats> {
        let bookings: i64 =
            self.conn
                .query_row("SELECT count(*) FROM cache_bookings", [], |r| r.get(0))?;
        let people: i64 = self
            .conn
            .query_row("SELECT count(*) FROM cache_people", [], |r| r.get(0))?;
        Ok(CacheStats {
            bookings: bookings as u64,
            people: people as u64,
            cursor: self.cursor()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_domain::demo;

    #[test]
    fn past_bookings_and_their_people_leave_the_cache() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let at = |d: NaiveDate| {
            let x = demo::generate(
                7,
                3,
                d,
                NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                "main",
            );
            x.bookings
                .iter()
                .map(|b| BookingRecord {
                    booking: b.clone(),
                    person: x
                        .people
                        .iter()
                        .find(|p| p.id_number == b.id_number)
                        .unwrap()
                        .clone(),
                    change_seq: 1,
                    documents: None,
                })
                .collect::<Vec<_>>()
        };
        let old = at(day - chrono::Duration::days(9));
        let mut today = at(day);
        // One person of the old day also booked today: they stay, once.
        let mut kept = old[0].clone();
        kept.booking.id += 10_000;
        kept.booking.code.push('T');
        kept.booking.exam_date = day;
        today.push(kept.clone());
        let mut j = Journal::open_in_memory_for_tests();
        j.apply_changes(&old, 1).unwrap();
        j.apply_changes(&today, 2).unwrap();
        let before = j.cache_stats().unwrap();
        let (bookings, people) = j
            .drop_past_bookings(day - chrono::Duration::days(7))
            .unwrap();
        assert_eq!(bookings, old.len());
        let old_people: std::collections::BTreeSet<_> =
            old.iter().map(|r| r.person.id_number.as_str()).collect();
        assert_eq!(people, old_people.len() - 1, "the one booked today stays");
        let after = j.cache_stats().unwrap();
        assert_eq!(after.bookings, before.bookings - old.len() as u64);
        assert_eq!(after.cursor, 2, "the cursor is not the window's business");
        let q = IdentityQuery::IdNumber {
            id_number: kept.person.id_number.clone(),
        };
        assert_eq!(j.find_bookings(&q).unwrap(), vec![kept]);
        let gone = IdentityQuery::BookingCode {
            code: old[1].booking.code.clone(),
        };
        assert!(j.find_bookings(&gone).unwrap().is_empty());
        assert_eq!(
            j.drop_past_bookings(day - chrono::Duration::days(7))
                .unwrap(),
            (0, 0)
        );
    }

    #[test]
    fn cache_follows_changes_and_keeps_local_check_ins() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let d = demo::generate(
            1,
            20,
            day,
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            "main",
        );
        let recs: Vec<BookingRecord> = d
            .bookings
            .iter()
            .enumerate()
            .map(|(i, b)| BookingRecord {
                booking: b.clone(),
                person: d
                    .people
                    .iter()
                    .find(|p| p.id_number == b.id_number)
                    .unwrap()
                    .clone(),
                change_seq: i as i64 + 1,
                // The first carries what it prints: it must come back whole.
                documents: (i == 0).then(|| {
                    let item = |code: &str| exam_domain::documents::DocItem {
                        code: code.into(),
                        price_fen: 2_000,
                        paid: false,
                    };
                    exam_domain::documents::documents(
                        &exam_domain::catalogue::seed::catalogue(),
                        "main",
                        &b.exam_no,
                        &[item("L-CBC"), item("L-GLU"), item("US-ABD")],
                    )
                }),
            })
            .collect();
        let mut j = Journal::open_in_memory_for_tests();
        j.apply_changes(&recs, recs.len() as i64).unwrap();
        assert_eq!(j.cursor().unwrap(), recs.len() as i64);
        let first = &recs[0];
        let found = j
            .find_bookings(&IdentityQuery::BookingCode {
                code: first.booking.code.clone(),
            })
            .unwrap();
        assert_eq!(found, vec![first.clone()]);
        let q = IdentityQuery::IdNumberAndMobile {
            id_number: first.person.id_number.clone(),
            mobile: "13000000000".into(),
        };
        assert!(
            j.find_bookings(&q).unwrap().is_empty(),
            "wrong mobile finds nothing"
        );

        // Checked in here, then the server (not yet knowing) resends the booking as booked.
        j.record_check_in(
            &exam_protocol::CheckIn {
                booking_id: first.booking.id,
                booking_code: first.booking.code.clone(),
                id_number: first.person.id_number.clone(),
                identified_by: "booking_qr".into(),
                checked_in_at: chrono::Utc::now(),
                offline: true,
                privacy: None,
            },
            None,
        )
        .unwrap();
        j.apply_changes(std::slice::from_ref(first), 99).unwrap();
        let again = j
            .find_bookings(&IdentityQuery::ExamNo {
                exam_no: first.booking.exam_no.clone(),
            })
            .unwrap();
        assert_eq!(again[0].booking.state, BookingState::CheckedIn);
    }
}
