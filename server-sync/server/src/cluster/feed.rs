//! The change log: how one instance's change wakes every instance's live
//! pages. A writer records a [`Topic`] (`publish`); each instance writes
//! its topics and reads the others' every `POLL` (`spawn`) and wakes its
//! own streams.
//! A plain table read by cursor works on every store; the pages re-read
//! what they show when woken, so a wake carries no data.
//!
//! Ids are time-ordered but a row may commit after one with a later id
//! (two instances, or two transactions of one). [`Window`] rereads the
//! last `HORIZON_MS` and skips what it has seen, so such a row still wakes
//! the pages unless its commit came more than the horizon after its id.

use std::collections::BTreeSet;

use chrono::Utc;
use sqlx::Row;

use crate::AppState;
use crate::db::{DbError, id_span_ms, next_id, ts};

/// How often each instance writes its changes and reads the others'.
pub const POLL: std::time::Duration = std::time::Duration::from_millis(100);
/// How far back a read reaches for rows that committed late.
pub const HORIZON_MS: i64 = 10_000;
/// Rows kept (older ones are pruned by the `change_log` job).
const KEEP: chrono::Duration = chrono::Duration::hours(1);

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// Registrations and check-ins (the staff page's list).
    Registrations,
    /// A campus's queue (the queue pages, the room screens).
    Queue(String),
    /// The dictionaries (prices, packages): reloaded on every instance.
    Catalogue,
}

impl Topic {
    pub fn key(&self) -> String {
        match self {
            Self::Registrations => "registrations".into(),
            Self::Queue(c) => format!("queue.{c}"),
            Self::Catalogue => "catalogue".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registrations" => Some(Self::Registrations),
            "catalogue" => Some(Self::Catalogue),
            _ => s.strip_prefix("queue.").map(|c| Self::Queue(c.into())),
        }
    }
}

/// The ids a cursor has taken, over the horizon: which of a read's rows
/// are new. Pure, driven by tests directly.
#[derive(Debug)]
pub struct Window {
    start: i64,
    horizon: i64,
    max: i64,
    seen: BTreeSet<i64>,
}

impl Window {
    /// Starting at `start` (ids at or before it count as seen), rereading
    /// `horizon` id units.
    pub fn new(start: i64, horizon: i64) -> Self {
        Self {
            start,
            horizon,
            max: start,
            seen: BTreeSet::new(),
        }
    }

    /// The highest id taken (or the start): where a new cursor resumes.
    pub fn max(&self) -> i64 {
        self.max
    }

    /// Read rows with ids above this.
    pub fn floor(&self) -> i64 {
        self.max - self.horizon
    }

    /// Of the ids read above `floor()`, those not taken before; remembers
    /// them and forgets what fell below the horizon.
    pub fn take(&mut self, ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let floor = self.floor();
        let mut fresh = Vec::new();
        for id in ids {
            // Before the cursor began (a new cursor starts at "now"), below
            // the horizon, or taken already.
            if id <= floor || id <= self.start || !self.seen.insert(id) {
                continue;
            }
            fresh.push(id);
        }
        if let Some(m) = fresh.iter().max() {
            self.max = self.max.max(*m);
        }
        let floor = self.floor();
        self.seen = self.seen.split_off(&(floor + 1));
        fresh
    }
}

/// Wakes this instance's pages at once and records the change for the
/// others (written with the others of the same moment at the next `POLL`:
/// a busy desk costs the store one small commit per poll, not one per
/// change). Call after the change's commit. A change whose instance dies
/// before the write wakes the other instances' pages at their own
/// fallback refresh instead.
pub async fn publish(st: &AppState, topic: Topic) {
    wake(st, &topic);
    st.instance
        .pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(topic.key());
}

