//! Refusals from callers nobody has authenticated (a forged kiosk
//! signature, a replayed request, an enrolment with a wrong secret) are
//! security events (S7) — but anyone can send them, so writing a row for
//! each would let a flood fill the trail and slow every audited change.
//! So such rows are coalesced: at most one per (source, kind) in a window,
//! and at most `cap` in a window altogether; the next row written for a key
//! says how many like it were not written. Pure: `now` is passed in.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Whether to write a row now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write it, saying that `suppressed` like it were not written before.
    Write { suppressed: u64 },
    /// Count it only.
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct KeyState {
    last_written: DateTime<Utc>,
    suppressed: u64,
}

#[derive(Debug)]
pub struct Limiter {
    window: Duration,
    cap: u32,
    max_keys: usize,
    window_start: Option<DateTime<Utc>>,
    written_in_window: u32,
    keys: HashMap<String, KeyState>,
}

impl Default for Limiter {
    /// One row a minute per source and kind, 120 a minute in all.
    fn default() -> Self {
        Self::new(Duration::minutes(1), 120, 10_000)
    }
}

impl Limiter {
    pub fn new(window: Duration, cap: u32, max_keys: usize) -> Self {
        Self {
            window,
            cap,
            max_keys,
            window_start: None,
            written_in_window: 0,
            keys: HashMap::new(),
        }
    }

    /// Decides for one event of `key` (e.g. `"10.0.0.9 bad_signature"`).
    pub fn check(&mut self, key: &str, now: DateTime<Utc>) -> Decision {
        if self.window_start.is_none_or(|s| now - s >= self.window) {
            self.window_start = Some(now);
            self.written_in_window = 0;
            let window = self.window;
            // Keys quiet for a whole window have nothing left to say but
            // their count, which goes with them only if nothing was held back.
            self.keys
                .retain(|_, k| k.suppressed > 0 || now - k.last_written < window);
        }
        let over_cap = self.written_in_window >= self.cap;
        let table_full = self.keys.len() >= self.max_keys;
        match self.keys.get_mut(key) {
            Some(k) if now - k.last_written < self.window || over_cap => {
                k.suppressed += 1;
                Decision::Suppress
            }
            Some(k) => {
                let suppressed = k.suppressed;
                *k = KeyState {
                    last_written: now,
                    suppressed: 0,
                };
                self.written_in_window += 1;
                Decision::Write { suppressed }
            }
            None if over_cap || table_full => Decision::Suppress,
            None => {
                self.keys.insert(
                    key.to_string(),
                    KeyState {
                        last_written: now,
                        suppressed: 0,
                    },
                );
                self.written_in_window += 1;
                Decision::Write { suppressed: 0 }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap() + Duration::seconds(s)
    }

    #[test]
    fn one_row_a_window_per_key_then_the_count() {
        let mut l = Limiter::default();
        assert_eq!(l.check("a", t(0)), Decision::Write { suppressed: 0 });
        for s in 1..=30 {
            assert_eq!(l.check("a", t(s)), Decision::Suppress);
        }
        // Another key is not held back by the first.
        assert_eq!(l.check("b", t(5)), Decision::Write { suppressed: 0 });
        assert_eq!(l.check("a", t(61)), Decision::Write { suppressed: 30 });
        assert_eq!(l.check("a", t(62)), Decision::Suppress);
    }

    #[test]
    fn a_flood_from_many_sources_is_capped() {
        let mut l = Limiter::new(Duration::minutes(1), 10, 100);
        let written = (0..1000)
            .filter(|i| matches!(l.check(&format!("ip{i}"), t(1)), Decision::Write { .. }))
            .count();
        assert_eq!(written, 10);
        // The next window writes again.
        assert_eq!(l.check("ip0", t(70)), Decision::Write { suppressed: 0 });
    }

    #[test]
    fn the_key_table_stays_bounded() {
        let mut l = Limiter::new(Duration::minutes(1), u32::MAX, 50);
        for i in 0..10_000 {
            l.check(&format!("ip{i}"), t(i / 1000));
        }
        assert!(l.keys.len() <= 50, "{}", l.keys.len());
    }
}
