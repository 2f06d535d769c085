//! `[interfaces]` in the configuration: the queue's retry policy and lease,
//! and which adapter talks to each counterpart.
//!
//! ```toml
//! [interfaces]
//! max_failures = 10          # refusals before a message is a dead letter
//! backoff_base_seconds = 5   # first retry after 2.5-5 s, doubling ...
//! backoff_cap_seconds = 300  # ... up to 2.5-5 min
//! alarm_after_minutes = 15   # a counterpart's head failing this long raises an alarm
//! [interfaces.counterparts.lis]
//! adapter = "..."            # an adapter crate's name, with its own settings beside it
//! ```

use std::collections::BTreeMap;

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::Counterpart;
use super::policy::RetryPolicy;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InterfacesConfig {
    /// Times a counterpart may refuse a message (an error answer, not an
    /// outage) before it is set aside as a dead letter.
    pub max_failures: u32,
    /// The first retry waits between half of this and this; each failure
    /// doubles it, up to `backoff_cap_seconds`.
    pub backoff_base_seconds: u64,
    pub backoff_cap_seconds: u64,
    /// How long a sender's claim on a counterpart lasts without renewal
    /// (another instance takes over after it).
    pub lease_seconds: u64,
    /// One attempt's limit (below `lease_seconds`).
    pub send_timeout_seconds: u64,
    /// How often an idle sender looks for work.
    pub poll_millis: u64,
    /// A counterpart whose head has been failing this long raises an alarm
    /// (E15: the centre may then decide on emergency mode).
    pub alarm_after_minutes: i64,
    /// The adapter for each counterpart; a counterpart not named here keeps
    /// its messages queued.
    pub counterparts: BTreeMap<Counterpart, AdapterSpec>,
}

/// Which adapter, and its own settings (address, encoding, credentials
/// file, ...), read by the adapter when it is built.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdapterSpec {
    pub adapter: String,
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

impl Default for InterfacesConfig {
    fn default() -> Self {
        Self {
            max_failures: 10,
            backoff_base_seconds: 5,
            backoff_cap_seconds: 300,
            lease_seconds: 60,
            send_timeout_seconds: 20,
            poll_millis: 500,
            alarm_after_minutes: 15,
            counterparts: BTreeMap::new(),
        }
    }
}

impl InterfacesConfig {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_failures: self.max_failures.max(1),
            base: Duration::seconds(self.backoff_base_seconds.max(1) as i64),
            cap: Duration::seconds(
                self.backoff_cap_seconds
                    .max(self.backoff_base_seconds.max(1)) as i64,
            ),
        }
    }

    pub fn lease(&self) -> Duration {
        Duration::seconds(self.lease_seconds.max(2) as i64)
    }

    /// One attempt's limit: never as long as the lease, so a claim cannot
    /// expire while its message is on the way.
    pub fn send_timeout(&self) -> std::time::Duration {
        let lease = self.lease_seconds.max(2);
        std::time::Duration::from_secs(self.send_timeout_seconds.clamp(1, lease - 1))
    }

    pub fn alarm_after(&self) -> Duration {
        Duration::minutes(self.alarm_after_minutes.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::{Format, Serialized, Toml};

    /// The README's example configuration reads, and builds its adapters.
    #[test]
    fn the_readme_example_reads_and_builds() {
        let readme = include_str!("../../../../README.md");
        let section = &readme[readme
            .find("### Hospital interfaces (HIS, LIS, PACS, ECG, ...)")
            .expect("the README's section")..];
        let start = section.find("```toml\n").expect("its example") + 8;
        let text = &section[start..start + section[start..].find("```").unwrap()];
        let c: crate::Config =
            figment::Figment::from(Serialized::defaults(crate::Config::default()))
                .merge(Toml::string(text))
                .extract()
                .unwrap();
        let i = &c.interfaces;
        assert_eq!((i.max_failures, i.alarm_after_minutes), (10, 15));
        assert_eq!(i.counterparts[&Counterpart::Lis].adapter, "hl7_mllp");
        let adapters = super::super::adapter::from_config(i).unwrap();
        assert_eq!(
            adapters.keys().copied().collect::<Vec<_>>(),
            [Counterpart::Lis, Counterpart::Pacs]
        );
        assert_eq!(
            super::super::hl7::listen_spec(&i.counterparts[&Counterpart::Lis]),
            Some(("0.0.0.0:2576".to_string(), exam_hl7::Charset::Gbk))
        );
    }
}
