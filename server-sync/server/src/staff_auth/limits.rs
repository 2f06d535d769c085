//! Sign-in limits (item 8 of the review, seed 002 §(九) 1.4 and 1.10): pure
//! bookkeeping with `now` passed in, kept in memory per service instance.
//!
//! The rules, in the order a sign-in meets them:
//!
//! 1. **Per address**: at most `source_attempts_per_minute` attempts a
//!    minute from one address (an IPv6 /64 counts as one); more are
//!    answered 429 before anything is hashed or written.
//! 2. **Captcha**: after a failure, every attempt from that address, and
//!    every attempt on that account name from any address, needs the
//!    captcha for `failure_window_minutes`. The first attempt needs none.
//! 3. **Lockout per account and address**: `lockout_failures` failures in
//!    a row from one address against one name lock that address out of
//!    that name for `lockout_minutes`. Other addresses are not locked, so
//!    an attacker cannot lock the administrator out of their own desk.
//! 4. **Per account**: past `account_failures_per_window` failures on one
//!    name from all addresses in the window, only addresses that have
//!    signed in to that account before may try it until the window passes
//!    (the caller looks those up in the login history).
//!
//! Names are tracked whether or not an account has them, so every answer
//! is the same for a name that does not exist. The maps are bounded by
//! `max_tracked`: when one is full of live entries a new address or name
//! is refused as "busy" rather than forgetting a lock.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

use super::policy::AccountPolicy;

/// The address a limit is kept for: IPv4 as is, IPv6 by its /64 (one
/// host has a whole /64 to pick from), IPv4-mapped IPv6 as IPv4.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// An account name as tracked: trimmed, lower case, at most 64 characters
/// (so a flood of long names cannot grow memory).
fn name_key(name: &str) -> String {
    name.trim().to_lowercase().chars().take(64).collect()
}

/// A fixed window counter.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

impl Window {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            start: now,
            count: 0,
        }
    }

    fn count(&self, now: DateTime<Utc>, len: Duration) -> u32 {
        if now - self.start >= len {
            0
        } else {
            self.count
        }
    }

    /// Counts one; the count in the current window.
    fn hit(&mut self, now: DateTime<Utc>, len: Duration) -> u32 {
        if now - self.start >= len {
            *self = Self::new(now);
        }
        self.count = self.count.saturating_add(1);
        self.count
    }

    fn retry_after(&self, now: DateTime<Utc>, len: Duration) -> Duration {
        (self.start + len - now).max(Duration::seconds(1))
    }
}

#[derive(Debug, Clone, Copy)]
struct SourceState {
    attempts: Window,
    enrol_refusals: Window,
    last_failure: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
struct NameState {
    failures: Window,
    last_failure: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
struct PairState {
    in_a_row: u32,
    last_failure: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

/// What an attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// Over the address's rate: try again after this long.
    Throttled(Duration),
    /// The limiter's memory is full of live entries: answer "busy".
    Full,
}

/// What a failure led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// This failure locked the address out of the account (audit it).
    pub locked: bool,
    /// Within the audit budget for unauthenticated events.
    pub audit: bool,
}

/// The limits, from [`AccountPolicy`].
#[derive(Debug, Clone, Copy)]
struct Settings {
    per_minute: u32,
    lockout_failures: u32,
    lockout: Duration,
    window: Duration,
    account_failures: u32,
    enrol_per_minute: u32,
    audit_per_minute: u32,
    max_tracked: usize,
}

#[derive(Debug)]
pub struct Limiter {
    s: Settings,
    sources: HashMap<IpAddr, SourceState>,
    names: HashMap<String, NameState>,
    pairs: HashMap<(String, IpAddr), PairState>,
    audit: Window,
    last_prune: Option<DateTime<Utc>>,
}

const MINUTE: Duration = Duration::minutes(1);

impl Limiter {
    pub fn new(p: &AccountPolicy) -> Self {
        Self {
            s: Settings {
                per_minute: p.source_attempts_per_minute.max(1),
                lockout_failures: p.lockout_failures.max(1),
                lockout: Duration::minutes(p.lockout_minutes.max(1)),
                window: Duration::minutes(p.failure_window_minutes.max(1)),
                account_failures: p.account_failures_per_window.max(1),
                enrol_per_minute: p.enrol_refusals_per_minute.max(1),
                audit_per_minute: p.unauthenticated_audit_per_minute,
                max_tracked: p.max_tracked.max(16),
            },
            sources: HashMap::new(),
            names: HashMap::new(),
            pairs: HashMap::new(),
            audit: Window::new(DateTime::<Utc>::MIN_UTC),
            last_prune: None,
        }
    }

