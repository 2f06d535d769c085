//! Small writes that need a transaction of their own, batched on
//! PostgreSQL: one writer task per kind and process takes everything
//! waiting and writes it in one transaction, so one disk flush (and, for
//! a shared counter, one hold of its row) serves every request waiting.
//! The batch waits for nothing: it takes what queued while the last one
//! was committing, so under light load a batch is one item.
//!
//! Two kinds: audit lines in transactions of their own (a read's line: who
//! looked at whose record; a sign-in), and the change numbers of visits
//! stamped after their commit (`bookings::stamp_committed`, where every
//! stamp holds the one `booking_change` row to its flush).
//!
//! Each caller still returns only after its own item is committed. A batch
//! of audit lines the store refuses is written again line by line, so a
//! caller gets an error only for its own (a failed audit fails that
//! request); a failed batch of stamps fails every caller at once
//! (`Writes::ONE_BY_ONE_ON_FAILURE`). SQLite does without: it has one
//! writer anyway (and its group commit, db/group.rs).

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use super::{DbError, Result};

/// Items in one transaction at most.
const MAX_ITEMS: usize = 100;

/// What a batcher writes: every item given in one transaction.
pub(crate) trait Writes: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    /// For the log and the errors: "audit", "stamp".
    const WHAT: &'static str;
    /// Whether a batch the store refused is written again item by item
    /// (one bad item must not fail the others), or every caller told at
    /// once (when no item can be at fault alone: waiting out the store's
    /// timeout once per item would hold every caller through an outage).
    const ONE_BY_ONE_ON_FAILURE: bool = true;
    fn write(&self, items: &[Self::Item]) -> impl Future<Output = Result<()>> + Send;
}

type Waiting<I> = (I, oneshot::Sender<std::result::Result<(), String>>);

#[derive(Debug)]
pub(crate) struct Batcher<I> {
    tx: mpsc::UnboundedSender<Waiting<I>>,
    what: &'static str,
}

impl<I: Send + Sync + 'static> Batcher<I> {
    /// Starts the writer; it ends when the `Batcher` is dropped.
    pub(crate) fn start<W: Writes<Item = I>>(w: W) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Waiting<I>>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_ITEMS {
                    match rx.try_recv() {
                        Ok(x) => batch.push(x),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
                match w.write(&items).await {
                    Ok(()) => {
                        for reply in replies {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    Err(e) if !W::ONE_BY_ONE_ON_FAILURE => {
                        tracing::warn!(error = %e, items = items.len(), what = W::WHAT, "batch failed");
                        for reply in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                    // One item the store refuses must not fail the others'
                    // requests: each again on its own, answered alone.
                    Err(e) => {
                        tracing::warn!(error = %e, items = items.len(), what = W::WHAT, "batch failed; items one by one");
                        for (item, reply) in items.iter().zip(replies) {
                            let r = w
                                .write(std::slice::from_ref(item))
                                .await
                                .map_err(|e| e.to_string());
                            if let Err(e) = &r {
                                tracing::error!(error = %e, what = W::WHAT, "batched item not written");
                            }
                            let _ = reply.send(r);
                        }
                    }
                }
            }
        });
        Self { tx, what: W::WHAT }
    }

    /// Writes `item` with whatever else is waiting; returns once committed.
    pub(crate) async fn submit(&self, item: I) -> Result<()> {
        let stopped = || DbError::Commit(format!("the {} writer has stopped", self.what));
        let (reply, done) = oneshot::channel();
        self.tx.send((item, reply)).map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?.map_err(DbError::Commit)
    }
}
