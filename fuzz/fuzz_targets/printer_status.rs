//! What printers answer to status queries: the ESC/POS DLE EOT replies,
//! TSPL's status byte and ZPL's ~HS strings, as the drivers read them off a
//! port that hands the bytes over in arbitrary pieces.
#![no_main]
use std::io::{self, Read, Write};
use std::time::Duration;

use device_drivers::escpos::ReceiptPrinter;
use device_drivers::label::{LabelPrinter, Language, zpl};
use libfuzzer_sys::fuzz_target;

/// A port that answers with the fuzzer's bytes, `step` at a time, then
/// times out (as a silent printer does).
struct Replies<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Replies<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Replies<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(first % 7) + 1;
    let mut p = ReceiptPrinter::new(Replies { data: rest, step }, Duration::ZERO);
    for _ in 0..rest.len() / 4 + 1 {
        let _ = p.status();
    }
    for lang in [Language::Tspl, Language::Zpl] {
        let mut l = LabelPrinter::new(Replies { data: rest, step }, lang, Duration::ZERO);
        for _ in 0..4 {
            let _ = l.status();
        }
    }
    let _ = zpl::parse_status(rest);
});
