//! The real ID card driver against the simulator over a pseudo-terminal.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use device_drivers::idcard::{
    CardKind, CardRead, CardText, DeviceState, IdCardError, IdCardEvent, IdCardReader, Poll,
    ValidUntil, frame, spawn_reader,
};
use device_drivers::serial;
use device_drivers::sim::{IdCardFault, IdCardSim};
use exam_domain::Sex;

fn card(name: &str, id: &str) -> CardRead {
    let idn = exam_domain::IdNumber::parse(id).unwrap();
    CardRead {
        text: CardText {
            kind: CardKind::Resident,
            name: name.into(),
            english_name: None,
            sex: idn.sex(),
            ethnicity_or_nationality: "01".into(),
            birth_date: idn.birth_date(),
            address: Some("江苏省扬州市邗江区文汇西路88号".into()),
            number: id.into(),
            authority: "扬州市公安局邗江分局".into(),
            valid_from: NaiveDate::from_ymd_opt(2016, 6, 1).unwrap(),
            valid_until: ValidUntil::Date {
                date: NaiveDate::from_ymd_opt(2036, 6, 1).unwrap(),
            },
            pass_number: None,
        },
        photo_wlt: (0..1024u32).map(|i| (i * 7 % 251) as u8).collect(),
    }
}

struct Rig {
    sim: IdCardSim,
    stop: Arc<AtomicBool>,
    path: String,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Rig {
    fn start() -> Self {
        let pty = serial::pty_pair().unwrap();
        let sim = IdCardSim::new();
        let stop = Arc::new(AtomicBool::new(false));
        let path = pty.path.clone();
        let (s, st) = (sim.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let pty = pty;
            let _ = s.serve(pty.sim.try_clone_native().unwrap(), &st);
            drop(pty);
        });
        Self {
            sim,
            stop,
            path,
            thread: Some(thread),
        }
    }

    /// A reader with a timeout generous enough for a loaded machine: the
    /// simulator's answers (150 ms late at most here) always arrive in it.
    fn reader(&self) -> IdCardReader<serial::TTYPort> {
        self.reader_with(Duration::from_secs(3))
    }

    fn reader_with(&self, timeout: Duration) -> IdCardReader<serial::TTYPort> {
        IdCardReader::new(serial::open(&self.path, 115_200).unwrap(), timeout)
    }

    /// Unplugs: the simulator stops and its pseudo-terminal goes away.
    fn unplug(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
    }
}

#[test]
fn reads_a_card_once_per_placement() {
    let rig = Rig::start();
    let mut r = rig.reader();
    assert_eq!(r.poll().unwrap(), Poll::NoCard);
    let c = card("欧阳小明", "11010519491231002X");
    rig.sim.place(c.clone());
    assert_eq!(r.poll().unwrap(), Poll::Card(Box::new(c.clone())));
    assert_eq!(
        r.poll().unwrap(),
        Poll::SameCard,
        "a card left on the reader is not read again"
    );
    assert_eq!(r.poll().unwrap(), Poll::SameCard);
    rig.sim.remove();
    assert_eq!(r.poll().unwrap(), Poll::NoCard);
    rig.sim.place(c.clone());
    assert!(
        matches!(r.poll().unwrap(), Poll::Card(_)),
        "placed again, read again"
    );
    let sam = r.transact(frame::cmd::SAM_STATUS).unwrap();
    assert_eq!(sam.status(), frame::status::OK);
    rig.unplug();
}

