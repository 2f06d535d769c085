//! Personal data leaves the journal (issue 17 item 9, PIPL): once the
//! service has acknowledged a check-in and the retention window has passed,
//! the kiosk keeps only what it needs to count and to avoid repeats.
//!
//! What goes, for acknowledged events older than the window:
//! - the outbox payloads that carry a person (`check_in`: the ID number and
//!   consent answers; `photo`: the picture; `print_released`: the moved
//!   documents), replaced by `{}`;
//! - the ID number of the local check-in row (its booking id stays: a
//!   booking checked in here is still not offered twice);
//! - the bytes of finished print parts (guide sheets and labels carry
//!   names), once their job finished before the window and its event, if
//!   any, was acknowledged.
//!
//! What stays: ids, kinds, times, states, the booking ids and the report
//! prints (`report_printed` holds no personal data). Nothing unacknowledged
//! is touched, whatever its age (invariant 2: nothing leaves the outbox
//! unacknowledged). The offline cache of bookings is not this module's: it
//! is replaced by the service's changes.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

use crate::{Journal, Result, ts};

/// How long acknowledged personal data stays when nothing else is set.
pub const DEFAULT_RETENTION: Duration = Duration::days(7);

/// Event kinds whose payload names or shows a person.
const PERSONAL_KINDS: [&str; 3] = ["check_in", "photo", "print_released"];

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub payloads: usize,
    pub check_ins: usize,
    pub print_parts: usize,
}

/// The moment before which acknowledged data goes (`now - retention`).
pub fn cutoff(now: DateTime<Utc>, retention: Duration) -> DateTime<Utc> {
    now - retention.max(Duration::zero())
}

