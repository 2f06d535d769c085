//! The touch UI: the Slint window on the main thread, the kiosk (journal,
//! sync, devices, spooler, session) on a tokio runtime beside it. The window
//! only shows the session's [`kiosk_ui::View`] and sends touches back.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use kiosk_ui::KioskWindow;
use kiosk_ui::slint::{self, ComponentHandle};
use tokio::sync::mpsc::UnboundedSender;

use crate::assemble::{self, KioskOptions};
use crate::devices::{self, DeviceHandle};
use crate::flow::{Event, Field, Key, Settings};
use crate::screens::Context;
use crate::session::{self, Session, SessionInput};
use crate::simulate::{self, Simulated};
use crate::voice::Voice;
use device_drivers::camera::Frame;
use device_drivers::camera::live::CameraHandle;
use device_drivers::config::{DeviceConfig, IdCardConfig, PrinterConfig, ScannerConfig};

#[derive(Debug, Clone)]
pub struct UiOptions {
    pub elderly: bool,
    pub english: bool,
    pub photo: bool,
    pub fullscreen: bool,
    pub centre_name: String,
    pub desk: String,
    pub voice_dir: Option<PathBuf>,
    pub volume: f32,
    pub px_per_mm: f32,
    pub simulate: bool,
    /// K3: the face models (`scripts/face-models`), and pictures the face
    /// worker replays instead of the camera's; face check-in is offered
    /// with the models and a camera or a replay.
    pub face_models: Option<PathBuf>,
    pub face_replay: Vec<PathBuf>,
}

fn wire(w: &KioskWindow, tx: &UnboundedSender<SessionInput>) {
    let send = |tx: &UnboundedSender<SessionInput>, i: SessionInput| {
        let _ = tx.send(i);
    };
    macro_rules! on {
        ($cb:ident, |$a:ident : $t:ty| $input:expr) => {{
            let tx = tx.clone();
            w.$cb(move |$a: $t| send(&tx, $input));
        }};
        ($cb:ident, $input:expr) => {{
            let tx = tx.clone();
            w.$cb(move || send(&tx, $input));
        }};
    }
    on!(on_toggle_elderly, SessionInput::ToggleElderly);
    on!(on_toggle_language, SessionInput::ToggleLanguage);
    on!(on_touched, SessionInput::Touched);
    on!(on_call_staff, SessionInput::Event(Event::CallStaff));
    on!(on_open_keypad, SessionInput::Event(Event::OpenKeypad));
    on!(on_start_face, SessionInput::Event(Event::StartFace));
    on!(on_submit_keypad, SessionInput::Event(Event::SubmitKeypad));
    on!(on_print_all, SessionInput::Event(Event::PrintAll));
    on!(on_confirm, SessionInput::Event(Event::Confirm));
    on!(on_take_photo, SessionInput::Event(Event::PhotoTaken));
    on!(on_retake, SessionInput::Event(Event::Retake));
    on!(on_skip_photo, SessionInput::Event(Event::SkipPhoto));
    on!(on_cancel, SessionInput::Event(Event::Cancel));
    on!(on_start_booking, SessionInput::Event(Event::StartBooking));
    on!(on_start_reports, SessionInput::Event(Event::StartReports));
    on!(on_open_privacy, SessionInput::Event(Event::OpenPrivacy));
    on!(on_pick, |i: i32| SessionInput::Event(Event::Pick(
        usize::try_from(i).unwrap_or(usize::MAX)
    )));
    on!(on_act, |i: i32| SessionInput::Act(
        usize::try_from(i).unwrap_or(usize::MAX)
    ));
    on!(on_consent, |yes: bool| SessionInput::Event(Event::Consent(
        yes
    )));
    on!(on_toggle_booking, |id: i32| SessionInput::Event(
        Event::Toggle(i64::from(id))
    ));
    on!(on_select_field, |f: i32| SessionInput::Event(
        Event::SelectField(if f == 0 {
            Field::IdNumber
        } else {
            Field::Mobile
        })
    ));
    on!(on_key, |k: slint::SharedString| {
        let key = match k.as_str() {
            "back" => Key::Back,
            "X" => Key::X,
            d => Key::Digit(d.parse().unwrap_or(u8::MAX)),
        };
        SessionInput::Event(Event::Key(key))
    });
}

