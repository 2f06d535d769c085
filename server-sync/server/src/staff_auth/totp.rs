//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1,
//! 30-second steps, six digits, as every authenticator app reads them from
//! an `otpauth://totp/` URI. Pure: the time is passed in.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps either side of now that are accepted (clock drift, typing time).
pub const DRIFT_STEPS: i64 = 1;

/// RFC 4226 HOTP: the `digits`-digit code for `counter`.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC takes keys of any length; an error here is impossible.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3).
    let off = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// The time step of Unix time `secs`.
pub fn step(secs: i64) -> i64 {
    secs.div_euclid(STEP_SECONDS)
}

/// The six-digit code at Unix time `secs`, zero-padded.
pub fn code_at(secret: &[u8], secs: i64) -> String {
    format_code(hotp(secret, step(secs) as u64, DIGITS), DIGITS)
}

fn format_code(code: u32, digits: u32) -> String {
    format!("{code:0width$}", width = digits as usize)
}

/// Checks `typed` at Unix time `secs`; the step it matched, if any. A step
/// at or before `last_used` is refused, so a code works once (replay).
pub fn verify(secret: &[u8], typed: &str, secs: i64, last_used: Option<i64>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step(secs);
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not
    // say which step (if any) matched.
    for s in now - DRIFT_STEPS..=now + DRIFT_STEPS {
        let expected = format_code(hotp(secret, s as u64, DIGITS), DIGITS);
        if super::ct_eq(expected.as_bytes(), typed.as_bytes()) && found.is_none() {
            found = Some(s);
        }
    }
    found.filter(|s| last_used.is_none_or(|u| *s > u))
}

/// A new 160-bit secret (RFC 4226 recommends the HMAC's output size).
pub fn new_secret() -> Vec<u8> {
    exam_protocol::auth::random_bytes::<20>().to_vec()
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 (case, spaces and padding ignored); None if malformed.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32
            .iter()
            .position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// Percent-encodes for a URI path or query value.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        pct(issuer),
        pct(account),
        base32(secret),
        pct(issuer)
    )
}

/// `text` as a QR code PNG (black on white, a four-module quiet zone).
pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    const SCALE: usize = 6;
    const QUIET: usize = 4;
    let side = (n + 2 * QUIET) * SCALE;
    let mut px = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % n + QUIET, i / n + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            px[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let side = u32::try_from(side).ok()?;
    Some(super::captcha::encode_grey(&px, side, side))
}

/// `text` as a QR code PNG response (not cached); 404 for none.
pub fn qr_response(text: Option<&str>) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    match text.and_then(qr_png) {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (eight digits, the 20-byte ASCII key).
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let got = format_code(hotp(key, step(t) as u64, 8), 8);
            assert_eq!(got, want, "T = {t}");
        }
    }

    /// RFC 4226 appendix D: HOTP of the same key, six digits, counters 0–9.
    #[test]
    fn rfc_4226_test_vectors() {
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (c, w) in want.iter().enumerate() {
            assert_eq!(
                hotp(b"12345678901234567890", c as u64, 6),
                *w,
                "counter {c}"
            );
        }
    }

    #[test]
    fn codes_verify_within_one_step_and_only_once() {
        let key = b"12345678901234567890";
        let t = 1_111_111_111;
        let code = code_at(key, t);
        assert_eq!(verify(key, &code, t, None), Some(step(t)));
        assert_eq!(
            verify(key, &code, t + 30, None),
            Some(step(t)),
            "a step late"
        );
        assert_eq!(
            verify(key, &code, t - 30, None),
            Some(step(t)),
            "a step early"
        );
        assert_eq!(verify(key, &code, t + 90, None), None, "too late");
        assert_eq!(verify(key, &code, t, Some(step(t))), None, "used already");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(key, &spaced, t, None), Some(step(t)));
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(verify(key, bad, t, None), None, "{bad:?}");
        }
        assert_eq!(verify(b"another key 12345678", &code, t, None), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZ1"), None);
        let s = new_secret();
        assert_eq!(base32_decode(&base32(&s)).unwrap(), s);
        assert_eq!(base32(&s).len(), 32);
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("体检中心", "chief", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/%E4%BD%93"), "{uri}");
        assert!(uri.contains(":chief?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer="));
        assert!(uri.ends_with("&algorithm=SHA1&digits=6&period=30"));
        let png = qr_png(&uri).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