    /// How many addresses, names and pairs are tracked (for the memory bound's test).
    pub fn tracked(&self) -> (usize, usize, usize) {
        (self.sources.len(), self.names.len(), self.pairs.len())
    }

    /// Drops what no longer limits anything, at most once a second.
    fn prune(&mut self, now: DateTime<Utc>) {
        if self
            .last_prune
            .is_some_and(|t| now - t < Duration::seconds(1))
        {
            return;
        }
        self.last_prune = Some(now);
        let w = self.s.window;
        self.sources.retain(|_, v| {
            v.attempts.count(now, MINUTE) > 0
                || v.enrol_refusals.count(now, MINUTE) > 0
                || v.last_failure.is_some_and(|t| now - t < w)
        });
        self.names.retain(|_, v| now - v.last_failure < w);
        self.pairs
            .retain(|_, v| now - v.last_failure < w || v.locked_until.is_some_and(|t| t > now));
    }

    /// Room for a new key in a map of `len` entries?
    fn room(&mut self, now: DateTime<Utc>, len: impl Fn(&Self) -> usize) -> bool {
        if len(self) < self.s.max_tracked {
            return true;
        }
        self.prune(now);
        len(self) < self.s.max_tracked
    }

    fn source(&mut self, ip: IpAddr, now: DateTime<Utc>) -> Option<&mut SourceState> {
        let key = source_key(ip);
        if !self.sources.contains_key(&key) && !self.room(now, |l| l.sources.len()) {
            return None;
        }
        Some(self.sources.entry(key).or_insert(SourceState {
            attempts: Window::new(now),
            enrol_refusals: Window::new(now),
            last_failure: None,
        }))
    }

    /// Rule 1: counts a sign-in attempt (or a captcha fetched) from `ip`.
    pub fn attempt(&mut self, ip: IpAddr, now: DateTime<Utc>) -> Admit {
        let per_minute = self.s.per_minute;
        let Some(src) = self.source(ip, now) else {
            return Admit::Full;
        };
        if src.attempts.hit(now, MINUTE) > per_minute {
            return Admit::Throttled(src.attempts.retry_after(now, MINUTE));
        }
        Admit::Go
    }

    /// Rule 2: must this attempt answer the captcha?
    pub fn captcha_required(&self, ip: IpAddr, name: &str, now: DateTime<Utc>) -> bool {
        let w = self.s.window;
        let by_source = self
            .sources
            .get(&source_key(ip))
            .and_then(|s| s.last_failure)
            .is_some_and(|t| now - t < w);
        let by_name = self
            .names
            .get(&name_key(name))
            .is_some_and(|n| now - n.last_failure < w);
        by_source || by_name
    }

    /// Does the address need the captcha whatever name it types (the
    /// sign-in page shows it at once)?
    pub fn source_failed_recently(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        self.sources
            .get(&source_key(ip))
            .and_then(|s| s.last_failure)
            .is_some_and(|t| now - t < self.s.window)
    }

    /// Rule 3: is `ip` locked out of `name`?
    pub fn locked(&self, name: &str, ip: IpAddr, now: DateTime<Utc>) -> bool {
        self.pairs
            .get(&(name_key(name), source_key(ip)))
            .and_then(|p| p.locked_until)
            .is_some_and(|t| t > now)
    }

    /// Rule 4: is `name` open only to addresses that signed in to it before?
    pub fn known_sources_only(&self, name: &str, now: DateTime<Utc>) -> bool {
        self.names
            .get(&name_key(name))
            .is_some_and(|n| n.failures.count(now, self.s.window) >= self.s.account_failures)
    }

