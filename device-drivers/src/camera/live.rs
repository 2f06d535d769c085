//! One thread owns the camera and shares its latest picture.
//!
//! A V4L2 device streams to one reader, and the kiosk has three: the photo
//! screen's preview, the code reader (a QR code held up to the camera) and
//! the face worker. They read [`CameraHandle::latest`] or wait for a newer
//! picture with [`CameraHandle::next_after`]; none of them blocks the
//! others or the camera.
//!
//! The thread opens the camera, reads until it fails, and opens it again
//! after `retry`: an unplugged camera comes back when it is plugged in
//! again, a stalled one (no picture for the driver timeout) is reset by
//! closing and reopening it. [`CameraHandle::status`] says which, for the
//! heartbeat and the technician.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::{CameraError, FrameSource, Picture, ReplaySource};
use crate::DeviceState;

/// Opens the camera (again): what the thread calls at start and after a
/// failure.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, CameraError> + Send>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Not opened yet.
    Starting,
    Streaming,
    /// Unplugged: the device is gone; it is looked for again.
    Unplugged(String),
    /// Open failed, a stall, or a broken stream; it is reopened.
    Faulty(String),
}

impl CameraStatus {
    pub fn device_state(&self) -> DeviceState {
        match self {
            CameraStatus::Streaming => DeviceState::Ok,
            CameraStatus::Starting => DeviceState::Unplugged("not opened yet".into()),
            CameraStatus::Unplugged(s) => DeviceState::Unplugged(s.clone()),
            CameraStatus::Faulty(s) => DeviceState::Faulty(s.clone()),
        }
    }
}

struct State {
    latest: Option<(u64, Arc<Picture>)>,
    status: CameraStatus,
}

struct Shared {
    state: Mutex<State>,
    fresh: Condvar,
    stop: AtomicBool,
    opens: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_status(&self, s: CameraStatus) {
        let mut st = self.lock();
        if st.status != s {
            match &s {
                CameraStatus::Streaming => tracing::info!("camera streaming"),
                CameraStatus::Unplugged(why) | CameraStatus::Faulty(why) => {
                    tracing::warn!(status = ?s, why, "camera down");
                }
                CameraStatus::Starting => {}
            }
        }
        // A camera that is down has no picture: the last one it sent must
        // not become a later patient's photo or face.
        if matches!(s, CameraStatus::Unplugged(_) | CameraStatus::Faulty(_)) {
            st.latest = None;
        }
        st.status = s;
        drop(st);
        self.fresh.notify_all();
    }
}

/// The camera thread; stops (within the driver's timeout) when dropped.
pub struct LiveCamera {
    handle: CameraHandle,
}

/// What readers hold: cheap to clone, and no owner of the thread.
#[derive(Clone)]
pub struct CameraHandle {
    shared: Arc<Shared>,
}

impl LiveCamera {
    /// Starts the thread. `pace`: a pause after each picture (a replay,
    /// which would otherwise spin; a camera paces itself).
    pub fn start(mut open: Opener, pace: Option<Duration>, retry: Duration) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                latest: None,
                status: CameraStatus::Starting,
            }),
            fresh: Condvar::new(),
            stop: AtomicBool::new(false),
            opens: AtomicU64::new(0),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || {
                let mut seq = 0u64;
                while !s.stop.load(Ordering::Relaxed) {
                    s.opens.fetch_add(1, Ordering::Relaxed);
                    // A driver's odd answer can panic inside the v4l crate
                    // (a value it has no name for, a stream that will not
                    // stop): that is a faulty camera, reopened, not the end
                    // of this thread.
                    let cycle =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match open() {
                            Ok(mut src) => {
                                s.set_status(CameraStatus::Streaming);
                                read_until_failure(&s, src.as_mut(), &mut seq, pace);
                            }
                            Err(e) => s.set_status(down(&e)),
                        }));
                    if cycle.is_err() {
                        s.set_status(CameraStatus::Faulty(
                            "the camera's driver layer panicked".into(),
                        ));
                    }
                    sleep_unless_stopped(&s, retry);
                }
            })
            .expect("spawning the camera thread");
        Self {
            handle: CameraHandle { shared },
        }
    }

    /// A replay of pictures, one every `source.interval()`.
    pub fn replay(source: ReplaySource) -> Self {
        let pace = source.interval();
        let mut once = Some(source);
        let open: Opener = Box::new(move || match once.take() {
            Some(s) => Ok(Box::new(s) as Box<dyn FrameSource>),
            None => Err(CameraError::Empty),
        });
        Self::start(open, Some(pace), Duration::from_secs(3600))
    }

    /// A V4L2 camera at `path` (Linux), reopened a second after it fails.
    pub fn v4l2(path: PathBuf, want: (u32, u32)) -> Self {
        let open: Opener = Box::new(move || {
            super::v4l2::V4l2Camera::open(&path, want, Duration::from_secs(2))
                .map(|c| Box::new(c) as Box<dyn FrameSource>)
        });
        Self::start(open, None, Duration::from_secs(1))
    }

    pub fn handle(&self) -> CameraHandle {
        self.handle.clone()
    }
}

