//! What the label printer simulator parses: TSPL lines and ZPL blocks.
#![no_main]
use device_drivers::sim::label::{parse_tspl, parse_zpl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_tspl(&text);
    let _ = parse_zpl(&text);
});