/// Runs the kiosk with its touch screen until the window closes.
pub fn run(kiosk: KioskOptions, devs: DeviceConfig, ui: UiOptions) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let window = KioskWindow::new()
        .context("creating the kiosk window (is a display or DRM device available?)")?;
    window
        .global::<kiosk_ui::Theme>()
        .set_px_per_mm(ui.px_per_mm);
    if ui.fullscreen {
        window.window().set_fullscreen(true);
    }
    window.set_photo_preview(placeholder_photo());
    // The photo screen shows the camera's live picture, five frames a second;
    // the latest frame is the photo when the patient takes it.
    let latest_frame = Arc::new(Mutex::new(None));
    let camera = match &devs.camera {
        Some(c) => devices::start_camera(c)?,
        None => None,
    };
    let _preview = camera
        .as_ref()
        .map(|c| camera_preview(&window, c.handle(), latest_frame.clone()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    wire(&window, &tx);

    let mut cx = Context {
        english: ui.english,
        centre_name: ui.centre_name.clone(),
        desk: ui.desk.clone(),
        ..Context::default()
    };
    let settings = Settings {
        elderly: ui.elderly,
        photo: ui.photo,
        face: false,
        face_policy: Default::default(),
    };
    kiosk_ui::View::apply(
        &crate::screens::view(&crate::flow::Flow::new(settings), &cx),
        &window,
    );

    // --simulate: simulators in this process, real drivers on their ports.
    let (sim, devs, kiosk) = if ui.simulate {
        let today = chrono::Utc::now()
            .with_timezone(&exam_domain::centre_offset())
            .date_naive();
        let day = exam_domain::demo::generate(
            exam_domain::demo::DEMO_SEED,
            40,
            today,
            chrono::NaiveTime::MIN,
            chrono::NaiveTime::from_hms_opt(23, 30, 0).expect("valid"),
            "main",
        );
        let s = Simulated::start(day).context("starting the device simulators")?;
        window.set_window_title(
            format!("体检自助签到 (simulated devices: {})", simulate::KEYS).into(),
        );
        let devs = DeviceConfig {
            idcard: Some(IdCardConfig::at(&s.idcard_path)),
            scanners: vec![ScannerConfig::Serial {
                port: s.scanner_path.clone(),
                baud: 9600,
            }],
            ..devs
        };
        let kiosk = KioskOptions {
            receipt_printer: Some(PrinterConfig::at(&s.printer_address)),
            report_printer: None,
            label_printer: None,
            ..kiosk
        };
        (Some(Arc::new(Mutex::new(s))), devs, kiosk)
    } else {
        (None, devs, kiosk)
    };
    {
        let tx = tx.clone();
        let sim = sim.clone();
        window.on_dev_key(move |k| {
            let (Some(sim), Some(key)) = (&sim, simulate::Key::parse(&k)) else {
                return;
            };
            tracing::info!(?key, "developer panel");
            let mut s = sim
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !s.key(&key) {
                let _ = tx.send(SessionInput::SimulatedPayment);
            }
        });
    }

    let face = match (&ui.face_models, &camera, ui.face_replay.is_empty()) {
        (Some(dir), _, false) => Some(crate::face::replay_service(dir, &ui.face_replay)?),
        // Models that cannot be loaded: the kiosk runs without face
        // check-in (the card, code and keypad), it does not stop.
        (Some(dir), Some(cam), true) => match crate::face::camera_service(dir, cam.handle()) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "face check-in is off");
                None
            }
        },
        _ => None,
    };
    let codes_camera = camera.as_ref().map(|c| c.handle());
    let weak = window.as_weak();
    let voice = ui.voice_dir.clone().map(|d| Voice::new(d, ui.volume));
    rt.spawn(async move {
        let kiosk = match assemble::start(kiosk).await {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(error = %e, "the kiosk could not start");
                let msg = e.to_string();
                let _ = weak.upgrade_in_event_loop(move |w| w.set_notice(msg.into()));
                return;
            }
        };
        tracing::info!(kiosk = %kiosk.enrolment.key.kiosk_id, "kiosk ready");
        println!("kiosk {} ready (touch UI)", kiosk.enrolment.key.kiosk_id);
        crate::notify::ready(&format!(
            "kiosk {} enrolled, touch UI up",
            kiosk.enrolment.key.kiosk_id
        ));
        crate::notify::spawn_watchdog();
        let (dtx, mut drx) = tokio::sync::mpsc::unbounded_channel();
        let mut _handles: Vec<DeviceHandle> = devices::start_inputs(&devs, &dtx);
        if let Some(cam) = codes_camera {
            _handles.push(devices::start_camera_codes(cam, dtx.clone()));
        }
        let fwd = tx.clone();
        tokio::spawn(async move {
            while let Some(i) = drx.recv().await {
                let _ = fwd.send(SessionInput::Device(i));
            }
        });
        cx.clock.clear();
        let session = Session::new(
            kiosk.core.clone(),
            kiosk.journal.clone(),
            kiosk.devices.clone(),
            settings,
            cx,
            voice,
            tx,
        )
        .with_camera(latest_frame);
        let session = match face {
            Some(f) => {
                crate::face::start_gallery(
                    &f.gallery,
                    &kiosk.journal,
                    kiosk.core.client().cloned(),
                    Duration::from_secs(120),
                );
                session.with_face(f)
            }
            None => session,
        };
        let (vtx, mut vrx) = tokio::sync::watch::channel(session.view());
        let shown = weak.clone();
        tokio::spawn(async move {
            while vrx.changed().await.is_ok() {
                let v = vrx.borrow_and_update().clone();
                if shown.upgrade_in_event_loop(move |w| v.apply(&w)).is_err() {
                    break;
                }
            }
        });
        session::run(session, rx, vtx).await;
        kiosk.stop().await;
    });
    window.run().context("the window's event loop")?;
    drop(sim);
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// The camera's newest picture on the photo screen, five times a second,
/// in colour; its grey frame is the photo when the patient takes it.
fn camera_preview(
    w: &KioskWindow,
    camera: CameraHandle,
    latest: Arc<Mutex<Option<Frame>>>,
) -> slint::Timer {
    let weak = w.as_weak();
    let timer = slint::Timer::default();
    let mut shown = 0;
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(200),
        move || {
            let Some(w) = weak.upgrade() else {
                return;
            };
            // No picture (the camera is down): no photo either, rather
            // than the last one it sent.
            let Some((n, p)) = camera.latest() else {
                *latest
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                return;
            };
            if n == shown {
                return;
            }
            shown = n;
            let mut buf = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(p.width, p.height);
            for (px, bgr) in buf.make_mut_slice().iter_mut().zip(p.bgr.chunks_exact(3)) {
                *px = slint::Rgb8Pixel {
                    r: bgr[2],
                    g: bgr[1],
                    b: bgr[0],
                };
            }
            w.set_photo_preview(slint::Image::from_rgb8(buf));
            *latest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(p.to_frame());
        },
    );
    timer
}

/// Shown where the camera's picture goes until a camera is configured.
fn placeholder_photo() -> slint::Image {
    let (w, h) = (300u32, 400u32);
    let mut buf = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(w, h);
    for (i, p) in buf.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = ((i as u32 % w) as f32, (i as u32 / w) as f32);
        let head = ((x - 150.0) / 70.0).powi(2) + ((y - 150.0) / 90.0).powi(2) < 1.0;
        let body = ((x - 150.0) / 140.0).powi(2) + ((y - 400.0) / 140.0).powi(2) < 1.0;
        let v = if head || body { 150 } else { 220 };
        *p = slint::Rgb8Pixel {
            r: v,
            g: v,
            b: v + 10,
        };
    }
    slint::Image::from_rgb8(buf)
}
