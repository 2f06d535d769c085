//! The sync agent: drains the outbox, follows the booking cache, sends
//! heartbeats. It owns no state of its own beyond timers: everything it must
//! not lose is in the journal, so a restart resumes where it stopped.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use exam_protocol::Heartbeat;
use offline_store::SharedJournal;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::{SyncClient, SyncError};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Events per push (the server takes at most 500).
    pub batch: usize,
    pub pull_every: Duration,
    pub heartbeat_every: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub app_version: String,
    /// What this kiosk can print for documents moved here (heartbeat).
    pub prints: Vec<exam_protocol::PrinterKind>,
    /// How long the journal keeps the personal data of check-ins the
    /// service acknowledged (`Journal::purge_personal`, run hourly).
    pub retention: Duration,
    /// How long a push may take to be answered (then it is retried
    /// smaller).
    pub push_timeout: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            batch: 100,
            pull_every: Duration::from_secs(30),
            heartbeat_every: Duration::from_secs(30),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            app_version: env!("CARGO_PKG_VERSION").into(),
            prints: Vec::new(),
            retention: Duration::from_secs(7 * 24 * 3600),
            push_timeout: crate::PUSH_TIMEOUT,
        }
    }
}

/// What the kiosk UI and the heartbeat show about sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub online: bool,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub retry_in: Option<Duration>,
}

pub struct SyncAgent {
    journal: SharedJournal,
    client: SyncClient,
    config: AgentConfig,
    wake: Arc<Notify>,
    status: watch::Sender<SyncStatus>,
    devices: crate::DeviceBoard,
}

impl std::fmt::Debug for SyncAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncAgent")
            .field("kiosk", &self.client.kiosk_id())
            .finish()
    }
}

impl SyncAgent {
    pub fn new(journal: SharedJournal, client: SyncClient, config: AgentConfig) -> Self {
        Self {
            journal,
            client,
            config,
            wake: Arc::new(Notify::new()),
            status: watch::channel(SyncStatus::default()).0,
            devices: crate::DeviceBoard::default(),
        }
    }

    /// Notify this after journaling an event to push it at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Device states and the staff alert reported in the heartbeat
    /// (drivers, spoolers and the patient session update them).
    pub fn devices(&self) -> crate::DeviceBoard {
        self.devices.clone()
    }

