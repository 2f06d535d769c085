//! The fuzz targets' properties over their committed seed corpus, so
//! `cargo test` checks them without a fuzzer (fuzz/fuzz_targets/hl7_message.rs
//! and mllp_frame.rs run the same checks on what libFuzzer makes up).

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use exam_hl7::mllp::frame::{self, Decoded, FrameDecoder};
use exam_hl7::{Charset, Message, Order, ResultMessage, ResultQuery};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "seed corpus of {target} is missing");
    files
}

#[test]
fn hl7_message_seeds_read_write_and_read_back_the_same() {
    let mut typed = 0;
    let mut queries = 0;
    for (name, data) in corpus("hl7_message") {
        let mut read = false;
        for peer in [Charset::Utf8, Charset::Gbk] {
            let Ok((m, cs)) = exam_hl7::decode(&data, peer) else {
                continue;
            };
            read = true;
            assert_eq!(Message::parse(&m.encode(), cs).unwrap(), m, "{name}");
            if let Ok(o) = Order::from_message(&m, cs) {
                assert_eq!(
                    Order::from_message(&o.to_message(), cs).unwrap(),
                    o,
                    "{name}"
                );
                typed += 1;
            }
            if let Ok(r) = ResultMessage::from_message(&m, cs) {
                assert_eq!(
                    ResultMessage::from_message(&r.to_message(), cs).unwrap(),
                    r,
                    "{name}"
                );
                typed += 1;
            }
            if let Ok(q) = ResultQuery::from_message(&m, cs) {
                assert_eq!(
                    ResultQuery::from_message(&q.to_message(), cs).unwrap(),
                    q,
                    "{name}"
                );
                typed += 1;
                queries += 1;
            }
        }
        assert!(read, "{name}: a seed should be a message we read");
    }
    assert!(typed >= 5, "the seeds reach the typed readers");
    assert!(queries >= 1, "a QRY^R02 seed reaches the query reader");
}

#[test]
fn mllp_frame_seeds_decode_the_same_in_any_pieces() {
    for (name, data) in corpus("mllp_frame") {
        let (&first, body) = data.split_first().unwrap();
        let whole = FrameDecoder::new(1024).feed(body);
        for piece in [1, usize::from(first % 32) + 1, 7] {
            let mut d = FrameDecoder::new(1024);
            let pieces: Vec<Decoded> = body.chunks(piece).flat_map(|c| d.feed(c)).collect();
            assert_eq!(whole, pieces, "{name}");
        }
        for item in &whole {
            if let Decoded::Frame(f) = item {
                assert!(f.len() <= 1024);
                assert_eq!(
                    FrameDecoder::new(1024).feed(&frame::encode(f)),
                    vec![Decoded::Frame(f.clone())]
                );
            }
        }
        assert!(
            whole.iter().any(|d| matches!(d, Decoded::Frame(_))),
            "{name}"
        );
    }
}
