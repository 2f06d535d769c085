//! The serial scanner driver against the scanner simulator on a pty.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use device_drivers::scanner::{ScanEvent, ScannedCode, spawn_scanner};
use device_drivers::serial;
use device_drivers::sim::{ScannerSim, Terminator};

#[test]
fn scans_arrive_typed_and_bad_ones_are_refused() {
    let pty = serial::pty_pair().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ev = events.clone();
    let worker = spawn_scanner(pty.path.clone(), 9600, stop.clone(), move |e| {
        ev.lock().unwrap().push(e)
    });
    // A deadline generous enough for a loaded machine.
    let wait_n = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if events.lock().unwrap().len() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{:?}", events.lock().unwrap());
    };
    wait_n(1);
    let mut sim = ScannerSim::new(pty.sim.try_clone_native().unwrap(), Terminator::CrLf);
    sim.scan("BK261122000007").unwrap();
    sim.terminator = Terminator::Cr;
    sim.split_scan("00123567", 3).unwrap();
    sim.garbage().unwrap();
    sim.overlong().unwrap();
    sim.terminator = Terminator::Lf;
    sim.scan_gb18030("体检号").unwrap();
    sim.scan("00123456").unwrap();
    sim.scan("https://tj.example.cn/b/BK261122000008").unwrap();
    wait_n(8);
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    let e = events.lock().unwrap();
    assert!(matches!(&e[0], ScanEvent::State(s) if s.label() == "ok"));
    assert_eq!(
        e[1],
        ScanEvent::Code(ScannedCode::Booking("BK261122000007".into()))
    );
    assert_eq!(
        e[2],
        ScanEvent::Code(ScannedCode::ExamNo("00123567".into()))
    );
    assert!(
        matches!(&e[3], ScanEvent::Rejected(m) if m.contains("not text")),
        "{:?}",
        e[3]
    );
    assert!(
        matches!(&e[4], ScanEvent::Rejected(m) if m.contains("without an end of line")),
        "{:?}",
        e[4]
    );
    assert!(
        matches!(&e[5], ScanEvent::Rejected(m) if m.contains("体检号")),
        "{:?}",
        e[5]
    );
    assert!(
        matches!(&e[6], ScanEvent::Rejected(m) if m.contains("digit 4")),
        "{:?}",
        e[6]
    );
    assert_eq!(
        e[7],
        ScanEvent::Code(ScannedCode::Booking("BK261122000008".into()))
    );
}

/// The USB HID (evdev) driver against the keyboard-wedge simulator: the
/// driver reads `input_event` records from the node's path, as it reads
/// `/dev/input/by-id/…-event-kbd` on a kiosk.
#[test]
fn hid_scanner_types_codes_and_survives_unplugging() {
    use device_drivers::scanner::spawn_hid_scanner;
    use device_drivers::sim::HidScannerSim;
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("usb-Newland_Scanner-event-kbd");
    let mut sim = HidScannerSim::plug(&node).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ev = events.clone();
    let worker = spawn_hid_scanner(
        node.to_string_lossy().into_owned(),
        dir.path().into(),
        stop.clone(),
        move |e| ev.lock().unwrap().push(e),
    );
    // A deadline generous enough for a loaded machine.
    let wait_n = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if events.lock().unwrap().len() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{:?}", events.lock().unwrap());
    };
    wait_n(1);
    sim.scan("BK261122000007").unwrap();
    sim.slow_scan(
        "https://tj.example.cn/b/BK261122000008",
        Duration::from_millis(5),
    )
    .unwrap();
    sim.unknown_key().unwrap();
    sim.scan("00123567").unwrap();
    wait_n(5);
    sim.unplug();
    wait_n(6);
    sim.replug().unwrap();
    wait_n(7);
    sim.scan("00123456").unwrap();
    wait_n(8);
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    let e = events.lock().unwrap();
    assert!(
        matches!(&e[0], ScanEvent::State(s) if s.label() == "ok"),
        "{e:?}"
    );
    assert_eq!(
        e[1],
        ScanEvent::Code(ScannedCode::Booking("BK261122000007".into()))
    );
    assert_eq!(
        e[2],
        ScanEvent::Code(ScannedCode::Booking("BK261122000008".into()))
    );
    assert!(
        matches!(&e[3], ScanEvent::Rejected(m) if m.contains("key code 183")),
        "{:?}",
        e[3]
    );
    assert_eq!(
        e[4],
        ScanEvent::Code(ScannedCode::ExamNo("00123567".into()))
    );
    assert!(
        matches!(&e[5], ScanEvent::State(s) if s.label() == "unplugged"),
        "{e:?}"
    );
    assert!(
        matches!(&e[6], ScanEvent::State(s) if s.label() == "ok"),
        "{e:?}"
    );
    assert!(
        matches!(&e[7], ScanEvent::Rejected(m) if m.contains("digit 4")),
        "{:?}",
        e[7]
    );
}
