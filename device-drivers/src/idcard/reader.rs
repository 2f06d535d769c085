//! The ID card reader driver: find → select → read text and photo, over any
//! byte stream with read timeouts (a serial port in production, a
//! pseudo-terminal in tests).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::frame::{self, FrameError, Response, cmd, status};
use super::text::{self, CardText, TextError};

/// A card as read: its text and the raw WLT photo (decoded only through the
/// vendor's library, when one is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRead {
    pub text: CardText,
    pub photo_wlt: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    NoCard,
    /// The card that was read is still on the reader: not read again.
    SameCard,
    Card(Box<CardRead>),
}

#[derive(Debug, thiserror::Error)]
pub enum IdCardError {
    #[error("reader I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the reader did not answer within {0:?}")]
    Timeout(Duration),
    #[error("garbled frame from the reader: {0}")]
    Frame(#[from] FrameError),
    #[error(
        "the card could not be read (status {status:02X} to command {cmd:02X} {para:02X}); place it again"
    )]
    Unreadable { cmd: u8, para: u8, status: u8 },
    #[error("the card's text is invalid: {0}")]
    Text(#[from] TextError),
    #[error("the read response is malformed: {0}")]
    BadRead(&'static str),
}

pub struct IdCardReader<T> {
    port: T,
    buf: Vec<u8>,
    timeout: Duration,
    /// A card was read and has not left the reader since.
    holding: bool,
    /// A reply may still be on its way (after a timeout or a broken frame):
    /// drain the line before the next command so replies stay in step.
    resync: bool,
}

impl<T> std::fmt::Debug for IdCardReader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdCardReader")
            .field("holding", &self.holding)
            .finish()
    }
}

impl<T: Read + Write> IdCardReader<T> {
    pub fn new(port: T, timeout: Duration) -> Self {
        Self {
            port,
            buf: Vec::with_capacity(2048),
            timeout,
            holding: false,
            resync: false,
        }
    }

    /// Sends one command and waits for its response frame.
    pub fn transact(&mut self, command: [u8; 2]) -> Result<Response, IdCardError> {
        if std::mem::take(&mut self.resync) {
            drain(&mut self.port);
        }
        self.buf.clear();
        self.port.write_all(&frame::encode(&command))?;
        self.port.flush()?;
        let deadline = Instant::now() + self.timeout;
        let mut chunk = [0u8; 2048];
        loop {
            match frame::decode(&self.buf) {
                Ok((body, _)) => return Ok(Response::from_body(&body)?),
                Err(FrameError::Truncated { .. }) => {}
                Err(e) => {
                    self.buf.clear();
                    self.resync = true;
                    return Err(e.into());
                }
            }
            if Instant::now() >= deadline {
                self.resync = true;
                return Err(IdCardError::Timeout(self.timeout));
            }
            match self.port.read(&mut chunk) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if crate::serial::no_data_yet(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// One poll of the reader. A card is read once per placement.
    pub fn poll(&mut self) -> Result<Poll, IdCardError> {
        let found = self.transact(cmd::FIND_CARD)?;
        if found.status() != status::FIND_OK {
            self.holding = false;
            return Ok(Poll::NoCard);
        }
        if self.holding {
            return Ok(Poll::SameCard);
        }
        let selected = self.transact(cmd::SELECT_CARD)?;
        if selected.status() != status::OK {
            return Err(IdCardError::Unreadable {
                cmd: 0x20,
                para: 0x02,
                status: selected.status(),
            });
        }
        let read = self.transact(cmd::READ_TEXT_PHOTO)?;
        if read.status() != status::OK {
            return Err(IdCardError::Unreadable {
                cmd: 0x30,
                para: 0x01,
                status: read.status(),
            });
        }
        let card = parse_read(&read.data)?;
        self.holding = true;
        Ok(Poll::Card(Box::new(card)))
    }

    pub fn into_inner(self) -> T {
        self.port
    }
}

/// The data of a read-text-and-photo response: text length and photo
/// length (2 bytes each, big-endian), then the text, then the photo.
pub fn parse_read(data: &[u8]) -> Result<CardRead, IdCardError> {
    if data.len() < 4 {
        return Err(IdCardError::BadRead("shorter than its length fields"));
    }
    let tl = usize::from(u16::from_be_bytes([data[0], data[1]]));
    let pl = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if data.len() < 4 + tl + pl {
        return Err(IdCardError::BadRead(
            "shorter than its text and photo lengths",
        ));
    }
    let text = text::parse(&data[4..4 + tl])?;
    Ok(CardRead {
        text,
        photo_wlt: data[4 + tl..4 + tl + pl].to_vec(),
    })
}

/// Reads and drops whatever is pending on the line, until a read times out
/// (bounded, so a chattering line cannot hold the driver).
pub(crate) fn drain(port: &mut impl Read) {
    let mut chunk = [0u8; 512];
    for _ in 0..64 {
        match port.read(&mut chunk) {
            Ok(n) if n > 0 => continue,
            _ => return,
        }
    }
}