#[test]
fn faults_give_clear_errors_and_the_next_poll_recovers() {
    let rig = Rig::start();
    let mut r = rig.reader();
    let c = card("李四", "11010519491231002X");
    rig.sim.place(c.clone());

    rig.sim.inject(IdCardFault::Garbled);
    assert!(matches!(r.poll(), Err(IdCardError::Frame(_))));
    rig.sim.inject(IdCardFault::BadChecksum);
    assert!(matches!(
        r.poll(),
        Err(IdCardError::Frame(frame::FrameError::Checksum { .. }))
    ));
    rig.sim.inject(IdCardFault::Truncated);
    assert!(matches!(r.poll(), Err(IdCardError::Timeout(_))));
    assert_eq!(
        r.poll().unwrap(),
        Poll::Card(Box::new(c.clone())),
        "recovers on the next poll"
    );

    rig.sim.remove();
    assert_eq!(r.poll().unwrap(), Poll::NoCard);
    rig.sim.place(c.clone());
    rig.sim.inject(IdCardFault::Unreadable);
    let e = r.poll().unwrap_err();
    assert!(
        matches!(e, IdCardError::Unreadable { status: 0x81, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("place it again"));
    rig.sim.place(c.clone());
    assert!(matches!(r.poll().unwrap(), Poll::Card(_)));

    rig.sim.remove();
    rig.sim
        .inject(IdCardFault::Slow(Duration::from_millis(150)));
    assert_eq!(
        r.poll().unwrap(),
        Poll::NoCard,
        "a slow reader within the timeout is fine"
    );
    rig.sim.inject(IdCardFault::Silent);
    assert!(matches!(r.poll(), Err(IdCardError::Timeout(_))));
    rig.sim.clear_faults();
    assert_eq!(r.poll().unwrap(), Poll::NoCard);

    // A card whose text is broken (bad ID check digit) is refused, not passed on.
    let mut bad = card("王五", "11010519491231002X");
    bad.text.number = "110105194912310021".into();
    rig.sim.place(bad);
    assert!(matches!(r.poll(), Err(IdCardError::Text(_))));
    rig.unplug();
}

#[test]
fn worker_reports_cards_and_unplugging_and_comes_back() {
    let dir = std::env::temp_dir().join(format!("idcard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("idcard0");
    let _ = std::fs::remove_file(&link);
    let rig = Rig::start();
    std::os::unix::fs::symlink(&rig.path, &link).unwrap();

    let events = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ev = events.clone();
    let worker = spawn_reader(
        link.display().to_string(),
        115_200,
        Duration::from_millis(50),
        stop.clone(),
        move |e| ev.lock().unwrap().push(e),
    );
    // Waits for the condition, with a deadline generous enough for a
    // loaded machine (the worker retries an unplugged reader every second).
    let wait = |pred: &dyn Fn(&[IdCardEvent]) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if pred(&events.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    };
    assert!(wait(&|e| e.contains(&IdCardEvent::State(DeviceState::Ok))));
    let c = card("赵六", "11010519491231002X");
    rig.sim.place(c.clone());
    assert!(wait(&|e| e
        .iter()
        .any(|e| matches!(e, IdCardEvent::Card(_)))));
    // The poll interval is at least 300 ms even when asked for 50 ms.
    let before = rig.sim.commands();
    std::thread::sleep(Duration::from_millis(1000));
    let polls = rig.sim.commands() - before;
    assert!(polls <= 4, "{polls} commands in a second");
    assert_eq!(
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, IdCardEvent::Card(_)))
            .count(),
        1,
        "read once"
    );

    // Unplugged: the state says so, and the kiosk goes on.
    rig.unplug();
    std::fs::remove_file(&link).unwrap();
    assert!(wait(&|e| e.iter().any(|e| matches!(
        e,
        IdCardEvent::State(DeviceState::Unplugged(_))
    ))));
    // Plugged back in (a new device node behind the same stable name).
    let rig2 = Rig::start();
    std::os::unix::fs::symlink(&rig2.path, &link).unwrap();
    let oks = |e: &[IdCardEvent]| {
        e.iter()
            .filter(|e| **e == IdCardEvent::State(DeviceState::Ok))
            .count()
    };
    assert!(wait(&|e| oks(e) >= 2), "{:?}", events.lock().unwrap());
    rig2.sim.place(c);
    assert!(wait(&|e| e
        .iter()
        .filter(|e| matches!(e, IdCardEvent::Card(_)))
        .count()
        == 2));
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    rig2.unplug();
    let _ = Sex::Male;
}

#[test]
fn a_late_reply_does_not_put_later_replies_out_of_step() {
    let rig = Rig::start();
    // The reply comes a second after the reader gave up on it: however
    // loaded the machine, the reader times out first.
    let mut r = rig.reader_with(Duration::from_millis(400));
    let c = card("周八", "11010519491231002X");
    rig.sim.place(c.clone());
    rig.sim
        .inject(IdCardFault::Slow(Duration::from_millis(1400)));
    let replied = rig.sim.replies();
    assert!(matches!(r.poll(), Err(IdCardError::Timeout(_))));
    rig.sim.clear_faults();
    // The late FIND answer is on the line before the next command goes.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while rig.sim.replies() == replied {
        assert!(
            std::time::Instant::now() < deadline,
            "the late reply never came"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        r.poll().unwrap(),
        Poll::Card(Box::new(c)),
        "each command gets its own reply"
    );
    rig.unplug();
}

/// The card's photo read off the simulated reader and decoded through a
/// vendor-style shared library loaded at run time (the stand-in built from
/// `vendor-sim/wlt_sim.rs`), and each way that can fail.
#[test]
fn photo_decodes_through_the_vendor_library_only() {
    use device_drivers::idcard::{WltDecoder, WltError};
    use device_drivers::sim::wlt;
    let dir = tempfile::tempdir().unwrap();
    let lib = wlt::build_vendor_library(dir.path()).unwrap();
    let decoder = WltDecoder::load(&lib, "unpack").unwrap();

    let rig = Rig::start();
    let mut r = rig.reader();
    let mut a = card("欧阳小明", "11010519491231002X");
    a.photo_wlt = wlt::card_photo("11010519491231002X");
    rig.sim.place(a);
    let Poll::Card(read) = r.poll().unwrap() else {
        panic!("no card")
    };
    let photo = decoder.decode(&read.photo_wlt).unwrap();
    assert_eq!((photo.width, photo.height), (102, 126));
    assert_eq!(photo.rgb.len(), 102 * 126 * 3);
    // A portrait: background at the corner, face in the middle, and the
    // picture differs from another card's.
    assert_eq!(&photo.rgb[..3], &[235, 240, 248]);
    let mid = (60 * 102 + 51) * 3;
    assert_eq!(&photo.rgb[mid..mid + 3], &[236, 200, 170]);
    let other = decoder
        .decode(&wlt::card_photo("110105194912310029"))
        .unwrap();
    assert_ne!(photo, other);
    let frame = photo.to_frame();
    assert_eq!(frame.luma.len(), 102 * 126);
    rig.unplug();

    // Bytes that are no WLT photo, a short photo, a missing library or
    // function: each a clear error, nothing decoded.
    let garbage = vec![0x5Au8; 1024];
    assert!(matches!(
        decoder.decode(&garbage),
        Err(WltError::Refused(-2))
    ));
    assert!(matches!(
        decoder.decode(&[0x57, 0x4C]),
        Err(WltError::Length(2))
    ));
    let e = WltDecoder::load(&dir.path().join("libnone.so"), "unpack").unwrap_err();
    assert!(e.to_string().contains("libnone.so"), "{e}");
    assert!(matches!(
        WltDecoder::load(&lib, "decode_photo"),
        Err(WltError::Symbol(s)) if s == "decode_photo"
    ));
}
