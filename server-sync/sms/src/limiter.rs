//! Our own send limits, as a pure state machine (`now` passed in): per
//! number (the platform's defaults: 1 per 30 s, 5 per hour, 10 per day) and
//! overall per minute (the account's throughput). A message over a limit is
//! told when it may go; what to do with it (wait, drop) is the caller's
//! policy. Urgent messages (critical values) are admitted past every limit
//! and still counted, so they never wait behind routine ones but others
//! wait behind them.
//!
//! Memory is bounded: entries older than the longest window are dropped on
//! every call that touches their number, and [`Limiter::prune`] sweeps all.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// At most `max` sends in any `seconds`-long window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub seconds: i64,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub per_number: Vec<Window>,
    /// Sends in any minute, all numbers together (0: no cap).
    pub overall_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_number: vec![
                Window {
                    seconds: 30,
                    max: 1,
                },
                Window {
                    seconds: 3600,
                    max: 5,
                },
                Window {
                    seconds: 86_400,
                    max: 10,
                },
            ],
            overall_per_minute: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sent now (and counted).
    Admit,
    /// Not before this instant.
    WaitUntil(DateTime<Utc>),
}

#[derive(Debug, Clone, Default)]
pub struct Limiter {
    limits: Limits,
    /// Send times per number key (oldest first).
    per_number: BTreeMap<String, VecDeque<DateTime<Utc>>>,
    overall: VecDeque<DateTime<Utc>>,
}

