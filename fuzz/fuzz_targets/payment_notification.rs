//! What the payment platform (or anyone reaching the notify URL) sends us:
//! a notification's signature headers and body. Input layout: header lines
//! `Name: value`, a blank line, then the body. The signature check runs
//! with a fixed platform key (it fails for fuzzed input, as it must), and
//! the post-signature path (envelope JSON, AES-GCM, resource JSON) is
//! driven directly with a fixed APIv3 key so it gets fuzzed too. The daily
//! bill parser gets the same bytes.
#![no_main]
use std::sync::OnceLock;

use exam_payment::crypto::{ApiV3Key, PlatformVerifier, SignedHeaders};
use exam_payment::notify::{open_verified, parse_notification};
use libfuzzer_sys::fuzz_target;

/// The seed corpus is sealed with this key (fuzzing only, not a secret).
const FUZZ_APIV3_KEY: &str = "FUZZONLYKEY0123456789abcdefghijk";

fn fixed() -> &'static (PlatformVerifier, ApiV3Key) {
    static F: OnceLock<(PlatformVerifier, ApiV3Key)> = OnceLock::new();
    F.get_or_init(|| {
        let k = exam_payment::crypto::generate_rsa_key().expect("rsa key");
        (
            PlatformVerifier::new("PUB_KEY_ID_FUZZ", k.to_public_key()),
            ApiV3Key::from_str_key(FUZZ_APIV3_KEY).expect("32 bytes"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (verifier, key) = fixed();
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or(("", &text));
    let pairs = head.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim(), v.trim()));
    if let Ok(h) = SignedHeaders::from_pairs(pairs) {
        let _ = parse_notification(&h, body.as_bytes(), verifier, key, 1_764_900_000);
    }
    let _ = open_verified(body, key);
    let _ = exam_payment::bill::parse_trade_bill(&text);
});
