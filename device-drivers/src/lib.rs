//! Drivers for the kiosk's devices, and a simulator for each that speaks the
//! device's real protocol, so tests run the real driver code.
//!
//! Built so far: the resident ID card reader ([`idcard`]) with its
//! simulator ([`sim::idcard`]). Scanners, printers, the smart-card reader
//! and the camera follow.

pub mod idcard;
pub mod serial;
pub mod sim;
