//! What a kiosk (or an attacker) sends the server: push bodies and the
//! signed headers.
#![no_main]
use exam_protocol::auth::SignedHeaders;
use exam_protocol::PushRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<PushRequest>(data) {
        for e in &req.events {
            let _ = e.body();
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let mut parts = s.splitn(4, '\n');
        let (a, b, c, d) = (parts.next(), parts.next(), parts.next(), parts.next());
        let _ = SignedHeaders::from_lookup(|h| match h {
            "x-kiosk-id" => a,
            "x-kiosk-timestamp" => b,
            "x-kiosk-nonce" => c,
            "x-kiosk-signature" => d,
            _ => None,
        });
    }
});
