//! The account policy (S1, seed 002 §(九) 1.7–1.20) as configuration, and
//! the pure rules that read it: when a password or an account expires and
//! when to warn, when a session ends, and the hours an account may work.
//! Everything takes `now`; nothing here reads a clock or the store.

use std::net::IpAddr;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// `[accounts]` in the configuration file. Every field has a default, so
/// the section may be left out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccountPolicy {
    /// Hours a staff session lives at most, however busy (absolute timeout).
    pub session_absolute_hours: i64,
    /// Days a password is good for before it must be changed (1.9); 0: no expiry.
    pub password_max_age_days: i64,
    /// Days ahead of a password's expiry that its owner is warned (1.9: a week).
    pub password_warn_days: i64,
    /// How many earlier passwords a new one may not repeat (1.9).
    pub password_history: u32,
    /// Days ahead of an account's end of validity that its owner is warned (1.17: a month).
    pub account_warn_days: i64,
    /// Failed sign-ins in a row, from one address against one account, that
    /// lock that address out of that account (1.10).
    pub lockout_failures: u32,
    /// Minutes such a lock lasts (1.10: 1–30).
    pub lockout_minutes: i64,
    /// Minutes a failure keeps the captcha on for its address and its
    /// account name (1.4); also the window failures are counted in.
    pub failure_window_minutes: i64,
    /// Failures against one account name from every address within the
    /// window after which only addresses that have signed in to it before
    /// may try it (an attack from many addresses cannot guess on, and
    /// cannot lock its owner out either).
    pub account_failures_per_window: u32,
    /// Sign-in attempts one address may make a minute (IPv6: one /64).
    pub source_attempts_per_minute: u32,
    /// Seconds a captcha may be answered in.
    pub captcha_ttl_seconds: i64,
    /// Password hashes computed at once (Argon2id takes 19 MiB each); 0:
    /// the number of CPUs.
    pub max_concurrent_hashes: usize,
    /// Requests that may wait for a hash slot; more are answered "busy" at once.
    pub max_waiting_hashes: usize,
    /// Milliseconds a request waits for a hash slot before it is answered "busy".
    pub hash_wait_ms: u64,
    /// Refused kiosk enrolments one address may make a minute (each is audited).
    pub enrol_refusals_per_minute: u32,
    /// Unauthenticated security events (failed sign-ins, refused
    /// enrolments) written to the audit log a minute, all addresses
    /// together; more are counted in the metrics only.
    pub unauthenticated_audit_per_minute: u32,
    /// Addresses and names tracked by the limiter at most (memory bound).
    pub max_tracked: usize,
    /// The issuer an authenticator app shows beside the account (TOTP).
    pub totp_issuer: String,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            session_absolute_hours: 12,
            password_max_age_days: 90,
            password_warn_days: 7,
            password_history: 5,
            account_warn_days: 30,
            lockout_failures: 5,
            lockout_minutes: 15,
            failure_window_minutes: 15,
            account_failures_per_window: 20,
            source_attempts_per_minute: 20,
            captcha_ttl_seconds: 120,
            max_concurrent_hashes: 0,
            max_waiting_hashes: 32,
            hash_wait_ms: 1500,
            enrol_refusals_per_minute: 5,
            unauthenticated_audit_per_minute: 120,
            max_tracked: 50_000,
            totp_issuer: "体检中心".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl AccountPolicy {
    /// Hash slots: the configured number, or one per CPU (at least two).
    pub fn hash_slots(&self) -> usize {
        if self.max_concurrent_hashes > 0 {
            return self.max_concurrent_hashes;
        }
        std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
    }
}

