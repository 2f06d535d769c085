//! Audit lines that need a transaction of their own (a read's line: who
//! looked at whose record; a sign-in) on PostgreSQL: one writer per
//! process appends every line waiting in one transaction, so the disk
//! flush is taken once for all the lines waiting. (Written when each line
//! took the chain's lock to its commit and the desk's throughput stopped
//! at the chain's; lines are now placed in the chain after their commit,
//! invariant 18, and the batch still saves a flush a line.)
//!
//! Each caller still returns only after its own line is committed. A batch
//! the store refuses is written again line by line, so a caller gets an
//! error only for its own line (a failed audit fails that request).
//! SQLite keeps a transaction a line: it has one writer anyway, and
//! joining its group commit (db/group.rs) measured no gain there.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{DbError, Result};
use crate::audit::AuditEvent;

/// Lines in one transaction at most (the batch waits for nothing: it takes
/// what is queued when the last one committed).
const MAX_LINES: usize = 100;

type Waiting = (AuditEvent, oneshot::Sender<std::result::Result<(), String>>);

#[derive(Debug)]
pub(crate) struct AuditBatch {
    tx: mpsc::UnboundedSender<Waiting>,
}

impl AuditBatch {
    /// Starts the writer; it ends when the last `AuditBatch` is dropped.
    pub(crate) fn start(pool: AnyPool) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Waiting>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_LINES {
                    match rx.try_recv() {
                        Ok(w) => batch.push(w),
                        Err(_) => break,
                    }
                }
                let (events, replies): (Vec<AuditEvent>, Vec<_>) = batch.into_iter().unzip();
                match write(&pool, &events).await {
                    Ok(()) => {
                        for reply in replies {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    // One line the store refuses must not fail the others'
                    // requests: each again on its own, answered alone.
                    Err(e) => {
                        tracing::warn!(error = %e, lines = events.len(), "audit batch failed; lines one by one");
                        for (e, reply) in events.iter().zip(replies) {
                            let r = write(&pool, std::slice::from_ref(e))
                                .await
                                .map_err(|e| e.to_string());
                            if let Err(e) = &r {
                                tracing::error!(error = %e, "audit line not written");
                            }
                            let _ = reply.send(r);
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Appends `e` with whatever else is waiting; returns once committed.
    pub(crate) async fn append(&self, e: AuditEvent) -> Result<()> {
        let (reply, done) = oneshot::channel();
        self.tx
            .send((e, reply))
            .map_err(|_| DbError::Commit("the audit writer has stopped".into()))?;
        done.await
            .map_err(|_| DbError::Commit("the audit writer has stopped".into()))?
            .map_err(DbError::Commit)
    }
}

async fn write(pool: &AnyPool, events: &[AuditEvent]) -> Result<()> {
    let mut tx = pool.begin().await?;
    super::audit::append_many(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}
