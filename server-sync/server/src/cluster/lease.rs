//! Leases in the store: a row per name, taken by a conditional UPDATE when
//! free, expired or already ours, so the store's row lock decides between
//! instances on SQLite and PostgreSQL alike (no advisory locks, no SKIP
//! LOCKED). A holder that stalls past its lease may find it taken: the work
//! a lease guards is idempotent or claims its rows conditionally too.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};

use crate::AppState;
use crate::db::{Db, Result, ts};

impl Db {
    /// Takes or renews the lease `name` for `holder` until `now + ttl`.
    /// True when held.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool> {
        sqlx::query(
            "INSERT INTO leases(name, holder, until) VALUES ($1, '', '')
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        let n = sqlx::query(
            "UPDATE leases SET holder = $2, until = $3
              WHERE name = $1 AND (holder = $2 OR until < $4)",
        )
        .bind(name)
        .bind(holder)
        .bind(ts(now + ttl))
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Gives the lease up (a holder stopping), so another takes over at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("UPDATE leases SET holder = '', until = '' WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives up every lease `holder` has (an instance stopping).
    pub async fn release_leases_of(&self, holder: &str) -> Result<()> {
        sqlx::query("UPDATE leases SET holder = '', until = '' WHERE holder = $1")
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Who holds `name` now (None: nobody, or expired).
    pub async fn lease_holder(&self, name: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT holder, until FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|(h, until)| (!h.is_empty() && until >= ts(now)).then_some(h)))
    }
}

/// A background job that runs on one instance at a time.
#[derive(Debug)]
pub struct Job {
    /// The lease's name is `job.<name>`.
    pub name: &'static str,
    /// Time between runs.
    pub every: std::time::Duration,
    /// When this instance last took or renewed the lease: a turn within a
    /// third of its life runs without asking the store (a joiner woken many
    /// times a second costs no writes).
    renewed: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Job {
    pub fn new(name: &'static str, every: std::time::Duration) -> Self {
        Self {
            name,
            every,
            renewed: std::sync::Mutex::new(None),
        }
    }

    fn lease_name(&self) -> String {
        format!("job.{}", self.name)
    }

    /// The lease outlives three periods (at least 30 s): a holder that
    /// stops without releasing is replaced within that.
    fn ttl(&self) -> Duration {
        let secs = (self.every.as_secs() * 3).max(30);
        Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
    }

    /// One turn: runs `work` if this instance holds (or takes) the lease.
    /// True when it ran.
    pub async fn turn<F, Fut>(&self, st: &AppState, work: F) -> bool
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        let ttl = self.ttl();
        let recent = self
            .renewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|t| t.elapsed() < ttl.to_std().unwrap_or_default() / 3);
        if recent {
            work().await;
            return true;
        }
        let asked = std::time::Instant::now();
        let held = st
            .db
            .take_lease(&self.lease_name(), &st.instance.name, Utc::now(), ttl)
            .await;
        *self
            .renewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            matches!(held, Ok(true)).then_some(asked);
        match held {
            Ok(true) => {
                work().await;
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(job = self.name, error = %e, "job lease unavailable");
                false
            }
        }
    }

    /// Runs `work` every `every` on whichever instance holds the lease;
    /// the others wait their turn (and take over once it lapses).
    pub fn spawn<F, Fut>(self, st: &AppState, mut work: F) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(AppState) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let st = st.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(self.every).await;
                let s = st.clone();
                self.turn(&st, || work(s)).await;
            }
        })
    }
}
