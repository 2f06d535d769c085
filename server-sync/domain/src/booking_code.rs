//! Booking codes (预约号): the bearer identifier on a booking's QR and slip.
//!
//! A kiosk checks in, rebooks or cancels whoever shows a booking code, so a
//! code must not be guessable: new codes carry 64 random bits (the caller
//! passes them in: this crate reads no random source), written as `BK` and
//! 13 characters of Crockford's base32. That is 15 characters in a QR's
//! alphanumeric mode and, grouped as `BK-XXXX-XXXX-XXXXX`, readable aloud
//! (no I, L, O or U: nothing to confuse with 1, 0 or V).
//!
//! Codes made before (`BK` + 12 digits in the demo, `BK` + hex of a
//! time-based id at the desk) stay valid: [`normalize`] leaves them as they
//! were stored, so a lookup by the printed code still finds them.

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters after `BK` in a new code: ceil(64 / 5).
pub const RANDOM_LEN: usize = 13;

/// Body lengths accepted from a scanner or a keyboard: legacy codes are 12
/// digits (demo) or 12-16 hex digits (desk), new ones 13 characters.
const BODY_LEN: std::ops::RangeInclusive<usize> = 6..=20;

/// A new booking code from 64 random bits.
pub fn from_random(bits: u64) -> String {
    let mut body = [0u8; RANDOM_LEN];
    for (i, c) in body.iter_mut().enumerate() {
        let shift = 5 * (RANDOM_LEN - 1 - i);
        // The first character holds the top 4 bits (13 × 5 = 65).
        *c = ALPHABET[((bits >> shift) & 31) as usize];
    }
    let mut s = String::with_capacity(2 + RANDOM_LEN);
    s.push_str("BK");
    s.extend(body.iter().map(|&b| b as char));
    s
}

/// The stored form of a code as typed or scanned: case folded, separators
/// (`-`, spaces) dropped, and the letters a person confuses with digits
/// (O, I, L) read as 0 and 1. `None` when it cannot be a booking code.
pub fn normalize(input: &str) -> Option<String> {
    let mut body = String::new();
    let mut chars = input
        .trim()
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_uppercase());
    if chars.next() != Some('B') || chars.next() != Some('K') {
        return None;
    }
    for c in chars {
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        body.push(c);
    }
    BODY_LEN.contains(&body.len()).then(|| format!("BK{body}"))
}

/// Whether `code` has the random format's shape (a 13-character legacy
/// code of hex digits may have it too: only grouping depends on this).
pub fn is_random_format(code: &str) -> bool {
    code.len() == 2 + RANDOM_LEN
        && code.starts_with("BK")
        && code.bytes().skip(2).all(|b| ALPHABET.contains(&b))
        // 13 × 5 bits hold 65: the first character of 64 bits is 0-F.
        && code.as_bytes()[2].is_ascii_hexdigit()
}

/// The code as printed for people: `BK-XXXX-XXXX-XXXXX` for the random
/// format, a legacy code unchanged.
pub fn display(code: &str) -> String {
    if is_random_format(code) {
        format!("BK-{}-{}-{}", &code[2..6], &code[6..10], &code[10..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_codes_are_bk_and_13_crockford_characters() {
        for bits in [0, 1, u64::MAX, 0x0123_4567_89AB_CDEF] {
            let c = from_random(bits);
            assert_eq!(c.len(), 15, "{c}");
            assert!(is_random_format(&c), "{c}");
            assert_eq!(normalize(&c).as_deref(), Some(c.as_str()));
        }
        assert_eq!(from_random(0), "BK0000000000000");
        assert_eq!(from_random(u64::MAX), "BKFZZZZZZZZZZZZ");
    }

    #[test]
    fn distinct_bits_give_distinct_codes() {
        // The encoding is injective: every bit of the 64 reaches the code.
        for i in 0..64 {
            assert_ne!(from_random(0), from_random(1 << i), "bit {i}");
        }
    }

    #[test]
    fn what_people_type_is_normalised() {
        let c = from_random(0x0123_4567_89AB_CDEF);
        let shown = display(&c);
        assert!(
            shown.starts_with("BK-") && shown.matches('-').count() == 3,
            "{shown}"
        );
        assert_eq!(normalize(&shown).as_deref(), Some(c.as_str()));
        assert_eq!(
            normalize(&shown.to_lowercase()).as_deref(),
            Some(c.as_str())
        );
        assert_eq!(
            normalize(" bk 0O1Il ab cd ").as_deref(),
            Some("BK00111ABCD")
        );
    }

    #[test]
    fn legacy_codes_stay_as_stored() {
        for legacy in ["BK261122000001", "BK18A4F3C2B10000", "BK2611020000001"] {
            assert_eq!(normalize(legacy).as_deref(), Some(legacy));
            // A 13-character legacy code has the random format's shape and
            // is grouped on paper; read back, it is the stored code again.
            assert_eq!(normalize(&display(legacy)).as_deref(), Some(legacy));
        }
        assert_eq!(display("BK261122000001"), "BK261122000001");
        assert!(!is_random_format("BK261122000001"));
    }

    #[test]
    fn what_is_not_a_code_is_refused() {
        for s in [
            "",
            "BK",
            "BK12",
            "XK261122000001",
            "BK2611U2000001",
            "BK26112200000€",
            "BK-中文",
        ] {
            assert_eq!(normalize(s), None, "{s:?}");
        }
        assert_eq!(normalize(&format!("BK{}", "1".repeat(21))), None);
    }
}
