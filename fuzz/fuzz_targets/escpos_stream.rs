//! What the receipt printer simulator parses: any byte stream a driver
//! (or a broken one) might send.
#![no_main]
use device_drivers::sim::escpos::next_command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while at < data.len() {
        match next_command(&data[at..], at) {
            Ok(Some((_, len))) => {
                assert!(len > 0 && at + len <= data.len());
                at += len;
            }
            Ok(None) => break,
            Err(_) => at += 1,
        }
    }
});
