//! Gathers the [`Facts`] from the store, the counters and the disks. The
//! queries read only what an alarm needs (counts, states, times), never a
//! person's data.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{BackupFact, DiskFact, Facts, Implausible, KioskFact, Thresholds};
use crate::AppState;
use crate::db::{DbError, parse_ts, ts};

/// Free and total bytes of the file system holding `path`.
pub fn disk(what: &str, path: &Path) -> Option<DiskFact> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some(DiskFact {
        what: what.to_string(),
        free_bytes: s.f_bavail.saturating_mul(s.f_frsize),
        total_bytes: s.f_blocks.saturating_mul(s.f_frsize),
    })
}

/// The disks to watch: the SQLite store's (PostgreSQL's is its own host's)
/// and the backup directory's.
pub fn disks(st: &AppState) -> Vec<DiskFact> {
    let mut out = Vec::new();
    if let Some(file) = crate::backup::sqlite_path(&st.config.database_url) {
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        out.extend(disk("store", dir));
    }
    if let Some(dir) = &st.config.backup_dir {
        out.extend(disk("backup", dir));
    }
    out
}

// Statements that run every minute over tables that only grow: each must
// be an index search (migration 0025), never a read of the whole table.
/// Refusals and failed sign-ins in the window (the audit log by time).
pub(crate) const RECENT_REFUSALS: &str =
    "SELECT action, count(*) AS n FROM audit_log WHERE at >= $1
         AND action IN ('access.denied', 'login.failed', 'login.locked') GROUP BY action";
/// Check-ins dated in the future.
pub(crate) const REGISTRATIONS_IN_FUTURE: &str =
    "SELECT count(*) FROM registrations WHERE checked_in_at > $1";
/// Negative amounts: answered from the partial indexes of such rows,
/// which stay empty (the whole item table was read before, each minute).
pub(crate) const NEGATIVE_AMOUNTS: &str = "SELECT (SELECT count(*) FROM bookings WHERE amount_due_fen < 0) + (SELECT count(*) FROM booking_items WHERE price_fen < 0)";

pub async fn gather(st: &AppState, t: &Thresholds, now: DateTime<Utc>) -> Result<Facts, DbError> {
    let kiosks = st
        .db
        .kiosks()
        .await?
        .into_iter()
        .map(|k| KioskFact {
            enrolled: k.public_key.is_some(),
            last_seen: k.last_seen.as_deref().and_then(|s| parse_ts(s).ok()),
            devices: k
                .devices
                .as_deref()
                .and_then(exam_protocol::KioskCondition::from_stored)
                .map(|c| c.devices)
                .unwrap_or_default(),
            print_waiting: k.print_waiting.unwrap_or(0),
            print_waiting_since: k
                .print_waiting_since
                .as_deref()
                .and_then(|s| parse_ts(s).ok()),
            rejected: k.rejected.unwrap_or(0),
            id: k.id,
        })
        .collect();
    let pool = &st.db.read;
    let since = ts(now - t.window);
    let mut denied_recent = 0;
    let mut login_failed_recent = 0;
    for r in sqlx::query(RECENT_REFUSALS)
        .bind(&since)
        .fetch_all(pool)
        .await?
    {
        let n = u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0);
        match r.try_get::<String, _>("action")?.as_str() {
            "access.denied" => denied_recent += n,
            _ => login_failed_recent += n,
        }
    }
    let count = |sql: &'static str| async move {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
        Ok::<u64, DbError>(u64::try_from(n).unwrap_or(0))
    };
    // A kiosk's clock may run a little ahead: five minutes of grace.
    let future: i64 = sqlx::query_scalar(REGISTRATIONS_IN_FUTURE)
        .bind(ts(now + chrono::Duration::minutes(5)))
        .fetch_one(pool)
        .await?;
    let implausible = vec![
        (
            Implausible::RegistrationInFuture,
            u64::try_from(future).unwrap_or(0),
        ),
        (Implausible::NegativeAmount, count(NEGATIVE_AMOUNTS).await?),
        (
            Implausible::SlotOverbooked,
            count("SELECT count(*) FROM slots WHERE booked > capacity").await?,
        ),
    ];
    let audit_broken = match st.audit.status(&st.db, false).await {
        Ok(s) if s.check.is_intact() => None,
        Ok(s) => Some(s.check.to_string()),
        Err(e) => Some(format!("无法校验：{e}")),
    };
    let m = &st.metrics;
    let last = m.backup_last_success.load(Relaxed);
    Ok(Facts {
        kiosks,
        backup: BackupFact {
            configured: st.config.backup_dir.is_some(),
            last_success: (last > 0)
                .then(|| DateTime::from_timestamp(last, 0))
                .flatten(),
            failures_since_success: m.backup_consecutive_failures.load(Relaxed),
        },
        denied_recent,
        login_failed_recent,
        audit_broken,
        syslog_dropped: m.syslog_dropped.load(Relaxed),
        disks: disks(st),
        implausible,
        interfaces: st
            .db
            .interface_lines_open()
            .await?
            .into_iter()
            .filter_map(|l| {
                Some(super::InterfaceFact {
                    counterpart: l.counterpart?,
                    open: l.open(),
                    dead: l.dead,
                    failing_since: l.head_failing_since,
                    error: l.head_error,
                    alarm_after: st.config.interfaces.alarm_after(),
                })
            })
            .collect(),
        major_abnormal: st
            .db
            .major_abnormal_open_counts()
            .await?
            .into_iter()
            .map(|(category, open, oldest)| super::AbnormalFact {
                category,
                open,
                oldest,
            })
            .collect(),
        sms_notices_failed: st
            .db
            .sms_notices_failed_since(now - chrono::Duration::days(1))
            .await?,
    })
}