/// When a window holding `times` (oldest first) lets one more through:
/// the `max`-th most recent send must have left it.
fn free_at(
    times: &VecDeque<DateTime<Utc>>,
    w: Window,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let len = Duration::seconds(w.seconds.max(1));
    let inside: Vec<_> = times.iter().filter(|t| **t > now - len).collect();
    let max = w.max as usize;
    if inside.len() < max {
        return None;
    }
    if max == 0 {
        // A window that allows nothing: never (a day from now, re-asked).
        return Some(now + Duration::days(1));
    }
    Some(*inside[inside.len() - max] + len)
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn longest(&self) -> Duration {
        let s = self
            .limits
            .per_number
            .iter()
            .map(|w| w.seconds)
            .max()
            .unwrap_or(0);
        Duration::seconds(s.max(60))
    }

    /// Counts a send that happened (history loaded from the store, or one
    /// admitted elsewhere).
    pub fn record(&mut self, number: &str, at: DateTime<Utc>) {
        let q = self.per_number.entry(number.to_string()).or_default();
        // Kept in time order even when history arrives out of order.
        let pos = q.partition_point(|t| *t <= at);
        q.insert(pos, at);
        let pos = self.overall.partition_point(|t| *t <= at);
        self.overall.insert(pos, at);
    }

    /// When a message to `number` could go, without counting it.
    pub fn check(&self, number: &str, urgent: bool, now: DateTime<Utc>) -> Decision {
        if urgent {
            return Decision::Admit;
        }
        let empty = VecDeque::new();
        let mine = self.per_number.get(number).unwrap_or(&empty);
        let mut until: Option<DateTime<Utc>> = None;
        for w in &self.limits.per_number {
            until = until.max(free_at(mine, *w, now));
        }
        if self.limits.overall_per_minute > 0 {
            let w = Window {
                seconds: 60,
                max: self.limits.overall_per_minute,
            };
            until = until.max(free_at(&self.overall, w, now));
        }
        match until {
            Some(t) if t > now => Decision::WaitUntil(t),
            _ => Decision::Admit,
        }
    }

    /// Decides, and counts the message when it is admitted.
    pub fn admit(&mut self, number: &str, urgent: bool, now: DateTime<Utc>) -> Decision {
        self.prune_number(number, now);
        let d = self.check(number, urgent, now);
        if d == Decision::Admit {
            self.record(number, now);
        }
        d
    }

    fn prune_number(&mut self, number: &str, now: DateTime<Utc>) {
        let cut = now - self.longest();
        if let Some(q) = self.per_number.get_mut(number) {
            while q.front().is_some_and(|t| *t <= cut) {
                q.pop_front();
            }
            if q.is_empty() {
                self.per_number.remove(number);
            }
        }
        let cut = now - Duration::seconds(60);
        while self.overall.front().is_some_and(|t| *t <= cut) {
            self.overall.pop_front();
        }
    }

    /// Drops everything older than the longest window.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let keys: Vec<String> = self.per_number.keys().cloned().collect();
        for k in keys {
            self.prune_number(&k, now);
        }
    }

    /// Numbers with history (bounded by the sends of the longest window).
    pub fn tracked(&self) -> usize {
        self.per_number.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    #[test]
    fn one_per_thirty_seconds_five_per_hour_ten_per_day() {
        let mut l = Limiter::new(Limits::default());
        let s = Duration::seconds;
        assert_eq!(l.admit("a", false, t0()), Decision::Admit);
        // 30 s window.
        assert_eq!(
            l.admit("a", false, t0() + s(10)),
            Decision::WaitUntil(t0() + s(30))
        );
        assert_eq!(l.admit("a", false, t0() + s(30)), Decision::Admit);
        // Another number is not held back.
        assert_eq!(l.admit("b", false, t0() + s(31)), Decision::Admit);
        for i in 2..5 {
            assert_eq!(l.admit("a", false, t0() + s(30 * i + 30)), Decision::Admit);
        }
        // Five in the hour: the sixth waits for the first to leave it.
        assert_eq!(
            l.admit("a", false, t0() + s(200)),
            Decision::WaitUntil(t0() + s(3600))
        );
        assert_eq!(l.admit("a", false, t0() + s(3600)), Decision::Admit);
        // Up to ten in the day, spread over hours.
        let mut at = t0() + s(3600);
        let mut admitted = 6;
        while admitted < 10 {
            at += s(3600);
            assert_eq!(l.admit("a", false, at), Decision::Admit);
            admitted += 1;
        }
        at += s(3600);
        assert_eq!(
            l.admit("a", false, at),
            Decision::WaitUntil(t0() + s(86_400))
        );
        assert_eq!(l.admit("a", false, t0() + s(86_400)), Decision::Admit);
    }

    #[test]
    fn urgent_goes_past_every_limit_and_counts() {
        let mut l = Limiter::new(Limits::default());
        assert_eq!(l.admit("a", false, t0()), Decision::Admit);
        assert_eq!(l.admit("a", true, t0()), Decision::Admit);
        assert_eq!(l.admit("a", true, t0()), Decision::Admit);
        assert!(matches!(
            l.check("a", false, t0() + Duration::seconds(29)),
            Decision::WaitUntil(_)
        ));
    }

    #[test]
    fn the_overall_cap_per_minute() {
        let mut l = Limiter::new(Limits {
            per_number: vec![],
            overall_per_minute: 3,
        });
        for n in ["a", "b", "c"] {
            assert_eq!(l.admit(n, false, t0()), Decision::Admit);
        }
        assert_eq!(
            l.admit("d", false, t0() + Duration::seconds(5)),
            Decision::WaitUntil(t0() + Duration::seconds(60))
        );
        assert_eq!(
            l.admit("d", false, t0() + Duration::seconds(60)),
            Decision::Admit
        );
    }

    #[test]
    fn history_out_of_order_and_pruned() {
        let mut l = Limiter::new(Limits::default());
        l.record("a", t0() + Duration::seconds(20));
        l.record("a", t0());
        assert_eq!(
            l.check("a", false, t0() + Duration::seconds(40)),
            Decision::WaitUntil(t0() + Duration::seconds(50))
        );
        for i in 0..1000 {
            l.admit(&format!("n{i}"), false, t0() + Duration::minutes(i));
        }
        l.prune(t0() + Duration::days(2));
        assert_eq!(l.tracked(), 0);
    }
}
