//! What a kiosk reads from the server's heartbeat answer: move orders and
//! print jobs moved to it, whose parts are base64 documents.
#![no_main]
use exam_protocol::HeartbeatResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(answer) = serde_json::from_slice::<HeartbeatResponse>(data) {
        for m in &answer.incoming_printing {
            for job in &m.jobs {
                for part in &job.parts {
                    let _ = part.bytes();
                }
            }
        }
    }
});
