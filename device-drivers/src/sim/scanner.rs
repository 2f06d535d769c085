//! A simulated serial scanner: writes what a real one sends for each scan
//! (the code and a line terminator), and can send garbage, half lines,
//! overlong lines or GB18030 text instead.

use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    Cr,
    Lf,
    CrLf,
}

impl Terminator {
    fn bytes(self) -> &'static [u8] {
        match self {
            Terminator::Cr => b"\r",
            Terminator::Lf => b"\n",
            Terminator::CrLf => b"\r\n",
        }
    }
}

#[derive(Debug)]
pub struct ScannerSim<W> {
    port: W,
    pub terminator: Terminator,
}

impl<W: Write> ScannerSim<W> {
    pub fn new(port: W, terminator: Terminator) -> Self {
        Self { port, terminator }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    /// One scan of `code`.
    pub fn scan(&mut self, code: &str) -> io::Result<()> {
        let mut b = code.as_bytes().to_vec();
        b.extend_from_slice(self.terminator.bytes());
        self.send(&b)
    }

    /// A scan in GB18030, as scanners set up for Chinese send it.
    pub fn scan_gb18030(&mut self, text: &str) -> io::Result<()> {
        let (b, _, _) = encoding_rs::GB18030.encode(text);
        let mut b = b.into_owned();
        b.extend_from_slice(self.terminator.bytes());
        self.send(&b)
    }

    /// Bytes that are no text, then a line end.
    pub fn garbage(&mut self) -> io::Result<()> {
        let mut b = vec![0xFF, 0xFE, 0x81, 0x00];
        b.extend_from_slice(self.terminator.bytes());
        self.send(&b)
    }

    /// A line that never ends within the length limit.
    pub fn overlong(&mut self) -> io::Result<()> {
        let mut b = vec![b'8'; 2000];
        b.extend_from_slice(self.terminator.bytes());
        self.send(&b)
    }

    /// Part of a code now, the rest later (slow serial line).
    pub fn split_scan(&mut self, code: &str, at: usize) -> io::Result<()> {
        let at = at.min(code.len());
        self.send(&code.as_bytes()[..at])?;
        std::thread::sleep(std::time::Duration::from_millis(120));
        self.send(&code.as_bytes()[at..])?;
        self.send(self.terminator.bytes())
    }
}
