//! The sign-in guard across instances (issue 21): the limiter and the
//! captchas stay the pure in-memory bookkeeping of `limits` and `captcha`,
//! and every change to them is an event. An instance applies its own at
//! once and writes them to `signin_events`; every instance reads the
//! others' from the log (`POLL`) and applies them to its own copy. So an
//! address, a name and a captcha are the same on every instance, at most a
//! poll or two behind: a captcha drawn by one instance is answered on
//! another, and ten wrong passwords spread over instances lock as ten.
//!
//! Names are kept as digests (what is typed as a name may be a password
//! typed in the wrong box); captcha answers travel in clear (valid for
//! `captcha_ttl_seconds`, pruned with the log after an hour).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::LoginGuard;
use super::captcha::Answer;
use super::limits::{Admit, Failure};
use crate::AppState;
use crate::cluster::feed::{HORIZON_MS, Window};
use crate::db::{DbError, id_span_ms, next_id, parse_ts, ts};

/// How often each instance writes its events and reads the others'.
const POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// A change to the guard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GuardEvent {
    Attempt { ip: IpAddr },
    Failure { ip: IpAddr, name: String },
    Success { ip: IpAddr, name: String },
    Unlock { name: String },
    EnrolRefused { ip: IpAddr },
    Captcha { form: String, answer: String },
    CaptchaUsed { form: String },
}

/// What the limiter keys an account name by.
fn digest(name: &str) -> String {
    exam_protocol::auth::sha256_hex(&name.trim().to_lowercase())
}

impl LoginGuard {
    fn record(&self, at: DateTime<Utc>, e: GuardEvent) {
        self.outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((at, e));
    }

    /// Applies another instance's event to this one's copy.
    fn apply(&self, at: DateTime<Utc>, e: &GuardEvent) {
        match e {
            GuardEvent::Attempt { ip } => {
                self.limiter().attempt(*ip, at);
            }
            GuardEvent::Failure { ip, name } => {
                self.limiter().failure(*ip, name, at);
            }
            GuardEvent::Success { ip, name } => self.limiter().success(*ip, name),
            GuardEvent::Unlock { name } => self.limiter().unlock(name),
            GuardEvent::EnrolRefused { ip } => {
                self.limiter().enrol_refused(*ip, at);
            }
            GuardEvent::Captcha { form, answer } => self.captchas().issue_with(form, answer, at),
            GuardEvent::CaptchaUsed { form } => self.captchas().forget(form),
        }
    }

    /// Rule 1: counts a sign-in attempt (or a captcha fetched) from `ip`.
    pub fn attempt(&self, ip: IpAddr, now: DateTime<Utc>) -> Admit {
        let a = self.limiter().attempt(ip, now);
        if a == Admit::Go {
            self.record(now, GuardEvent::Attempt { ip });
        }
        a
    }

    pub fn captcha_required(&self, ip: IpAddr, name: &str, now: DateTime<Utc>) -> bool {
        self.limiter().captcha_required(ip, &digest(name), now)
    }

    pub fn source_failed_recently(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        self.limiter().source_failed_recently(ip, now)
    }

    pub fn locked(&self, name: &str, ip: IpAddr, now: DateTime<Utc>) -> bool {
        self.limiter().locked(&digest(name), ip, now)
    }

    pub fn known_sources_only(&self, name: &str, now: DateTime<Utc>) -> bool {
        self.limiter().known_sources_only(&digest(name), now)
    }

    pub fn failure(&self, ip: IpAddr, name: &str, now: DateTime<Utc>) -> Failure {
        let name = digest(name);
        let f = self.limiter().failure(ip, &name, now);
        self.record(now, GuardEvent::Failure { ip, name });
        f
    }

    pub fn success(&self, ip: IpAddr, name: &str) {
        let name = digest(name);
        self.limiter().success(ip, &name);
        self.record(Utc::now(), GuardEvent::Success { ip, name });
    }

    /// An administrator's unlock of `name`, on every instance.
    pub fn unlock(&self, name: &str) {
        let name = digest(name);
        self.limiter().unlock(&name);
        self.record(Utc::now(), GuardEvent::Unlock { name });
    }

    pub fn audit_allowed(&self, now: DateTime<Utc>) -> bool {
        self.limiter().audit_allowed(now)
    }

    pub fn enrol_allowed(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), chrono::Duration> {
        self.limiter().enrol_allowed(ip, now)
    }

    pub fn enrol_refused(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        let r = self.limiter().enrol_refused(ip, now);
        self.record(now, GuardEvent::EnrolRefused { ip });
        r
    }

