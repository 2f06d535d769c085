//! Group commit on the embedded store (issue 21).
//!
//! SQLite has one writer: every write transaction of the service waits for
//! the one connection, and each commit is a flush of the WAL to the disk
//! (`synchronous=FULL`). A registration writes some thirty pages and waits
//! for its own flush, so the desk reached about a third of the disk's
//! commit rate while the processor sat idle. Here the writes that arrive
//! while one is running share its transaction: each runs in a savepoint of
//! its own (its error undoes only its own statements), and one commit —
//! one flush — ends the group. A member gets its answer only after that
//! commit, so nothing is acknowledged before it is on the disk, exactly as
//! with a transaction of its own.
//!
//! How a group forms: the open transaction sits behind a fair (FIFO) lock.
//! A member takes the lock, runs its statements, releases its savepoint,
//! registers for the commit's outcome and wakes the committer; the
//! committer queues for the same lock, so it commits after the members
//! that were already waiting, and the ones arriving later form the next
//! group. Under light load a group is one write and costs one task wake-up
//! more than before.
//!
//! PostgreSQL takes concurrent transactions and flushes their commits
//! together itself; there each write has a transaction of its own
//! (`Write::Own`), and nothing here changes what it does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{Mutex, MutexGuard, Notify, oneshot};

use super::{DbError, Result};

// The savepoint a member's statements run in. One name serves: members
// run one after another and each releases or rolls back its own.
const SAVEPOINT: &str = "SAVEPOINT grp_member";
const RELEASE: &str = "RELEASE SAVEPOINT grp_member";
const UNDO: &str = "ROLLBACK TO SAVEPOINT grp_member; RELEASE SAVEPOINT grp_member";

type Outcome = std::result::Result<(), Arc<str>>;

/// The open group: its transaction, its members waiting for the commit.
pub(crate) struct Group {
    open: Mutex<Open>,
    /// Writes kept and commits made, for the benchmarks' "writes a flush".
    kept: AtomicU64,
    commits: AtomicU64,
    /// The committer's bell; shared so that the committer can wait on it
    /// without keeping the group alive.
    wake: Arc<Notify>,
}

impl Drop for Group {
    fn drop(&mut self) {
        // The committer wakes, finds the group gone and ends.
        self.wake.notify_one();
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Open {
    tx: Option<Transaction<'static, Any>>,
    /// A member left without finishing (its request was dropped, or it
    /// returned early): its savepoint is undone before anything else runs.
    abandoned: bool,
    members: Vec<oneshot::Sender<Outcome>>,
}

impl Open {
    /// Undoes an abandoned member's statements. If that fails the group's
    /// transaction cannot be trusted: it is rolled back and its members
    /// told.
    async fn settle_abandoned(&mut self) {
        if !std::mem::take(&mut self.abandoned) {
            return;
        }
        let Some(tx) = self.tx.as_mut() else { return };
        if let Err(e) = undo_member(tx).await {
            tracing::error!(error = %e, "a group commit's savepoint could not be undone");
            self.fail(&format!("the group's transaction failed: {e}"))
                .await;
        }
    }

    /// Rolls the whole transaction back and tells every member.
    async fn fail(&mut self, why: &str) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.rollback().await;
        }
        let why: Arc<str> = why.into();
        for m in self.members.drain(..) {
            let _ = m.send(Err(why.clone()));
        }
    }

    /// Commits the group and answers its members; returns how many were
    /// committed.
    async fn commit(&mut self) -> usize {
        self.settle_abandoned().await;
        let members = std::mem::take(&mut self.members);
        let Some(tx) = self.tx.take() else { return 0 };
        let outcome: Outcome = if members.is_empty() {
            // Every member failed or left: nothing to keep.
            tx.rollback().await.map_err(|e| e.to_string().into())
        } else {
            tx.commit().await.map_err(|e| e.to_string().into())
        };
        if let Err(e) = &outcome {
            tracing::error!(error = %e, members = members.len(), "a group commit failed");
        }
        let kept = if outcome.is_ok() { members.len() } else { 0 };
        for m in members {
            let _ = m.send(outcome.clone());
        }
        kept
    }
}

async fn undo_member(tx: &mut Transaction<'static, Any>) -> std::result::Result<(), sqlx::Error> {
    sqlx::raw_sql(UNDO).execute(&mut **tx).await?;
    Ok(())
}

