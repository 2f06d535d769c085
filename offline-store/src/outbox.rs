//! The outbox: journaled events waiting for the server's acknowledgement.

use chrono::{DateTime, Utc};
use exam_protocol::{CheckIn, Event, EventBody, PhotoRecord};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::{Journal, NewPrintJob, Result, StoreError, parse_ts, ts};

/// What the kiosk still owes the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    pub pending: u64,
    pub rejected: u64,
    pub oldest_pending: Option<DateTime<Utc>>,
}

pub(crate) fn append(tx: &Transaction<'_>, body: &EventBody, now: DateTime<Utc>) -> Result<Event> {
    let id = Uuid::now_v7();
    let payload = body.payload();
    tx.execute(
        "INSERT INTO outbox(id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id.to_string(), body.kind(), payload.to_string(), ts(now)],
    )?;
    let seq = tx.last_insert_rowid();
    Ok(Event {
        id,
        seq,
        kind: body.kind().to_string(),
        created_at: now,
        payload,
    })
}

impl Journal {
    /// Journals a check-in: the business row, its outbox event, the local
    /// booking state and (optionally) its print job, in one transaction.
    pub fn record_check_in(
        &mut self,
        check_in: &CheckIn,
        print_job: Option<&NewPrintJob>,
    ) -> Result<Event> {
        self.record_check_in_with_photo(check_in, print_job, None)
    }

    /// [`Self::record_check_in`], with the photo step's record (K6) as a
    /// second event in the same transaction.
    pub fn record_check_in_with_photo(
        &mut self,
        check_in: &CheckIn,
        print_job: Option<&NewPrintJob>,
        photo: Option<&PhotoRecord>,
    ) -> Result<Event> {
        let tx = self.conn.transaction()?;
        let event = append(
            &tx,
            &EventBody::CheckIn(check_in.clone()),
            check_in.checked_in_at,
        )?;
        tx.execute(
            "INSERT INTO checkins(event_id, booking_id, id_number, identified_by, checked_in_at, offline)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                event.id.to_string(),
                check_in.booking_id,
                check_in.id_number.as_str(),
                check_in.identified_by,
                ts(check_in.checked_in_at),
                check_in.offline
            ],
        )?;
        tx.execute(
            "UPDATE cache_bookings SET state = 'checked_in' WHERE id = ?1",
            [check_in.booking_id],
        )?;
        if let Some(job) = print_job {
            crate::print::insert_job(&tx, job, Some(event.id), check_in.checked_in_at)?;
        }
        if let Some(p) = photo {
            append(&tx, &EventBody::Photo(p.clone()), check_in.checked_in_at)?;
        }
        tx.commit()?;
        Ok(event)
    }

    /// Was this booking checked in at this kiosk (whatever the server knows yet)?
    pub fn checked_in_locally(&self, booking_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM checkins WHERE booking_id = ?1 LIMIT 1",
                [booking_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The oldest unacknowledged events, in journal order.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, kind, payload, created_at FROM outbox
             WHERE acked_at IS NULL AND rejected IS NULL ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, id, kind, payload, created) = row?;
            Ok(Event {
                id: Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Corrupt(format!("outbox id {id:?}: {e}")))?,
                seq,
                kind,
                created_at: parse_ts(&created)?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("outbox payload of {id}: {e}")))?,
            })
        })
        .collect()
    }

    /// Marks events as acknowledged. Only ever called with ids the server
    /// acknowledged: nothing leaves the outbox before that.
    pub fn ack(&mut self, ids: &[Uuid], at: DateTime<Utc>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET acked_at = ?2 WHERE id = ?1 AND acked_at IS NULL",
            )?;
            for id in ids {
                n += stmt.execute(params![id.to_string(), ts(at)])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Sets an event aside that the server refused as invalid. It is kept
    /// (never deleted) and reported in the heartbeat for staff to look at.
    pub fn reject(&mut self, id: Uuid, reason: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET rejected = ?2 WHERE id = ?1",
            params![id.to_string(), reason],
        )?;
        Ok(())
    }

    pub fn note_attempt(&mut self, ids: &[Uuid]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn backlog(&self) -> Result<Backlog> {
        let (pending, oldest): (i64, Option<String>) = self.conn.query_row(
            "SELECT count(*), min(created_at) FROM outbox WHERE acked_at IS NULL AND rejected IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let rejected: i64 = self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE rejected IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(Backlog {
            pending: pending as u64,
            rejected: rejected as u64,
            oldest_pending: oldest.as_deref().map(parse_ts).transpose()?,
        })
    }

    /// Every event ever journaled, acknowledged or not (for audits and tests).
    pub fn all_event_ids(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare("SELECT id FROM outbox ORDER BY seq")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.map(|id| {
            let id = id?;
            Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("outbox id {id:?}: {e}")))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_domain::IdNumber;

    fn check_in(booking_id: i64) -> CheckIn {
        CheckIn {
            booking_id,
            booking_code: format!("BK{booking_id}"),
            id_number: IdNumber::parse("11010519491231002X").unwrap(),
            identified_by: "id_card".into(),
            checked_in_at: Utc::now(),
            offline: true,
            privacy: None,
        }
    }

    #[test]
    fn outbox_keeps_events_until_acked_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let (e1, e2) = {
            let mut j = Journal::open(&path).unwrap();
            let e1 = j.record_check_in(&check_in(1), None).unwrap();
            let e2 = j.record_check_in(&check_in(2), None).unwrap();
            assert_eq!(e2.seq, e1.seq + 1);
            assert!(j.checked_in_locally(1).unwrap());
            assert!(!j.checked_in_locally(3).unwrap());
            assert_eq!(j.ack(&[e1.id], Utc::now()).unwrap(), 1);
            assert_eq!(j.ack(&[e1.id], Utc::now()).unwrap(), 0, "ack is idempotent");
            (e1, e2)
        };
        let mut j = Journal::open(&path).unwrap();
        let pending = j.pending_events(10).unwrap();
        assert_eq!(pending, vec![e2.clone()]);
        assert_eq!(
            pending[0].body().unwrap(),
            EventBody::CheckIn(serde_json::from_value(e2.payload.clone()).unwrap())
        );
        j.reject(e2.id, "bad").unwrap();
        let b = j.backlog().unwrap();
        assert_eq!((b.pending, b.rejected), (0, 1));
        assert_eq!(j.all_event_ids().unwrap(), vec![e1.id, e2.id]);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        Journal::open(&path)
            .unwrap()
            .connection()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Journal::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn readers_do_not_block_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let mut j = Journal::open(&path).unwrap();
        j.record_check_in(&check_in(1), None).unwrap();
        let reader = Journal::open_reader(&path).unwrap();
        let tx = reader.unchecked_transaction().unwrap();
        let n: i64 = tx
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        // The reader holds a snapshot open; the writer still commits.
        j.record_check_in(&check_in(2), None).unwrap();
        let n: i64 = tx
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the reader keeps its snapshot");
    }
}
