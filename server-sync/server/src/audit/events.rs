//! The audit rows the request layer writes: security events (a refused
//! kiosk request, a failed CSRF check, a denied staff request), reads of
//! personal data, and the chain checks. Each returns the store's error, so
//! the caller fails the request when its row cannot be written.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::limiter::{Decision, Limiter};
use super::{AuditEvent, Category};
use crate::AppState;
use crate::db::{AuditCheck, Db, DbError};
use crate::metrics::Metrics;

/// What the service keeps in memory for the trail.
#[derive(Debug, Default)]
pub struct AuditState {
    /// Coalesces rows for refusals of unauthenticated kiosk requests.
    kiosk_refusals: Mutex<Limiter>,
    /// The last row a check found intact (seq, hash) and when the last
    /// full check ran, so the auditor's page checks only what came since.
    verified: Mutex<Verified>,
}

#[derive(Debug, Default, Clone)]
struct Verified {
    anchor: Option<(i64, String)>,
    full_at: Option<DateTime<Utc>>,
    /// What the last full check found broken: it stays on the page until a
    /// full check finds the chain whole again (a later check from the
    /// anchor would not look back at the broken row).
    broken: Option<AuditCheck>,
}

/// What the auditor's page shows of the chain.
#[derive(Debug, Clone)]
pub struct ChainStatus {
    pub check: AuditCheck,
    /// When the whole chain was last recomputed (None: not since start).
    pub full_at: Option<DateTime<Utc>>,
}

impl AuditState {
    fn verified(&self) -> std::sync::MutexGuard<'_, Verified> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// With `full`, recomputes the whole chain; else checks the rows since
    /// the last intact check (all of them the first time). A break found
    /// is kept and shown until a full check finds the chain whole.
    pub async fn status(&self, db: &Db, full: bool) -> Result<ChainStatus, DbError> {
        let (anchor, broken) = {
            let v = self.verified();
            (v.anchor.clone(), v.broken.clone())
        };
        if !full && let Some(check) = broken {
            return Ok(ChainStatus {
                check,
                full_at: self.verified().full_at,
            });
        }
        let from = if full { None } else { anchor };
        let check = db
            .verify_audit_chain_after(from.as_ref().map(|(s, h)| (*s, h.as_str())))
            .await?;
        let mut v = self.verified();
        if from.is_none() {
            v.full_at = Some(Utc::now());
        }
        if check.is_intact() {
            if check.report.verified > 0 {
                v.anchor = Some((check.report.verified, check.report.head.clone()));
            }
            v.broken = None;
        } else {
            v.broken = Some(check.clone());
        }
        Ok(ChainStatus {
            check,
            full_at: v.full_at,
        })
    }
}

/// Recomputes the whole chain and writes the result to the trail: a
/// `system` row when intact, a `security` row naming the break otherwise.
pub async fn verify_and_record(db: &Db, actor: &str) -> Result<AuditCheck, DbError> {
    let check = db.verify_audit_chain().await?;
    let e = if check.is_intact() {
        AuditEvent::new(Category::System, actor, "audit.verify")
    } else {
        tracing::error!(%check, "the audit chain is broken");
        AuditEvent::new(Category::Security, actor, "audit.chain_broken")
    };
    db.audit_event(&e.detail(check.to_string())).await?;
    Ok(check)
}

/// A kiosk request refused before it was authenticated (unsigned, forged,
/// expired, replayed, unknown kiosk). `claimed` is the kiosk id it carried,
/// unverified. Coalesced per source and kind ([`Limiter`]): anyone can send
/// these.
pub(crate) async fn kiosk_refused(
    st: &AppState,
    code: &str,
    why: &str,
    claimed: Option<&str>,
    path: &str,
) -> Result<(), DbError> {
    let source = super::source();
    let decision = st
        .audit
        .kiosk_refusals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .check(&format!("{source} {code}"), Utc::now());
    let Decision::Write { suppressed } = decision else {
        Metrics::inc(&st.metrics.kiosk_audit_suppressed);
        return Ok(());
    };
    // The claimed id is the caller's text: kept only if it is a kiosk id.
    let claimed = claimed
        .filter(|k| exam_protocol::auth::valid_kiosk_id(k))
        .unwrap_or("?");
    let mut detail = format!("{code} {path}: {why}");
    if suppressed > 0 {
        detail.push_str(&format!(
            " (and {suppressed} more from this source not written)"
        ));
    }
    st.db
        .audit_event(
            &AuditEvent::new(
                Category::Security,
                format!("kiosk:{claimed}"),
                "kiosk.refused",
            )
            .subject(format!("kiosk:{claimed}"))
            .detail(detail)
            .denied(),
        )
        .await
}

