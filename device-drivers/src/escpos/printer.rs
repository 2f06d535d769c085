//! The receipt printer driver: status before, the part, status after.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::status::{self, DLE_EOT, PrinterStatus};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("printer I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the printer did not answer its status within {0:?}")]
    Timeout(Duration),
    #[error("garbled status byte {0:#04x} from the printer")]
    Garbled(u8),
    /// The printer cannot take a part now (paper out, cover open, ...).
    #[error("printer not ready: {}", .0.label())]
    NotReady(PrinterStatus),
    /// The part was sent but the printer reports a problem after it: the
    /// part may be incomplete and must be printed again, marked as a reprint.
    #[error("printer reported {} after the part; it may be incomplete", .0.label())]
    FailedDuring(PrinterStatus),
}

impl PrintError {
    /// The printer is gone (unplugged, connection closed).
    pub fn is_disconnect(&self) -> bool {
        matches!(self, PrintError::Io(e) if matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::UnexpectedEof | io::ErrorKind::NotConnected))
    }
}

pub struct ReceiptPrinter<T> {
    port: T,
    timeout: Duration,
    /// A status byte may still be on its way: drain before the next query.
    resync: bool,
}

impl<T> std::fmt::Debug for ReceiptPrinter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptPrinter")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<T: Read + Write> ReceiptPrinter<T> {
    /// `port` must time out on reads (a serial port with a timeout, a
    /// TcpStream with `set_read_timeout`).
    pub fn new(port: T, timeout: Duration) -> Self {
        Self {
            port,
            timeout,
            resync: false,
        }
    }

    fn query(&mut self, n: u8) -> Result<u8, PrintError> {
        if std::mem::take(&mut self.resync) {
            crate::idcard::drain(&mut self.port);
        }
        self.port.write_all(&[DLE_EOT[0], DLE_EOT[1], n])?;
        self.port.flush()?;
        let deadline = Instant::now() + self.timeout;
        let mut b = [0u8; 1];
        loop {
            match self.port.read(&mut b) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
                Ok(_) => {
                    return if status::well_formed(b[0]) {
                        Ok(b[0])
                    } else {
                        Err(PrintError::Garbled(b[0]))
                    };
                }
                Err(e) if crate::serial::no_data_yet(&e) => {
                    if Instant::now() >= deadline {
                        self.resync = true;
                        return Err(PrintError::Timeout(self.timeout));
                    }
                    if e.kind() == io::ErrorKind::WouldBlock {
                        // A non-blocking device (USB printer class): poll gently.
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Asks the printer for its four status bytes.
    pub fn status(&mut self) -> Result<PrinterStatus, PrintError> {
        let mut a = [0u8; 4];
        for (i, n) in (1..=4).enumerate() {
            a[i] = self.query(n)?;
        }
        status::parse(a).ok_or(PrintError::Garbled(a[0]))
    }

    /// Prints one part: refuses when the printer is not ready, and reports
    /// a problem that appears while printing so the part is printed again.
    pub fn print_part(&mut self, bytes: &[u8]) -> Result<PrinterStatus, PrintError> {
        let before = self.status()?;
        if !before.ready() {
            return Err(PrintError::NotReady(before));
        }
        for chunk in bytes.chunks(4096) {
            self.port.write_all(chunk)?;
        }
        self.port.flush()?;
        let after = self.status()?;
        if !after.ready() {
            return Err(PrintError::FailedDuring(after));
        }
        Ok(after)
    }
}
