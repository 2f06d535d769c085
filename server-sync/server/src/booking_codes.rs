//! New booking codes (item 5 of the security review): a kiosk checks in,
//! rebooks or cancels whoever shows a code, so a code is 64 bits from the
//! OS random source, never derived from the booking's time-based id. The
//! format and the reading of typed or scanned codes are
//! [`exam_domain::booking_code`]'s.

/// A fresh, unguessable booking code (`BK` + 13 Crockford base32 characters).
pub fn new_booking_code() -> String {
    exam_domain::booking_code::from_random(u64::from_be_bytes(exam_protocol::auth::random_bytes()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::new_booking_code;

    #[test]
    fn ten_thousand_codes_are_distinct_and_random_format() {
        let codes: Vec<String> = (0..10_000).map(|_| new_booking_code()).collect();
        let distinct: HashSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len(), "two codes were equal");
        assert!(
            codes
                .iter()
                .all(|c| exam_domain::booking_code::is_random_format(c))
        );
    }

    #[test]
    fn codes_are_not_derived_from_time() {
        // Made within a few milliseconds, time-based codes share their
        // leading characters and sort in the order they were made. Random
        // ones spread over the whole alphabet at every position.
        let codes: Vec<String> = (0..2_000).map(|_| new_booking_code()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_ne!(sorted, codes, "codes sort in the order they were made");
        for pos in 3..15 {
            let seen: HashSet<u8> = codes.iter().map(|c| c.as_bytes()[pos]).collect();
            assert_eq!(
                seen.len(),
                32,
                "position {pos} uses {} characters",
                seen.len()
            );
        }
        let first: HashSet<u8> = codes.iter().map(|c| c.as_bytes()[2]).collect();
        assert_eq!(first.len(), 16, "the first character carries 4 bits");
        // Nor do they contain the id the store gives the booking.
        let id = format!("{:X}", crate::db::next_id());
        assert!(codes.iter().all(|c| !c.contains(&id[..8])));
        // About half of the 64 bits differ between consecutive codes.
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let bits = |c: &str| {
            c.bytes().skip(2).fold(0u64, |acc, b| {
                let v = ALPHABET.iter().position(|&a| a == b).unwrap() as u64;
                (acc << 5) | v
            })
        };
        let mean = codes
            .windows(2)
            .map(|w| (bits(&w[0]) ^ bits(&w[1])).count_ones() as f64)
            .sum::<f64>()
            / (codes.len() - 1) as f64;
        assert!(
            (28.0..36.0).contains(&mean),
            "consecutive codes differ in {mean} bits on average"
        );
    }
}
