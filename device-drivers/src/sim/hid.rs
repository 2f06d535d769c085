//! A simulated USB HID keyboard-wedge scanner: a FIFO at a path, fed with
//! the `struct input_event` records the kernel's evdev node would deliver
//! for each scan (key presses with shift, SYN reports, Enter). The driver
//! opens the path exactly as it opens `/dev/input/by-id/…-event-kbd`.
//! Faults: unplug (the node disappears), replug, unknown key codes, records
//! cut in half, slow typing.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::scanner::hid::{InputEvent, type_text};

#[derive(Debug)]
pub struct HidScannerSim {
    path: PathBuf,
    /// Open read-write so the FIFO never has zero writers while plugged:
    /// the driver would read end-of-file and take it for an unplug.
    node: Option<File>,
}

#[allow(unsafe_code)] // mkfifo(3), no safe wrapper in std
fn mkfifo(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl HidScannerSim {
    /// Plugs a scanner in at `path` (which must not exist).
    pub fn plug(path: impl Into<PathBuf>) -> io::Result<Self> {
        let mut s = Self {
            path: path.into(),
            node: None,
        };
        s.replug()?;
        Ok(s)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pulls the cable: the node goes away and the reader sees the end.
    pub fn unplug(&mut self) {
        self.node = None;
        let _ = std::fs::remove_file(&self.path);
    }

    /// Plugs it back in.
    pub fn replug(&mut self) -> io::Result<()> {
        if self.node.is_none() {
            mkfifo(&self.path)?;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)?;
            self.node = Some(f);
        }
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let node = self
            .node
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "unplugged"))?;
        node.write_all(bytes)
    }

    fn records(events: &[InputEvent]) -> Vec<u8> {
        events.iter().flat_map(|e| e.to_bytes()).collect()
    }

    /// One scan of `code`, typed as a US-layout keyboard and Enter.
    pub fn scan(&mut self, code: &str) -> io::Result<()> {
        self.send(&Self::records(&type_text(code)))
    }

    /// A scan typed slowly, with records split across writes.
    pub fn slow_scan(&mut self, code: &str, pause: Duration) -> io::Result<()> {
        let bytes = Self::records(&type_text(code));
        for piece in bytes.chunks(37) {
            self.send(piece)?;
            std::thread::sleep(pause);
        }
        Ok(())
    }

    /// A scan with a key no layout maps (a scanner set to another layout
    /// or a noisy cable), then Enter.
    pub fn unknown_key(&mut self) -> io::Result<()> {
        let mut events = type_text("BK2611");
        events.truncate(events.len() - 4); // keep it open: no Enter yet
        events.push(InputEvent {
            kind: crate::scanner::hid::EV_KEY,
            code: 183, // KEY_F13
            value: 1,
        });
        events.extend(type_text("22000001"));
        self.send(&Self::records(&events))
    }
}

impl Drop for HidScannerSim {
    fn drop(&mut self) {
        self.unplug();
    }
}