impl Group {
    /// An empty group, its committer running on the current runtime for
    /// as long as the group is referenced.
    pub(crate) fn start() -> Arc<Self> {
        let wake = Arc::new(Notify::new());
        let group = Arc::new(Self {
            open: Mutex::new(Open::default()),
            kept: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            wake: wake.clone(),
        });
        let weak = Arc::downgrade(&group);
        tokio::spawn(async move {
            loop {
                wake.notified().await;
                let Some(group) = weak.upgrade() else { return };
                group.commit().await;
            }
        });
        group
    }

    async fn commit(&self) {
        let mut open = self.open.lock().await;
        let members = open.commit().await;
        if members > 0 {
            self.kept.fetch_add(members as u64, Ordering::Relaxed);
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Commits what is pending now (the store is being closed).
    pub(crate) async fn flush(&self) {
        self.commit().await;
    }

    /// Writes committed and the commits they took, since the start.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.kept.load(Ordering::Relaxed),
            self.commits.load(Ordering::Relaxed),
        )
    }
}

/// One write: a member of the open group (SQLite) or a transaction of its
/// own (PostgreSQL). Run the statements on [`Write::tx`], then hand the
/// result to [`Write::finish`], which answers after the commit.
pub struct Write<'g> {
    inner: Inner<'g>,
}

enum Inner<'g> {
    Member {
        open: MutexGuard<'g, Open>,
        group: &'g Group,
        finished: bool,
    },
    Own(Option<Transaction<'static, Any>>),
}

impl<'g> Write<'g> {
    pub(crate) async fn begin(group: Option<&'g Group>, pool: &AnyPool) -> Result<Self> {
        let Some(group) = group else {
            return Ok(Self {
                inner: Inner::Own(Some(pool.begin().await?)),
            });
        };
        let mut open = group.open.lock().await;
        open.settle_abandoned().await;
        if open.tx.is_none() {
            open.tx = Some(pool.begin().await?);
        }
        let tx = open.tx.as_mut().expect("opened above");
        if let Err(e) = sqlx::raw_sql(SAVEPOINT).execute(&mut **tx).await {
            open.fail(&format!("the group's transaction failed: {e}"))
                .await;
            return Err(e.into());
        }
        Ok(Self {
            inner: Inner::Member {
                open,
                group,
                finished: false,
            },
        })
    }

