//! Typed errors, one enum per layer: bytes and text ([`ParseError`]), text
//! out ([`EncodeError`]), the meaning of a message ([`MessageError`]) and the
//! wire ([`crate::mllp::NetError`]).

use crate::charset::Charset;

/// The bytes or text are not an HL7 v2 message we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("the message does not start with an MSH segment")]
    MissingMsh,
    #[error("MSH is too short to carry the field separator and encoding characters")]
    MshTooShort,
    #[error("bad encoding characters in MSH-1/MSH-2: {0}")]
    BadDelimiters(String),
    #[error("segment {index}: bad segment id {id:?}")]
    BadSegmentId { index: usize, id: String },
    #[error("segment {index}: bad hex escape \\X{hex}\\")]
    BadHexEscape { index: usize, hex: String },
    #[error("not valid {charset} text (valid up to byte {valid_up_to})")]
    InvalidText {
        charset: Charset,
        valid_up_to: usize,
    },
    #[error("unsupported character set {0:?} in MSH-18")]
    UnsupportedCharset(String),
}

/// A message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{ch:?} cannot be written in {charset}")]
    Unencodable { charset: Charset, ch: char },
}

/// A well-formed message that is not the message expected, or lacks
/// something this kind of message must carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("expected a {expected} message, got {found:?}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("missing {0} segment")]
    MissingSegment(&'static str),
    #[error("{segment}-{field} ({what}) is empty")]
    MissingField {
        segment: &'static str,
        field: usize,
        what: &'static str,
    },
    #[error("{segment}-{field}: {value:?} is not {expected}")]
    BadValue {
        segment: &'static str,
        field: usize,
        value: String,
        expected: &'static str,
    },
}
