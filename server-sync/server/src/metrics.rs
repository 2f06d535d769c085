//! Prometheus counters, written in the text exposition format by hand:
//! a handful of atomics does not need a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

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
    /// Sign-in attempts refused by the per-address rate (429).
    pub staff_logins_throttled: AtomicU64,
    /// Sign-ins answered "busy": every password-hash slot taken (503).
    pub staff_logins_busy: AtomicU64,
    /// Unauthenticated security events over the audit budget (counted, not written).
    pub staff_audit_suppressed: AtomicU64,
    /// Staff requests the route gate refused (role may not).
    pub staff_denied: AtomicU64,
    /// Kiosk requests about another campus's bookings, answered as unknown.
    pub kiosk_out_of_scope: AtomicU64,
    /// Audit rows sent to the syslog collector.
    pub syslog_sent: AtomicU64,
    /// Audit rows not sent: the queue was full or the collector away.
    pub syslog_dropped: AtomicU64,
    /// Refused kiosk requests over the audit budget (counted, not written).
    pub kiosk_audit_suppressed: AtomicU64,
    /// Backups (S9): Unix time of the newest successful backup (0: none yet).
    pub backup_last_success: AtomicI64,
    /// Backups that failed.
    pub backup_failures: AtomicU64,
    /// Bytes of the newest backup file.
    pub backup_last_bytes: AtomicU64,
    /// Backups that failed since the last success.
    pub backup_consecutive_failures: AtomicU64,
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub fn render(&self, kiosk_backlogs: &[(String, i64)]) -> String {
        let mut s = String::new();
        let counters: &[(&str, &str, &AtomicU64)] = &[
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
            (
                "exam_staff_logins_throttled_total",
                "Staff sign-in attempts refused by the per-address rate limit.",
                &self.staff_logins_throttled,
            ),
            (
                "exam_staff_logins_busy_total",
                "Staff sign-ins answered busy because every password-hash slot was taken.",
                &self.staff_logins_busy,
            ),
            (
                "exam_staff_audit_suppressed_total",
                "Unauthenticated security events over the audit budget, counted but not written.",
                &self.staff_audit_suppressed,
            ),
            (
                "exam_staff_denied_total",
                "Staff requests refused because the role may not make them.",
                &self.staff_denied,
            ),
            (
                "exam_kiosk_out_of_scope_total",
                "Kiosk requests about another campus's bookings, answered as unknown.",
                &self.kiosk_out_of_scope,
            ),
            (
                "exam_syslog_sent_total",
                "Audit rows sent to the syslog collector.",
                &self.syslog_sent,
            ),
            (
                "exam_syslog_dropped_total",
                "Audit rows not sent to the syslog collector (queue full or collector away).",
                &self.syslog_dropped,
            ),
            (
                "exam_kiosk_audit_suppressed_total",
                "Refused kiosk requests over the audit budget: counted, not written.",
                &self.kiosk_audit_suppressed,
            ),
        ];
        for &(name, help, c) in counters {
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
        self.render_backups(&mut s);
        s
    }

    /// Backups (S9): what the alert rules need to say a backup is late or failing.
    fn render_backups(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "# HELP exam_backup_failures_total Backups that failed.\n# TYPE exam_backup_failures_total counter\nexam_backup_failures_total {}",
            self.backup_failures.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP exam_backup_last_success_timestamp_seconds Unix time of the newest successful backup (0: none).\n# TYPE exam_backup_last_success_timestamp_seconds gauge\nexam_backup_last_success_timestamp_seconds {}",
            self.backup_last_success.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP exam_backup_last_size_bytes Bytes of the newest backup file.\n# TYPE exam_backup_last_size_bytes gauge\nexam_backup_last_size_bytes {}",
            self.backup_last_bytes.load(Relaxed)
        );
    }
}
