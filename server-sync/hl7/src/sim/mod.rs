//! The deterministic core of `lis-sim` (the binary in `src/bin/lis_sim.rs`
//! is only its sockets and clock): what a LIS / PACS answers to an order
//! and to a re-fetch (`QRY^R02`),
//! which faults it injects, and the results it sends back. Every decision
//! comes from a seeded generator keyed by what it is about (a control id
//! and its attempt, a barcode and item), so a run is the same whatever the
//! timing.

mod pdf;
mod refetch;
mod results;

use std::time::Duration;

pub use pdf::tiny_pdf;
pub use refetch::{Held, QueryRefusal, answer_query};
pub use results::{ReportStyle, ResultRules, malform, results_for};

/// SplitMix64: small, fast, and good enough to pick faults and values.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one decision: the run's seed and what it is about.
    pub fn keyed(seed: u64, parts: &[&str]) -> Rng {
        // FNV-1a over the parts, separated so ("ab","c") != ("a","bc").
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for p in parts {
            for b in p.bytes().chain([0xFF]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Rng(seed ^ h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

/// Fault rates (0.0 ..= 1.0) and the late ACK's delay.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub late_ack: f64,
    pub late_ack_delay: Duration,
    pub ae: f64,
    pub ar: f64,
    /// Close the connection after reading an order, before the ACK.
    pub drop: f64,
    /// Results sent first with a malformed segment.
    pub malformed: f64,
    /// Results sent twice.
    pub duplicate: f64,
    /// Results lost on the way the first time (never sent): only a
    /// re-fetch (`QRY^R02`) brings them.
    pub lost: f64,
}

/// What the simulator does with one order message it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckFault {
    /// AA at once.
    None,
    /// AA after `late_ack_delay` (the order is taken).
    Late,
    /// AE with an ERR (the order is not taken).
    Error,
    /// AR (not taken; a retry may succeed).
    Reject,
    /// The connection closed without an ACK (not taken).
    Drop,
}

/// The fault for the `attempt`-th receipt (0-based) of `control_id`: a
/// retry of the same message draws again, so with rates below 1 every
/// message gets through in the end.
pub fn ack_fault(seed: u64, faults: &Faults, control_id: &str, attempt: u32) -> AckFault {
    let mut r = Rng::keyed(seed, &["ack", control_id, &attempt.to_string()]);
    let u = r.unit();
    let mut edge = faults.drop;
    if u < edge {
        return AckFault::Drop;
    }
    edge += faults.ar;
    if u < edge {
        return AckFault::Reject;
    }
    edge += faults.ae;
    if u < edge {
        return AckFault::Error;
    }
    edge += faults.late_ack;
    if u < edge {
        return AckFault::Late;
    }
    AckFault::None
}

/// A time window (from the simulator's start) during which it is down:
/// connections are closed at once and no results go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    pub from: Duration,
    pub to: Duration,
}

impl std::str::FromStr for Outage {
    type Err = String;
    /// `START-END` in seconds since start, e.g. `10-25` or `0.5-2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("outage {s:?}: expected START-END in seconds"))?;
        let secs = |x: &str| {
            x.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("outage {s:?}: {x:?} is not a number of seconds"))
        };
        let (from, to) = (secs(a)?, secs(b)?);
        if to <= from {
            return Err(format!("outage {s:?}: the end must come after the start"));
        }
        Ok(Outage { from, to })
    }
}

/// If `elapsed` falls in an outage, how long until it ends.
pub fn outage_left(outages: &[Outage], elapsed: Duration) -> Option<Duration> {
    outages
        .iter()
        .filter(|o| o.from <= elapsed && elapsed < o.to)
        .map(|o| o.to - elapsed)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_deterministic_and_follow_rates() {
        let f = Faults {
            ae: 0.1,
            ar: 0.1,
            drop: 0.1,
            late_ack: 0.1,
            ..Faults::default()
        };
        let picks: Vec<AckFault> = (0..2000)
            .map(|i| ack_fault(7, &f, &format!("C{i}"), 0))
            .collect();
        let again: Vec<AckFault> = (0..2000)
            .map(|i| ack_fault(7, &f, &format!("C{i}"), 0))
            .collect();
        assert_eq!(picks, again);
        let count = |k| picks.iter().filter(|p| **p == k).count();
        for k in [
            AckFault::Drop,
            AckFault::Reject,
            AckFault::Error,
            AckFault::Late,
        ] {
            assert!((140..260).contains(&count(k)), "{k:?}: {}", count(k));
        }
        assert!((1000..1400).contains(&count(AckFault::None)));
        // Another seed, other picks.
        let other: Vec<AckFault> = (0..2000)
            .map(|i| ack_fault(8, &f, &format!("C{i}"), 0))
            .collect();
        assert_ne!(picks, other);
        assert_eq!(ack_fault(1, &Faults::default(), "x", 0), AckFault::None);
    }

    #[test]
    fn outages() {
        let o: Outage = "10-25.5".parse().unwrap();
        assert_eq!(o.to, Duration::from_millis(25_500));
        assert!("5-1".parse::<Outage>().is_err());
        assert!("x-1".parse::<Outage>().is_err());
        let list = [o];
        assert_eq!(outage_left(&list, Duration::from_secs(9)), None);
        assert_eq!(
            outage_left(&list, Duration::from_secs(20)),
            Some(Duration::from_millis(5_500))
        );
        assert_eq!(outage_left(&list, Duration::from_millis(25_500)), None);
    }
}
