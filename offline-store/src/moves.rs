//! Print jobs moved between kiosks by staff (K15). The source releases its
//! unfinished parts (they will not print here) in the same transaction as
//! the event that carries them; the target journals them with the event
//! that confirms. Both are done once per move, whatever the heartbeats
//! repeat.

use chrono::{DateTime, Utc};
use exam_protocol::{
    DocumentsWaiting, Event, EventBody, IncomingMove, MoveOrder, MovedJob, MovedPart,
    PrintAccepted, PrintReleased, PrinterKind,
};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::outbox::append;
use crate::{Journal, Result, StoreError, ts};

/// The most document bytes one move carries (base64 adds a third): the
/// event must fit in one push. What is left stays here, to be moved again.
pub const MOVE_MAX_BYTES: usize = 384 * 1024;

fn done_before(tx: &Transaction<'_>, key: &str) -> Result<bool> {
    Ok(tx
        .query_row("SELECT 1 FROM settings WHERE key = ?1", [key], |_| Ok(()))
        .optional()?
        .is_some())
}

fn mark_done(tx: &Transaction<'_>, key: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)",
        params![key, ts(now)],
    )?;
    Ok(())
}

/// Whether a part can print at the order's kiosk (see
/// [`Journal::release_for_move`]).
fn movable(printer: PrinterKind, state: &str, body: &[u8], accepts: &[PrinterKind]) -> bool {
    match printer {
        PrinterKind::Receipt => true,
        PrinterKind::Label(_) => accepts.contains(&printer),
        PrinterKind::Report => {
            state == "pending" && body.len() <= MOVE_MAX_BYTES && accepts.contains(&printer)
        }
    }
}

