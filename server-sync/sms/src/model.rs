//! The wire: request and answer JSON of `SendSms` and `PullSmsSendStatus`
//! (API 3.0, version 2021-01-11), the status-report callback the platform
//! pushes, and mainland numbers in +86 E.164.
//!
//! Everything read from outside is bounded before it is parsed (size, then
//! counts and field lengths after): [`parse_answer`] and [`parse_callback`].

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// An API answer larger than this is refused unread.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// A pushed batch of status reports larger than this is refused.
pub const MAX_CALLBACK_BYTES: usize = 256 * 1024;
/// Reports in one pushed batch, or statuses in one answer.
pub const MAX_ITEMS: usize = 1000;
/// Any one string field of an answer or report.
pub const MAX_FIELD_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendSmsRequest {
    pub phone_number_set: Vec<String>,
    pub sms_sdk_app_id: String,
    #[serde(default)]
    pub sign_name: String,
    pub template_id: String,
    #[serde(default)]
    pub template_param_set: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session_context: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PullSmsSendStatusRequest {
    pub limit: u32,
    pub sms_sdk_app_id: String,
}

/// `PullSmsSendStatusByPhoneNumber`: one number's reports in a time range
/// (Unix seconds), whether or not they were pulled before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PullByPhoneRequest {
    pub begin_time: u64,
    #[serde(default)]
    pub offset: u32,
    pub limit: u32,
    pub phone_number: String,
    pub sms_sdk_app_id: String,
    #[serde(default)]
    pub end_time: Option<u64>,
}

/// `{"Code": "...", "Message": "..."}` in `Response.Error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// One number's outcome of a `SendSms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendStatus {
    #[serde(default)]
    pub serial_no: String,
    pub phone_number: String,
    #[serde(default)]
    pub fee: u32,
    #[serde(default)]
    pub session_context: String,
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub iso_code: String,
}

/// One status report as `PullSmsSendStatus` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PulledStatus {
    /// Unix seconds, when the phone got it.
    #[serde(default)]
    pub user_receive_time: Option<i64>,
    #[serde(default)]
    pub country_code: String,
    #[serde(default)]
    pub subscriber_number: String,
    pub phone_number: String,
    pub serial_no: String,
    /// `SUCCESS` or `FAIL`.
    pub report_status: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub session_context: String,
}

/// `Response` of any action: what the action returns, or `Error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_status_set: Option<Vec<SendStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_sms_send_status_set: Option<Vec<PulledStatus>>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Response")]
    pub response: Response,
}

/// The shape of outside bytes was wrong (size, JSON, a bound).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{0} bytes: over the limit")]
    TooLarge(usize),
    #[error("not the expected JSON: {0}")]
    Json(String),
    #[error("{0} items: over the limit")]
    TooMany(usize),
    #[error("a field over {MAX_FIELD_CHARS} characters")]
    FieldTooLong,
    #[error("report status {0:?}")]
    Status(String),
}

fn long(s: &str) -> bool {
    s.chars().count() > MAX_FIELD_CHARS
}

/// An API answer (`{"Response": {...}}`), bounded.
pub fn parse_answer(bytes: &[u8]) -> Result<Response, ParseError> {
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err(ParseError::TooLarge(bytes.len()));
    }
    let e: Envelope = serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    let r = e.response;
    let n = r.send_status_set.as_ref().map_or(0, Vec::len)
        + r.pull_sms_send_status_set.as_ref().map_or(0, Vec::len);
    if n > MAX_ITEMS {
        return Err(ParseError::TooMany(n));
    }
    let fields = r
        .send_status_set
        .iter()
        .flatten()
        .flat_map(|s| {
            [
                &s.serial_no,
                &s.phone_number,
                &s.code,
                &s.message,
                &s.session_context,
            ]
        })
        .chain(r.pull_sms_send_status_set.iter().flatten().flat_map(|s| {
            [
                &s.serial_no,
                &s.phone_number,
                &s.report_status,
                &s.description,
                &s.session_context,
            ]
        }))
        .chain(r.error.iter().flat_map(|e| [&e.code, &e.message]))
        .chain([&r.request_id]);
    for f in fields {
        if long(f) {
            return Err(ParseError::FieldTooLong);
        }
    }
    Ok(r)
}

/// Delivered to the phone or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportStatus {
    Success,
    Fail,
}

impl ReportStatus {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "SUCCESS" => Ok(Self::Success),
            "FAIL" => Ok(Self::Fail),
            other => Err(ParseError::Status(other.chars().take(32).collect())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Fail => "FAIL",
        }
    }
}

