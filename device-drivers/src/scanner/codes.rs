//! What a scanned code means: a booking QR, an exam-number barcode, or an
//! e-health card QR, with their formats checked.

use serde::{Deserialize, Serialize};

/// The longest line a scanner may send (QR codes of interest are short).
pub const MAX_CODE_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum ScannedCode {
    /// The booking code from the booking confirmation QR (`BK` and 13
    /// random Crockford base32 characters, or a legacy `BK` + 12 digits),
    /// bare or as the last segment of a booking URL; always in its stored
    /// form ([`exam_domain::booking_code::normalize`]).
    Booking(String),
    /// 体检号: 8 digits, never containing a 4 (E3).
    ExamNo(String),
    /// 电子健康卡 QR: 64 upper-case hex digits, ':' and a use digit.
    EHealthCard(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("empty scan")]
    Empty,
    #[error("scan longer than {MAX_CODE_LEN} characters")]
    TooLong,
    #[error("scan contains control characters")]
    Control,
    #[error("an exam number never contains the digit 4: {0:?} is not one of ours")]
    FourInExamNo(String),
    #[error(
        "unrecognised code {0:?}: show the booking QR, the exam number barcode or the e-health card"
    )]
    Unknown(String),
}

/// The stored form of a booking code, when `s` is one.
fn booking(s: &str) -> Option<String> {
    exam_domain::booking_code::normalize(s)
}

pub fn classify(raw: &str) -> Result<ScannedCode, CodeError> {
    let s = raw.trim_matches(|c| c == '\r' || c == '\n' || c == ' ');
    if s.is_empty() {
        return Err(CodeError::Empty);
    }
    if s.chars().count() > MAX_CODE_LEN {
        return Err(CodeError::TooLong);
    }
    if s.chars().any(char::is_control) {
        return Err(CodeError::Control);
    }
    if let Some(code) = booking(s) {
        return Ok(ScannedCode::Booking(code));
    }
    if let Some(code) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .and_then(|u| u.split(['?', '#']).next()?.rsplit('/').next())
        .and_then(booking)
    {
        return Ok(ScannedCode::Booking(code));
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return if s.contains('4') {
            Err(CodeError::FourInExamNo(s.into()))
        } else {
            Ok(ScannedCode::ExamNo(s.into()))
        };
    }
    if let Some((hex, use_digit)) = s.split_once(':')
        && hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        && use_digit.len() == 1
        && use_digit.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(ScannedCode::EHealthCard(s.into()));
    }
    Err(CodeError::Unknown(s.chars().take(40).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes() {
        assert_eq!(
            classify("BK261122000001\r\n"),
            Ok(ScannedCode::Booking("BK261122000001".into()))
        );
        assert_eq!(
            classify("https://tj.example.cn/b/BK261122000001?src=sms"),
            Ok(ScannedCode::Booking("BK261122000001".into()))
        );
        // The random format (item 5 of the security review), as printed
        // in the QR, grouped for reading, or in lower case.
        let code = exam_domain::booking_code::from_random(0x9E37_79B9_7F4A_7C15);
        for scanned in [
            code.clone(),
            exam_domain::booking_code::display(&code),
            code.to_lowercase(),
            format!("https://tj.example.cn/b/{code}"),
        ] {
            assert_eq!(
                classify(&scanned),
                Ok(ScannedCode::Booking(code.clone())),
                "{scanned}"
            );
        }
        assert_eq!(
            classify("00123567"),
            Ok(ScannedCode::ExamNo("00123567".into()))
        );
        assert_eq!(
            classify("00123456"),
            Err(CodeError::FourInExamNo("00123456".into()))
        );
        let ehc = format!("{}:1", "A1B2".repeat(16));
        assert_eq!(classify(&ehc), Ok(ScannedCode::EHealthCard(ehc.clone())));
        assert!(matches!(
            classify(&ehc.to_lowercase()),
            Err(CodeError::Unknown(_))
        ));
        assert_eq!(classify("  \r\n"), Err(CodeError::Empty));
        assert_eq!(classify("BK\u{7}1"), Err(CodeError::Control));
        assert_eq!(classify(&"9".repeat(600)), Err(CodeError::TooLong));
        assert!(matches!(classify("hello"), Err(CodeError::Unknown(_))));
    }
}
