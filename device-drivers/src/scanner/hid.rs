//! USB HID keyboard-wedge scanners, read through evdev.
//!
//! Such a scanner is a keyboard to the kernel: each scan arrives as key
//! presses ending with Enter. The kiosk opens the scanner's event device
//! (`/dev/input/by-id/…-event-kbd`, or found by its name in sysfs), grabs it
//! so the keystrokes reach nobody else (not the console, not the touch UI),
//! and turns the `struct input_event` records it reads into typed codes.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::codes::{CodeError, MAX_CODE_LEN, ScannedCode, classify};
use super::line::ScanEvent;
use crate::DeviceState;
use crate::serial::{Reporter, sleep_unless_stopped};

/// `struct input_event` on 64-bit Linux: a `timeval` (two 64-bit fields),
/// then type, code (16-bit) and value (32-bit), in native byte order.
pub const EVENT_SIZE: usize = 24;
pub const EV_SYN: u16 = 0;
pub const EV_KEY: u16 = 1;
pub const EV_MSC: u16 = 4;
const KEY_ENTER: u16 = 28;
const KEY_KPENTER: u16 = 96;
const KEY_TAB: u16 = 15;
const KEY_LEFTSHIFT: u16 = 42;
const KEY_RIGHTSHIFT: u16 = 54;
const KEY_CAPSLOCK: u16 = 58;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HidError {
    #[error(
        "key code {0} is not a character a scanner sends (is the scanner set to a US keyboard layout?)"
    )]
    UnknownKey(u16),
    #[error("the scan ran past {MAX_CODE_LEN} characters without an Enter")]
    Overlong,
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// One `input_event` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEvent {
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

impl InputEvent {
    pub fn to_bytes(self) -> [u8; EVENT_SIZE] {
        let mut b = [0u8; EVENT_SIZE];
        b[16..18].copy_from_slice(&self.kind.to_ne_bytes());
        b[18..20].copy_from_slice(&self.code.to_ne_bytes());
        b[20..24].copy_from_slice(&self.value.to_ne_bytes());
        b
    }

    fn from_bytes(b: &[u8]) -> Self {
        Self {
            kind: u16::from_ne_bytes([b[16], b[17]]),
            code: u16::from_ne_bytes([b[18], b[19]]),
            value: i32::from_ne_bytes([b[20], b[21], b[22], b[23]]),
        }
    }
}

/// The character a key gives on a US layout (the layout scanners default
/// to), unshifted and shifted.
fn keymap(code: u16) -> Option<(char, char)> {
    const ROW_1: &[u8; 12] = b"1234567890-=";
    const ROW_1S: &[u8; 12] = b"!@#$%^&*()_+";
    const ROW_Q: &[u8; 12] = b"qwertyuiop[]";
    const ROW_QS: &[u8; 12] = b"QWERTYUIOP{}";
    const ROW_A: &[u8; 12] = b"asdfghjkl;'`";
    const ROW_AS: &[u8; 12] = b"ASDFGHJKL:\"~";
    const ROW_Z: &[u8; 11] = b"\\zxcvbnm,./";
    const ROW_ZS: &[u8; 11] = b"|ZXCVBNM<>?";
    let pick = |row: &[u8], shifted: &[u8], i: u16| {
        let i = usize::from(i);
        Some((char::from(row[i]), char::from(shifted[i])))
    };
    match code {
        2..=13 => pick(ROW_1, ROW_1S, code - 2),
        16..=27 => pick(ROW_Q, ROW_QS, code - 16),
        30..=41 => pick(ROW_A, ROW_AS, code - 30),
        43..=53 => pick(ROW_Z, ROW_ZS, code - 43),
        57 => Some((' ', ' ')),
        55 => Some(('*', '*')),
        // The keypad, which some scanners use for digits.
        71..=83 => {
            let c = char::from(b"789-456+1230."[usize::from(code - 71)]);
            Some((c, c))
        }
        98 => Some(('/', '/')),
        _ => None,
    }
}

