//! What happens to a message after an attempt (pure: `now` and the jitter
//! draw are passed in, so the tests run hours of retries without a clock).

use chrono::{DateTime, Duration, Utc};

use super::MessageState;
use super::adapter::{Delivered, SendError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Refusals before a dead letter.
    pub max_failures: u32,
    pub base: Duration,
    pub cap: Duration,
}

/// The wait before attempt `attempt + 1`, after `attempt` (≥ 1) attempts:
/// `d = min(cap, base · 2^(attempt-1))`, then "equal jitter": between d/2
/// and d, by `jitter` in [0, 1). Senders of many instances that failed
/// together do not come back together, and the wait never drops below
/// half the nominal one (a counterpart that is down is not hammered).
pub fn backoff(p: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let shift = attempt.saturating_sub(1).min(30);
    let nominal_ms = p
        .base
        .num_milliseconds()
        .saturating_mul(1i64 << shift)
        .min(p.cap.num_milliseconds());
    let j = jitter.clamp(0.0, 1.0);
    let half = nominal_ms / 2;
    Duration::milliseconds(half + ((nominal_ms - half) as f64 * j) as i64)
}

/// The message after an attempt: its new state and when it is next tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Next {
    pub state: MessageState,
    pub failures: u32,
    pub next_attempt_at: DateTime<Utc>,
    /// Set when the attempt failed (the head is failing since then, kept
    /// from the first failure of a run).
    pub failing: bool,
    pub error: Option<String>,
    pub remote_ref: Option<String>,
}

/// After attempt number `attempts` (this one included) of a message that
/// the counterpart had refused `failures` times before.
pub fn after(
    p: &RetryPolicy,
    attempts: u32,
    failures: u32,
    result: &Result<Delivered, SendError>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Next {
    let retry = |failures: u32, e: &SendError| Next {
        state: MessageState::Retrying,
        failures,
        next_attempt_at: now + backoff(p, attempts, jitter),
        failing: true,
        error: Some(e.to_string()),
        remote_ref: None,
    };
    match result {
        Ok(d) => Next {
            state: if d.acknowledged {
                MessageState::Acked
            } else {
                MessageState::Sent
            },
            failures,
            next_attempt_at: now,
            failing: false,
            error: None,
            remote_ref: d.remote_ref.clone(),
        },
        // The counterpart is away (refused connection, timeout): the
        // message is not at fault and is not counted against; the line
        // waits with backoff.
        Err(e @ SendError::Unavailable(_)) => retry(failures, e),
        Err(e @ SendError::Retryable(_)) => {
            let failures = failures + 1;
            if failures >= p.max_failures {
                dead(failures, e, now)
            } else {
                retry(failures, e)
            }
        }
        Err(e @ SendError::Permanent(_)) => dead(failures + 1, e, now),
    }
}

fn dead(failures: u32, e: &SendError, now: DateTime<Utc>) -> Next {
    Next {
        state: MessageState::Dead,
        failures,
        next_attempt_at: now,
        failing: true,
        error: Some(e.to_string()),
        remote_ref: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> RetryPolicy {
        RetryPolicy {
            max_failures: 3,
            base: Duration::seconds(5),
            cap: Duration::seconds(300),
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let secs = |a, j| backoff(&p(), a, j).num_milliseconds();
        assert_eq!(secs(1, 0.0), 2_500);
        assert_eq!(secs(1, 0.999_999), 4_999);
        assert_eq!(secs(2, 0.0), 5_000);
        assert_eq!(secs(3, 0.5), 15_000);
        assert_eq!(secs(7, 0.0), 150_000);
        // Capped: 5 s · 2^6 = 320 s > 300 s.
        assert_eq!(secs(8, 0.0), 150_000);
        assert_eq!(secs(1000, 1.0), 300_000);
        // Out-of-range draws are clamped, never negative or over the cap.
        assert_eq!(secs(2, -3.0), 5_000);
        assert_eq!(secs(2, 7.0), 10_000);
    }

    #[test]
    fn delivered_acknowledged_or_not() {
        let now = Utc::now();
        let ok = Ok(Delivered {
            acknowledged: true,
            remote_ref: Some("P123".into()),
        });
        let n = after(&p(), 1, 0, &ok, now, 0.0);
        assert_eq!(n.state, MessageState::Acked);
        assert_eq!(n.remote_ref.as_deref(), Some("P123"));
        assert!(!n.failing);
        let sent = Ok(Delivered {
            acknowledged: false,
            remote_ref: None,
        });
        assert_eq!(after(&p(), 1, 0, &sent, now, 0.0).state, MessageState::Sent);
    }

    #[test]
    fn refusals_count_to_a_dead_letter_outages_do_not() {
        let now = Utc::now();
        let refused = Err(SendError::Retryable("AE: busy".into()));
        let n = after(&p(), 1, 0, &refused, now, 0.0);
        assert_eq!((n.state, n.failures), (MessageState::Retrying, 1));
        assert_eq!(n.next_attempt_at, now + Duration::milliseconds(2_500));
        let n = after(&p(), 2, 1, &refused, now, 0.0);
        assert_eq!((n.state, n.failures), (MessageState::Retrying, 2));
        let n = after(&p(), 3, 2, &refused, now, 0.0);
        assert_eq!((n.state, n.failures), (MessageState::Dead, 3));
        assert!(n.error.unwrap().contains("AE: busy"));
        // A hundred attempts against a counterpart that is away: still waiting.
        let away = Err(SendError::Unavailable("connection refused".into()));
        let n = after(&p(), 100, 2, &away, now, 0.0);
        assert_eq!((n.state, n.failures), (MessageState::Retrying, 2));
        assert_eq!(n.next_attempt_at, now + Duration::seconds(150));
        // Refused for good: dead at once.
        let bad = Err(SendError::Permanent("AR: unknown item".into()));
        assert_eq!(after(&p(), 1, 0, &bad, now, 0.0).state, MessageState::Dead);
    }
}
