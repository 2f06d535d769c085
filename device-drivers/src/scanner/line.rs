//! A serial scanner: bytes in, one code per CR, LF or CR LF. Lines that are
//! too long, not text, or not a known code are reported, never passed on.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::codes::{CodeError, MAX_CODE_LEN, ScannedCode, classify};
use crate::DeviceState;
use crate::serial::{Reporter, supervise};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the scan is not text (neither UTF-8 nor GB18030)")]
    NotText,
    #[error("the scan ran past {MAX_CODE_LEN} bytes without an end of line")]
    Overlong,
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// Splits a byte stream into scans.
#[derive(Debug, Default)]
pub struct LineScanner {
    buf: Vec<u8>,
    /// Dropping bytes until the end of an overlong line.
    skipping: bool,
}

impl LineScanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns every complete scan in them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<ScannedCode, LineError>> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if self.skipping {
                    self.skipping = false;
                } else if !self.buf.is_empty() {
                    out.push(decode(&self.buf).and_then(|s| classify(&s).map_err(LineError::from)));
                }
                self.buf.clear();
                continue;
            }
            if self.skipping {
                continue;
            }
            if self.buf.len() >= MAX_CODE_LEN {
                out.push(Err(LineError::Overlong));
                self.buf.clear();
                self.skipping = true;
                continue;
            }
            self.buf.push(b);
        }
        out
    }
}

/// Scanners configured for Chinese often send GB18030 instead of UTF-8.
fn decode(bytes: &[u8]) -> Result<String, LineError> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    // No BOM sniffing: FF FE from a noisy line is not a UTF-16 text.
    let (s, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        Err(LineError::NotText)
    } else {
        Ok(s.into_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    Code(ScannedCode),
    Rejected(String),
    State(DeviceState),
}

impl ScanEvent {
    /// A scan as it came off any kind of scanner: a code, or why not.
    pub fn of(r: Result<ScannedCode, impl std::fmt::Display>) -> Self {
        match r {
            Ok(code) => ScanEvent::Code(code),
            Err(e) => ScanEvent::Rejected(e.to_string()),
        }
    }
}

/// Runs a serial scanner on its own thread until `stop` is set, reopening
/// the port after an unplug.
pub fn spawn_scanner(
    path: String,
    baud: u32,
    stop: Arc<AtomicBool>,
    mut emit: impl FnMut(ScanEvent) + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut report = Reporter::new("scanner", &mut emit, ScanEvent::State);
        supervise(
            &path,
            baud,
            &stop,
            Duration::from_secs(2),
            &mut report,
            |port, report| {
                let mut lines = LineScanner::new();
                let mut chunk = [0u8; 256];
                while !stop.load(Ordering::Relaxed) {
                    match port.read(&mut chunk) {
                        Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                        Ok(n) => {
                            for r in lines.feed(&chunk[..n]) {
                                report.event(ScanEvent::of(r));
                            }
                        }
                        Err(e) if crate::serial::no_data_yet(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            },
        );
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_survives_garbage() {
        let mut s = LineScanner::new();
        let r = s.feed(b"BK261122000001\r\n0012");
        assert_eq!(r, vec![Ok(ScannedCode::Booking("BK261122000001".into()))]);
        let r = s.feed(b"3567\n\xff\xfe\xfd\n\n");
        assert_eq!(
            r,
            vec![
                Ok(ScannedCode::ExamNo("00123567".into())),
                Err(LineError::NotText)
            ]
        );
        let mut long = vec![b'7'; 700];
        long.extend_from_slice(b"\rBK261122000002\r");
        let r = s.feed(&long);
        assert_eq!(
            r,
            vec![
                Err(LineError::Overlong),
                Ok(ScannedCode::Booking("BK261122000002".into()))
            ]
        );
        // GB18030 text is decoded (and then refused as an unknown code, clearly).
        let (gbk, _, _) = encoding_rs::GB18030.encode("体检");
        let mut line = gbk.to_vec();
        line.push(b'\n');
        assert!(
            matches!(&s.feed(&line)[..], [Err(LineError::Code(CodeError::Unknown(u)))] if u == "体检")
        );
    }
}
