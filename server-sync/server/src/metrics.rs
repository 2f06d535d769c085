//! Prometheus counters, written in the text exposition format by hand:
//! a handful of atomics does not need a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    pub push_requests: AtomicU64,
    pub events_accepted: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub events_refused: AtomicU64,
    pub lookups: AtomicU64,
    pub pulls: AtomicU64,
    pub heartbeats: AtomicU64,
    pub auth_refused: AtomicU64,
    pub bad_requests: AtomicU64,
    pub staff_logins_ok: AtomicU64,
    pub staff_logins_failed: AtomicU64,
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub fn render(&self, kiosk_backlogs: &[(String, i64)]) -> String {
        let mut s = String::new();
        let counters: [(&str, &str, &AtomicU64); 11] = [
            (
                "exam_push_requests_total",
                "Event pushes received from kiosks.",
                &self.push_requests,
            ),
            (
                "exam_events_accepted_total",
                "Kiosk events that took effect.",
                &self.events_accepted,
            ),
            (
                "exam_events_duplicate_total",
                "Kiosk events received again and ignored.",
                &self.events_duplicate,
            ),
            (
                "exam_events_refused_total",
                "Kiosk events refused as invalid.",
                &self.events_refused,
            ),
            (
                "exam_lookups_total",
                "Identity lookups from kiosks.",
                &self.lookups,
            ),
            ("exam_pulls_total", "Cache pulls from kiosks.", &self.pulls),
            (
                "exam_heartbeats_total",
                "Kiosk heartbeats.",
                &self.heartbeats,
            ),
            (
                "exam_auth_refused_total",
                "Kiosk requests refused: unsigned, forged, expired or replayed.",
                &self.auth_refused,
            ),
            (
                "exam_bad_requests_total",
                "Requests refused as malformed.",
                &self.bad_requests,
            ),
            (
                "exam_staff_logins_ok_total",
                "Successful staff logins.",
                &self.staff_logins_ok,
            ),
            (
                "exam_staff_logins_failed_total",
                "Failed staff logins.",
                &self.staff_logins_failed,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP exam_kiosk_backlog Unacknowledged events per kiosk at its last heartbeat."
        );
        let _ = writeln!(s, "# TYPE exam_kiosk_backlog gauge");
        for (kiosk, n) in kiosk_backlogs {
            let _ = writeln!(s, "exam_kiosk_backlog{{kiosk=\"{kiosk}\"}} {n}");
        }
        s
    }
}