impl Journal {
    /// Removes the personal data of events acknowledged before
    /// `now - retention` (see the module's notes). Deleted content is
    /// zeroed in the file (`secure_delete`) and the WAL is emptied after.
    pub fn purge_personal(&mut self, now: DateTime<Utc>, retention: Duration) -> Result<Purged> {
        let before = ts(cutoff(now, retention));
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = self.conn.transaction()?;
        let kinds = PERSONAL_KINDS.map(|k| format!("'{k}'")).join(", ");
        let payloads = tx.execute(
            &format!(
                "UPDATE outbox SET payload = '{{}}'
                  WHERE acked_at IS NOT NULL AND acked_at < ?1 AND kind IN ({kinds})
                    AND payload <> '{{}}'"
            ),
            params![before],
        )?;
        let check_ins = tx.execute(
            "UPDATE checkins SET id_number = ''
              WHERE id_number <> '' AND event_id IN
                (SELECT id FROM outbox WHERE acked_at IS NOT NULL AND acked_at < ?1)",
            params![before],
        )?;
        let print_parts = tx.execute(
            "UPDATE print_parts SET body = X''
              WHERE length(body) > 0 AND state IN ('done', 'failed') AND job_id IN
                (SELECT j.id FROM print_jobs j LEFT JOIN outbox o ON o.id = j.event_id
                  WHERE j.finished_at IS NOT NULL AND j.finished_at < ?1
                    AND (j.event_id IS NULL OR (o.acked_at IS NOT NULL AND o.acked_at < ?1)))",
            params![before],
        )?;
        tx.commit()?;
        let done = Purged {
            payloads,
            check_ins,
            print_parts,
        };
        if done != Purged::default() {
            // The old pages may still sit in the WAL: copy back and empty it
            // (a reader holding it open only delays this to the next purge).
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewPart, NewPrintJob, PartState};
    use exam_domain::IdNumber;
    use exam_protocol::{CheckIn, PhotoRecord, PrinterKind};

    const ID: &str = "11010519491231002X";

    fn check_in(booking_id: i64, at: DateTime<Utc>) -> CheckIn {
        CheckIn {
            booking_id,
            booking_code: format!("BK{booking_id}"),
            id_number: IdNumber::parse(ID).unwrap(),
            identified_by: "id_card".into(),
            checked_in_at: at,
            offline: false,
            privacy: None,
        }
    }

    fn guide_sheet(name: &str) -> NewPrintJob {
        NewPrintJob {
            id: uuid::Uuid::now_v7(),
            kind: "guide_sheet".into(),
            person: "BK1".into(),
            parts: vec![NewPart {
                printer: PrinterKind::Receipt,
                body: format!("姓名：{name}").into_bytes(),
            }],
        }
    }

    fn contains(j: &Journal, needle: &[u8]) -> bool {
        let dump: Vec<Vec<u8>> = j
            .conn
            .prepare(
                "SELECT CAST(payload AS BLOB) FROM outbox UNION ALL SELECT CAST(id_number AS BLOB) FROM checkins
                 UNION ALL SELECT body FROM print_parts",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        dump.iter()
            .any(|b| b.windows(needle.len()).any(|w| w == needle))
    }

    #[test]
    fn acknowledged_check_ins_lose_their_personal_data_after_the_window() {
        let mut j = Journal::open_in_memory_for_tests();
        let t0 = Utc::now() - Duration::days(10);
        // An old check-in with a photo and a printed guide sheet, acknowledged.
        let photo = PhotoRecord {
            booking_id: 1,
            booking_code: "BK1".into(),
            outcome: "camera".into(),
            png: Some("iVBORw0KGgo=".into()),
            taken_at: t0,
            face: None,
        };
        let job = guide_sheet("张三");
        let old = j
            .record_check_in_with_photo(&check_in(1, t0), Some(&job), Some(&photo))
            .unwrap();
        assert!(j.claim_part(job.id, 0, t0).unwrap());
        assert!(j.finish_claimed(job.id, 0, PartState::Done, t0).unwrap());
        let acked = j.all_event_ids().unwrap();
        j.ack(&acked, t0 + Duration::minutes(1)).unwrap();
        // A recent one, acknowledged; and an old one the service never acknowledged.
        let recent = j
            .record_check_in(&check_in(2, Utc::now()), Some(&guide_sheet("李四")))
            .unwrap();
        j.ack(&[recent.id], Utc::now()).unwrap();
        let unacked = j.record_check_in(&check_in(3, t0), None).unwrap();

        let done = j.purge_personal(Utc::now(), DEFAULT_RETENTION).unwrap();
        assert_eq!(
            done,
            Purged {
                payloads: 2,
                check_ins: 1,
                print_parts: 1
            }
        );
        assert!(
            !contains(&j, "张三".as_bytes()),
            "the old guide sheet is gone"
        );
        assert!(!contains(&j, b"iVBORw0KGgo="), "the old photo is gone");
        assert!(contains(&j, "李四".as_bytes()), "within the window: kept");
        // Never acknowledged: kept whatever its age, and still pending.
        let pending = j.pending_events(10).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, unacked.id);
        assert_eq!(pending[0].payload["id_number"], ID);
        // The booking still counts as checked in here; a second purge is idle.
        assert!(j.checked_in_locally(1).unwrap());
        assert_ne!(old.id, recent.id);
        assert_eq!(
            j.purge_personal(Utc::now(), DEFAULT_RETENTION).unwrap(),
            Purged::default()
        );
        // No window reaches the recent one too, but not its guide sheet,
        // which has not printed yet: the printer still needs it.
        let later = j
            .purge_personal(Utc::now() + Duration::hours(1), Duration::zero())
            .unwrap();
        assert_eq!(
            later,
            Purged {
                payloads: 1,
                check_ins: 1,
                print_parts: 0
            }
        );
        assert!(contains(&j, "李四".as_bytes()));
    }

    #[test]
    fn the_cutoff_is_now_minus_the_window() {
        let now = Utc::now();
        assert_eq!(cutoff(now, Duration::days(7)), now - Duration::days(7));
        assert_eq!(cutoff(now, Duration::days(-1)), now, "no negative window");
    }
}
