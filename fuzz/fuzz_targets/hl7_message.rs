//! HL7 v2 messages from a peer: bytes read as UTF-8 and as GBK (MSH-18
//! may switch), then as orders, results, result queries (QRY^R02) and ACKs.
#![no_main]
use exam_hl7::{Ack, Charset, Message, Order, ResultMessage, ResultQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for peer in [Charset::Utf8, Charset::Gbk] {
        let Ok((m, cs)) = exam_hl7::decode(data, peer) else {
            continue;
        };
        // What we read, we write so that it reads back the same.
        let again = Message::parse(&m.encode(), cs).expect("our own encoding parses");
        assert_eq!(again, m);
        // A typed message that reads, writes and reads back the same.
        if let Ok(o) = Order::from_message(&m, cs) {
            assert_eq!(
                Order::from_message(&o.to_message(), cs).expect("order re-reads"),
                o
            );
        }
        if let Ok(r) = ResultMessage::from_message(&m, cs) {
            let back = ResultMessage::from_message(&r.to_message(), cs).expect("result re-reads");
            assert_eq!(back, r);
        }
        if let Ok(q) = ResultQuery::from_message(&m, cs) {
            let back = ResultQuery::from_message(&q.to_message(), cs).expect("query re-reads");
            assert_eq!(back, q);
        }
        let _ = Ack::from_message(&m, cs);
    }
});