    /// Pushes until the outbox is empty. Events leave the outbox only when
    /// acknowledged; events the server refuses as invalid are set aside
    /// (kept, counted in the heartbeat) so they cannot block the rest.
    pub async fn push_all(&self) -> Result<usize, SyncError> {
        let mut acked = 0;
        // Halved when the server finds a batch too large (big events, such
        // as documents moved to another kiosk), back to full after a success;
        // halved when a push times out, and then no larger until this round
        // ends (a full batch would only time out again).
        let mut batch = self.config.batch;
        let mut ceiling = self.config.batch;
        loop {
            let events = self
                .journal
                .lock()
                .pending_events(batch)
                .map_err(store_err)?;
            if events.is_empty() {
                return Ok(acked);
            }
            let ids: Vec<_> = events.iter().map(|e| e.id).collect();
            self.journal.lock().note_attempt(&ids).map_err(store_err)?;
            match self
                .client
                .push_within(&events, self.config.push_timeout)
                .await
            {
                Ok(resp) => {
                    let ids: Vec<_> = resp
                        .acks
                        .iter()
                        .map(|a| a.id)
                        .filter(|id| ids.contains(id))
                        .collect();
                    if ids.is_empty() {
                        return Err(SyncError::Decode(
                            "the server acknowledged none of the pushed events".into(),
                        ));
                    }
                    acked += self
                        .journal
                        .lock()
                        .ack(&ids, Utc::now())
                        .map_err(store_err)?;
                    batch = ceiling;
                }
                Err(SyncError::Refused { status: 413, .. }) if batch > 1 => {
                    batch = (batch / 2).max(1);
                }
                // A server too slow for the batch in the push's time (a
                // night's backlog on a loaded service) would time out on
                // the same batch for ever: smaller pushes get through. A
                // push it did take is acknowledged again as duplicates.
                Err(SyncError::TimedOut(e)) if batch > 1 => {
                    tracing::warn!(error = %e, batch, "push timed out; retrying smaller");
                    batch = (batch / 2).max(1);
                    ceiling = batch;
                }
                Err(SyncError::Refused { status: 422, error }) if !error.event_ids.is_empty() => {
                    tracing::error!(error = %error.message, "server refused events; setting them aside");
                    let mut j = self.journal.lock();
                    for id in &error.event_ids {
                        j.reject(*id, &error.message).map_err(store_err)?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Follows the server's booking changes into the offline cache.
    pub async fn pull_all(&self) -> Result<usize, SyncError> {
        let mut n = 0;
        loop {
            let cursor = self.journal.lock().cursor().map_err(store_err)?;
            let page = self.client.changes(cursor, 500).await?;
            n += page.records.len();
            self.journal
                .lock()
                .apply_changes(&page.records, page.next_cursor)
                .map_err(store_err)?;
            if !page.more {
                return Ok(n);
            }
        }
    }

    pub async fn heartbeat(&self) -> Result<(), SyncError> {
        let (backlog, printing) = {
            let j = self.journal.lock();
            (
                j.backlog().map_err(store_err)?,
                j.print_backlog().map_err(store_err)?,
            )
        };
        let hb = Heartbeat {
            app_version: self.config.app_version.clone(),
            devices: self.devices.devices(),
            backlog: backlog.pending,
            oldest_unacked: backlog.oldest_pending,
            rejected: backlog.rejected,
            print_waiting: printing.parts,
            oldest_print_waiting: printing.oldest,
            prints: self.config.prints.clone(),
            alert: self.devices.alert(),
        };
        let answer = self.client.heartbeat(&hb).await?;
        self.carry_out_moves(&answer);
        Ok(())
    }

    /// Print jobs staff moved (K15): release ours to the other kiosk, take
    /// those moved here. The events that say so go out with the next push.
    fn carry_out_moves(&self, answer: &exam_protocol::HeartbeatResponse) {
        let now = Utc::now();
        let mut j = self.journal.lock();
        if let Some(order) = &answer.release_printing {
            match j.release_for_move(order, now) {
                Ok(Some(_)) => {
                    tracing::info!(to = %order.to_kiosk, "print jobs released to another kiosk")
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "releasing print jobs"),
            }
        }
        for m in &answer.incoming_printing {
            match j.accept_moved(m, now) {
                Ok(0) => {}
                Ok(n) => tracing::info!(from = %m.from_kiosk, jobs = n, "print jobs moved here"),
                Err(e) => {
                    tracing::error!(error = %e, from = %m.from_kiosk, "refusing moved print jobs")
                }
            }
        }
    }

    /// Drops the personal data of acknowledged check-ins older than the
    /// retention window from the journal; a failure is logged and retried
    /// at the next round (it never stops syncing).
    pub fn purge_personal(&self) {
        let keep = chrono::Duration::from_std(self.config.retention)
            .unwrap_or(offline_store::DEFAULT_RETENTION);
        match self.journal.lock().purge_personal(Utc::now(), keep) {
            Ok(p) if p != offline_store::Purged::default() => {
                tracing::info!(?p, "personal data of acknowledged check-ins purged")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging acknowledged personal data failed"),
        }
        // The offline cache's window: bookings of days past the same window.
        let before = (Utc::now() - keep).date_naive();
        match self.journal.lock().drop_past_bookings(before) {
            Ok((0, 0)) => {}
            Ok((bookings, people)) => {
                tracing::info!(bookings, people, "past bookings left the offline cache")
            }
            Err(e) => tracing::warn!(error = %e, "dropping past bookings from the cache failed"),
        }
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(self.config.backoff_base, self.config.backoff_max);
        let (mut next_pull, mut next_hb) = (Instant::now(), Instant::now());
        let mut next_purge = Instant::now();
        loop {
            if *shutdown.borrow() {
                return;
            }
            if Instant::now() >= next_purge {
                self.purge_personal();
                next_purge = Instant::now() + Duration::from_secs(3600);
            }
            let round = async {
                self.push_all().await?;
                if Instant::now() >= next_pull {
                    self.pull_all().await?;
                    next_pull = Instant::now() + self.config.pull_every;
                }
                if Instant::now() >= next_hb {
                    self.heartbeat().await?;
                    next_hb = Instant::now() + self.config.heartbeat_every;
                }
                Ok::<_, SyncError>(())
            };
            let wait = match round.await {
                Ok(()) => {
                    backoff.reset();
                    self.status.send_replace(SyncStatus {
                        online: true,
                        last_ok: Some(Utc::now()),
                        last_error: None,
                        retry_in: None,
                    });
                    next_pull
                        .min(next_hb)
                        .saturating_duration_since(Instant::now())
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    if backoff.attempts() <= 1 || !e.is_transient() {
                        tracing::warn!(error = %e, retry_in = ?delay, "sync failed; the kiosk keeps working offline");
                    }
                    self.status.send_modify(|s| {
                        s.online = false;
                        s.last_error = Some(e.to_string());
                        s.retry_in = Some(delay);
                    });
                    delay
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

fn store_err(e: offline_store::StoreError) -> SyncError {
    SyncError::Journal(e.to_string())
}
