//! Code scanners: serial scanners that send one line per scan. (USB HID
//! keyboard-wedge scanners through evdev: not built yet.)

pub mod codes;
mod line;

pub use codes::{CodeError, ScannedCode, classify};
pub use line::{LineError, LineScanner, ScanEvent, spawn_scanner};
