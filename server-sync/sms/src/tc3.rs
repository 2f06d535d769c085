//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature, both sides:
//! [`authorization`] writes the `Authorization` header a client sends,
//! [`verify`] is what the platform (here `sms-sim`) checks.
//!
//! ```text
//! CanonicalRequest = POST \n / \n <query> \n content-type:<ct>\nhost:<host>\n \n
//!                    content-type;host \n hex(sha256(body))
//! StringToSign     = TC3-HMAC-SHA256 \n <timestamp> \n <date>/<service>/tc3_request \n
//!                    hex(sha256(CanonicalRequest))
//! key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//! Signature        = hex(HMAC(key, StringToSign))
//! ```
//! `date` is the UTC day of `X-TC-Timestamp`.

use chrono::DateTime;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// How far a request's timestamp may be from the platform's clock.
pub const MAX_SKEW_SECS: i64 = 300;

/// What one signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub content_type: &'a str,
    /// The `Host` header as sent (with a non-default port).
    pub host: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    pub timestamp: i64,
    pub service: &'a str,
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The UTC day of a timestamp, `YYYY-MM-DD` (out-of-range: the epoch's).
pub fn date_of(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

pub fn canonical_request(s: &Signed<'_>) -> String {
    format!(
        "{}\n/\n{}\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        s.method,
        s.query,
        s.content_type,
        s.host,
        sha256_hex(s.body)
    )
}

pub fn string_to_sign(s: &Signed<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/tc3_request\n{}",
        s.timestamp,
        date_of(s.timestamp),
        s.service,
        sha256_hex(canonical_request(s).as_bytes())
    )
}

/// The hex signature of `s` under `secret_key`.
pub fn signature(secret_key: &str, s: &Signed<'_>) -> String {
    let k_date = hmac(
        format!("TC3{secret_key}").as_bytes(),
        date_of(s.timestamp).as_bytes(),
    );
    let k_service = hmac(&k_date, s.service.as_bytes());
    let k_signing = hmac(&k_service, b"tc3_request");
    hex::encode(hmac(&k_signing, string_to_sign(s).as_bytes()))
}

/// The `Authorization` header value.
pub fn authorization(secret_id: &str, secret_key: &str, s: &Signed<'_>) -> String {
    format!(
        "{ALGORITHM} Credential={secret_id}/{}/{}/tc3_request, SignedHeaders=content-type;host, Signature={}",
        date_of(s.timestamp),
        s.service,
        signature(secret_key, s)
    )
}

/// An `Authorization` header taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: String,
    pub signature: String,
}

/// Why a request's signature is refused, with the platform's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("AuthFailure.SignatureFailure: {0}")]
    SignatureFailure(String),
    #[error("AuthFailure.SignatureExpire: timestamp {0} s from the server's clock")]
    SignatureExpire(i64),
    #[error("AuthFailure.SecretIdNotFound")]
    SecretIdNotFound,
}

impl AuthFailure {
    pub fn code(&self) -> &'static str {
        match self {
            Self::SignatureFailure(_) => "AuthFailure.SignatureFailure",
            Self::SignatureExpire(_) => "AuthFailure.SignatureExpire",
            Self::SecretIdNotFound => "AuthFailure.SecretIdNotFound",
        }
    }
}

/// Parses `TC3-HMAC-SHA256 Credential=id/date/service/tc3_request,
/// SignedHeaders=..., Signature=...` (at most 1 KiB).
pub fn parse_authorization(h: &str) -> Result<Credential, AuthFailure> {
    let bad = |why: &str| AuthFailure::SignatureFailure(why.to_string());
    if h.len() > 1024 {
        return Err(bad("Authorization too long"));
    }
    let rest = h
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| bad("not TC3-HMAC-SHA256"))?;
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad("malformed"))?;
        match k {
            "Credential" => cred = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(bad("unknown Authorization field")),
        }
    }
    let cred = cred.ok_or_else(|| bad("no Credential"))?;
    let mut it = cred.split('/');
    let (Some(id), Some(date), Some(service), Some("tc3_request"), None) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(bad("malformed Credential"));
    };
    Ok(Credential {
        secret_id: id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers: signed.ok_or_else(|| bad("no SignedHeaders"))?.to_string(),
        signature: sig.ok_or_else(|| bad("no Signature"))?.to_string(),
    })
}

/// Checks a request as the platform does: the credential's id is known
/// (`key_of`), its date and service match the timestamp and `s.service`,
/// the timestamp is within [`MAX_SKEW_SECS`] of `now`, and the signature
/// over `content-type;host` is the one `s` gives.
pub fn verify(
    header: &str,
    s: &Signed<'_>,
    key_of: impl Fn(&str) -> Option<String>,
    now: i64,
) -> Result<(), AuthFailure> {
    let c = parse_authorization(header)?;
    let secret_key = key_of(&c.secret_id).ok_or(AuthFailure::SecretIdNotFound)?;
    if (now - s.timestamp).abs() > MAX_SKEW_SECS {
        return Err(AuthFailure::SignatureExpire(now - s.timestamp));
    }
    if c.signed_headers != "content-type;host" {
        return Err(AuthFailure::SignatureFailure(
            "SignedHeaders must be content-type;host".into(),
        ));
    }
    if c.date != date_of(s.timestamp) || c.service != s.service {
        return Err(AuthFailure::SignatureFailure(
            "credential scope does not match the request".into(),
        ));
    }
    let want = signature(&secret_key, s);
    // Both are hex of a fixed length; compare without an early exit.
    let same = want.len() == c.signature.len()
        && want
            .bytes()
            .zip(c.signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(AuthFailure::SignatureFailure(
            "the request signature does not match".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &[u8]) -> Signed<'_> {
        Signed {
            method: "POST",
            content_type: "application/json; charset=utf-8",
            host: "cvm.tencentcloudapi.com",
            query: "",
            body,
            timestamp: 1551113065,
            service: "cvm",
        }
    }

    /// The worked example of Tencent Cloud's "Signature v3" documentation
    /// (DescribeInstances, the documented test secret); the same value
    /// comes out of the PyPI SDK's `Sign.sign_tc3` for these inputs.
    #[test]
    fn the_documented_example() {
        let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let s = req(body);
        assert_eq!(
            canonical_request(&s),
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &s),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn verify_takes_the_right_and_refuses_the_wrong() {
        let body = br#"{"SmsSdkAppId":"1400000001"}"#;
        let s = Signed {
            service: "sms",
            ..req(body)
        };
        let key = |id: &str| (id == "AKIDtest").then(|| "secret".to_string());
        let h = authorization("AKIDtest", "secret", &s);
        assert_eq!(verify(&h, &s, key, s.timestamp + 10), Ok(()));
        let other = Signed { body: b"{}", ..s };
        assert!(matches!(
            verify(&h, &other, key, s.timestamp),
            Err(AuthFailure::SignatureFailure(_))
        ));
        assert_eq!(
            verify(&h, &s, key, s.timestamp + 301),
            Err(AuthFailure::SignatureExpire(301))
        );
        let h2 = authorization("AKIDother", "secret", &s);
        assert_eq!(
            verify(&h2, &s, key, s.timestamp),
            Err(AuthFailure::SecretIdNotFound)
        );
        let wrong_key = authorization("AKIDtest", "guess", &s);
        assert!(verify(&wrong_key, &s, key, s.timestamp).is_err());
        for junk in [
            "",
            "TC3-HMAC-SHA256",
            "Basic abc",
            "TC3-HMAC-SHA256 Credential=a/b",
        ] {
            assert!(parse_authorization(junk).is_err(), "{junk}");
        }
    }
}
