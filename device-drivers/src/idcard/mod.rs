//! Resident ID card reader (二代身份证, serial SAM module).

pub mod frame;
mod reader;
pub mod text;
pub mod wlt;
mod worker;

pub use crate::DeviceState;
pub(crate) use reader::drain;
pub use reader::{CardRead, IdCardError, IdCardReader, Poll, parse_read};
pub use text::{CardKind, CardText, ValidUntil};
pub use wlt::{Photo, WltDecoder, WltError};
pub use worker::{IdCardEvent, spawn_reader};