impl Drop for LiveCamera {
    fn drop(&mut self) {
        self.handle.shared.stop.store(true, Ordering::Relaxed);
        self.handle.shared.fresh.notify_all();
    }
}

fn down(e: &CameraError) -> CameraStatus {
    match e {
        CameraError::Unplugged(_) => CameraStatus::Unplugged(e.to_string()),
        _ => CameraStatus::Faulty(e.to_string()),
    }
}

/// At most this many pictures a second are converted and shared: the
/// readers look a few times a second, a camera sends 30 or 60.
pub const MAX_RATE: u32 = 15;

fn read_until_failure(
    s: &Shared,
    src: &mut dyn FrameSource,
    seq: &mut u64,
    pace: Option<Duration>,
) {
    let mut bad_in_a_row = 0;
    let mut shared_at: Option<std::time::Instant> = None;
    while !s.stop.load(Ordering::Relaxed) {
        // A camera's frames between two shared pictures are taken off its
        // queue unconverted (a replay is paced instead).
        if pace.is_none()
            && shared_at.is_some_and(|t| t.elapsed() < Duration::from_secs(1) / MAX_RATE)
        {
            match src.skip_picture() {
                Ok(_) => bad_in_a_row = 0,
                Err(CameraError::Image { .. }) if bad_in_a_row < 10 => bad_in_a_row += 1,
                Err(e) => {
                    s.set_status(down(&e));
                    return;
                }
            }
            continue;
        }
        match src.next_picture() {
            Ok(p) => {
                shared_at = Some(std::time::Instant::now());
                bad_in_a_row = 0;
                *seq += 1;
                s.lock().latest = Some((*seq, Arc::new(p)));
                s.fresh.notify_all();
                if let Some(d) = pace {
                    sleep_unless_stopped(s, d);
                }
            }
            // One undecodable frame (a torn Motion-JPEG) is skipped.
            Err(CameraError::Image { reason, .. }) if bad_in_a_row < 10 => {
                bad_in_a_row += 1;
                tracing::debug!(reason, "camera frame skipped");
            }
            Err(e) => {
                s.set_status(down(&e));
                return;
            }
        }
    }
}

fn sleep_unless_stopped(s: &Shared, d: Duration) {
    let st = s.lock();
    let _ = s
        .fresh
        .wait_timeout_while(st, d, |_| !s.stop.load(Ordering::Relaxed));
}

impl CameraHandle {
    /// The newest picture and its number (numbers rise by one a picture).
    pub fn latest(&self) -> Option<(u64, Arc<Picture>)> {
        self.shared.lock().latest.clone()
    }

    /// The first picture newer than number `after`, waiting up to `wait`:
    /// `Stalled` if none came, the camera's failure if it is down.
    pub fn next_after(
        &self,
        after: u64,
        wait: Duration,
    ) -> Result<(u64, Arc<Picture>), CameraError> {
        let st = self.shared.lock();
        let (st, _) = self
            .shared
            .fresh
            .wait_timeout_while(st, wait, |st| {
                st.latest.as_ref().is_none_or(|(n, _)| *n <= after)
                    && !matches!(
                        st.status,
                        CameraStatus::Unplugged(_) | CameraStatus::Faulty(_)
                    )
                    && !self.shared.stop.load(Ordering::Relaxed)
            })
            .unwrap_or_else(PoisonError::into_inner);
        match (&st.latest, &st.status) {
            (Some((n, p)), _) if *n > after => Ok((*n, p.clone())),
            (_, CameraStatus::Unplugged(why)) => Err(CameraError::Unplugged(why.clone())),
            (_, CameraStatus::Faulty(why)) => Err(CameraError::Unavailable(why.clone())),
            _ => Err(CameraError::Stalled(wait)),
        }
    }

    pub fn status(&self) -> CameraStatus {
        self.shared.lock().status.clone()
    }