/// Turns evdev records into scans: shift and caps lock tracked, Enter (or
/// Tab, which some scanners are set to send) ends a scan.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    partial: Vec<u8>,
    line: String,
    shift: u8,
    caps: bool,
    /// The first problem in the scan being typed, reported at its end.
    bad: Option<HidError>,
}

impl KeyDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes read from the event device (records may arrive split);
    /// returns every complete scan in them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<ScannedCode, HidError>> {
        self.partial.extend_from_slice(bytes);
        let whole = self.partial.len() / EVENT_SIZE * EVENT_SIZE;
        let records: Vec<u8> = self.partial.drain(..whole).collect();
        records
            .chunks_exact(EVENT_SIZE)
            .filter_map(|r| self.event(InputEvent::from_bytes(r)))
            .collect()
    }

    fn event(&mut self, e: InputEvent) -> Option<Result<ScannedCode, HidError>> {
        if e.kind != EV_KEY {
            return None; // SYN reports, MSC scan codes, LEDs
        }
        let shift_key = e.code == KEY_LEFTSHIFT || e.code == KEY_RIGHTSHIFT;
        match e.value {
            0 if shift_key => self.shift = self.shift.saturating_sub(1),
            1 if shift_key => self.shift = self.shift.saturating_add(1).min(2),
            1 if e.code == KEY_CAPSLOCK => self.caps = !self.caps,
            1 if matches!(e.code, KEY_ENTER | KEY_KPENTER | KEY_TAB) => return self.finish(),
            1 => self.key(e.code),
            // Releases, and autorepeat (2): a scanner never holds a key.
            _ => {}
        }
        None
    }

    fn key(&mut self, code: u16) {
        if self.bad.is_some() {
            return;
        }
        let Some((plain, shifted)) = keymap(code) else {
            self.bad = Some(HidError::UnknownKey(code));
            return;
        };
        let mut c = if self.shift > 0 { shifted } else { plain };
        if self.caps && c.is_ascii_alphabetic() {
            c = if self.shift > 0 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
        }
        if self.line.len() >= MAX_CODE_LEN {
            self.bad = Some(HidError::Overlong);
        } else {
            self.line.push(c);
        }
    }

    fn finish(&mut self) -> Option<Result<ScannedCode, HidError>> {
        let line = std::mem::take(&mut self.line);
        if let Some(e) = self.bad.take() {
            return Some(Err(e));
        }
        if line.is_empty() {
            return None;
        }
        Some(classify(&line).map_err(HidError::from))
    }
}

/// The key presses and releases a scanner sends for `text` followed by
/// Enter, as `input_event` records (used by the simulator, and by tests).
pub fn type_text(text: &str) -> Vec<InputEvent> {
    let mut out = Vec::new();
    let mut key = |code: u16, value: i32| {
        out.push(InputEvent {
            kind: EV_KEY,
            code,
            value,
        });
        out.push(InputEvent {
            kind: EV_SYN,
            code: 0,
            value: 0,
        });
    };
    for c in text.chars() {
        let found = (1..=98u16).find_map(|code| {
            keymap(code).and_then(|(plain, shifted)| {
                if plain == c {
                    Some((code, false))
                } else if shifted == c {
                    Some((code, true))
                } else {
                    None
                }
            })
        });
        // A character no key gives is typed as the key the scanner would
        // get wrong: code 0 (KEY_RESERVED), which the driver refuses.
        let (code, shift) = found.unwrap_or((0, false));
        if shift {
            key(KEY_LEFTSHIFT, 1);
        }
        key(code, 1);
        key(code, 0);
        if shift {
            key(KEY_LEFTSHIFT, 0);
        }
    }
    key(KEY_ENTER, 1);
    key(KEY_ENTER, 0);
    out
}

