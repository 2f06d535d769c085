//! Serial ports: real ones by path, and pseudo-terminal pairs for simulators.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use serialport::TTYPort;

use crate::DeviceState;

/// Opens a serial device (or a simulator's pseudo-terminal) in raw mode
/// with a short read timeout, so drivers can poll without blocking forever.
pub fn open(path: &str, baud: u32) -> serialport::Result<TTYPort> {
    serialport::new(path, baud)
        .timeout(Duration::from_millis(50))
        .open_native()
}

/// A pseudo-terminal pair: the simulator serves `sim`, the driver opens
/// `path`, exactly as it would open /dev/ttyUSB0.
pub struct Pty {
    pub sim: TTYPort,
    pub path: String,
    /// Held open so the simulator's end does not read EOF before (and
    /// between) the driver's opens.
    _device: TTYPort,
}

impl std::fmt::Debug for Pty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pty").field("path", &self.path).finish()
    }
}

pub fn pty_pair() -> serialport::Result<Pty> {
    use serialport::SerialPort;
    let (mut sim, device) = TTYPort::pair()?;
    sim.set_timeout(Duration::from_millis(50))?;
    let path = device.name().ok_or_else(|| {
        serialport::Error::new(serialport::ErrorKind::Unknown, "pty without a name")
    })?;
    Ok(Pty {
        sim,
        path,
        _device: device,
    })
}

/// Passes a device's events on, and its state only when it changes.
pub struct Reporter<'a, Ev> {
    emit: &'a mut dyn FnMut(Ev),
    as_event: fn(DeviceState) -> Ev,
    device: &'static str,
    last: Option<DeviceState>,
}

impl<'a, Ev> Reporter<'a, Ev> {
    pub fn new(
        device: &'static str,
        emit: &'a mut dyn FnMut(Ev),
        as_event: fn(DeviceState) -> Ev,
    ) -> Self {
        Self {
            emit,
            as_event,
            device,
            last: None,
        }
    }

    pub fn state(&mut self, s: DeviceState) {
        if self.last.as_ref() != Some(&s) {
            tracing::info!(device = self.device, state = ?s, "device state");
            self.last = Some(s.clone());
            (self.emit)((self.as_event)(s));
        }
    }

    pub fn event(&mut self, e: Ev) {
        (self.emit)(e);
    }
}

/// Keeps a serial device open: opens it, runs `body` until it fails, reports
/// the device unplugged, and tries again every `retry` until `stop` is set.
/// A missing device never ends the thread: plugged back in, it is picked up.
pub fn supervise<Ev>(
    path: &str,
    baud: u32,
    stop: &AtomicBool,
    retry: Duration,
    report: &mut Reporter<'_, Ev>,
    mut body: impl FnMut(&mut TTYPort, &mut Reporter<'_, Ev>) -> io::Result<()>,
) {
    while !stop.load(Ordering::Relaxed) {
        match open(path, baud) {
            Ok(mut port) => {
                report.state(DeviceState::Ok);
                match body(&mut port, report) {
                    Ok(()) => return,
                    Err(e) => report.state(DeviceState::Unplugged(e.to_string())),
                }
            }
            Err(e) => {
                report.state(DeviceState::Unplugged(e.to_string()));
                sleep_unless_stopped(retry, stop);
            }
        }
    }
}

/// A read that found nothing yet (timeout, non-blocking device, signal):
/// the caller waits and reads again; any other error is the device failing.
pub fn no_data_yet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Sleeps in small steps so a stop request is honoured quickly.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}