    /// A wrong password (or second factor) for `name` from `ip`.
    pub fn failure(&mut self, ip: IpAddr, name: &str, now: DateTime<Utc>) -> Failure {
        let (window, lockout, in_a_row_max) =
            (self.s.window, self.s.lockout, self.s.lockout_failures);
        if let Some(src) = self.source(ip, now) {
            src.last_failure = Some(now);
        }
        let key = name_key(name);
        if self.names.contains_key(&key) || self.room(now, |l| l.names.len()) {
            let n = self.names.entry(key.clone()).or_insert(NameState {
                failures: Window::new(now),
                last_failure: now,
            });
            n.failures.hit(now, window);
            n.last_failure = now;
        }
        let pair_key = (key, source_key(ip));
        let mut locked = false;
        if self.pairs.contains_key(&pair_key) || self.room(now, |l| l.pairs.len()) {
            let p = self.pairs.entry(pair_key).or_insert(PairState {
                in_a_row: 0,
                last_failure: now,
                locked_until: None,
            });
            if now - p.last_failure >= window {
                p.in_a_row = 0;
            }
            p.in_a_row += 1;
            p.last_failure = now;
            if p.in_a_row >= in_a_row_max {
                p.in_a_row = 0;
                p.locked_until = Some(now + lockout);
                locked = true;
            }
        }
        Failure {
            locked,
            audit: self.audit_allowed(now),
        }
    }

    /// A sign-in that succeeded: the address's run of failures on the
    /// account ends (the captcha stays on for the window: the failures
    /// happened).
    pub fn success(&mut self, ip: IpAddr, name: &str) {
        self.pairs.remove(&(name_key(name), source_key(ip)));
    }

    /// 解冻 (1.18): an administrator lifts every lock on `name`.
    pub fn unlock(&mut self, name: &str) {
        let key = name_key(name);
        self.pairs.retain(|(n, _), _| *n != key);
        self.names.remove(&key);
    }

    /// May one more unauthenticated security event be audited this minute?
    pub fn audit_allowed(&mut self, now: DateTime<Utc>) -> bool {
        self.audit.hit(now, MINUTE) <= self.s.audit_per_minute
    }

    /// Refused kiosk enrolments: may `ip` try (it has not been refused too
    /// often this minute)?
    pub fn enrol_allowed(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), Duration> {
        match self.sources.get(&source_key(ip)) {
            Some(s) if s.enrol_refusals.count(now, MINUTE) >= self.s.enrol_per_minute => {
                Err(s.enrol_refusals.retry_after(now, MINUTE))
            }
            _ => Ok(()),
        }
    }

