//! The kiosk's devices as one stream of inputs: each device runs on its own
//! thread (drivers are blocking) and sends what it saw; the check-in loop
//! consumes them, together with scripted input, in arrival order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use device_drivers::camera::ReplaySource;
use device_drivers::camera::live::{CameraHandle, LiveCamera};
use device_drivers::config::{CameraConfig, DeviceConfig, IdCardConfig, ScannerConfig};
use device_drivers::idcard::{self, CardKind, CardRead, IdCardEvent, WltDecoder};
use device_drivers::scanner::{self, ScanEvent, ScannedCode};
use exam_domain::IdentityQuery;
use exam_protocol::DeviceState;
use tokio::sync::mpsc::UnboundedSender;

use crate::flow::Holder;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A patient identified themselves.
    Identify(IdentityQuery),
    /// A code read by the camera. The camera sees whatever is in front of
    /// it (the guide sheet just printed, a bystander's phone), so it only
    /// starts a check-in where a scan would be expected: on the start
    /// screen and a problem screen.
    CameraCode(IdentityQuery),
    /// An ID card was read: its holder identifies, or books (K17).
    Card(Card),
    /// A device saw something it could not use (unreadable card, foreign
    /// card without an ID number). The message is for the log; what the
    /// patient reads is the screen's (`screens`).
    Problem {
        device: &'static str,
        message: String,
    },
    /// A device's state changed, for the heartbeat.
    DeviceState {
        device: &'static str,
        state: DeviceState,
    },
}

/// An ID card as read: its holder for the flow, its photo for the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub holder: Holder,
    /// The card's photo, when the reader vendor's library decoded it: the
    /// guide sheet's photo when the camera took none (only with consent),
    /// and what 人证核验 compares the holder's face with.
    pub photo: Option<Arc<idcard::Photo>>,
}

impl From<Holder> for Card {
    /// A card whose photo was not decoded (or a script's card).
    fn from(holder: Holder) -> Self {
        Self {
            holder,
            photo: None,
        }
    }
}

/// What the kiosk asks for from a card. A foreign permanent resident card
/// carries no resident ID number; such patients are served at the desk.
pub fn card_query(card: &CardRead) -> Result<IdentityQuery, String> {
    if card.text.kind == CardKind::ForeignPermanentResident {
        return Err("a foreign permanent resident card: served at the front desk".into());
    }
    card.text
        .id_number()
        .map(|id_number| IdentityQuery::IdNumber { id_number })
        .ok_or_else(|| "the card's ID number is not valid".into())
}

/// A running device thread; stops when dropped.
#[derive(Debug)]
pub struct DeviceHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DeviceHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts every input device the configuration names: the ID card reader,
/// each scanner (serial or USB HID), the PC/SC watcher. A device that is
/// missing is reported unplugged and picked up when it appears.
pub fn start_inputs(c: &DeviceConfig, tx: &UnboundedSender<Input>) -> Vec<DeviceHandle> {
    let mut handles = Vec::new();
    if let Some(id) = &c.idcard {
        handles.push(start_idcard(id, tx.clone()));
    }
    for (i, s) in c.scanners.iter().enumerate() {
        // The fleet view lists each scanner; the first keeps the plain name.
        let name: &'static str = ["scanner", "scanner-2", "scanner-3", "scanner-4"]
            .get(i)
            .copied()
            .unwrap_or("scanner-n");
        handles.push(match s {
            ScannerConfig::Serial { port, baud } => start_scanner(name, port, *baud, tx.clone()),
            ScannerConfig::Hid { device } => start_hid_scanner(name, device, tx.clone()),
        });
    }
    if c.smartcard.is_some() {
        handles.push(start_smartcard(tx.clone()));
    }
    handles
}

/// The card photo decoder, when a vendor library is configured. One that
/// cannot be loaded is logged and reported; cards are still read.
fn photo_decoder(c: &IdCardConfig, tx: &UnboundedSender<Input>) -> Option<Arc<WltDecoder>> {
    let lib = c.photo_library.as_ref()?;
    match WltDecoder::load(lib, &c.photo_symbol) {
        Ok(d) => Some(Arc::new(d)),
        Err(e) => {
            tracing::error!(error = %e, "the ID card photo library is not usable; the camera photo is used");
            let _ = tx.send(Input::DeviceState {
                device: "idcard-photo",
                state: DeviceState::Faulty,
            });
            None
        }
    }
}