/// A status report, from either path (pull or push).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The platform's `SerialNo` (`sid` in a pushed report).
    pub serial_no: String,
    /// +86 E.164.
    pub phone: String,
    pub status: ReportStatus,
    /// The operator's code (`DELIVRD`, `UNDELIV`, ...); pulls carry only
    /// the description.
    pub errmsg: String,
    pub description: String,
    pub received_at: Option<DateTime<Utc>>,
    /// What the message was sent with (pulled reports carry it; pushed
    /// ones do not: empty).
    pub session_context: String,
}

impl DeliveryReport {
    pub fn from_pulled(p: &PulledStatus) -> Result<Self, ParseError> {
        Ok(Self {
            serial_no: p.serial_no.clone(),
            phone: p.phone_number.clone(),
            status: ReportStatus::parse(&p.report_status)?,
            errmsg: String::new(),
            description: p.description.clone(),
            received_at: p
                .user_receive_time
                .and_then(|t| DateTime::from_timestamp(t, 0)),
            session_context: p.session_context.clone(),
        })
    }
}

/// One report of a pushed batch, as the platform writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackReport {
    /// China Standard Time, `YYYY-MM-DD HH:MM:SS`.
    #[serde(default)]
    pub user_receive_time: String,
    #[serde(default)]
    pub nationcode: String,
    pub mobile: String,
    pub report_status: String,
    #[serde(default)]
    pub errmsg: String,
    #[serde(default)]
    pub description: String,
    pub sid: String,
}

/// What the platform expects back from a callback.
pub const CALLBACK_ACK: &str = r#"{"result":0,"errmsg":"OK"}"#;

