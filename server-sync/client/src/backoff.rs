//! Exponential backoff with jitter, so a fleet of kiosks coming back after
//! an outage does not hit the server in lockstep.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempt: 0,
        }
    }

    /// The delay before the next retry; each call doubles the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let d = delay(self.base, self.max, self.attempt, random_unit());
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// "Equal jitter": half the capped exponential delay, plus a random part
/// of the other half. `unit` is uniform in [0, 1).
pub fn delay(base: Duration, max: Duration, attempt: u32, unit: f64) -> Duration {
    let ceiling = base
        .saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX))
        .min(max);
    ceiling / 2 + ceiling.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
}

fn random_unit() -> f64 {
    let b = exam_protocol::auth::random_bytes::<8>();
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters() {
        let (b, m) = (Duration::from_millis(500), Duration::from_secs(60));
        assert_eq!(delay(b, m, 0, 0.0), Duration::from_millis(250));
        assert_eq!(delay(b, m, 0, 1.0), Duration::from_millis(500));
        assert_eq!(delay(b, m, 3, 0.0), Duration::from_secs(2));
        assert_eq!(delay(b, m, 20, 1.0), m);
        assert_eq!(delay(b, m, 200, 0.5), Duration::from_secs(45));
        let mut bo = Backoff::new(b, m);
        let ds: Vec<_> = (0..12).map(|_| bo.next_delay()).collect();
        assert!(
            ds.iter()
                .all(|d| *d <= m && *d >= Duration::from_millis(250))
        );
        assert!(ds[11] >= Duration::from_secs(30));
    }
}