/// Starts the ID card reader (a serial device or a simulator's
/// pseudo-terminal).
pub fn start_idcard(c: &IdCardConfig, tx: UnboundedSender<Input>) -> DeviceHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let decoder = photo_decoder(c, &tx);
    let thread = idcard::spawn_reader(
        c.port.clone(),
        c.baud,
        Duration::from_millis(c.poll_ms),
        stop.clone(),
        move |e| {
            let input = match e {
                IdCardEvent::Card(card) => match card_query(&card) {
                    Ok(IdentityQuery::IdNumber { id_number }) => {
                        let photo = decoder.as_ref().and_then(|d| {
                            d.decode(&card.photo_wlt)
                                .map_err(|e| tracing::warn!(error = %e, "card photo not decoded"))
                                .ok()
                        });
                        Input::Card(Card {
                            holder: Holder {
                                id_number,
                                name: card.text.name.clone(),
                                photo: photo.is_some(),
                            },
                            photo: photo.map(Arc::new),
                        })
                    }
                    Ok(q) => Input::Identify(q),
                    Err(message) => Input::Problem {
                        device: "idcard",
                        message,
                    },
                },
                IdCardEvent::Unreadable(why) => Input::Problem {
                    device: "idcard",
                    message: format!("the card could not be read ({why})"),
                },
                IdCardEvent::State(s) => Input::DeviceState {
                    device: "idcard",
                    state: DeviceState::from_label(s.label()),
                },
            };
            let _ = tx.send(input);
        },
    );
    DeviceHandle {
        stop,
        thread: Some(thread),
    }
}

/// What the kiosk asks for from a scanned code.
pub fn code_query(code: &ScannedCode) -> Result<IdentityQuery, String> {
    match code {
        ScannedCode::Booking(code) => Ok(IdentityQuery::BookingCode { code: code.clone() }),
        ScannedCode::ExamNo(exam_no) => Ok(IdentityQuery::ExamNo {
            exam_no: exam_no.clone(),
        }),
        ScannedCode::EHealthCard(_) => Err("an e-health card: not accepted yet".into()),
    }
}

/// Starts the camera the configuration names: a V4L2 device, else a replay
/// of PNG files; none without either.
pub fn start_camera(c: &CameraConfig) -> anyhow::Result<Option<LiveCamera>> {
    use anyhow::Context as _;
    if let Some(dev) = &c.device {
        return Ok(Some(LiveCamera::v4l2(dev.clone(), (c.width, c.height))));
    }
    if c.replay.is_empty() {
        return Ok(None);
    }
    let replay = ReplaySource::from_pngs(&c.replay).context("camera replay frames")?;
    Ok(Some(LiveCamera::replay(replay)))
}

