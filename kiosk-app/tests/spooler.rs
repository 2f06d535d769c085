//! The spooler against the printer simulator: parts printed in order,
//! the part in flight at a crash reprinted under a mark, paper out in the
//! middle of a part, cover open before one.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::net::TcpStream;
use std::time::Duration;

use chrono::Utc;
use device_drivers::escpos::{Align, PrintError, Receipt, ReceiptPrinter, encode};
use device_drivers::sim::{PrinterFault, PrinterSim};
use kiosk_app::spool::{SpoolError, SpoolEvent, print_pending};
use offline_store::{Journal, NewPart, NewPrintJob, PartState, SharedJournal};

fn part(text: &str) -> NewPart {
    NewPart {
        printer: exam_protocol::PrinterKind::Receipt,
        body: encode(&Receipt::default().text(text, Align::Left, false, false)),
    }
}

fn contains(hay: &[u8], needle: &str) -> usize {
    let (n, _, _) = encoding_rs::GB18030.encode(needle);
    hay.windows(n.len()).filter(|w| *w == &n[..]).count()
}

fn rig() -> (
    PrinterSim,
    ReceiptPrinter<TcpStream>,
    tempfile::TempDir,
    SharedJournal,
) {
    let sim = PrinterSim::new();
    let s = TcpStream::connect(sim.listen_tcp().unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path().join("j.db")).unwrap();
    (
        sim,
        ReceiptPrinter::new(s, Duration::from_secs(1)),
        dir,
        SharedJournal::new(j),
    )
}

#[test]
fn the_part_in_flight_at_a_crash_is_reprinted_marked_and_the_rest_once() {
    let (sim, mut printer, _dir, journal) = rig();
    let job = NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: "BK1".into(),
        parts: vec![part("第一部分"), part("第二部分")],
    };
    journal.lock().add_print_job(&job, Utc::now()).unwrap();
    // The kiosk died while sending part 0.
    journal
        .lock()
        .set_part_state(job.id, 0, PartState::Sending, Utc::now())
        .unwrap();

    let mut events = Vec::new();
    assert_eq!(
        print_pending(&journal, &mut printer, &mut |e| events.push(e)).unwrap(),
        2
    );
    assert_eq!(
        events,
        vec![
            SpoolEvent::Printed {
                job: job.id,
                idx: 0,
                reprint: true
            },
            SpoolEvent::Printed {
                job: job.id,
                idx: 1,
                reprint: false
            }
        ]
    );
    let out = sim.printed();
    assert_eq!(
        contains(&out, "补打"),
        1,
        "only the part in flight carries the mark"
    );
    assert_eq!(
        (contains(&out, "第一部分"), contains(&out, "第二部分")),
        (1, 1)
    );
    assert!(journal.lock().unfinished_parts().unwrap().is_empty());
    assert_eq!(
        print_pending(&journal, &mut printer, &mut |_| {}).unwrap(),
        0,
        "nothing printed twice"
    );
}

#[test]
fn paper_out_mid_part_and_cover_open_before_one() {
    let (sim, mut printer, _dir, journal) = rig();
    let big: String = "体检指引".repeat(60);
    let job = NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: "BK2".into(),
        parts: vec![part(&big)],
    };
    journal.lock().add_print_job(&job, Utc::now()).unwrap();

    sim.inject(PrinterFault::CoverOpen);
    assert!(
        matches!(print_pending(&journal, &mut printer, &mut |_| {}), Err(SpoolError::Print(PrintError::NotReady(s))) if s.cover_open)
    );
    assert_eq!(
        journal.lock().unfinished_parts().unwrap()[0].state,
        PartState::Pending,
        "nothing was sent"
    );
    sim.fix();

    sim.inject(PrinterFault::PaperOutAfter(100));
    assert!(
        matches!(print_pending(&journal, &mut printer, &mut |_| {}), Err(SpoolError::Print(PrintError::FailedDuring(s))) if s.paper_out)
    );
    assert_eq!(
        journal.lock().unfinished_parts().unwrap()[0].state,
        PartState::Sending,
        "maybe half printed"
    );
    assert!(
        matches!(
            print_pending(&journal, &mut printer, &mut |_| {}),
            Err(SpoolError::Print(PrintError::NotReady(_)))
        ),
        "waits for paper"
    );
    sim.fix();
    assert_eq!(
        print_pending(&journal, &mut printer, &mut |_| {}).unwrap(),
        1
    );
    assert_eq!(
        contains(&sim.printed(), "补打"),
        1,
        "the cut-off part is printed again, marked"
    );
    assert!(journal.lock().unfinished_parts().unwrap().is_empty());
}

/// Lab labels are parts like receipt sections: the one in flight at a
/// crash is reprinted after a 补打 label, and a printer with its head open
/// takes nothing until closed, in both label languages.
#[test]
fn label_parts_resume_marked_and_wait_for_a_closed_head() {
    use device_drivers::label::{Label, LabelItem, LabelPrinter, Language};
    use device_drivers::sim::{LabelFault, LabelSim};

    for lang in [Language::Tspl, Language::Zpl] {
        let sim = LabelSim::new();
        let s = TcpStream::connect(sim.listen_tcp(lang).unwrap()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut printer = LabelPrinter::new(s, lang, Duration::from_secs(1));
        let dir = tempfile::tempdir().unwrap();
        let journal = SharedJournal::new(Journal::open(dir.path().join("j.db")).unwrap());
        let tube = |n: u32| Label {
            width_mm: 50,
            height_mm: 30,
            gap_mm: 2,
            items: vec![LabelItem::Code128 {
                x: 20,
                y: 20,
                height: 80,
                narrow: 2,
                data: format!("2611230{n}"),
            }],
            copies: 1,
        };
        let job = NewPrintJob {
            id: uuid::Uuid::now_v7(),
            kind: "lab_labels".into(),
            person: "BK1".into(),
            parts: (1..=3)
                .map(|n| NewPart {
                    printer: kiosk_app::print::label_printer(lang),
                    body: device_drivers::label::encode(&tube(n), lang),
                })
                .collect(),
        };
        {
            let mut j = journal.lock();
            j.add_print_job(&job, Utc::now()).unwrap();
            j.set_part_state(job.id, 0, PartState::Done, Utc::now())
                .unwrap();
            j.set_part_state(job.id, 1, PartState::Sending, Utc::now())
                .unwrap();
        }
        sim.inject(LabelFault::HeadOpen);
        assert!(matches!(
            print_pending(&journal, &mut printer, &mut |_| {}),
            Err(SpoolError::Print(
                device_drivers::label::LabelError::NotReady(_)
            ))
        ));
        assert!(sim.labels().is_empty(), "nothing while the head is open");
        sim.fix();
        assert_eq!(
            print_pending(&journal, &mut printer, &mut |_| {}).unwrap(),
            2
        );
        let printed: Vec<String> = sim
            .labels()
            .iter()
            .map(|l| match &l.items[0] {
                LabelItem::Text { text, .. } => text.clone(),
                LabelItem::Code128 { data, .. } => data.clone(),
            })
            .collect();
        assert_eq!(
            printed,
            ["补打 REPRINT", "26112302", "26112303"],
            "{lang:?}"
        );
        assert!(journal.lock().unfinished_parts().unwrap().is_empty());
        assert!(sim.errors().is_empty(), "{:?}", sim.errors());
    }
}
