//! Merchant order numbers. The platform wants 6-32 characters of
//! `[0-9A-Za-z_-|*]`, unique per merchant forever (a reused number returns
//! the old order). Ours: `{prefix}{yyMMddHHmmss}{node:02}{seq:04}{rand:4}`,
//! e.g. `HX2612051030000100071K3Z`: readable by finance (date first), unique
//! across processes (node id), within a process (counter) and across
//! restarts within one second (random tail). The store's unique index on
//! out_trade_no is the last word; a collision there means generate again.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};

use crate::model::cst;

const BASE36: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradeNoError {
    #[error("prefix must be 1-8 ASCII letters or digits")]
    Prefix,
    #[error("node id must be below 100")]
    Node,
}

/// Hands out order numbers for one process.
#[derive(Debug)]
pub struct TradeNoGenerator {
    prefix: String,
    node: u8,
    seq: AtomicU32,
}

impl TradeNoGenerator {
    pub fn new(prefix: &str, node: u8) -> Result<Self, TradeNoError> {
        if prefix.is_empty()
            || prefix.len() > 8
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TradeNoError::Prefix);
        }
        if node >= 100 {
            return Err(TradeNoError::Node);
        }
        Ok(Self {
            prefix: prefix.to_string(),
            node,
            seq: AtomicU32::new(0),
        })
    }

    pub fn next(&self, now: DateTime<Utc>) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) % 10_000;
        let mut r = [0u8; 4];
        getrandom::fill(&mut r).unwrap_or_else(|e| panic!("OS random source: {e}"));
        format_trade_no(&self.prefix, now, self.node, seq, r)
    }
}

/// The pure formatting step (tested directly).
pub fn format_trade_no(
    prefix: &str,
    now: DateTime<Utc>,
    node: u8,
    seq: u32,
    rand: [u8; 4],
) -> String {
    let mut s = format!(
        "{prefix}{}{:02}{:04}",
        now.with_timezone(&cst()).format("%y%m%d%H%M%S"),
        node % 100,
        seq % 10_000
    );
    for b in rand {
        s.push(BASE36[usize::from(b) % BASE36.len()] as char);
    }
    s
}

/// Whether `s` is a valid out_trade_no for the platform.
pub fn is_valid_trade_no(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn format_is_dated_in_cst_and_valid() {
        let t = DateTime::from_timestamp(1_764_900_000, 0).unwrap_or_default(); // 2025-12-05 02:00 UTC
        let s = format_trade_no("HX", t, 1, 7, [1, 20, 35, 36]);
        assert_eq!(s, "HX2512051000000100071KZ0");
        assert!(is_valid_trade_no(&s));
        assert!(s.len() <= 32);
        let longest = format_trade_no("ABCDEFGH", t, 99, 9_999, [255; 4]);
        assert!(is_valid_trade_no(&longest), "{longest}");
    }

    #[test]
    fn many_in_one_second_are_unique() {
        let g = TradeNoGenerator::new("HX", 3).unwrap_or_else(|e| panic!("{e}"));
        let t = Utc::now();
        let first: HashSet<String> = (0..10_000).map(|_| g.next(t)).collect();
        assert_eq!(
            first.len(),
            10_000,
            "the counter alone keeps one second's numbers apart"
        );
        // Past the counter's 10 000 steps the random tail (36^4) keeps them
        // apart: a handful of collisions at most, which the store's unique
        // index turns into a retry.
        let second: HashSet<String> = (0..10_000).map(|_| g.next(t)).collect();
        assert!(first.intersection(&second).count() <= 3);
        assert!(TradeNoGenerator::new("H-X", 1).is_err());
        assert!(TradeNoGenerator::new("HX", 100).is_err());
        assert!(!is_valid_trade_no("short"));
        assert!(!is_valid_trade_no("has space 123"));
    }
}
