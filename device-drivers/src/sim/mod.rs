//! Device simulators. Each speaks its device's real protocol on a byte
//! stream (a pseudo-terminal for serial devices) and can inject faults.

pub mod camera;
pub mod escpos;
pub mod hid;
pub mod idcard;
pub mod label;
pub mod render;
pub mod scanner;
pub mod vicc;
pub mod wlt;

pub use escpos::{PrinterFault, PrinterSim};
pub use hid::HidScannerSim;
pub use idcard::{IdCardFault, IdCardSim};
pub use label::{LabelFault, LabelSim};
pub use scanner::{ScannerSim, Terminator};
pub use vicc::{CardModel, VirtualCard};

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, MutexGuard};

/// Locks a simulator's state; a panic elsewhere does not wedge the device.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Listens on a loopback TCP port and serves one connection at a time (a
/// network printer's raw port), with short read timeouts.
pub(crate) fn listen_tcp(
    serve: impl Fn(TcpStream) + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            serve(conn);
        }
    });
    Ok(addr)
}