    /// A new captcha for the form (by its key); None when full.
    pub fn issue_captcha(&self, form: &str, now: DateTime<Utc>) -> Option<String> {
        let answer = self.captchas().issue(form, now)?;
        self.record(
            now,
            GuardEvent::Captcha {
                form: form.to_string(),
                answer: answer.clone(),
            },
        );
        Some(answer)
    }

    /// Checks the answer typed; the captcha is used up on every instance.
    pub fn check_captcha(&self, form: &str, typed: &str, now: DateTime<Utc>) -> Answer {
        let a = self.captchas().check(form, typed, now);
        if a != Answer::Missing {
            self.record(
                now,
                GuardEvent::CaptchaUsed {
                    form: form.to_string(),
                },
            );
        }
        a
    }

    fn take_outbox(&self) -> Vec<(DateTime<Utc>, GuardEvent)> {
        std::mem::take(
            &mut *self
                .outbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// One round: this instance's events written, the others' applied.
pub async fn exchange(st: &AppState, w: &mut Window) -> Result<(), DbError> {
    let mine = st.login.take_outbox();
    if !mine.is_empty() {
        let mut tx = st.db.pool.begin().await?;
        for (at, e) in &mine {
            let json = serde_json::to_string(e)
                .map_err(|e| DbError::Corrupt(format!("sign-in event: {e}")))?;
            sqlx::query("INSERT INTO signin_events(id, origin, at, event) VALUES ($1, $2, $3, $4)")
                .bind(next_id())
                .bind(&*st.instance.name)
                .bind(ts(*at))
                .bind(json)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    let rows = sqlx::query(
        "SELECT id, origin, at, event FROM signin_events WHERE id > $1 ORDER BY id LIMIT 5000",
    )
    .bind(w.floor())
    .fetch_all(&st.db.read)
    .await?;
    let mut by_id = std::collections::BTreeMap::new();
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        by_id.insert(id, r);
    }
    for id in w.take(by_id.keys().copied()) {
        let Some(r) = by_id.get(&id) else { continue };
        let origin: String = r.try_get("origin")?;
        if origin == *st.instance.name {
            continue;
        }
        let at = parse_ts(&r.try_get::<String, _>("at")?)?;
        let json: String = r.try_get("event")?;
        match serde_json::from_str::<GuardEvent>(&json) {
            Ok(e) => st.login.apply(at, &e),
            Err(e) => tracing::warn!(error = %e, "an unreadable sign-in event was skipped"),
        }
    }
    Ok(())
}

/// Keeps this instance's guard in step with the others'.
pub fn spawn(st: &AppState) -> tokio::task::JoinHandle<()> {
    let st = st.clone();
    tokio::spawn(async move {
        let mut w = Window::new(next_id(), id_span_ms(HORIZON_MS));
        loop {
            tokio::time::sleep(POLL).await;
            if let Err(e) = exchange(&st, &mut w).await {
                tracing::warn!(error = %e, "sharing the sign-in limits failed");
            }
        }
    })
}

/// Deletes events older than an hour (the `change_log` job).
pub async fn prune(st: &AppState) -> Result<u64, DbError> {
    let cutoff = Utc::now() - chrono::Duration::hours(1);
    Ok(sqlx::query("DELETE FROM signin_events WHERE at < $1")
        .bind(ts(cutoff))
        .execute(&st.db.pool)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_json() {
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        for e in [
            GuardEvent::Attempt { ip },
            GuardEvent::Failure {
                ip,
                name: digest("Admin"),
            },
            GuardEvent::Captcha {
                form: "f".into(),
                answer: "ABCD".into(),
            },
        ] {
            let j = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<GuardEvent>(&j).unwrap(), e);
        }
        assert_eq!(digest(" Admin "), digest("admin"));
    }

    #[test]
    fn another_instances_failures_lock_here_too() {
        let p = super::super::AccountPolicy::default();
        let (here, there) = (LoginGuard::new(&p), LoginGuard::new(&p));
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        let now = Utc::now();
        for _ in 0..p.lockout_failures {
            there.failure(ip, "nurse", now);
        }
        assert!(there.locked("nurse", ip, now));
        assert!(!here.locked("nurse", ip, now));
        for (at, e) in there.take_outbox() {
            here.apply(at, &e);
        }
        assert!(here.locked("nurse", ip, now), "replayed: locked here too");
        // A captcha drawn there is answered here.
        let answer = there.issue_captcha("form-1", now).unwrap();
        for (at, e) in there.take_outbox() {
            here.apply(at, &e);
        }
        assert_eq!(here.check_captcha("form-1", &answer, now), Answer::Right);
    }
}
