//! What the heartbeat tells of the kiosk's devices: each device's latest
//! state, and the latest staff alert. Device threads, the spoolers and the
//! patient session write it; the sync agent reads it for each heartbeat.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use exam_protocol::{Alert, DeviceState, DeviceStatus};

#[derive(Debug, Default)]
struct Board {
    devices: Vec<DeviceStatus>,
    alert: Option<Alert>,
}

/// Shared by cloning; every holder sees the same board.
#[derive(Debug, Clone, Default)]
pub struct DeviceBoard(Arc<Mutex<Board>>);

impl DeviceBoard {
    fn lock(&self) -> MutexGuard<'_, Board> {
        // A board is a few plain values: a writer that panicked left them whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a device's latest state (one entry per device).
    pub fn set(&self, name: &str, state: DeviceState) {
        let mut b = self.lock();
        match b.devices.iter_mut().find(|d| d.name == name) {
            Some(d) => d.state = state,
            None => b.devices.push(DeviceStatus {
                name: name.into(),
                state,
            }),
        }
    }

    /// A device's latest state, when it reported one.
    pub fn state(&self, name: &str) -> Option<DeviceState> {
        self.lock()
            .devices
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.state)
    }

    /// Calls for staff; the heartbeats carry the latest alert.
    pub fn raise(&self, alert: Alert) {
        self.lock().alert = Some(alert);
    }

    pub fn alert(&self) -> Option<Alert> {
        self.lock().alert
    }

    /// Every device's latest state, in the order they first reported.
    pub fn devices(&self) -> Vec<DeviceStatus> {
        self.lock().devices.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_device_and_the_latest_alert() {
        let b = DeviceBoard::default();
        let seen = b.clone();
        b.set("receipt", DeviceState::Ok);
        b.set("idcard", DeviceState::Unplugged);
        b.set("receipt", DeviceState::PaperOut);
        assert_eq!(seen.state("receipt"), Some(DeviceState::PaperOut));
        assert_eq!(seen.state("label"), None);
        let names: Vec<String> = seen.devices().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["receipt", "idcard"]);
        assert_eq!(seen.alert(), None);
        b.raise(Alert::CallStaff);
        b.raise(Alert::PrinterOut);
        assert_eq!(seen.alert(), Some(Alert::PrinterOut));
    }
}
