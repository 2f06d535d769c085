//! The MLLP frame decoder: whatever arrives, in whatever pieces (the first
//! byte sets the piece size), gives the same frames, each within the
//! bound, and a frame re-encoded decodes to itself.
#![no_main]
use exam_hl7::mllp::frame::{self, Decoded, FrameDecoder};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first % 32) + 1;
    let whole = FrameDecoder::new(MAX).feed(body);
    let mut d = FrameDecoder::new(MAX);
    let pieces: Vec<Decoded> = body.chunks(piece).flat_map(|c| d.feed(c)).collect();
    assert_eq!(whole, pieces);
    let mut accounted = 0;
    for item in &whole {
        match item {
            Decoded::Frame(f) => {
                assert!(f.len() <= MAX);
                assert!(!f.contains(&frame::START) && !f.contains(&frame::END));
                assert_eq!(
                    FrameDecoder::new(MAX).feed(&frame::encode(f)),
                    vec![Decoded::Frame(f.clone())]
                );
                accounted += f.len() + 2;
            }
            Decoded::Dropped { bytes, .. } => accounted += bytes,
        }
    }
    assert!(accounted <= body.len());
});