    /// The transaction to write in.
    pub(crate) fn tx(&mut self) -> &mut Transaction<'static, Any> {
        match &mut self.inner {
            Inner::Member { open, .. } => open.tx.as_mut().expect("a member's transaction is open"),
            Inner::Own(tx) => tx.as_mut().expect("not finished"),
        }
    }

    /// Keeps the statements if `result` is `Ok` and answers once they are
    /// committed; undoes them and gives the error back otherwise.
    pub(crate) async fn finish<T, E: From<DbError>>(
        mut self,
        result: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match &mut self.inner {
            Inner::Own(tx) => {
                let tx = tx.take().expect("finished once");
                match result {
                    Ok(v) => {
                        tx.commit().await.map_err(DbError::from)?;
                        Ok(v)
                    }
                    // Dropping the transaction rolls it back.
                    Err(e) => Err(e),
                }
            }
            Inner::Member {
                open,
                group,
                finished,
            } => {
                *finished = true;
                // Whatever the outcome, the committer ends the open
                // transaction soon: a group whose last member failed must
                // not keep the one connection from everyone else.
                group.wake.notify_one();
                let tx = open.tx.as_mut().expect("a member's transaction is open");
                let kept = match &result {
                    Ok(_) => sqlx::raw_sql(RELEASE).execute(&mut **tx).await.map(|_| ()),
                    Err(_) => undo_member(tx).await,
                };
                if let Err(e) = kept {
                    open.fail(&format!("the group's transaction failed: {e}"))
                        .await;
                    return Err(DbError::from(e).into());
                }
                let value = result?;
                let (answer, outcome) = oneshot::channel();
                open.members.push(answer);
                // Let the next member in (and, behind them, the committer).
                drop(self);
                match outcome.await {
                    Ok(Ok(())) => Ok(value),
                    Ok(Err(why)) => Err(DbError::Commit(why.to_string()).into()),
                    Err(_) => Err(DbError::Commit("the store was closed".into()).into()),
                }
            }
        }
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if let Inner::Member {
            open,
            group,
            finished: false,
        } = &mut self.inner
        {
            open.abandoned = true;
            group.wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;
    use sqlx::any::AnyPoolOptions;

    async fn store() -> (tempfile::TempDir, AnyPool) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY);
             CREATE TABLE t(id INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .execute(&pool)
        .await
        .unwrap();
        (dir, pool)
    }

    async fn ids(pool: &AnyPool) -> Vec<i64> {
        sqlx::query("SELECT id FROM t ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// What a member does: insert its row, then succeed, fail or leave.
    #[derive(Clone, Copy, PartialEq)]
    enum Then {
        Keep,
        Fail,
        Leave,
    }

    async fn member(group: &Group, pool: &AnyPool, id: i64, then: Then) -> Result<()> {
        let mut w = Write::begin(Some(group), pool).await?;
        sqlx::query("INSERT INTO t(id) VALUES ($1)")
            .bind(id)
            .execute(&mut **w.tx())
            .await?;
        match then {
            Then::Keep => w.finish(Ok(())).await,
            Then::Fail => w.finish(Err(DbError::Corrupt("no".into()))).await,
            Then::Leave => {
                drop(w);
                Ok(())
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_a_failure_or_a_leaver_undoes_only_its_own() {
        let (_dir, pool) = store().await;
        let group = Group::start();
        let mut tasks = Vec::new();
        for id in 1..=40 {
            let (group, pool) = (group.clone(), pool.clone());
            let then = match id % 10 {
                3 => Then::Fail,
                7 => Then::Leave,
                _ => Then::Keep,
            };
            tasks.push(tokio::spawn(async move {
                (id, then, member(&group, &pool, id, then).await)
            }));
        }
        let mut kept = Vec::new();
        for t in tasks {
            let (id, then, r) = t.await.unwrap();
            match then {
                Then::Keep => {
                    r.unwrap();
                    kept.push(id);
                }
                Then::Fail => assert!(matches!(r, Err(DbError::Corrupt(_)))),
                Then::Leave => r.unwrap(),
            }
        }
        // Each answer came after its commit: what was kept is there, and
        // only that, once the leavers' savepoints are settled too.
        assert_eq!(ids(&pool).await, kept);
        group.flush().await;
        assert_eq!(ids(&pool).await, kept);
        let (writes, commits) = group.counts();
        assert_eq!(writes, kept.len() as u64);
        assert!(
            commits < writes / 2,
            "{writes} writes took {commits} commits: not grouped"
        );
    }

    #[tokio::test]
    async fn a_group_whose_last_member_failed_or_left_gives_the_connection_back() {
        let (_dir, pool) = store().await;
        let group = Group::start();
        for then in [Then::Fail, Then::Leave] {
            let _ = member(&group, &pool, 1, then).await;
            // A write outside the group (the pool's one connection) gets
            // through: the committer ended the open transaction.
            let mut tx = tokio::time::timeout(std::time::Duration::from_secs(5), pool.begin())
                .await
                .expect("the group's transaction was left open")
                .unwrap();
            sqlx::query("INSERT INTO t(id) VALUES (5)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
        }
        assert_eq!(ids(&pool).await, Vec::<i64>::new());
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_member_and_keeps_nothing() {
        let (_dir, pool) = store().await;
        let group = Group::start();
        // Two members in one group: the second's row breaks a deferred
        // constraint, so the group's COMMIT itself fails.
        let mut first = Write::begin(Some(&group), &pool).await.unwrap();
        sqlx::query("INSERT INTO t(id) VALUES (1)")
            .execute(&mut **first.tx())
            .await
            .unwrap();
        let open = &group.open;
        let (a, b) = tokio::join!(first.finish(Ok::<_, DbError>(())), async {
            let mut w = Write::begin(Some(&group), &pool).await.unwrap();
            sqlx::query("INSERT INTO t(id, parent) VALUES (2, 99)")
                .execute(&mut **w.tx())
                .await
                .unwrap();
            w.finish(Ok::<_, DbError>(())).await
        });
        assert!(matches!(a, Err(DbError::Commit(_))), "{a:?}");
        assert!(matches!(b, Err(DbError::Commit(_))), "{b:?}");
        assert!(open.lock().await.tx.is_none());
        assert_eq!(ids(&pool).await, Vec::<i64>::new());
        // The store goes on: the next write is a group of its own.
        member(&group, &pool, 3, Then::Keep).await.unwrap();
        assert_eq!(ids(&pool).await, vec![3]);
    }
}
