//! Print jobs and their parts. A job is rendered into parts and committed
//! before the first byte reaches a printer; the spooler then moves each part
//! pending → sending → done | failed, committing every step, so a restart
//! knows exactly which part was in flight.

use chrono::{DateTime, Utc};
use exam_protocol::{DocumentsWaiting, EventBody, PrinterKind};
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::{Journal, Result, StoreError, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    Pending,
    Sending,
    Done,
    Failed,
}

impl PartState {
    pub fn as_str(self) -> &'static str {
        match self {
            PartState::Pending => "pending",
            PartState::Sending => "sending",
            PartState::Done => "done",
            PartState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => PartState::Pending,
            "sending" => PartState::Sending,
            "done" => PartState::Done,
            "failed" => PartState::Failed,
            other => return Err(StoreError::Corrupt(format!("part state {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    /// Which printer takes it (a label part: of which language).
    pub printer: PrinterKind,
    /// The rendered bytes (ESC/POS, TSPL, PDF).
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrintJob {
    pub id: Uuid,
    /// "guide_sheet", "lab_labels", "fee_list", "report".
    pub kind: String,
    /// Whose documents these are (booking code), for pickup when they left.
    pub person: String,
    pub parts: Vec<NewPart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintPart {
    pub job_id: Uuid,
    pub idx: i64,
    pub printer: PrinterKind,
    pub body: Vec<u8>,
    pub state: PartState,
    pub attempts: i64,
}

pub(crate) fn insert_job(
    tx: &Transaction<'_>,
    job: &NewPrintJob,
    event: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO print_jobs(id, kind, event_id, person, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![job.id.to_string(), job.kind, event.map(|e| e.to_string()), job.person, ts(now)],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO print_parts(job_id, idx, printer, body, state, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
    )?;
    for (i, part) in job.parts.iter().enumerate() {
        stmt.execute(params![
            job.id.to_string(),
            i as i64,
            part.printer.as_str(),
            part.body,
            ts(now)
        ])?;
    }
    Ok(())
}

/// A part's printer as the journal stores it.
pub(crate) fn printer_kind(s: &str) -> Result<PrinterKind> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("print part: {e}")))
}

/// Stamps a job finished once none of its parts is left to print.
fn finish_job_if_done(tx: &Transaction<'_>, job: Uuid, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE print_jobs SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM print_parts WHERE job_id = ?1 AND state IN ('pending', 'sending'))",
        params![job.to_string(), ts(now)],
    )?;
    Ok(())
}

/// Print parts still to print, and since when the oldest waits (for the
/// heartbeat: a paused printer shows on the staff page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrintBacklog {
    pub parts: u64,
    pub oldest: Option<DateTime<Utc>>,
}

impl Journal {
    pub fn add_print_job(&mut self, job: &NewPrintJob, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        insert_job(&tx, job, None, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Parts not yet done or failed, oldest job first, in part order.
    pub fn unfinished_parts(&self) -> Result<Vec<PrintPart>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.job_id, p.idx, p.printer, p.body, p.state, p.attempts FROM print_parts p
             JOIN print_jobs j ON j.id = p.job_id
             WHERE p.state IN ('pending', 'sending') ORDER BY j.created_at, j.id, p.idx",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get::<_, String>(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
                r.get(5)?,
            ))
        })?;
        rows.map(|row| {
            let (job, idx, printer, body, state, attempts) = row?;
            Ok(PrintPart {
                job_id: Uuid::parse_str(&job)
                    .map_err(|e| StoreError::Corrupt(format!("job id {job:?}: {e}")))?,
                idx,
                printer: printer_kind(&printer)?,
                body,
                state: PartState::parse(&state)?,
                attempts,
            })
        })
        .collect()
    }

    /// Records that nobody was at the kiosk to take these jobs' documents
    /// (the kiosk restarted, or the patient's session ended before they
    /// printed): they still print, and an outbox event tells the desk they
    /// wait for pickup under that person. Once per job; returns how many
    /// were newly recorded.
    pub fn record_left_behind(&mut self, jobs: &[Uuid], now: DateTime<Utc>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for job in jobs {
            let row: Option<(String, String)> = tx
                .query_row(
                    "UPDATE print_jobs SET left_behind_at = ?2 WHERE id = ?1 AND left_behind_at IS NULL
                     RETURNING person, kind",
                    params![job.to_string(), ts(now)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((person, kind)) = row {
                crate::outbox::append(
                    &tx,
                    &EventBody::DocumentsWaiting(DocumentsWaiting {
                        job_id: *job,
                        booking_code: person,
                        document: kind,
                        since: now,
                    }),
                    now,
                )?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Journals a report's print job with its `report_printed` event, in
    /// one transaction (K9): the centre learns of the print even when the
    /// kiosk is offline by then, and a job is never journaled without it.
    pub fn record_report_print(
        &mut self,
        printed: &exam_protocol::ReportPrinted,
        job: &NewPrintJob,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let event = crate::outbox::append(
            &tx,
            &EventBody::ReportPrinted(printed.clone()),
            printed.printed_at,
        )?;
        insert_job(&tx, job, Some(event.id), printed.printed_at)?;
        tx.commit()?;
        Ok(())
    }

    /// Was this report journaled for printing at this kiosk already?
    pub fn report_printed_here(&self, report_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM outbox WHERE kind = 'report_printed'
                   AND json_extract(payload, '$.report_id') = ?1 LIMIT 1",
                [report_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Jobs with parts still to print, oldest first (ids only: the screen
    /// asks every 100 ms while printing, without reading the documents).
    pub fn unfinished_jobs(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT j.id FROM print_jobs j WHERE EXISTS
               (SELECT 1 FROM print_parts p WHERE p.job_id = j.id AND p.state IN ('pending', 'sending'))
             ORDER BY j.created_at, j.id",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|id| {
            let id = id?;
            Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("job id {id:?}: {e}")))
        })
        .collect()
    }

    pub fn print_backlog(&self) -> Result<PrintBacklog> {
        let (parts, oldest): (i64, Option<String>) = self.conn.query_row(
            "SELECT count(*), min(j.created_at) FROM print_parts p JOIN print_jobs j ON j.id = p.job_id
             WHERE p.state IN ('pending', 'sending')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(PrintBacklog {
            parts: parts as u64,
            oldest: oldest.as_deref().map(crate::parse_ts).transpose()?,
        })
    }

    /// Takes a part for printing (`sending`, counting an attempt) if it is
    /// still to print here: false when it was moved away meanwhile.
    pub fn claim_part(&mut self, job: Uuid, idx: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE print_parts SET state = 'sending', updated_at = ?3, attempts = attempts + 1
             WHERE job_id = ?1 AND idx = ?2 AND state IN ('pending', 'sending')",
            params![job.to_string(), idx, ts(now)],
        )?;
        Ok(n == 1)
    }

    /// Moves a part the spooler claimed (`sending`) on to `to`, unless it
    /// was moved to another kiosk meanwhile: false then, and nothing changes.
    pub fn finish_claimed(
        &mut self,
        job: Uuid,
        idx: i64,
        to: PartState,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE print_parts SET state = ?3, updated_at = ?4 WHERE job_id = ?1 AND idx = ?2 AND state = 'sending'",
            params![job.to_string(), idx, to.as_str(), ts(now)],
        )?;
        finish_job_if_done(&tx, job, now)?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Commits one part's new state; `sending` counts an attempt.
    pub fn set_part_state(
        &mut self,
        job: Uuid,
        idx: i64,
        state: PartState,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE print_parts SET state = ?3, updated_at = ?4,
               attempts = attempts + CASE WHEN ?3 = 'sending' THEN 1 ELSE 0 END
             WHERE job_id = ?1 AND idx = ?2",
            params![job.to_string(), idx, state.as_str(), ts(now)],
        )?;
        if n != 1 {
            return Err(StoreError::Corrupt(format!("no print part {job}/{idx}")));
        }
        finish_job_if_done(&tx, job, now)?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_move_through_their_states() {
        let mut j = Journal::open_in_memory_for_tests();
        let job = NewPrintJob {
            id: Uuid::now_v7(),
            kind: "guide_sheet".into(),
            person: "BK1".into(),
            parts: vec![
                NewPart {
                    printer: PrinterKind::Receipt,
                    body: b"part0".to_vec(),
                },
                NewPart {
                    printer: PrinterKind::Label(exam_protocol::LabelLanguage::Tspl),
                    body: b"part1".to_vec(),
                },
            ],
        };
        j.add_print_job(&job, Utc::now()).unwrap();
        assert_eq!(j.unfinished_parts().unwrap().len(), 2);
        j.set_part_state(job.id, 0, PartState::Sending, Utc::now())
            .unwrap();
        let parts = j.unfinished_parts().unwrap();
        assert_eq!((parts[0].state, parts[0].attempts), (PartState::Sending, 1));
        j.set_part_state(job.id, 0, PartState::Done, Utc::now())
            .unwrap();
        j.set_part_state(job.id, 1, PartState::Done, Utc::now())
            .unwrap();
        assert!(j.unfinished_parts().unwrap().is_empty());
        assert!(
            j.set_part_state(job.id, 7, PartState::Done, Utc::now())
                .is_err()
        );
    }

    #[test]
    fn left_behind_documents_are_told_once_and_the_backlog_counts_parts() {
        let mut j = Journal::open_in_memory_for_tests();
        let job = NewPrintJob {
            id: Uuid::now_v7(),
            kind: "guide_sheet".into(),
            person: "BK9".into(),
            parts: vec![NewPart {
                printer: PrinterKind::Receipt,
                body: b"sheet".to_vec(),
            }],
        };
        let t = Utc::now();
        j.add_print_job(&job, t).unwrap();
        let b = j.print_backlog().unwrap();
        assert_eq!(b.parts, 1);
        assert!(b.oldest.is_some());
        assert_eq!(j.unfinished_jobs().unwrap(), vec![job.id]);
        assert_eq!(
            j.record_left_behind(&[job.id, Uuid::now_v7()], t).unwrap(),
            1
        );
        assert_eq!(j.record_left_behind(&[job.id], t).unwrap(), 0);
        let events = j.pending_events(10).unwrap();
        assert_eq!(events.len(), 1);
        match events[0].body().unwrap() {
            EventBody::DocumentsWaiting(d) => {
                assert_eq!((d.job_id, d.booking_code.as_str()), (job.id, "BK9"));
                assert_eq!(d.document, "guide_sheet");
            }
            other => panic!("{other:?}"),
        }
        j.set_part_state(job.id, 0, PartState::Done, t).unwrap();
        assert_eq!(j.print_backlog().unwrap(), PrintBacklog::default());
    }
}
