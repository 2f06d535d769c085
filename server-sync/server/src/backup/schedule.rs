//! When to back up (S9: daily incremental, weekly full), as a pure
//! function of the local time and what the backup directory already holds;
//! and the task inside the service that asks it every minute.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, Utc, Weekday};

use super::manifest::{self, Kind, Manifest, Store};
use crate::Metrics;

/// What is due at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    Take(Kind),
}

/// The backup settings, from the service's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub full_weekday: Weekday,
    pub time: NaiveTime,
}

/// Today's backup is due once the local time passes `plan.time` and no
/// backup was taken since: a full one on `full_weekday`, when there is no
/// full backup yet, or when the last full is over a week old (a missed
/// weekday); an incremental one on the other days.
pub fn due(
    plan: &Plan,
    now_local: NaiveDateTime,
    last_any: Option<NaiveDateTime>,
    last_full: Option<NaiveDateTime>,
) -> Due {
    let slot = now_local.date().and_time(plan.time);
    if now_local < slot || last_any.is_some_and(|t| t >= slot) {
        return Due::Nothing;
    }
    let full = now_local.weekday() == plan.full_weekday
        || last_full.is_none_or(|t| now_local - t > Duration::days(7));
    Due::Take(if full { Kind::Full } else { Kind::Incremental })
}

/// The time of the newest successful backup in `list` of `store`, as a
/// Unix time (what the metrics export), if any.
pub fn last_success(list: &[Manifest], store: Store) -> Option<DateTime<Utc>> {
    list.iter()
        .filter(|m| m.store == store)
        .map(|m| m.taken_at)
        .max()
}

/// Where and how the service backs itself up.
#[derive(Clone)]
pub struct Job {
    pub database_url: String,
    pub store: Store,
    pub dir: PathBuf,
    pub plan: Plan,
    pub keep_fulls: usize,
    pub keys: Arc<exam_vault::KeyRing>,
    pub metrics: Arc<Metrics>,
}

impl Job {
    /// Reads the directory, takes what is due, prunes old chains. False
    /// when a backup was due and failed.
    pub async fn tick(&self, now: DateTime<Utc>) -> bool {
        // Never created here: a missing directory is an unmounted disk,
        // and the backups must not land on the disk beneath the mount point.
        if !self.dir.is_dir() {
            tracing::error!(dir = %self.dir.display(), "backup_dir is missing: is the backup disk mounted?");
            self.failed();
            return false;
        }
        let list = match manifest::list(&self.dir) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(dir = %self.dir.display(), error = %e, "backup directory unreadable");
                self.failed();
                return false;
            }
        };
        if let Some(t) = last_success(&list, self.store) {
            self.metrics
                .backup_last_success
                .store(t.timestamp(), Relaxed);
        }
        let local = |t: DateTime<Utc>| t.with_timezone(&exam_domain::centre_offset()).naive_local();
        let mine: Vec<&Manifest> = list.iter().filter(|m| m.store == self.store).collect();
        let last_any = mine.iter().map(|m| local(m.taken_at)).max();
        let last_full = mine
            .iter()
            .filter(|m| m.kind == Kind::Full)
            .map(|m| local(m.taken_at))
            .max();
        let Due::Take(kind) = due(&self.plan, local(now), last_any, last_full) else {
            return true;
        };
        let mut result = super::take(&self.database_url, &self.keys, &self.dir, kind, now).await;
        if kind == Kind::Incremental
            && let Err(e) = &result
            && e.wants_full()
        {
            tracing::warn!(error = %e, "incremental backup not possible: taking a full one");
            result = super::take(&self.database_url, &self.keys, &self.dir, Kind::Full, now).await;
        }
        match result {
            Ok(m) => {
                tracing::info!(file = %m.file, kind = ?m.kind, seconds = m.seconds, "backup taken");
                self.metrics
                    .backup_last_success
                    .store(m.taken_at.timestamp(), Relaxed);
                self.metrics.backup_last_bytes.store(m.file_bytes, Relaxed);
                self.metrics.backup_consecutive_failures.store(0, Relaxed);
                self.prune();
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "backup failed");
                self.failed();
                false
            }
        }
    }

    fn failed(&self) {
        Metrics::inc(&self.metrics.backup_failures);
        Metrics::inc(&self.metrics.backup_consecutive_failures);
    }

    fn prune(&self) {
        let Ok(list) = manifest::list(&self.dir) else {
            return;
        };
        for file in manifest::expired(&list, self.keep_fulls) {
            let path = self.dir.join(&file);
            for p in [manifest::path_of(&path), path] {
                if let Err(e) = std::fs::remove_file(&p)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(file = %p.display(), error = %e, "old backup not removed");
                }
            }
        }
    }

    /// Every minute until the service stops; a quarter of an hour after a
    /// failure (the alarm is raised at once; retries need not hammer).
    /// Runs the schedule; with several instances, only the holder of the
    /// `backups` lease (issue 21): one backup a night, not one each.
    pub async fn run(self, st: crate::AppState) {
        let lease = crate::cluster::lease::Job::new("backups", std::time::Duration::from_secs(900));
        loop {
            let mut did = false;
            lease
                .turn(&st, || async { did = self.tick(Utc::now()).await })
                .await;
            let pause = if did { 60 } else { 900 };
            tokio::time::sleep(std::time::Duration::from_secs(pause)).await;
        }
    }
}

