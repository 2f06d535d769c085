//! Seed §(九) 7.1 asks that alarms be "recorded in the system log": every
//! minute the service evaluates the alarms and writes each one that
//! appears (`alarm.raised`) and each one that goes away (`alarm.cleared`)
//! to the service log and to the audit trail (category `system`).

use std::collections::BTreeMap;

use chrono::Utc;

use super::{Alarm, Thresholds, evaluate, facts};
use crate::AppState;
use crate::audit::{AuditEvent, Category};

/// What identifies one alarm across evaluations.
fn key(a: &Alarm) -> String {
    format!("{:?}/{}", a.kind, a.subject)
}

/// The alarms raised and cleared between two evaluations (pure).
pub fn changes<'a>(before: &'a [Alarm], now: &'a [Alarm]) -> (Vec<&'a Alarm>, Vec<&'a Alarm>) {
    let was: BTreeMap<String, &Alarm> = before.iter().map(|a| (key(a), a)).collect();
    let is: BTreeMap<String, &Alarm> = now.iter().map(|a| (key(a), a)).collect();
    let raised = is
        .iter()
        .filter(|(k, _)| !was.contains_key(*k))
        .map(|(_, a)| *a)
        .collect();
    let cleared = was
        .iter()
        .filter(|(k, _)| !is.contains_key(*k))
        .map(|(_, a)| *a)
        .collect();
    (raised, cleared)
}

async fn record(st: &AppState, action: &str, a: &Alarm) {
    let e = AuditEvent::new(Category::System, "system", action)
        .source("local")
        .subject(format!("alarm:{}", a.subject))
        .detail(format!("{}: {}", a.severity.label_zh(), a.zh));
    if let Err(err) = st.db.audit_event(&e).await {
        tracing::error!(error = %err, "alarm not written to the audit trail");
    }
}

/// Evaluates every minute until the service stops.
pub fn spawn(st: &AppState) -> tokio::task::JoinHandle<()> {
    let st = st.clone();
    tokio::spawn(async move {
        let t = Thresholds::default();
        let mut before: Vec<Alarm> = Vec::new();
        // Raised and cleared once across instances (issue 21): the holder
        // of the lease watches; one that takes over starts from nothing
        // (what is still wrong is raised again once).
        let job = crate::cluster::lease::Job::new("alarms", std::time::Duration::from_secs(60));
        loop {
            // A minute after the start first: the service settles (kiosks
            // call in) before anything is said to be missing.
            tokio::time::sleep(job.every).await;
            let ran = job
                .turn(&st, || async {
                    let now = Utc::now();
                    match facts::gather(&st, &t, now).await {
                        Ok(f) => {
                            let alarms = evaluate(&f, &t, now);
                            let (raised, cleared) = changes(&before, &alarms);
                            for a in raised {
                                tracing::warn!(kind = ?a.kind, subject = %a.subject, severity = ?a.severity, "alarm raised: {}", a.zh);
                                record(&st, "alarm.raised", a).await;
                            }
                            for a in cleared {
                                tracing::info!(kind = ?a.kind, subject = %a.subject, "alarm cleared");
                                record(&st, "alarm.cleared", a).await;
                            }
                            before = alarms;
                        }
                        Err(e) => tracing::error!(error = %e, "alarm facts unreadable"),
                    }
                })
                .await;
            if !ran {
                before.clear();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::{AlarmKind, Severity};

    fn a(kind: AlarmKind, subject: &str) -> Alarm {
        Alarm {
            severity: Severity::Warning,
            kind,
            subject: subject.into(),
            zh: String::new(),
        }
    }

    #[test]
    fn raised_once_and_cleared_once() {
        let before = vec![
            a(AlarmKind::KioskOffline, "K-1"),
            a(AlarmKind::DeniedSpike, "access"),
        ];
        let now = vec![
            a(AlarmKind::KioskOffline, "K-1"),
            a(AlarmKind::KioskOffline, "K-2"),
        ];
        let (raised, cleared) = changes(&before, &now);
        assert_eq!(
            raised
                .iter()
                .map(|a| a.subject.as_str())
                .collect::<Vec<_>>(),
            ["K-2"]
        );
        assert_eq!(
            cleared.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [AlarmKind::DeniedSpike]
        );
        let (raised, cleared) = changes(&now, &now);
        assert!(raised.is_empty() && cleared.is_empty());
    }
}
