//! The 256-byte text block of identity cards, in all three layouts.
#![no_main]
use device_drivers::idcard::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(card) = text::parse(data) {
        // Whatever parses survives a write and a second read unchanged.
        assert_eq!(text::parse(&text::encode(&card)).unwrap(), card);
    }
});
