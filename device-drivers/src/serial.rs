//! Serial ports: real ones by path, and pseudo-terminal pairs for simulators.

use std::time::Duration;

pub use serialport::TTYPort;

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
