//! What a USB HID scanner's event device delivers: `struct input_event`
//! records, in any chunking. Results must not depend on it.
#![no_main]
use device_drivers::scanner::KeyDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut d = KeyDecoder::new();
    let mut a = d.feed(&data[..cut]);
    a.extend(d.feed(&data[cut..]));
    assert_eq!(a, KeyDecoder::new().feed(data));
});
