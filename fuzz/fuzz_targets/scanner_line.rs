//! Bytes from a serial code scanner.
#![no_main]
use device_drivers::scanner::LineScanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = LineScanner::new();
    // Split at an arbitrary point: results must not depend on chunking.
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut a = s.feed(&data[..cut]);
    a.extend(s.feed(&data[cut..]));
    let b = LineScanner::new().feed(data);
    assert_eq!(a, b);
});