    /// A refused enrolment from `ip`: whether to audit it.
    pub fn enrol_refused(&mut self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        if let Some(s) = self.source(ip, now) {
            s.enrol_refusals.hit(now, MINUTE);
        }
        self.audit_allowed(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn limiter() -> Limiter {
        Limiter::new(&AccountPolicy::default())
    }

    #[test]
    fn an_address_gets_twenty_attempts_a_minute() {
        let mut l = limiter();
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..20 {
            assert_eq!(l.attempt(a, t0()), Admit::Go);
        }
        let Admit::Throttled(wait) = l.attempt(a, t0() + Duration::seconds(10)) else {
            panic!("the 21st attempt in a minute is throttled");
        };
        assert_eq!(wait, Duration::seconds(50));
        assert_eq!(l.attempt(b, t0()), Admit::Go, "another address is not");
        assert_eq!(l.attempt(a, t0() + Duration::seconds(61)), Admit::Go);
    }

    #[test]
    fn ipv6_hosts_are_limited_by_their_64() {
        let mut l = limiter();
        for i in 0..20 {
            let a = ip(&format!("2001:db8:1:2::{i:x}"));
            assert_eq!(l.attempt(a, t0()), Admit::Go);
        }
        assert!(matches!(
            l.attempt(ip("2001:db8:1:2:ffff::1"), t0()),
            Admit::Throttled(_)
        ));
        assert_eq!(l.attempt(ip("2001:db8:1:3::1"), t0()), Admit::Go);
        assert_eq!(source_key(ip("::ffff:192.0.2.9")), ip("192.0.2.9"));
    }

    #[test]
    fn the_captcha_comes_after_a_failure_for_the_address_and_the_name() {
        let mut l = limiter();
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        assert!(
            !l.captcha_required(a, "admin", t0()),
            "the first attempt needs none"
        );
        l.failure(a, "admin", t0());
        assert!(l.captcha_required(a, "someone", t0()), "the address failed");
        assert!(l.captcha_required(b, "ADMIN ", t0()), "the name failed");
        assert!(!l.captcha_required(b, "someone", t0()));
        let later = t0() + Duration::minutes(15);
        assert!(!l.captcha_required(a, "admin", later), "the window passed");
    }

    #[test]
    fn five_failures_lock_that_address_out_of_that_account_only() {
        let mut l = limiter();
        let (attacker, desk) = (ip("192.0.2.66"), ip("192.0.2.10"));
        for i in 0..4 {
            let f = l.failure(attacker, "admin", t0() + Duration::seconds(i));
            assert!(!f.locked);
        }
        assert!(!l.locked("admin", attacker, t0()));
        assert!(
            l.failure(attacker, "admin", t0() + Duration::seconds(5))
                .locked
        );
        let now = t0() + Duration::seconds(6);
        assert!(l.locked("admin", attacker, now));
        assert!(
            !l.locked("admin", desk, now),
            "the administrator's own desk"
        );
        assert!(!l.locked("nurse", attacker, now), "another account");
        assert!(!l.locked("admin", attacker, t0() + Duration::minutes(16)));
        // An unknown name locks the same way: nothing tells the two apart.
        for i in 0..5 {
            l.failure(attacker, "no-such-user", t0() + Duration::seconds(i));
        }
        assert!(l.locked("no-such-user", attacker, now));
        // 解冻.
        l.unlock("admin");
        assert!(!l.locked("admin", attacker, now));
    }

    #[test]
    fn a_success_ends_the_run_of_failures() {
        let mut l = limiter();
        let a = ip("192.0.2.1");
        for _ in 0..4 {
            l.failure(a, "admin", t0());
        }
        l.success(a, "admin");
        assert!(
            !l.failure(a, "admin", t0()).locked,
            "counted from one again"
        );
    }

    #[test]
    fn many_addresses_close_the_account_to_new_addresses_only() {
        let mut l = limiter();
        for i in 0..19 {
            l.failure(ip(&format!("198.51.100.{i}")), "admin", t0());
        }
        assert!(!l.known_sources_only("admin", t0()));
        l.failure(ip("198.51.100.200"), "admin", t0());
        assert!(l.known_sources_only("admin", t0()));
        assert!(!l.known_sources_only("nurse", t0()));
        assert!(!l.known_sources_only("admin", t0() + Duration::minutes(15)));
    }

    #[test]
    fn memory_is_bounded_and_live_locks_are_never_forgotten() {
        let mut l = Limiter::new(&AccountPolicy {
            max_tracked: 100,
            ..AccountPolicy::default()
        });
        let attacker = ip("192.0.2.66");
        for i in 0..5 {
            l.failure(attacker, "admin", t0() + Duration::milliseconds(i));
        }
        // A spray of new addresses and names fills the maps.
        for i in 0..1000u32 {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = l.attempt(a, t0());
            l.failure(a, &format!("user{i}"), t0());
        }
        let (s, n, p) = l.tracked();
        assert!(s <= 100 && n <= 100 && p <= 100, "{s} {n} {p}");
        assert!(l.locked("admin", attacker, t0()), "the lock survived");
        let fresh = ip("203.0.113.1");
        assert_eq!(l.attempt(fresh, t0()), Admit::Full, "full of live entries");
        // Once the entries are stale they are pruned and room comes back.
        assert_eq!(l.attempt(fresh, t0() + Duration::minutes(16)), Admit::Go);
    }

    #[test]
    fn unauthenticated_events_are_audited_within_a_budget() {
        let mut l = limiter();
        let audited = (0..500)
            .filter(|i| {
                l.failure(ip(&format!("198.51.100.{}", i % 250)), "x", t0())
                    .audit
            })
            .count();
        assert_eq!(audited, 120);
        assert!(l.audit_allowed(t0() + Duration::minutes(1)));
    }

    #[test]
    fn refused_enrolments_are_limited_per_address() {
        let mut l = limiter();
        let a = ip("192.0.2.1");
        for _ in 0..5 {
            assert_eq!(l.enrol_allowed(a, t0()), Ok(()));
            assert!(l.enrol_refused(a, t0()));
        }
        assert!(l.enrol_allowed(a, t0()).is_err());
        assert_eq!(l.enrol_allowed(ip("192.0.2.2"), t0()), Ok(()));
        assert_eq!(l.enrol_allowed(a, t0() + Duration::minutes(1)), Ok(()));
    }
}
