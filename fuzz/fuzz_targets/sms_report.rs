//! What the SMS platform (or anyone reaching the callback URL) sends us:
//! a pushed batch of status reports, and an API answer (SendSms,
//! PullSmsSendStatus, an error). The first byte picks the parser; the
//! Authorization parser of the simulator gets the bytes too.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            if let Ok(v) = exam_sms::model::parse_callback(rest) {
                assert!(v.len() <= exam_sms::model::MAX_ITEMS);
            }
        }
        1 => {
            if let Ok(r) = exam_sms::model::parse_answer(rest) {
                for p in r.pull_sms_send_status_set.iter().flatten() {
                    let _ = exam_sms::DeliveryReport::from_pulled(p);
                }
            }
        }
        _ => {
            let _ = exam_sms::tc3::parse_authorization(&String::from_utf8_lossy(rest));
            let _ = exam_sms::model::e164_cn(&String::from_utf8_lossy(rest));
        }
    }
});
