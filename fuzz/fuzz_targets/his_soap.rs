//! What HIS answers over SOAP (the client's parser: the first byte picks the
//! operation whose answer the rest is read as) and what a SOAP client sends
//! the simulator (its request parser), through the bounded XML reader.
#![no_main]
use exam_his::soap::{Operation, decode_request, decode_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let op = Operation::ALL[usize::from(pick) % Operation::ALL.len()];
    let _ = decode_response(op, body);
    let _ = decode_request(body);
});
