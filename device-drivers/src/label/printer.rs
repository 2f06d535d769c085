//! The label printer driver: status before, the label, status after.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::{Label, LabelStatus, tspl, zpl};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Tspl,
    Zpl,
}

impl Language {
    /// As the heartbeat and the device file name it.
    pub fn name(self) -> &'static str {
        match self {
            Language::Tspl => "tspl",
            Language::Zpl => "zpl",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("label printer I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the label printer did not answer its status within {0:?}")]
    Timeout(Duration),
    #[error("malformed status from the label printer: {0}")]
    BadStatus(String),
    #[error("label printer not ready: {}", .0.label())]
    NotReady(LabelStatus),
    #[error("label printer reported {} after the label; print it again", .0.label())]
    FailedDuring(LabelStatus),
}

pub struct LabelPrinter<T> {
    port: T,
    lang: Language,
    timeout: Duration,
}

impl<T> std::fmt::Debug for LabelPrinter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelPrinter")
            .field("lang", &self.lang)
            .finish()
    }
}

impl<T: Read + Write> LabelPrinter<T> {
    pub fn new(port: T, lang: Language, timeout: Duration) -> Self {
        Self {
            port,
            lang,
            timeout,
        }
    }

    pub fn status(&mut self) -> Result<LabelStatus, LabelError> {
        let query: &[u8] = match self.lang {
            Language::Tspl => &tspl::STATUS_QUERY,
            Language::Zpl => zpl::STATUS_QUERY,
        };
        self.port.write_all(query)?;
        self.port.flush()?;
        let deadline = Instant::now() + self.timeout;
        let mut got = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            let done = match self.lang {
                Language::Tspl => !got.is_empty(),
                Language::Zpl => got.iter().filter(|&&b| b == 0x03).count() >= 3,
            };
            if done {
                return match self.lang {
                    Language::Tspl if got.len() == 1 => Ok(tspl::parse_status(got[0])),
                    Language::Tspl => Err(LabelError::BadStatus(format!("{} bytes", got.len()))),
                    Language::Zpl => {
                        zpl::parse_status(&got).map_err(|e| LabelError::BadStatus(e.to_string()))
                    }
                };
            }
            if Instant::now() >= deadline {
                return Err(LabelError::Timeout(self.timeout));
            }
            match self.port.read(&mut chunk) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if crate::serial::no_data_yet(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn print(&mut self, label: &Label) -> Result<LabelStatus, LabelError> {
        self.print_encoded(&super::encode(label, self.lang))
    }

    pub fn language(&self) -> Language {
        self.lang
    }

    /// Prints a label already encoded in this printer's language (a
    /// journaled print part): status before, the bytes, status after.
    pub fn print_encoded(&mut self, bytes: &[u8]) -> Result<LabelStatus, LabelError> {
        let before = self.status()?;
        if !before.ready() {
            return Err(LabelError::NotReady(before));
        }
        self.port.write_all(bytes)?;
        self.port.flush()?;
        let after = self.status()?;
        if !after.ready() {
            return Err(LabelError::FailedDuring(after));
        }
        Ok(after)
    }
}
