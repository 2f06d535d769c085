//! A simulated ESC/POS receipt printer: parses what it receives command by
//! command, answers real-time status queries from its state (paper, cover,
//! cutter), runs out of paper in the middle of a job when told to, and
//! renders what it printed to PNG (see [`render`](super::render)).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::lock;

use crate::escpos::PrinterStatus;

/// One command of the stream, borrowing its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd<'a> {
    Init,
    Align(u8),
    Bold(bool),
    Size(u8),
    Chinese(bool),
    Feed(u8),
    /// Printable bytes (ASCII or GB18030) up to the next control byte.
    Text(&'a [u8]),
    Lf,
    BarHeight(u8),
    BarWidth(u8),
    Hri(u8),
    /// GS k 73: CODE128 data, code-set prefix ("{B") included.
    Code128(&'a [u8]),
    /// GS ( k, function 48 ('0') of QR: (fn, parameters).
    Qr(u8, &'a [u8]),
    Raster {
        width_bytes: u16,
        height: u16,
        bits: &'a [u8],
    },
    Cut,
    /// DLE EOT n: a real-time status query.
    Status(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command {0:02X?} at byte {1}")]
    Unknown(Vec<u8>, usize),
    #[error("command at byte {0} has a bad parameter")]
    BadParameter(usize),
}

/// Parses the command at the start of `b`: Ok(None) when more bytes are
/// needed. `at` is the offset of `b` in the stream, for error messages.
pub fn next_command(b: &[u8], at: usize) -> Result<Option<(Cmd<'_>, usize)>, ParseError> {
    let need = |n: usize| b.len() < n;
    let Some(&first) = b.first() else {
        return Ok(None);
    };
    let unknown = |n: usize| ParseError::Unknown(b[..n.min(b.len())].to_vec(), at);
    Ok(Some(match first {
        b'\n' => (Cmd::Lf, 1),
        0x10 => {
            if need(3) {
                return Ok(None);
            }
            if b[1] != 0x04 || !(1..=4).contains(&b[2]) {
                return Err(unknown(3));
            }
            (Cmd::Status(b[2]), 3)
        }
        0x1B => {
            if need(2) {
                return Ok(None);
            }
            match b[1] {
                b'@' => (Cmd::Init, 2),
                b'a' | b'E' | b'd' => {
                    if need(3) {
                        return Ok(None);
                    }
                    let n = b[2];
                    (
                        match b[1] {
                            b'a' if n <= 2 => Cmd::Align(n),
                            b'a' => return Err(ParseError::BadParameter(at)),
                            b'E' => Cmd::Bold(n & 1 == 1),
                            _ => Cmd::Feed(n),
                        },
                        3,
                    )
                }
                _ => return Err(unknown(2)),
            }
        }
        0x1C => {
            if need(2) {
                return Ok(None);
            }
            match b[1] {
                b'&' => (Cmd::Chinese(true), 2),
                b'.' => (Cmd::Chinese(false), 2),
                _ => return Err(unknown(2)),
            }
        }
        0x1D => {
            if need(3) {
                return Ok(None);
            }
            match b[1] {
                b'!' => (Cmd::Size(b[2]), 3),
                b'h' => (Cmd::BarHeight(b[2]), 3),
                b'w' if (1..=6).contains(&b[2]) => (Cmd::BarWidth(b[2]), 3),
                b'w' => return Err(ParseError::BadParameter(at)),
                b'H' => (Cmd::Hri(b[2]), 3),
                b'V' => {
                    if b[2] == 65 || b[2] == 66 {
                        if need(4) {
                            return Ok(None);
                        }
                        (Cmd::Cut, 4)
                    } else {
                        (Cmd::Cut, 3)
                    }
                }
                b'k' if b[2] == 73 => {
                    if need(4) {
                        return Ok(None);
                    }
                    let n = usize::from(b[3]);
                    if need(4 + n) {
                        return Ok(None);
                    }
                    (Cmd::Code128(&b[4..4 + n]), 4 + n)
                }
                b'(' if b[2] == b'k' => {
                    if need(5) {
                        return Ok(None);
                    }
                    let len = usize::from(u16::from_le_bytes([b[3], b[4]]));
                    if len < 2 {
                        return Err(ParseError::BadParameter(at));
                    }
                    if need(5 + len) {
                        return Ok(None);
                    }
                    if b[5] != 49 {
                        return Err(unknown(6));
                    }
                    (Cmd::Qr(b[6], &b[7..5 + len]), 5 + len)
                }
                b'v' if b[2] == b'0' => {
                    if need(8) {
                        return Ok(None);
                    }
                    let (wb, h) = (
                        u16::from_le_bytes([b[4], b[5]]),
                        u16::from_le_bytes([b[6], b[7]]),
                    );
                    let n = usize::from(wb) * usize::from(h);
                    if wb == 0 || h == 0 || usize::from(wb) * 8 > crate::escpos::DOTS_PER_LINE {
                        return Err(ParseError::BadParameter(at));
                    }
                    if need(8 + n) {
                        return Ok(None);
                    }
                    (
                        Cmd::Raster {
                            width_bytes: wb,
                            height: h,
                            bits: &b[8..8 + n],
                        },
                        8 + n,
                    )
                }
                _ => return Err(unknown(3)),
            }
        }
        c if c >= 0x20 => {
            let n = b.iter().position(|&c| c < 0x20).unwrap_or(b.len());
            (Cmd::Text(&b[..n]), n)
        }
        _ => return Err(unknown(1)),
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterFault {
    /// The paper runs out after this many more bytes of print data.
    PaperOutAfter(usize),
    CoverOpen,
    CutterError,
    NearEnd,
    /// The next connection is dropped at once (unplugged, network gone).
    Disconnect,
    /// The next status answer is a byte no printer sends.
    GarbledStatus,
    /// Every chunk received takes this long to print (a slow printer).
    Slow(Duration),
}

#[derive(Debug, Default)]
struct State {
    status: PrinterStatus,
    paper_left: Option<usize>,
    data: Vec<u8>,
    dropped: usize,
    disconnect: bool,
    garble: bool,
    slow: Duration,
    errors: Vec<String>,
}

/// A handle to the simulated printer, shared with its serving thread.
#[derive(Debug, Clone, Default)]
pub struct PrinterSim {
    state: Arc<Mutex<State>>,
}

impl PrinterSim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn inject(&self, fault: PrinterFault) {
        let mut s = lock(&self.state);
        match fault {
            PrinterFault::PaperOutAfter(n) => s.paper_left = Some(n),
            PrinterFault::CoverOpen => s.status.cover_open = true,
            PrinterFault::CutterError => s.status.cutter_error = true,
            PrinterFault::NearEnd => s.status.paper_near_end = true,
            PrinterFault::Disconnect => s.disconnect = true,
            PrinterFault::GarbledStatus => s.garble = true,
            PrinterFault::Slow(d) => s.slow = d,
        }
    }

    /// A technician refilled the paper, closed the cover, cleared the cutter.
    pub fn fix(&self) {
        let mut s = lock(&self.state);
        s.status = PrinterStatus::default();
        s.paper_left = None;
    }

    pub fn status(&self) -> PrinterStatus {
        lock(&self.state).status
    }

    /// Every byte of print data received while paper was there.
    pub fn printed(&self) -> Vec<u8> {
        lock(&self.state).data.clone()
    }

    /// Bytes that arrived while the printer could not print.
    pub fn dropped(&self) -> usize {
        lock(&self.state).dropped
    }

    /// Commands the simulator could not parse (driver bugs show up here).
    pub fn errors(&self) -> Vec<String> {
        lock(&self.state).errors.clone()
    }

    fn take_data(&self, bytes: &[u8]) {
        let mut s = lock(&self.state);
        for &b in bytes {
            let printing = !s.status.paper_out && !s.status.cover_open;
            if !printing {
                s.dropped += 1;
                continue;
            }
            s.data.push(b);
            if let Some(left) = s.paper_left.as_mut() {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    s.status.paper_out = true;
                    s.status.offline = true;
                    s.paper_left = None;
                }
            }
        }
    }

    /// Serves one connection (or a serial line) until it closes or `stop`.
    pub fn serve<T: Read + Write>(&self, mut port: T, stop: &AtomicBool) -> io::Result<()> {
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut offset = 0usize;
        while !stop.load(Ordering::Relaxed) {
            if std::mem::take(&mut lock(&self.state).disconnect) {
                return Ok(());
            }
            match port.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    let slow = lock(&self.state).slow;
                    if !slow.is_zero() {
                        std::thread::sleep(slow);
                    }
                }
                Err(e) if crate::serial::no_data_yet(&e) => {
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut used = 0;
            loop {
                match next_command(&buf[used..], offset + used) {
                    Ok(None) => break,
                    Ok(Some((Cmd::Status(n), len))) => {
                        let answer = {
                            let mut s = lock(&self.state);
                            if std::mem::take(&mut s.garble) {
                                0xFF
                            } else {
                                s.status.answers()[usize::from(n - 1)]
                            }
                        };
                        port.write_all(&[answer])?;
                        port.flush()?;
                        used += len;
                    }
                    Ok(Some((_, len))) => {
                        let bytes = buf[used..used + len].to_vec();
                        self.take_data(&bytes);
                        used += len;
                    }
                    Err(e) => {
                        lock(&self.state).errors.push(e.to_string());
                        used += 1; // skip the offending byte, as printers do
                    }
                }
            }
            buf.drain(..used);
            offset += used;
        }
        Ok(())
    }

    /// Listens on a loopback TCP port (the printer's port 9100), one
    /// connection at a time.
    pub fn listen_tcp(&self) -> io::Result<SocketAddr> {
        let sim = self.clone();
        super::listen_tcp(move |conn| {
            let _ = sim.serve(conn, &AtomicBool::new(false));
        })
    }
}
