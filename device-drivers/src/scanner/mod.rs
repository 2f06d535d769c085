//! Code scanners: serial scanners that send one line per scan, and USB HID
//! keyboard-wedge scanners read through evdev. Both give the same typed codes.

pub mod codes;
pub mod hid;
mod line;

pub use codes::{CodeError, ScannedCode, classify};
pub use hid::{HidError, KeyDecoder, spawn_hid_scanner};
pub use line::{LineError, LineScanner, ScanEvent, spawn_scanner};