/// The camera as a second way to scan: a booking QR code (or an exam
/// number's barcode) held up to it identifies as at a scanner
/// ([`Input::CameraCode`]). A code is reported when it appears, not again
/// while it stays in view (it must be gone for two seconds first); four
/// looks a second leave the cores to the face worker. A code that is not
/// ours is reported without its text: the camera reads whatever is in view
/// (a payment or health code on a phone), and that is not the journal's.
pub fn start_camera_codes(cam: CameraHandle, tx: UnboundedSender<Input>) -> DeviceHandle {
    use device_drivers::scanner::CodeError;
    let stop = Arc::new(AtomicBool::new(false));
    let halt = stop.clone();
    let thread = std::thread::Builder::new()
        .name("camera-codes".into())
        .spawn(move || {
            let mut after = 0;
            let mut state = None;
            let mut shown: Option<(String, std::time::Instant)> = None;
            while !halt.load(Ordering::Relaxed) {
                let now = cam.status().device_state();
                if state.as_ref() != Some(&now) {
                    let _ = tx.send(Input::DeviceState {
                        device: "camera",
                        state: DeviceState::from_label(now.label()),
                    });
                    state = Some(now);
                }
                let picture = match cam.next_after(after, Duration::from_secs(1)) {
                    Ok((n, p)) => {
                        after = n;
                        p
                    }
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(500));
                        continue;
                    }
                };
                if let Some(read) = picture.to_frame().scan() {
                    let text = match &read {
                        Ok(code) => format!("{code:?}"),
                        Err(e) => e.to_string(),
                    };
                    let again = shown
                        .as_ref()
                        .is_some_and(|(t, at)| *t == text && at.elapsed() < Duration::from_secs(2));
                    if !again {
                        let input = match read.as_ref().map(code_query) {
                            Ok(Ok(q)) => Input::CameraCode(q),
                            Ok(Err(message)) => Input::Problem {
                                device: "camera",
                                message,
                            },
                            Err(CodeError::Unknown(t) | CodeError::FourInExamNo(t)) => {
                                Input::Problem {
                                    device: "camera",
                                    message: format!(
                                        "a code that is not ours ({} characters)",
                                        t.chars().count()
                                    ),
                                }
                            }
                            Err(e) => Input::Problem {
                                device: "camera",
                                message: format!("code not recognised ({e})"),
                            },
                        };
                        let _ = tx.send(input);
                    }
                    shown = Some((text, std::time::Instant::now()));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
        .expect("spawning the camera code reader");
    DeviceHandle {
        stop,
        thread: Some(thread),
    }
}

/// Starts a serial code scanner on `path`.
pub fn start_scanner(
    name: &'static str,
    path: &str,
    baud: u32,
    tx: UnboundedSender<Input>,
) -> DeviceHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let thread = scanner::spawn_scanner(path.into(), baud, stop.clone(), scan_input(name, tx));
    DeviceHandle {
        stop,
        thread: Some(thread),
    }
}

/// Starts a USB HID (keyboard-wedge) scanner: `device` is its event node's
/// path or a part of its name.
pub fn start_hid_scanner(
    name: &'static str,
    device: &str,
    tx: UnboundedSender<Input>,
) -> DeviceHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let thread = scanner::spawn_hid_scanner(
        device.into(),
        "/sys/class/input".into(),
        stop.clone(),
        scan_input(name, tx),
    );
    DeviceHandle {
        stop,
        thread: Some(thread),
    }
}

/// What a scanner's events become, whichever kind of scanner it is.
fn scan_input(name: &'static str, tx: UnboundedSender<Input>) -> impl FnMut(ScanEvent) + Send {
    move |e| {
        let input = match e {
            ScanEvent::Code(code) => match code_query(&code) {
                Ok(q) => Input::Identify(q),
                Err(message) => Input::Problem {
                    device: name,
                    message,
                },
            },
            ScanEvent::Rejected(why) => Input::Problem {
                device: name,
                message: format!("code not recognised ({why})"),
            },
            ScanEvent::State(s) => Input::DeviceState {
                device: name,
                state: DeviceState::from_label(s.label()),
            },
        };
        let _ = tx.send(input);
    }
}

/// Starts the PC/SC watcher: a social security card identifies its holder.
pub fn start_smartcard(tx: UnboundedSender<Input>) -> DeviceHandle {
    use device_drivers::smartcard::{self, SmartCardEvent};
    let stop = Arc::new(AtomicBool::new(false));
    let thread = smartcard::spawn_watcher(stop.clone(), move |e| {
        let input = match e {
            SmartCardEvent::Inserted(info) => match info.social_security {
                Some(ss) => Input::Identify(IdentityQuery::IdNumber {
                    id_number: ss.id_number,
                }),
                None => Input::Problem {
                    device: "smartcard",
                    message: "the card carries no identity".into(),
                },
            },
            SmartCardEvent::Unreadable { reason, .. } => Input::Problem {
                device: "smartcard",
                message: format!("the card could not be read ({reason})"),
            },
            SmartCardEvent::State(s) => Input::DeviceState {
                device: "smartcard",
                state: DeviceState::from_label(s.label()),
            },
            SmartCardEvent::Removed { .. } | SmartCardEvent::Readers(_) => return,
        };
        let _ = tx.send(input);
    });
    DeviceHandle {
        stop,
        thread: Some(thread),
    }
}