/// A staff request whose CSRF token did not match (a forged or stale form).
pub(crate) async fn csrf_failed(st: &AppState, username: &str, what: &str) -> Result<(), DbError> {
    st.db
        .audit_event(
            &AuditEvent::new(Category::Security, username, "csrf.refused")
                .detail(what)
                .denied(),
        )
        .await
}

/// A staff request the role may not make (403).
pub(crate) async fn denied(db: &Db, username: &str, what: &str) -> Result<(), DbError> {
    db.audit_event(
        &AuditEvent::new(Category::Security, username, "access.denied")
            .detail(what)
            .denied(),
    )
    .await
}

/// A read of personal data (S5, 6.2.3, 8.7.5): one row per request, with
/// what was read and how many people it showed.
pub(crate) async fn read_personal(
    db: &Db,
    username: &str,
    action: &str,
    subject: &str,
    detail: impl Into<String>,
) -> Result<(), DbError> {
    db.audit_event(
        &AuditEvent::new(Category::Access, username, action)
            .subject(subject)
            .detail(detail),
    )
    .await
}

/// Background work of the trail: a full check soon after start and then
/// daily (each written to the trail), and the syslog copy if configured
/// (its cursor set before this returns, so the rows the start writes next
/// are forwarded).
/// How often PostgreSQL's chainer looks for lines to place.
const CHAIN_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

pub(crate) async fn spawn_background(
    st: &AppState,
) -> Result<Vec<tokio::task::JoinHandle<()>>, DbError> {
    let mut tasks = Vec::new();
    if let Some(target) = &st.config.syslog_target {
        match target.parse() {
            Ok(t) => tasks.push(
                super::syslog::spawn(
                    st.db.clone(),
                    t,
                    st.config.syslog_queue,
                    Arc::clone(&st.metrics),
                )
                .await?,
            ),
            // `start` refuses a bad target before this is reached.
            Err(e) => tracing::error!(error = %e, "syslog forwarding off"),
        }
    }
    // PostgreSQL: lines written in their changes' transactions are placed
    // in the chain here, a batch every few tens of milliseconds (one
    // chainer at a time across instances: the counter's lock).
    if st.db.backend == crate::db::Backend::Postgres {
        let db = st.db.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let pause = match db.chain_pending().await {
                    Ok(_) => CHAIN_EVERY,
                    Err(e) => {
                        if db.is_closed() {
                            return;
                        }
                        tracing::error!(error = %e, "placing audit lines in the chain failed");
                        std::time::Duration::from_secs(1)
                    }
                };
                tokio::time::sleep(pause).await;
            }
        }));
    }
    let (db, state) = (st.db.clone(), Arc::clone(&st.audit));
    let st2 = st.clone();
    tasks.push(tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        // Once a day across instances (issue 21): the lease outlives the
        // day, so one instance checks and records it.
        let job = crate::cluster::lease::Job::new(
            "audit_verify",
            std::time::Duration::from_secs(24 * 3600),
        );
        loop {
            let mine = job.turn(&st2, || async {}).await;
            if !mine {
                tokio::time::sleep(std::time::Duration::from_secs(300)).await;
                continue;
            }
            match state.status(&db, true).await {
                Ok(s) => {
                    let e = if s.check.is_intact() {
                        AuditEvent::new(Category::System, "system", "audit.verify")
                    } else {
                        tracing::error!(check = %s.check, "the audit chain is broken");
                        AuditEvent::new(Category::Security, "system", "audit.chain_broken")
                    };
                    if let Err(err) = db.audit_event(&e.detail(s.check.to_string())).await {
                        tracing::warn!(error = %err, "could not record the audit chain check");
                    }
                }
                Err(_) if db.is_closed() => return,
                Err(e) => tracing::warn!(error = %e, "the audit chain check failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        }
    }));
    Ok(tasks)
}
