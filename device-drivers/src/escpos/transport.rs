//! How the kiosk reaches a receipt printer: a network printer's raw port
//! (`tcp://host:9100`), a USB printer-class device (`/dev/usb/lp0`), or a
//! serial port (any other path).

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// A byte stream to a printer whose reads time out or would block.
pub trait Port: Read + Write + Send {}
impl<T: Read + Write + Send> Port for T {}

/// O_NONBLOCK on Linux: a USB printer's status reads must not hang.
const O_NONBLOCK: i32 = 0o4000;

/// Opens a printer; a serial one at 115200 baud.
pub fn open(address: &str) -> io::Result<Box<dyn Port>> {
    open_at(address, 115_200)
}

/// Opens a printer; a serial one at `baud`.
pub fn open_at(address: &str, baud: u32) -> io::Result<Box<dyn Port>> {
    if let Some(addr) = address.strip_prefix("tcp://") {
        let s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_millis(50)))?;
        s.set_nodelay(true)?;
        return Ok(Box::new(s));
    }
    if address.starts_with("/dev/usb/lp") {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(address)?;
        return Ok(Box::new(f));
    }
    Ok(Box::new(
        crate::serial::open(address, baud).map_err(io::Error::other)?,
    ))
}
