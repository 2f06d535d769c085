//! Drivers for the kiosk's devices, and (with the `sim` feature) a simulator
//! for each that speaks the device's real protocol, so tests run the real
//! driver code.
//!
//! Which driver runs each device, and how it is reached, comes from the
//! kiosk's TOML file ([`config`]).

pub mod camera;
pub mod config;
pub mod escpos;
pub mod idcard;
pub mod label;
pub mod report;
pub mod scanner;
pub mod serial;
/// Built with the `sim` feature only: the kiosk image carries no simulator.
#[cfg(feature = "sim")]
pub mod sim;
pub mod smartcard;

/// A device's health, for the kiosk screen, the heartbeat and the staff's
/// fleet view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    Ok,
    Unplugged(String),
    Faulty(String),
}

impl DeviceState {
    /// The short form the heartbeat and the fleet view show.
    pub fn label(&self) -> &'static str {
        match self {
            DeviceState::Ok => "ok",
            DeviceState::Unplugged(_) => "unplugged",
            DeviceState::Faulty(_) => "faulty",
        }
    }
}