/// Why a session ended (kept with the login for the login-duration report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Logout,
    /// Idle past `session_idle_minutes`.
    Idle,
    /// Older than `session_absolute_hours`.
    Absolute,
    /// The password changed: every other session of the account ends.
    PasswordChanged,
    /// An administrator disabled or closed the account, or reset its second factor.
    AccountChanged,
    /// Outside the account's allowed hours.
    OutsideHours,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::Idle => "idle",
            EndReason::Absolute => "absolute",
            EndReason::PasswordChanged => "password_changed",
            EndReason::AccountChanged => "account_changed",
            EndReason::OutsideHours => "outside_hours",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            EndReason::Logout,
            EndReason::Idle,
            EndReason::Absolute,
            EndReason::PasswordChanged,
            EndReason::AccountChanged,
            EndReason::OutsideHours,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The session limits: idle and absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl SessionLimits {
    /// Whether a session created at `created` and last used at `last_seen`
    /// has ended by `now`, and if so why and when (the moment it expired,
    /// not the moment someone noticed).
    pub fn ended(
        &self,
        created: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(EndReason, DateTime<Utc>)> {
        let idle_end = last_seen + self.idle;
        let absolute_end = created + self.absolute;
        match (idle_end <= now, absolute_end <= now) {
            (false, false) => None,
            (true, true) if absolute_end < idle_end => Some((EndReason::Absolute, absolute_end)),
            (true, _) => Some((EndReason::Idle, idle_end)),
            (false, true) => Some((EndReason::Absolute, absolute_end)),
        }
    }
}

/// Where a date-bound thing (a password, an account) stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No end, or the end is further away than the warning period.
    Fine,
    /// Ends within the warning period: the owner is told when.
    EndsSoon(DateTime<Utc>),
    Ended,
}

/// Where an end at `end` stands at `now` with `warn` of notice.
pub fn expiry(end: Option<DateTime<Utc>>, now: DateTime<Utc>, warn: Duration) -> Expiry {
    match end {
        None => Expiry::Fine,
        Some(end) if end <= now => Expiry::Ended,
        Some(end) if end - warn <= now => Expiry::EndsSoon(end),
        Some(_) => Expiry::Fine,
    }
}

impl AccountPolicy {
    /// When a password set at `changed` must be changed (None: never).
    pub fn password_due(&self, changed: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.password_max_age_days > 0)
            .then(|| changed + Duration::days(self.password_max_age_days))
    }

    pub fn password_expiry(&self, changed: DateTime<Utc>, now: DateTime<Utc>) -> Expiry {
        expiry(
            self.password_due(changed),
            now,
            Duration::days(self.password_warn_days),
        )
    }

    pub fn account_expiry(&self, valid_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Expiry {
        expiry(valid_until, now, Duration::days(self.account_warn_days))
    }
}

/// The daily hours an account may be used in (1.18 限制用户访问时段), in
/// the centre's local time. `from > to` spans midnight (a night shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("访问时段须写成 HH:MM-HH:MM，例如 08:00-18:00")]
pub struct BadHours;

impl AccessHours {
    /// Reads "08:00-18:00".
    pub fn parse(s: &str) -> Result<Self, BadHours> {
        let (a, b) = s.trim().split_once('-').ok_or(BadHours)?;
        let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| BadHours);
        let (from, to) = (t(a)?, t(b)?);
        if from == to {
            return Err(BadHours);
        }
        Ok(Self { from, to })
    }

    /// Does the window hold `now` (read in `offset`, the centre's time)?
    pub fn allows(&self, now: DateTime<Utc>, offset: FixedOffset) -> bool {
        let t = now.with_timezone(&offset).time();
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

impl std::fmt::Display for AccessHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
    }
}