/// Finds a scanner's event device: `spec` is a path (`/dev/input/by-id/…`)
/// or a part of the device's name as the kernel reports it
/// (`/sys/class/input/eventN/device/name`, e.g. "Newland" or "Honeywell").
pub fn find_device(spec: &str, sys_input: &Path) -> io::Result<PathBuf> {
    if spec.starts_with('/') {
        return Ok(PathBuf::from(spec));
    }
    let needle = spec.to_lowercase();
    let mut found: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(sys_input)? {
        let entry = entry?;
        let node = entry.file_name().to_string_lossy().into_owned();
        if !node.starts_with("event") {
            continue;
        }
        let name = std::fs::read_to_string(entry.path().join("device/name")).unwrap_or_default();
        if name.to_lowercase().contains(&needle) {
            found.push(node);
        }
    }
    found.sort();
    found
        .first()
        .map(|n| Path::new("/dev/input").join(n))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no input device named like {spec:?}"),
            )
        })
}

/// Opens an event device for reading without blocking, and grabs it.
#[allow(unsafe_code)] // one ioctl, no safe wrapper in std
fn open_grabbed(path: &Path) -> io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    // EVIOCGRAB = _IOW('E', 0x90, int): the scanner's keys go to us alone.
    const EVIOCGRAB: libc::c_ulong = 0x4004_4590;
    // SAFETY: a plain ioctl on a file descriptor we own, with an int argument.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), EVIOCGRAB as _, 1 as libc::c_int) };
    if r != 0 {
        let e = io::Error::last_os_error();
        // Not an evdev node (a FIFO in the simulator): nothing to grab.
        if e.raw_os_error() != Some(libc::ENOTTY) && e.raw_os_error() != Some(libc::EINVAL) {
            return Err(e);
        }
        tracing::debug!(path = %path.display(), "not an evdev node, reading it without a grab");
    }
    Ok(f)
}