/// Starts the schedule when `backup_dir` is set: the service's own store
/// (`database_url` as opened, not as configured: it may be sealed).
pub fn spawn(st: &crate::AppState, database_url: &str) -> Option<tokio::task::JoinHandle<()>> {
    let c = &st.config;
    let dir = c.backup_dir.clone()?;
    let store = Store::of(st.db.backend);
    if store == Store::Sqlite && super::sqlite_path(database_url).is_none() {
        tracing::warn!("backup_dir is set but the store is in memory: no backups");
        return None;
    }
    let job = Job {
        database_url: database_url.to_string(),
        store,
        dir,
        plan: Plan {
            full_weekday: c.backup_full_weekday,
            time: c.backup_time,
        },
        keep_fulls: c.backup_keep_fulls,
        keys: st.db.keys.clone(),
        metrics: st.metrics.clone(),
    };
    tracing::info!(dir = %job.dir.display(), full = %job.plan.full_weekday, at = %job.plan.time, "scheduled backups on");
    Some(tokio::spawn(job.run(st.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
        // March 2026: the 1st is a Sunday.
        chrono::NaiveDate::from_ymd_opt(2026, 3, day)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn plan() -> Plan {
        Plan {
            full_weekday: Weekday::Sun,
            time: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        }
    }

    #[test]
    fn weekly_full_daily_incremental() {
        let p = plan();
        // Sunday before the time: nothing; after: the weekly full.
        let (sat, last_sun) = (Some(at(7, 2, 30)), Some(at(1, 2, 31)));
        assert_eq!(due(&p, at(8, 2, 0), sat, last_sun), Due::Nothing);
        assert_eq!(due(&p, at(8, 2, 31), sat, last_sun), Due::Take(Kind::Full));
        // Once taken, not again that day.
        assert_eq!(due(&p, at(1, 9, 0), last_sun, last_sun), Due::Nothing);
        // Monday: an incremental on the Sunday's full.
        assert_eq!(
            due(&p, at(2, 2, 30), last_sun, last_sun),
            Due::Take(Kind::Incremental)
        );
        assert_eq!(
            due(&p, at(2, 23, 59), Some(at(2, 2, 30)), last_sun),
            Due::Nothing
        );
    }

    #[test]
    fn a_missing_or_stale_full_is_taken_at_once() {
        let p = plan();
        // Wednesday, no full backup ever: a full one.
        assert_eq!(due(&p, at(4, 3, 0), None, None), Due::Take(Kind::Full));
        // The Sunday full was missed (service down): the next day takes one.
        assert_eq!(
            due(&p, at(9, 3, 0), Some(at(7, 2, 30)), Some(at(1, 2, 29))),
            Due::Take(Kind::Full)
        );
        // A service started late in the day still takes that day's backup.
        assert_eq!(
            due(&p, at(3, 22, 0), Some(at(1, 2, 31)), Some(at(1, 2, 31))),
            Due::Take(Kind::Incremental)
        );
    }
}