/// Who asked: the peer's address, or the first untrusted hop of
/// `X-Forwarded-For` when the peer is a trusted proxy.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    // The proxy appends the address it saw: read from the right, skipping
    // our own proxies, so a client cannot name itself by sending the header.
    forwarded
        .into_iter()
        .flat_map(|h| h.rsplit(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_session_ends_idle_or_absolute_whichever_comes_first() {
        let l = SessionLimits {
            idle: Duration::minutes(15),
            absolute: Duration::hours(12),
        };
        let start = at("2026-03-02T08:00:00Z");
        assert_eq!(l.ended(start, start, start + Duration::minutes(14)), None);
        assert_eq!(
            l.ended(start, start, start + Duration::minutes(16)),
            Some((EndReason::Idle, start + Duration::minutes(15)))
        );
        // Busy all day: the absolute limit ends it at 12 h, to the minute.
        let busy = start + Duration::hours(12) - Duration::minutes(1);
        assert_eq!(l.ended(start, busy, busy), None);
        assert_eq!(
            l.ended(start, busy, start + Duration::hours(12)),
            Some((EndReason::Absolute, start + Duration::hours(12)))
        );
        // Idle past both: whichever came first is the reason.
        assert_eq!(
            l.ended(
                start,
                busy - Duration::minutes(30),
                start + Duration::hours(13)
            ),
            Some((EndReason::Idle, busy - Duration::minutes(15)))
        );
    }

    #[test]
    fn passwords_expire_after_the_period_with_a_week_of_warning() {
        let p = AccountPolicy::default();
        let set = at("2026-01-01T00:00:00Z");
        assert_eq!(
            p.password_expiry(set, set + Duration::days(82)),
            Expiry::Fine
        );
        assert_eq!(
            p.password_expiry(set, set + Duration::days(84)),
            Expiry::EndsSoon(set + Duration::days(90))
        );
        assert_eq!(
            p.password_expiry(set, set + Duration::days(90)),
            Expiry::Ended
        );
        let never = AccountPolicy {
            password_max_age_days: 0,
            ..AccountPolicy::default()
        };
        assert_eq!(
            never.password_expiry(set, set + Duration::days(9999)),
            Expiry::Fine
        );
    }

    #[test]
    fn accounts_are_warned_a_month_ahead() {
        let p = AccountPolicy::default();
        let end = at("2026-06-30T16:00:00Z");
        assert_eq!(
            p.account_expiry(Some(end), end - Duration::days(31)),
            Expiry::Fine
        );
        assert_eq!(
            p.account_expiry(Some(end), end - Duration::days(29)),
            Expiry::EndsSoon(end)
        );
        assert_eq!(p.account_expiry(Some(end), end), Expiry::Ended);
        assert_eq!(p.account_expiry(None, end), Expiry::Fine);
    }

    #[test]
    fn access_hours_in_local_time_and_across_midnight() {
        let cn = FixedOffset::east_opt(8 * 3600).unwrap();
        let day = AccessHours::parse("08:00-18:00").unwrap();
        assert_eq!(day.to_string(), "08:00-18:00");
        assert!(day.allows(at("2026-03-02T00:30:00Z"), cn)); // 08:30 local
        assert!(!day.allows(at("2026-03-02T10:00:00Z"), cn)); // 18:00 local
        assert!(!day.allows(at("2026-03-01T23:59:00Z"), cn)); // 07:59 local
        let night = AccessHours::parse("20:00-08:00").unwrap();
        assert!(night.allows(at("2026-03-02T15:00:00Z"), cn)); // 23:00 local
        assert!(night.allows(at("2026-03-02T23:00:00Z"), cn)); // 07:00 local
        assert!(!night.allows(at("2026-03-02T04:00:00Z"), cn)); // 12:00 local
        for bad in ["", "8-18", "08:00", "08:00-08:00", "25:00-26:00"] {
            assert_eq!(AccessHours::parse(bad), Err(BadHours), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        // Not a trusted proxy: the header is the caller's own word.
        assert_eq!(
            client_address(client, Some("203.0.113.9"), &[proxy]),
            client
        );
        // Behind the proxy: the hop it appended, not what the client wrote.
        assert_eq!(
            client_address(proxy, Some("203.0.113.9, 192.0.2.7"), &[proxy]),
            client
        );
        assert_eq!(client_address(proxy, None, &[proxy]), proxy);
    }
}
