//! Seeded fault injection: the same seed and the same order of requests give
//! the same faults, so a failing run can be replayed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::soap::Operation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// No answer for `hang` (the client times out); half the time HIS has
    /// applied the request first.
    Hang,
    /// The connection closed without an answer; half the time after
    /// applying.
    Drop,
    /// HTTP 500 / 502 / 503 from the web server in front of HIS (no SOAP
    /// fault, no JSON body), before applying.
    ServerError,
    /// HIS's own "busy" refusal: a SOAP fault (soap:Server, BUSY) or a REST
    /// 503 with the BUSY code, before applying.
    SoapFault,
    /// The right answer after `slow`.
    Slow,
    /// For 建档 only: HIS already holds the ID number with a misspelt name.
    WrongDemographics,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Hang,
        FaultKind::Drop,
        FaultKind::ServerError,
        FaultKind::SoapFault,
        FaultKind::Slow,
        FaultKind::WrongDemographics,
    ];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    pub seed: u64,
    /// Share of operation requests that get a fault, 0.0–1.0.
    pub rate: f64,
    pub kinds: Vec<FaultKind>,
    pub hang_ms: u64,
    pub slow_ms: u64,
    /// Windows, in seconds since the simulator started, in which every
    /// operation's connection is closed unanswered (HIS down).
    #[serde(default)]
    pub outages: Vec<(u64, u64)>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
            hang_ms: 10_000,
            slow_ms: 1_500,
            outages: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Normal,
    Slow(Duration),
    Hang { applied: bool, hold: Duration },
    Drop { applied: bool },
    ServerError { status: u16 },
    Busy,
    WrongDemographics,
}

/// SplitMix64: tiny, seedable, good enough to spread faults.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[derive(Debug, Clone)]
pub struct FaultPlan {
    config: FaultConfig,
    rng: SplitMix64,
}

impl FaultPlan {
    pub fn new(config: FaultConfig) -> Self {
        let rng = SplitMix64(config.seed);
        Self { config, rng }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    pub fn in_outage(&self, since_start: Duration) -> bool {
        let s = since_start.as_secs();
        self.config
            .outages
            .iter()
            .any(|&(from, to)| from <= s && s < to)
    }

    pub fn decide(&mut self, op: Operation) -> Decision {
        if self.rng.unit() >= self.config.rate {
            return Decision::Normal;
        }
        // Only kinds that mean something for this operation.
        let kinds: Vec<FaultKind> = self
            .config
            .kinds
            .iter()
            .copied()
            .filter(|k| *k != FaultKind::WrongDemographics || op == Operation::CreatePatient)
            .collect();
        if kinds.is_empty() {
            return Decision::Normal;
        }
        let applied = op.changes_state() && self.rng.below(2) == 1;
        match kinds[self.rng.below(kinds.len())] {
            FaultKind::Hang => Decision::Hang {
                applied,
                hold: Duration::from_millis(self.config.hang_ms),
            },
            FaultKind::Drop => Decision::Drop { applied },
            FaultKind::ServerError => Decision::ServerError {
                status: [500, 502, 503][self.rng.below(3)],
            },
            FaultKind::SoapFault => Decision::Busy,
            FaultKind::Slow => Decision::Slow(Duration::from_millis(self.config.slow_ms)),
            FaultKind::WrongDemographics => Decision::WrongDemographics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_rate_roughly_kept() {
        let config = FaultConfig {
            seed: 42,
            rate: 0.3,
            ..FaultConfig::default()
        };
        let run = |mut plan: FaultPlan| -> Vec<Decision> {
            (0..2000)
                .map(|_| plan.decide(Operation::PostCharge))
                .collect()
        };
        let a = run(FaultPlan::new(config.clone()));
        assert_eq!(a, run(FaultPlan::new(config)));
        let faulty = a.iter().filter(|d| **d != Decision::Normal).count();
        assert!((500..700).contains(&faulty), "{faulty} of 2000");
        assert!(!a.contains(&Decision::WrongDemographics));
        assert!(
            a.iter()
                .any(|d| matches!(d, Decision::Hang { applied: true, .. }))
        );
        assert!(
            a.iter()
                .any(|d| matches!(d, Decision::Drop { applied: false }))
        );
    }

    #[test]
    fn outage_windows_are_half_open() {
        let plan = FaultPlan::new(FaultConfig {
            outages: vec![(10, 20)],
            ..FaultConfig::default()
        });
        assert!(!plan.in_outage(Duration::from_secs(9)));
        assert!(plan.in_outage(Duration::from_secs(10)));
        assert!(plan.in_outage(Duration::from_millis(19_999)));
        assert!(!plan.in_outage(Duration::from_secs(20)));
    }
}