    /// How many times the camera was opened (1 while nothing failed).
    pub fn opens(&self) -> u64 {
        self.shared.opens.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Instant;

    use super::*;

    /// A camera that gives what it is told, then the error it is told.
    struct Scripted(VecDeque<Result<u8, CameraError>>);

    impl FrameSource for Scripted {
        fn next_picture(&mut self) -> Result<Picture, CameraError> {
            // A camera's frame interval (fast), so a reader has time to
            // take a picture before what follows it in the script.
            std::thread::sleep(Duration::from_millis(10));
            match self.0.pop_front() {
                Some(Ok(v)) => Ok(Picture {
                    width: 1,
                    height: 1,
                    bgr: vec![v; 3],
                    at: Duration::ZERO,
                }),
                Some(Err(e)) => Err(e),
                // Nothing more: as a camera whose driver times out.
                None => {
                    std::thread::sleep(Duration::from_millis(20));
                    Err(CameraError::Stalled(Duration::from_millis(20)))
                }
            }
        }
    }

    fn wait_for(h: &CameraHandle, what: impl Fn(&CameraStatus) -> bool) -> CameraStatus {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let s = h.status();
            if what(&s) || Instant::now() > until {
                return s;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn readers_see_every_picture_in_order_and_a_stall_reopens_the_camera() {
        let mut scripts = VecDeque::from([
            Scripted(VecDeque::from([Ok(1), Ok(2), Ok(3)])),
            Scripted(VecDeque::from([Ok(4)])),
        ]);
        let open: Opener = Box::new(move || {
            scripts
                .pop_front()
                .map(|s| Box::new(s) as Box<dyn FrameSource>)
                .ok_or_else(|| CameraError::Unplugged("gone".into()))
        });
        let cam = LiveCamera::start(
            open,
            Some(Duration::from_millis(30)),
            Duration::from_millis(10),
        );
        let h = cam.handle();
        let mut seen = Vec::new();
        let mut faults = 0;
        let mut after = 0;
        while seen.len() < 4 && faults < 100 {
            match h.next_after(after, Duration::from_secs(5)) {
                Ok((n, p)) => {
                    assert_eq!(n, after + 1, "no picture skipped at this pace");
                    after = n;
                    seen.push(p.bgr[0]);
                }
                // Between the stall and the reopen the camera is down.
                Err(CameraError::Unavailable(why)) => {
                    assert!(why.contains("no picture"), "{why}");
                    faults += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(seen, [1, 2, 3, 4]);
        assert!(h.opens() >= 2, "reopened after the stall");
        // The third open finds nothing: unplugged, and said so.
        let s = wait_for(&h, |s| matches!(s, CameraStatus::Unplugged(_)));
        assert_eq!(s.device_state().label(), "unplugged");
        let e = h.next_after(after, Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, CameraError::Unplugged(_)), "{e}");
    }

    #[test]
    fn an_unplugged_camera_is_found_again_when_plugged_back() {
        let mut tries = 0;
        let open: Opener = Box::new(move || {
            tries += 1;
            if tries < 3 {
                return Err(CameraError::Unplugged(
                    "/dev/video0: open: No such device".into(),
                ));
            }
            Ok(Box::new(Scripted(VecDeque::from([Ok(9)]))) as Box<dyn FrameSource>)
        });
        let cam = LiveCamera::start(open, None, Duration::from_millis(10));
        let h = cam.handle();
        // Readers are told it is unplugged until it is back.
        let until = Instant::now() + Duration::from_secs(5);
        let p = loop {
            match h.next_after(0, Duration::from_secs(5)) {
                Ok((_, p)) => break p,
                Err(CameraError::Unplugged(why)) if Instant::now() < until => {
                    assert!(why.contains("No such device"), "{why}");
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(p.bgr[0], 9);
        assert!(h.opens() >= 3);
    }

    #[test]
    fn a_torn_frame_is_skipped_and_a_run_of_them_is_a_fault() {
        let torn = || {
            Err(CameraError::Image {
                path: "/dev/video0".into(),
                reason: "torn".into(),
            })
        };
        let mut script: VecDeque<_> = VecDeque::from([torn(), Ok(5)]);
        script.extend((0..20).map(|_| torn()));
        let mut once = Some(Scripted(script));
        let open: Opener = Box::new(move || {
            once.take()
                .map(|s| Box::new(s) as Box<dyn FrameSource>)
                .ok_or(CameraError::Empty)
        });
        let cam = LiveCamera::start(open, None, Duration::from_secs(60));
        let h = cam.handle();
        let (_, p) = h.next_after(0, Duration::from_secs(5)).unwrap();
        assert_eq!(p.bgr[0], 5);
        let s = wait_for(&h, |s| matches!(s, CameraStatus::Faulty(_)));
        assert!(
            matches!(s, CameraStatus::Faulty(ref w) if w.contains("torn")),
            "{s:?}"
        );
    }

    #[test]
    fn a_replay_is_paced_and_loops() {
        let frames = (0..3u8)
            .map(|v| super::super::Frame {
                width: 1,
                height: 1,
                luma: vec![v],
            })
            .collect();
        let cam = LiveCamera::replay(ReplaySource::new(frames));
        let h = cam.handle();
        let t0 = Instant::now();
        let mut after = 0;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (n, p) = h.next_after(after, Duration::from_secs(5)).unwrap();
            after = n;
            seen.push(p.bgr[0]);
        }
        assert_eq!(seen, [0, 1, 2, 0]);
        assert!(t0.elapsed() >= Duration::from_millis(500), "200 ms apart");
    }
}
