//! A4 report parts through a real CUPS (cupsd with the cups-pdf queue):
//! journaled parts print once each, and a part that was in flight when the
//! kiosk died is not sent again when CUPS already has it.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use device_drivers::report::{IppPrinter, sample_pdf};
use kiosk_app::report_spool::{job_name, print_reports};
use offline_store::{Journal, NewPart, NewPrintJob, PartState, SharedJournal};

/// The queue. `scripts/test` installs and starts cupsd with the cups-pdf
/// REPORTS queue, so a missing one fails the test (never a silent skip).
fn printer() -> IppPrinter {
    let uri = std::env::var("REPORT_PRINTER_URI")
        .unwrap_or_else(|_| "ipp://localhost:631/printers/REPORTS".into());
    let p = IppPrinter::new(&uri, "kiosk").unwrap();
    if let Err(e) = p.find("probe") {
        panic!(
            "no CUPS queue at {uri} ({e}): start cupsd with the cups-pdf REPORTS queue \
             (scripts/test does), or set REPORT_PRINTER_URI"
        );
    }
    p
}

fn report_job(pages: usize) -> NewPrintJob {
    NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "report".into(),
        person: "BK-REPORT".into(),
        parts: (0..pages)
            .map(|i| NewPart {
                printer: exam_protocol::PrinterKind::Report,
                body: sample_pdf(&[&format!("Report part {i}")]),
            })
            .collect(),
    }
}

#[test]
fn report_parts_print_once_even_across_a_crash_after_submitting() {
    let p = printer();
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path().join("kiosk.db")).unwrap();
    let job = report_job(3);
    j.add_print_job(&job, Utc::now()).unwrap();
    let parts = j.unfinished_parts().unwrap();
    // Part 0: the kiosk died after CUPS took it, before journaling `done`.
    j.set_part_state(job.id, 0, PartState::Sending, Utc::now())
        .unwrap();
    p.submit(&job_name(&parts[0]), &parts[0].body).unwrap();
    // Part 1: marked `sending`, then the power went before it left.
    j.set_part_state(job.id, 1, PartState::Sending, Utc::now())
        .unwrap();
    // Part 2: still pending.
    let journal = SharedJournal::new(j);
    let printed = print_reports(
        &journal,
        &p,
        Duration::from_millis(200),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(printed, 3);
    assert!(journal.lock().unfinished_parts().unwrap().is_empty());
    for part in &parts {
        let submitted = p.find(&job_name(part)).unwrap();
        assert_eq!(submitted.len(), 1, "part {} sent once", part.idx);
    }
    // Nothing left: a second round sends nothing.
    let again = print_reports(
        &journal,
        &p,
        Duration::from_millis(200),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(again, 0);
}
