//! K15: documents resumed after a restart belong to whoever is at the
//! screen. Nobody touches it: they print and are recorded as waiting for
//! pickup at the desk. Someone does: they are theirs, nothing is recorded.
//! A patient who leaves while the printer is out leaves them behind too.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use exam_protocol::{DeviceState, EventBody};
use kiosk_app::checkin::CheckinCore;
use kiosk_app::flow::{Screen, Settings};
use kiosk_app::screens::Context;
use kiosk_app::session::{Session, SessionInput};
use offline_store::{Journal, NewPart, NewPrintJob, PartState, SharedJournal};
use sync_client::DeviceBoard;

struct Kiosk {
    _dir: tempfile::TempDir,
    journal: SharedJournal,
    devices: DeviceBoard,
    job: uuid::Uuid,
}

/// A kiosk that restarted with one guide sheet unfinished.
fn restarted_with_a_job() -> (Kiosk, Session) {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path().join("kiosk.db")).unwrap();
    let job = NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: "BK-LEFT".into(),
        parts: vec![NewPart {
            printer: exam_protocol::PrinterKind::Receipt,
            body: b"sheet".to_vec(),
        }],
    };
    j.add_print_job(&job, Utc::now()).unwrap();
    j.set_part_state(job.id, 0, PartState::Sending, Utc::now())
        .unwrap();
    let journal = SharedJournal::new(j);
    let devices = DeviceBoard::default();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let mut s = Session::new(
        CheckinCore::new(journal.clone(), None, "main", None),
        journal.clone(),
        devices.clone(),
        Settings {
            elderly: false,
            photo: false,
            face: false,
            face_policy: Default::default(),
        },
        Context::default(),
        None,
        tx,
    );
    s.resume_unfinished();
    assert!(matches!(
        s.flow.screen,
        Screen::Printing { resumed: true, .. }
    ));
    let k = Kiosk {
        _dir: dir,
        journal,
        devices,
        job: job.id,
    };
    (k, s)
}

impl Kiosk {
    fn print_done(&self) {
        self.journal
            .lock()
            .set_part_state(self.job, 0, PartState::Done, Utc::now())
            .unwrap();
    }

    /// The desk's notices in the outbox: the jobs waiting for pickup.
    fn waiting(&self) -> Vec<uuid::Uuid> {
        let j = self.journal.lock();
        j.pending_events(100)
            .unwrap()
            .iter()
            .filter_map(|e| match e.body().unwrap() {
                EventBody::DocumentsWaiting(d) => Some(d.job_id),
                _ => None,
            })
            .collect()
    }
}

/// Lets the screens run their course: printing finishes, the "take your
/// documents" screen times out, back to the start.
fn until_attract(s: &mut Session) {
    let mut t = Instant::now();
    for _ in 0..10 {
        t += Duration::from_secs(30);
        s.tick(t);
        if s.flow.screen == Screen::Attract {
            return;
        }
    }
    panic!("stuck on {:?}", s.flow.screen);
}

#[test]
fn resumed_documents_nobody_came_back_for_wait_for_pickup() {
    let (k, mut s) = restarted_with_a_job();
    k.print_done();
    until_attract(&mut s);
    assert_eq!(k.waiting(), vec![k.job]);
}

#[tokio::test]
async fn a_card_placed_by_the_next_patient_does_not_claim_resumed_documents() {
    let (k, mut s) = restarted_with_a_job();
    let q = exam_domain::IdentityQuery::IdNumber {
        id_number: exam_domain::IdNumber::parse("11010519491231002X").unwrap(),
    };
    s.input(SessionInput::Device(kiosk_app::devices::Input::Identify(q)));
    k.print_done();
    until_attract(&mut s);
    assert_eq!(k.waiting(), vec![k.job]);
}

#[test]
fn resumed_documents_taken_by_the_patient_at_the_screen_are_not_recorded() {
    let (k, mut s) = restarted_with_a_job();
    s.input(SessionInput::Touched); // the patient is there
    k.print_done();
    until_attract(&mut s);
    assert!(k.waiting().is_empty());
}

#[test]
fn a_patient_leaving_while_the_printer_is_out_leaves_the_documents_behind() {
    let (k, mut s) = restarted_with_a_job();
    s.input(SessionInput::Touched);
    k.devices.set("receipt", DeviceState::PaperOut);
    s.tick(Instant::now());
    assert!(
        matches!(s.flow.screen, Screen::Problem(_)),
        "{:?}",
        s.flow.screen
    );
    until_attract(&mut s);
    assert_eq!(k.waiting(), vec![k.job]);
    // Once only, however often the screen returns to the start.
    until_attract(&mut s);
    assert_eq!(k.waiting().len(), 1);
}