impl Journal {
    /// Gives up the unfinished parts the order's kiosk can print, up to
    /// [`MOVE_MAX_BYTES`]: the parts end `failed` here (with the job's
    /// `moved_to`), and one outbox event carries them, parts that were
    /// `sending` as reprints. Receipt parts always move; label parts only
    /// to a label printer of their language (`label:tspl`, `label:zpl` in
    /// the order's `accepts`); A4 parts only to a kiosk with a report
    /// printer, and only those never submitted (one that was `sending` may
    /// be alive in this kiosk's CUPS, which resumes it). What cannot move
    /// stays and prints here. None when this move was released before.
    pub fn release_for_move(
        &mut self,
        order: &MoveOrder,
        now: DateTime<Utc>,
    ) -> Result<Option<Event>> {
        let tx = self.conn.transaction()?;
        let key = format!("print_move_released:{}", order.move_id);
        if done_before(&tx, &key)? {
            return Ok(None);
        }
        let mut jobs: Vec<MovedJob> = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT j.id, j.kind, j.person, p.idx, p.printer, p.body, p.state
                 FROM print_parts p JOIN print_jobs j ON j.id = p.job_id
                 WHERE p.state IN ('pending', 'sending')
                 ORDER BY j.created_at, j.id, p.idx",
            )?;
            let mut rows = stmt.query([])?;
            let mut bytes = 0;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let body: Vec<u8> = r.get(5)?;
                let printer = crate::print::printer_kind(&r.get::<_, String>(4)?)?;
                let state: String = r.get(6)?;
                if !movable(printer, &state, &body, &order.accepts) {
                    continue;
                }
                bytes += body.len();
                if bytes > MOVE_MAX_BYTES && !jobs.is_empty() {
                    break;
                }
                let job_id = Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Corrupt(format!("job id {id:?}: {e}")))?;
                let part = MovedPart::new(r.get(3)?, printer, &body, state == "sending");
                match jobs.last_mut() {
                    Some(j) if j.job_id == job_id => j.parts.push(part),
                    _ => jobs.push(MovedJob {
                        job_id,
                        kind: r.get(1)?,
                        person: r.get(2)?,
                        parts: vec![part],
                    }),
                }
            }
        }
        for job in &jobs {
            for part in &job.parts {
                tx.execute(
                    "UPDATE print_parts SET state = 'failed', updated_at = ?3 WHERE job_id = ?1 AND idx = ?2",
                    params![job.job_id.to_string(), part.idx, ts(now)],
                )?;
            }
            tx.execute(
                "UPDATE print_jobs SET moved_to = ?2 WHERE id = ?1",
                params![job.job_id.to_string(), order.to_kiosk],
            )?;
        }
        let event = append(
            &tx,
            &EventBody::PrintReleased(PrintReleased {
                move_id: order.move_id,
                to_kiosk: order.to_kiosk.clone(),
                jobs,
            }),
            now,
        )?;
        mark_done(&tx, &key, now)?;
        tx.commit()?;
        Ok(Some(event))
    }

    /// Journals jobs moved here: they print like this kiosk's own (reprints
    /// under the mark), wait for pickup under their owner, and one event
    /// confirms the move. Returns how many jobs were taken (0 when this move
    /// was taken before).
    pub fn accept_moved(&mut self, m: &IncomingMove, now: DateTime<Utc>) -> Result<usize> {
        // Decode everything first: a garbled move is refused whole.
        let mut parts = Vec::new();
        for job in &m.jobs {
            for p in &job.parts {
                let body = p.bytes().map_err(|e| {
                    StoreError::Corrupt(format!("moved part {}/{}: {e}", job.job_id, p.idx))
                })?;
                parts.push((job, p, body));
            }
        }
        let tx = self.conn.transaction()?;
        let key = format!("print_move_accepted:{}", m.move_id);
        if done_before(&tx, &key)? {
            return Ok(0);
        }
        // A job id this kiosk has and did not give away is not replaced.
        let mut taken = Vec::new();
        for job in &m.jobs {
            let own: Option<Option<String>> = tx
                .query_row(
                    "SELECT moved_to FROM print_jobs WHERE id = ?1",
                    [job.job_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if matches!(own, Some(None)) {
                continue;
            }
            taken.push(job.job_id);
            tx.execute(
                "INSERT INTO print_jobs(id, kind, person, created_at, left_behind_at) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT(id) DO UPDATE SET moved_to = NULL, finished_at = NULL, left_behind_at = ?4",
                params![job.job_id.to_string(), job.kind, job.person, ts(now)],
            )?;
            append(
                &tx,
                &EventBody::DocumentsWaiting(DocumentsWaiting {
                    job_id: job.job_id,
                    booking_code: job.person.clone(),
                    document: job.kind.clone(),
                    since: now,
                }),
                now,
            )?;
        }
        for (job, p, body) in parts.iter().filter(|(j, _, _)| taken.contains(&j.job_id)) {
            tx.execute(
                "INSERT INTO print_parts(job_id, idx, printer, body, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(job_id, idx) DO UPDATE SET body = excluded.body, state = excluded.state,
                   updated_at = excluded.updated_at",
                params![
                    job.job_id.to_string(),
                    p.idx,
                    p.printer.as_str(),
                    body,
                    if p.reprint { "sending" } else { "pending" },
                    ts(now)
                ],
            )?;
        }
        append(
            &tx,
            &EventBody::PrintAccepted(PrintAccepted { move_id: m.move_id }),
            now,
        )?;
        mark_done(&tx, &key, now)?;
        tx.commit()?;
        Ok(taken.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewPart, NewPrintJob, PartState};
    use exam_protocol::LabelLanguage::{Tspl, Zpl};

    fn job(person: &str, parts: usize) -> NewPrintJob {
        NewPrintJob {
            id: Uuid::now_v7(),
            kind: "guide_sheet".into(),
            person: person.into(),
            parts: (0..parts)
                .map(|i| NewPart {
                    printer: PrinterKind::Receipt,
                    body: format!("{person} part {i}").into_bytes(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_move_takes_the_unfinished_parts_once_and_reprints_the_one_in_flight() {
        let (mut a, mut b) = (
            Journal::open_in_memory_for_tests(),
            Journal::open_in_memory_for_tests(),
        );
        let now = Utc::now();
        let (j1, j2) = (job("BK1", 3), job("BK2", 1));
        a.add_print_job(&j1, now).unwrap();
        a.add_print_job(&j2, now).unwrap();
        a.set_part_state(j1.id, 0, PartState::Done, now).unwrap();
        a.set_part_state(j1.id, 1, PartState::Sending, now).unwrap();
        let order = MoveOrder {
            move_id: 7,
            to_kiosk: "K-B".into(),
            accepts: vec![PrinterKind::Receipt],
        };
        let ev = a.release_for_move(&order, now).unwrap().expect("released");
        assert!(a.release_for_move(&order, now).unwrap().is_none(), "once");
        assert!(
            a.unfinished_parts().unwrap().is_empty(),
            "nothing prints here"
        );
        let EventBody::PrintReleased(r) = ev.body().unwrap() else {
            panic!("{ev:?}")
        };
        assert_eq!(r.jobs.len(), 2);
        let moved: Vec<(i64, bool)> = r.jobs[0].parts.iter().map(|p| (p.idx, p.reprint)).collect();
        assert_eq!(moved, [(1, true), (2, false)], "done part 0 stays behind");

        let incoming = IncomingMove {
            move_id: 7,
            from_kiosk: "K-A".into(),
            jobs: r.jobs,
        };
        assert_eq!(b.accept_moved(&incoming, now).unwrap(), 2);
        assert_eq!(b.accept_moved(&incoming, now).unwrap(), 0, "once");
        let parts = b.unfinished_parts().unwrap();
        let got: Vec<(i64, PartState, Vec<u8>)> = parts
            .iter()
            .map(|p| (p.idx, p.state, p.body.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (1, PartState::Sending, b"BK1 part 1".to_vec()),
                (2, PartState::Pending, b"BK1 part 2".to_vec()),
                (0, PartState::Pending, b"BK2 part 0".to_vec()),
            ]
        );
        let kinds: Vec<String> = b
            .pending_events(10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["documents_waiting", "documents_waiting", "print_accepted"]
        );
    }

    #[test]
    fn a_garbled_move_is_refused_whole() {
        let mut b = Journal::open_in_memory_for_tests();
        let mut part = MovedPart::new(0, PrinterKind::Receipt, b"x", false);
        part.body = "not base64!".into();
        let m = IncomingMove {
            move_id: 1,
            from_kiosk: "K-A".into(),
            jobs: vec![MovedJob {
                job_id: Uuid::now_v7(),
                kind: "guide_sheet".into(),
                person: "BK1".into(),
                parts: vec![part],
            }],
        };
        assert!(matches!(
            b.accept_moved(&m, Utc::now()),
            Err(StoreError::Corrupt(_))
        ));
        assert!(b.unfinished_parts().unwrap().is_empty());
        assert!(b.pending_events(10).unwrap().is_empty());
    }

    /// Labels move only to a printer of their language, A4 parts only to a
    /// kiosk with a report printer and only if never submitted; what
    /// cannot move stays and still prints here.
    #[test]
    fn labels_and_reports_move_only_where_they_can_print() {
        let now = Utc::now();
        let part = |printer: PrinterKind, body: &[u8]| NewPart {
            printer,
            body: body.to_vec(),
        };
        let job = NewPrintJob {
            id: Uuid::now_v7(),
            kind: "guide_sheet".into(),
            person: "BK9".into(),
            parts: vec![
                part(PrinterKind::Receipt, b"sheet"),
                part(PrinterKind::Label(Tspl), b"SIZE 50 mm,30 mm\r\nTEXT 1"),
                part(PrinterKind::Label(Zpl), b"^XA^FO10,10^FDtube^FS^XZ"),
                part(PrinterKind::Report, b"%PDF-1.4 never sent"),
                part(PrinterKind::Report, b"%PDF-1.4 in CUPS maybe"),
            ],
        };
        let released = |accepts: &[PrinterKind]| {
            let mut a = Journal::open_in_memory_for_tests();
            a.add_print_job(&job, now).unwrap();
            a.set_part_state(job.id, 4, PartState::Sending, now)
                .unwrap();
            let order = MoveOrder {
                move_id: 1,
                to_kiosk: "K-B".into(),
                accepts: accepts.to_vec(),
            };
            let ev = a.release_for_move(&order, now).unwrap().unwrap();
            let EventBody::PrintReleased(r) = ev.body().unwrap() else {
                panic!("{ev:?}")
            };
            let moved: Vec<i64> = r
                .jobs
                .iter()
                .flat_map(|j| j.parts.iter().map(|p| p.idx))
                .collect();
            let stayed: Vec<i64> = a
                .unfinished_parts()
                .unwrap()
                .iter()
                .map(|p| p.idx)
                .collect();
            (moved, stayed)
        };
        use PrinterKind::{Label, Receipt, Report};
        assert_eq!(released(&[Receipt]), (vec![0], vec![1, 2, 3, 4]));
        assert_eq!(
            released(&[Receipt, Label(Tspl)]),
            (vec![0, 1], vec![2, 3, 4])
        );
        assert_eq!(
            released(&[Receipt, Label(Zpl), Report]),
            (vec![0, 2, 3], vec![1, 4]),
            "the A4 part that was sending stays with its CUPS"
        );
        // An order from a server that does not say (older version): receipts.
        assert_eq!(released(&[]), (vec![0], vec![1, 2, 3, 4]));
    }
}
