//! The camera as a second way to scan: a booking QR code held up to it
//! identifies as at a scanner, once while it stays in view, again when it
//! is shown again; a code that is not ours is a device problem, told
//! without its text. Through the kiosk's own camera thread (`LiveCamera`)
//! and code reader.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use device_drivers::camera::live::{LiveCamera, Opener};
use device_drivers::camera::{CameraError, Frame, ReplaySource};
use device_drivers::sim::camera::qr_frame;
use exam_domain::IdentityQuery;
use kiosk_app::devices::{Input, start_camera_codes};

fn nothing() -> Frame {
    Frame {
        width: 640,
        height: 480,
        luma: vec![128; 640 * 480],
    }
}

#[test]
fn a_code_shown_to_the_camera_identifies_once_while_in_view() {
    let code = "BK261206000001";
    // 200 ms a picture: the code held up for 1.2 s, gone for 3 s, shown
    // again, then a code that is not a booking's.
    let mut frames = vec![qr_frame(code); 6];
    frames.extend(vec![nothing(); 15]);
    frames.extend(vec![qr_frame(code); 6]);
    frames.extend(vec![qr_frame("你好"); 3]);
    frames.extend(vec![nothing(); 5]);
    let cam = LiveCamera::replay(ReplaySource::new(frames));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _reader = start_camera_codes(cam.handle(), tx);

    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        match rx.try_recv() {
            Ok(Input::CameraCode(IdentityQuery::BookingCode { code })) => seen.push(code),
            Ok(Input::Problem { device, message }) => {
                assert_eq!(device, "camera");
                seen.push(format!("problem: {message}"));
                break;
            }
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[..2], [code.to_string(), code.to_string()], "{seen:?}");
    // Whatever else the camera reads (a payment code on a phone) stays
    // out of the journal: its kind and length only.
    assert!(
        seen[2].contains("not ours (2 characters)") && !seen[2].contains("你好"),
        "{seen:?}"
    );
}

#[test]
fn the_camera_state_is_reported_for_the_heartbeat() {
    // Not opened yet, then streaming.
    let cam = LiveCamera::replay(ReplaySource::new(vec![nothing()]));
    assert_eq!(states(&cam, "ok"), "ok");
    // A camera that cannot be opened is reported unplugged, never "ok".
    let gone: Opener =
        Box::new(|| Err(CameraError::Unplugged("/dev/video0: No such device".into())));
    let cam = LiveCamera::start(gone, None, Duration::from_millis(50));
    assert_eq!(states(&cam, "unplugged"), "unplugged");
}

/// The camera states the code reader reports until `want` (or 5 s), every
/// one of them checked to be the camera's; the last one.
fn states(cam: &LiveCamera, want: &str) -> &'static str {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _reader = start_camera_codes(cam.handle(), tx);
    let until = Instant::now() + Duration::from_secs(5);
    let mut last = "none";
    while Instant::now() < until && last != want {
        match rx.try_recv() {
            Ok(Input::DeviceState { device, state }) => {
                assert_eq!(device, "camera");
                last = state.as_str();
                assert!(last == "ok" || last == "unplugged", "{last}");
            }
            Ok(other) => panic!("{other:?}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    last
}
