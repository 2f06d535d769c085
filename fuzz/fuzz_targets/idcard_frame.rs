//! Frames from the ID card reader (and commands into its simulator).
#![no_main]
use device_drivers::idcard::frame;
use device_drivers::sim::IdCardSim;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((body, used)) = frame::decode(data) {
        assert!(used <= data.len());
        // What decodes re-encodes to a frame that decodes to the same body.
        assert_eq!(frame::decode(&frame::encode(&body)).unwrap().0, body);
        if let Ok(resp) = frame::Response::from_body(&body) {
            let _ = device_drivers::idcard::parse_read(&resp.data);
        }
        // The simulator answers any command without panicking.
        let _ = IdCardSim::new().respond(&body);
    }
});
