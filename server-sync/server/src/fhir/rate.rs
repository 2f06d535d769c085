//! Rate limits for the outside systems' API: a token bucket per key (an
//! API client, or the calling address at the token endpoint). Pure: `now`
//! is passed in. Kept in each instance's memory, so behind several
//! instances a client gets the limit at each of them: the limit protects
//! the instance and bounds a leaked token's harvest, it is not a quota.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Buckets {
    map: HashMap<String, Bucket>,
}

/// Keys kept at most; past it the fullest buckets (idle callers) go first.
const MAX_KEYS: usize = 10_000;

impl Buckets {
    /// Takes one request from `key`'s bucket of `per_minute` (its capacity
    /// and its refill per minute). `Err(seconds)`: refused, retry after.
    pub fn take(&mut self, key: &str, per_minute: u32, now: DateTime<Utc>) -> Result<(), u64> {
        let cap = f64::from(per_minute.max(1));
        if self.map.len() >= MAX_KEYS && !self.map.contains_key(key) {
            self.map.retain(|_, b| b.tokens < cap - 1.0);
            if self.map.len() >= MAX_KEYS {
                self.map.clear();
            }
        }
        let b = self.map.entry(key.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let elapsed = (now - b.at).num_milliseconds().max(0) as f64 / 60_000.0;
        b.tokens = (b.tokens + elapsed * cap).min(cap);
        b.at = now;
        // Refills add up in floating point: a hair under one token is one.
        if b.tokens >= 1.0 - 1e-9 {
            b.tokens = (b.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            let missing = 1.0 - b.tokens;
            Err((missing * 60.0 / cap).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_burst_up_to_the_limit_then_refill() {
        let mut b = Buckets::default();
        let t0 = Utc::now();
        for i in 0..6 {
            assert_eq!(b.take("c", 6, t0), Ok(()), "request {i}");
        }
        let Err(wait) = b.take("c", 6, t0) else {
            panic!("the 7th request in a minute of 6 passed")
        };
        assert_eq!(wait, 10, "one token every 10 s");
        // Another key has its own bucket.
        assert_eq!(b.take("d", 6, t0), Ok(()));
        assert!(b.take("c", 6, t0 + Duration::seconds(9)).is_err());
        assert_eq!(b.take("c", 6, t0 + Duration::seconds(10)), Ok(()));
        // A long pause refills to the capacity, not beyond.
        let later = t0 + Duration::hours(1);
        for _ in 0..6 {
            assert_eq!(b.take("c", 6, later), Ok(()));
        }
        assert!(b.take("c", 6, later).is_err());
    }
}