/// Writes the topics changed here since the last poll, in one transaction.
async fn flush(st: &AppState) -> Result<(), DbError> {
    let topics = std::mem::take(
        &mut *st
            .instance
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if topics.is_empty() {
        return Ok(());
    }
    let at = ts(Utc::now());
    let mut tx = st.db.pool.begin().await?;
    for t in &topics {
        sqlx::query("INSERT INTO change_log(id, topic, origin, at) VALUES ($1, $2, $3, $4)")
            .bind(next_id())
            .bind(t)
            .bind(&*st.instance.name)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn wake(st: &AppState, topic: &Topic) {
    match topic {
        Topic::Registrations => {
            let _ = st.changed.send(());
        }
        Topic::Queue(c) => {
            let _ = st.queue.changed.send(c.clone());
        }
        Topic::Catalogue => {}
    }
}

/// Reads the log once: the other instances' changes above the window's
/// floor, woken here. Returns how many were new.
pub async fn read_once(st: &AppState, w: &mut Window) -> Result<usize, DbError> {
    let rows = sqlx::query(
        "SELECT id, topic, origin FROM change_log WHERE id > $1 ORDER BY id LIMIT 5000",
    )
    .bind(w.floor())
    .fetch_all(&st.db.read)
    .await?;
    let mut by_id = std::collections::BTreeMap::new();
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let topic: String = r.try_get("topic")?;
        let origin: String = r.try_get("origin")?;
        by_id.insert(id, (topic, origin));
    }
    let fresh = w.take(by_id.keys().copied());
    // One wake per topic per read.
    let mut topics = BTreeSet::new();
    for id in &fresh {
        if let Some((topic, origin)) = by_id.get(id)
            && **origin != *st.instance.name
        {
            topics.insert(topic.clone());
        }
    }
    for t in &topics {
        if let Some(t) = Topic::parse(t) {
            match &t {
                // Our engine is behind the log: read on before answering.
                Topic::Queue(campus) => st.queue.mark_stale(campus),
                // Another instance's prices or packages: ours are stale.
                Topic::Catalogue => st.catalogue.set(st.db.load_catalogue().await?),
                Topic::Registrations => {}
            }
            wake(st, &t);
        }
    }
    Ok(fresh.len())
}

/// Follows the log for this instance's pages.
pub fn spawn(st: &AppState) -> tokio::task::JoinHandle<()> {
    let st = st.clone();
    tokio::spawn(async move {
        let mut w = Window::new(next_id(), id_span_ms(HORIZON_MS));
        loop {
            tokio::time::sleep(POLL).await;
            if let Err(e) = flush(&st).await {
                tracing::warn!(error = %e, "recording changes failed");
            }
            if let Err(e) = read_once(&st, &mut w).await {
                tracing::warn!(error = %e, "reading the change log failed");
            }
        }
    })
}

/// Deletes rows older than `KEEP` (the `change_log` job).
pub async fn prune(st: &AppState) -> Result<u64, DbError> {
    let cutoff = Utc::now() - KEEP;
    let n = sqlx::query("DELETE FROM change_log WHERE at < $1")
        .bind(ts(cutoff))
        .execute(&st.db.pool)
        .await?
        .rows_affected();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_committed_late_within_the_horizon_is_still_taken_once() {
        let mut w = Window::new(1000, 100);
        assert_eq!(w.take([1010, 1020]), vec![1010, 1020]);
        // 1015 commits after 1020 was read: the next read reaches back.
        assert_eq!(w.floor(), 920);
        assert_eq!(w.take([1010, 1015, 1020, 1030]), vec![1015, 1030]);
        assert_eq!(w.take([1010, 1015, 1020, 1030]), Vec::<i64>::new());
    }

    #[test]
    fn rows_below_the_horizon_are_forgotten_and_not_taken() {
        let mut w = Window::new(1000, 100);
        assert_eq!(w.take([1001]), vec![1001]);
        assert_eq!(w.take([1200]), vec![1200]);
        // 1050 is below the floor (1100) now: too late, not reported.
        assert_eq!(w.take([1050, 1200]), Vec::<i64>::new());
        assert_eq!(w.seen.len(), 1);
    }

    #[test]
    fn rows_from_before_the_start_count_as_seen() {
        let mut w = Window::new(1000, 100);
        assert_eq!(w.take([950, 990, 1005]), vec![1005]);
    }

    #[test]
    fn topics_round_trip() {
        for t in [
            Topic::Registrations,
            Topic::Queue("north".into()),
            Topic::Catalogue,
        ] {
            assert_eq!(Topic::parse(&t.key()), Some(t));
        }
        assert_eq!(Topic::parse("nothing"), None);
    }
}
