//! What the print server answers: HTTP framing and IPP attributes.
#![no_main]
use device_drivers::report::{http_body, ipp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ipp::parse(data);
    if let Ok(body) = http_body(data) {
        let _ = ipp::parse(&body);
    }
});