/// Waits up to `ms` for the device to have something to read.
#[allow(unsafe_code)] // poll(2), no safe wrapper in std
fn wait_readable(f: &File, ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(r > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
}

/// Runs a HID scanner on its own thread until `stop` is set: found by path
/// or name, grabbed, read; reported unplugged when it goes (ENODEV) and
/// picked up again when it comes back.
pub fn spawn_hid_scanner(
    spec: String,
    sys_input: PathBuf,
    stop: Arc<AtomicBool>,
    mut emit: impl FnMut(ScanEvent) + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut report = Reporter::new("scanner", &mut emit, ScanEvent::State);
        while !stop.load(Ordering::Relaxed) {
            let opened = find_device(&spec, &sys_input).and_then(|p| open_grabbed(&p));
            let mut dev = match opened {
                Ok(f) => f,
                Err(e) => {
                    report.state(DeviceState::Unplugged(e.to_string()));
                    sleep_unless_stopped(Duration::from_secs(1), &stop);
                    continue;
                }
            };
            report.state(DeviceState::Ok);
            let mut keys = KeyDecoder::new();
            let mut chunk = [0u8; EVENT_SIZE * 32];
            let gone = loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match wait_readable(&dev, 100) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => break e,
                }
                match dev.read(&mut chunk) {
                    // End of file: the device (or the simulator's FIFO) went.
                    Ok(0) => break io::Error::from(io::ErrorKind::UnexpectedEof),
                    Ok(n) => {
                        for r in keys.feed(&chunk[..n]) {
                            report.event(ScanEvent::of(r));
                        }
                    }
                    Err(e) if crate::serial::no_data_yet(&e) => {}
                    Err(e) => break e, // ENODEV: unplugged
                }
            };
            report.state(DeviceState::Unplugged(gone.to_string()));
            sleep_unless_stopped(Duration::from_millis(200), &stop);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(events: &[InputEvent]) -> Vec<u8> {
        events.iter().flat_map(|e| e.to_bytes()).collect()
    }

    #[test]
    fn decodes_typed_codes_in_any_chunking() {
        let mut all = bytes(&type_text("BK261122000001"));
        all.extend(bytes(&type_text("00123567")));
        for cut in [0, 1, 23, 24, 25, 100, all.len()] {
            let mut d = KeyDecoder::new();
            let mut r = d.feed(&all[..cut]);
            r.extend(d.feed(&all[cut..]));
            assert_eq!(
                r,
                vec![
                    Ok(ScannedCode::Booking("BK261122000001".into())),
                    Ok(ScannedCode::ExamNo("00123567".into())),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn shift_caps_and_keypad() {
        let mut d = KeyDecoder::new();
        let caps = [
            InputEvent {
                kind: EV_KEY,
                code: KEY_CAPSLOCK,
                value: 1,
            },
            InputEvent {
                kind: EV_KEY,
                code: KEY_CAPSLOCK,
                value: 0,
            },
        ];
        let mut b = bytes(&caps);
        // "bk" with caps lock on is "BK"; digits from the keypad.
        for code in [48u16, 37] {
            b.extend(bytes(&[InputEvent {
                kind: EV_KEY,
                code,
                value: 1,
            }]));
        }
        for digit in "261122000001".chars() {
            let code = match digit {
                '0' => 82,
                '1' => 79,
                '2' => 80,
                '6' => 77,
                _ => unreachable!(),
            };
            b.extend(bytes(&[InputEvent {
                kind: EV_KEY,
                code,
                value: 1,
            }]));
        }
        b.extend(bytes(&[InputEvent {
            kind: EV_KEY,
            code: KEY_KPENTER,
            value: 1,
        }]));
        assert_eq!(
            d.feed(&b),
            vec![Ok(ScannedCode::Booking("BK261122000001".into()))]
        );
        // Caps lock off again; a URL needs shift for ':' and survives it.
        d.feed(&bytes(&caps));
        let r = d.feed(&bytes(&type_text("https://tj.example.cn/b/BK261122000001")));
        assert_eq!(r, vec![Ok(ScannedCode::Booking("BK261122000001".into()))]);
    }

    #[test]
    fn refuses_unknown_keys_and_overlong_scans_then_recovers() {
        let mut d = KeyDecoder::new();
        let r = d.feed(&bytes(&type_text("BK26112200000€")));
        assert_eq!(r, vec![Err(HidError::UnknownKey(0))]);
        let long = "9".repeat(MAX_CODE_LEN + 5);
        assert_eq!(
            d.feed(&bytes(&type_text(&long))),
            vec![Err(HidError::Overlong)]
        );
        let r = d.feed(&bytes(&type_text("00123567")));
        assert_eq!(r, vec![Ok(ScannedCode::ExamNo("00123567".into()))]);
        // Autorepeat and releases add nothing; a bare Enter is no scan.
        let r = d.feed(&bytes(&[
            InputEvent {
                kind: EV_KEY,
                code: 2,
                value: 2,
            },
            InputEvent {
                kind: EV_KEY,
                code: KEY_ENTER,
                value: 1,
            },
        ]));
        assert!(r.is_empty());
    }

    #[test]
    fn finds_devices_by_name_in_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        for (node, name) in [
            ("event3", "AT Translated Set 2 keyboard"),
            ("event7", "Newland NLS-HR22 Scanner"),
        ] {
            std::fs::create_dir_all(dir.path().join(node).join("device")).unwrap();
            std::fs::write(
                dir.path().join(node).join("device/name"),
                format!("{name}\n"),
            )
            .unwrap();
        }
        let p = find_device("newland", dir.path()).unwrap();
        assert_eq!(p, Path::new("/dev/input/event7"));
        let e = find_device("Honeywell", dir.path()).unwrap_err();
        assert!(e.to_string().contains("Honeywell"), "{e}");
        assert_eq!(
            find_device("/dev/input/by-id/x", dir.path()).unwrap(),
            Path::new("/dev/input/by-id/x")
        );
    }
}