fn cst_time(s: &str) -> Option<DateTime<Utc>> {
    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()?;
    let cst = chrono::FixedOffset::east_opt(8 * 3600)?;
    cst.from_local_datetime(&t)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// A pushed batch of status reports (a JSON array), bounded.
pub fn parse_callback(bytes: &[u8]) -> Result<Vec<DeliveryReport>, ParseError> {
    if bytes.len() > MAX_CALLBACK_BYTES {
        return Err(ParseError::TooLarge(bytes.len()));
    }
    let v: Vec<CallbackReport> =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
    if v.len() > MAX_ITEMS {
        return Err(ParseError::TooMany(v.len()));
    }
    v.iter()
        .map(|r| {
            for f in [
                &r.user_receive_time,
                &r.nationcode,
                &r.mobile,
                &r.report_status,
                &r.errmsg,
                &r.description,
                &r.sid,
            ] {
                if long(f) {
                    return Err(ParseError::FieldTooLong);
                }
            }
            let code = if r.nationcode.is_empty() {
                "86"
            } else {
                r.nationcode.as_str()
            };
            Ok(DeliveryReport {
                serial_no: r.sid.clone(),
                phone: format!("+{code}{}", r.mobile),
                status: ReportStatus::parse(&r.report_status)?,
                errmsg: r.errmsg.clone(),
                description: r.description.clone(),
                received_at: cst_time(&r.user_receive_time),
                session_context: String::new(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mainland China mobile number")]
pub struct BadPhone;

/// A mainland mobile number as +86 E.164 (`+8613812345678`): 11 digits
/// starting 13–19, with or without `+86` / `86` / `0086`, spaces and
/// dashes ignored.
pub fn e164_cn(s: &str) -> Result<String, BadPhone> {
    if s.len() > 32 {
        return Err(BadPhone);
    }
    let d: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let national = d
        .strip_prefix("+86")
        .or_else(|| d.strip_prefix("0086"))
        .or_else(|| (d.len() == 13).then(|| d.strip_prefix("86")).flatten())
        .unwrap_or(&d);
    let b = national.as_bytes();
    if b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
    {
        Ok(format!("+86{national}"))
    } else {
        Err(BadPhone)
    }
}

/// What a page shows of a number: `138****5678`.
pub fn mask_phone(s: &str) -> String {
    let national = s.strip_prefix("+86").unwrap_or(s);
    let c: Vec<char> = national.chars().collect();
    if c.len() < 7 {
        return "*".repeat(c.len());
    }
    let head: String = c[..3].iter().collect();
    let tail: String = c[c.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without cargo-fuzz at hand: the fuzz target's seeds cut and mutated
    /// by a seeded generator, through every parser; none may panic and
    /// what parses stays within the bounds.
    #[test]
    fn mutated_seeds_never_panic() {
        let seeds: Vec<&[u8]> = vec![
            br#"[{"user_receive_time":"2026-12-05 08:03:04","nationcode":"86","mobile":"13812345678","report_status":"SUCCESS","errmsg":"DELIVRD","description":"ok","sid":"2433:1"}]"#,
            br#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1","PhoneNumber":"+8618511122233","Fee":1,"SessionContext":"t","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a"}}"#,
            br#"{"Response":{"PullSmsSendStatusSet":[{"UserReceiveTime":1559115189,"PhoneNumber":"+8613711112222","SerialNo":"5000:1","ReportStatus":"FAIL"}],"RequestId":"b"}}"#,
        ];
        let mut rng = crate::sim::SplitMix64::new(5);
        for _ in 0..20_000 {
            let mut b = seeds[(rng.next_u64() % 3) as usize].to_vec();
            for _ in 0..=(rng.next_u64() % 4) {
                let i = (rng.next_u64() as usize) % b.len();
                match rng.next_u64() % 3 {
                    0 => b[i] = rng.next_u64() as u8,
                    1 => b.truncate(i.max(1)),
                    _ => b.insert(i, b"{}[]\",:0"[(rng.next_u64() % 8) as usize]),
                }
            }
            if let Ok(v) = parse_callback(&b) {
                assert!(v.len() <= MAX_ITEMS);
            }
            if let Ok(r) = parse_answer(&b) {
                for p in r.pull_sms_send_status_set.iter().flatten() {
                    let _ = DeliveryReport::from_pulled(p);
                }
            }
            let _ = crate::tc3::parse_authorization(&String::from_utf8_lossy(&b));
            let _ = e164_cn(&String::from_utf8_lossy(&b));
        }
    }

    #[test]
    fn numbers() {
        for ok in [
            "13812345678",
            "+8613812345678",
            "8613812345678",
            "0086 138-1234-5678",
        ] {
            assert_eq!(e164_cn(ok).as_deref(), Ok("+8613812345678"), "{ok}");
        }
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "+85213812345678",
            "1381234567x",
            "138123456789",
        ] {
            assert_eq!(e164_cn(bad), Err(BadPhone), "{bad}");
        }
        assert_eq!(mask_phone("+8613812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }

    /// The answers and the pushed batch as the platform's documentation
    /// shows them.
    #[test]
    fn documented_shapes() {
        let a = br#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1045710669157053657849499619","PhoneNumber":"+8618511122233","Fee":1,"SessionContext":"test","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6-cf91-4f3e-a81f-9198114a2279"}}"#;
        let r = parse_answer(a).unwrap();
        let s = &r.send_status_set.unwrap()[0];
        assert_eq!((s.code.as_str(), s.fee), ("Ok", 1));
        let e = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"x"}}"#;
        assert_eq!(
            parse_answer(e).unwrap().error.unwrap().code,
            "AuthFailure.SignatureFailure"
        );
        let p = br#"{"Response":{"PullSmsSendStatusSet":[{"UserReceiveTime":1559115189,"CountryCode":"86","SubscriberNumber":"13711112222","PhoneNumber":"+8613711112222","SerialNo":"5000:1045710669157053657849499619","ReportStatus":"SUCCESS","Description":"DELIVRD","SessionContext":""}],"RequestId":"b"}}"#;
        let r = parse_answer(p).unwrap();
        let d = DeliveryReport::from_pulled(&r.pull_sms_send_status_set.unwrap()[0]).unwrap();
        assert_eq!(d.status, ReportStatus::Success);
        assert_eq!(d.received_at.unwrap().timestamp(), 1559115189);
        let cb = r#"[{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13xxxxxxxxx","report_status":"SUCCESS","errmsg":"DELIVRD","description":"用户短信送达成功","sid":"xxxxxxx"}]"#;
        let v = parse_callback(cb.as_bytes()).unwrap();
        assert_eq!(v[0].serial_no, "xxxxxxx");
        assert_eq!(
            v[0].received_at.unwrap().to_rfc3339(),
            "2015-10-17T00:03:04+00:00"
        );
        assert!(matches!(
            parse_callback(br#"[{"mobile":"1","report_status":"MAYBE","sid":"a"}]"#),
            Err(ParseError::Status(_))
        ));
        assert!(matches!(
            parse_callback(&vec![b' '; MAX_CALLBACK_BYTES + 1]),
            Err(ParseError::TooLarge(_))
        ));
        let many = format!(
            "[{}]",
            vec![r#"{"mobile":"1","report_status":"FAIL","sid":"a"}"#; MAX_ITEMS + 1].join(",")
        );
        assert!(matches!(
            parse_callback(many.as_bytes()),
            Err(ParseError::TooMany(_))
        ));
    }
}
