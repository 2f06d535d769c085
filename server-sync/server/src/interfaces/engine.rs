//! The sender: for each counterpart with an adapter, take the line's lease,
//! claim the head, hand it to the adapter, record the answer. One message
//! of a counterpart is on its way at a time (its order is kept); a head
//! that failed waits for its next attempt and holds its line, the other
//! counterparts' lines go on.
//!
//! [`Dispatcher::step`] is one round for one counterpart with `now` passed
//! in: the tests drive hours of simulated time through it. [`spawn`] runs
//! it on the clock for the service.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::adapter::{Adapters, Outbound, SendError};
use super::settings::InterfacesConfig;
use super::{Counterpart, policy};
use crate::db::{Db, DbError};

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Nothing waiting in the line.
    Idle,
    /// Another sender holds the line's lease.
    Leased,
    /// The head waits for its next attempt (or for another's claim to end).
    Waiting { until: DateTime<Utc> },
    /// One message tried: its id and new state.
    Tried { id: i64, state: super::MessageState },
}

/// Sends the queue's messages through the adapters, as `holder`.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    cfg: Arc<InterfacesConfig>,
    adapters: Adapters,
    /// This sender's name in leases and claims (unique per instance).
    holder: String,
    /// The jitter draw (the tests fix it).
    jitter: Arc<dyn Fn() -> f64 + Send + Sync>,
}

impl Dispatcher {
    pub fn new(
        db: Db,
        cfg: InterfacesConfig,
        adapters: Adapters,
        holder: impl Into<String>,
    ) -> Self {
        Self {
            db,
            cfg: Arc::new(cfg),
            adapters,
            holder: holder.into(),
            jitter: Arc::new(|| {
                let b = exam_protocol::auth::random_bytes::<8>();
                (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
            }),
        }
    }

    /// With a fixed jitter draw in [0, 1) (tests).
    pub fn with_jitter(mut self, j: f64) -> Self {
        self.jitter = Arc::new(move || j);
        self
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn counterparts(&self) -> Vec<Counterpart> {
        self.adapters.keys().copied().collect()
    }

    /// One round for `c`: lease, head, claim, send, record.
    pub async fn step(&self, c: Counterpart, now: DateTime<Utc>) -> Result<StepOutcome, DbError> {
        let Some(adapter) = self.adapters.get(&c) else {
            return Ok(StepOutcome::Idle);
        };
        let Some(head) = self.db.line_head(c).await? else {
            return Ok(StepOutcome::Idle);
        };
        if head.state == super::MessageState::Sending
            && let Some(until) = head.lease_until
            && until >= now
        {
            // Claimed by a sender that may still be on it.
            return Ok(StepOutcome::Waiting { until });
        }
        if head.next_attempt_at > now {
            return Ok(StepOutcome::Waiting {
                until: head.next_attempt_at,
            });
        }
        let lease = self.cfg.lease();
        if !self
            .db
            .take_lease(c.as_str(), &self.holder, now, lease)
            .await?
        {
            return Ok(StepOutcome::Leased);
        }
        let Some(msg) = self
            .db
            .claim_message(head.id, &self.holder, now, lease)
            .await?
        else {
            // Taken or finished meanwhile: the next step sees the new head.
            return Ok(StepOutcome::Leased);
        };
        let result = send_with_timeout(adapter.as_ref(), &msg, self.cfg.send_timeout()).await;
        if let Err(e) = &result {
            tracing::warn!(counterpart = %c, message = msg.id, attempt = msg.attempt, error = %e, "interface send failed");
        }
        let failures = self.failures_of(msg.id).await?;
        let next = policy::after(
            &self.cfg.policy(),
            msg.attempt,
            failures,
            &result,
            now,
            (self.jitter)(),
        );
        self.db
            .finish_message(&msg, &self.holder, &next, now)
            .await?;
        Ok(StepOutcome::Tried {
            id: msg.id,
            state: next.state,
        })
    }

    async fn failures_of(&self, id: i64) -> Result<u32, DbError> {
        let n: i64 = sqlx::query_scalar("SELECT failures FROM interface_messages WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    /// Steps `c` until it has nothing due at `now` (at most `limit` tries).
    pub async fn drain(
        &self,
        c: Counterpart,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, DbError> {
        let mut tried = 0;
        while tried < limit {
            match self.step(c, now).await? {
                StepOutcome::Tried { .. } => tried += 1,
                _ => break,
            }
        }
        Ok(tried)
    }
}

async fn send_with_timeout(
    adapter: &dyn Outbound,
    msg: &super::Outgoing,
    limit: std::time::Duration,
) -> Result<super::Delivered, SendError> {
    match tokio::time::timeout(limit, adapter.send(msg)).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Unavailable(format!(
            "no answer within {} s",
            limit.as_secs()
        ))),
    }
}

/// Runs a sender per configured counterpart until the service stops, and
/// the results listeners the counterparts name (an address that cannot be
/// bound stops the start). An instance's holder name is random, so
/// instances never share a claim.
pub fn spawn(
    db: &Db,
    cfg: &InterfacesConfig,
    adapters: Adapters,
) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
    let mut tasks = Vec::new();
    for (&c, spec) in &cfg.counterparts {
        let Some((addr, charset)) = (spec.adapter == "hl7_mllp")
            .then(|| super::hl7::listen_spec(spec))
            .flatten()
        else {
            continue;
        };
        let l = std::net::TcpListener::bind(&addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .and_then(tokio::net::TcpListener::from_std)
            .map_err(|e| format!("[interfaces.counterparts.{c}] listen {addr}: {e}"))?;
        let db = db.clone();
        tracing::info!(counterpart = %c, %addr, "HL7 results listener");
        tasks.push(tokio::spawn(async move {
            if let Err(e) = super::hl7::listen(db, c, charset, l).await {
                tracing::error!(counterpart = %c, error = %e, "HL7 results listener stopped");
            }
        }));
    }
    // I5: waiting SMS released under the rate limits, status reports pulled.
    if let Some(spec) = cfg.counterparts.get(&Counterpart::Sms)
        && spec.adapter == "tencent_sms"
    {
        tasks.push(
            crate::sms::adapter::spawn(db, spec)
                .map_err(|e| format!("[interfaces.counterparts.sms]: {e}"))?,
        );
    }
    let holder = format!(
        "instance-{}",
        hex::encode(exam_protocol::auth::random_bytes::<6>())
    );
    let d = Dispatcher::new(db.clone(), cfg.clone(), adapters, holder);
    let idle = std::time::Duration::from_millis(cfg.poll_millis.max(50));
    tasks.extend(d.counterparts().into_iter().map(|c| {
            let d = d.clone();
            tokio::spawn(async move {
                loop {
                    match d.step(c, Utc::now()).await {
                        // More may be due at once.
                        Ok(StepOutcome::Tried { .. }) => continue,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(counterpart = %c, error = %e, "interface sender: store error")
                        }
                    }
                    tokio::time::sleep(idle).await;
                }
            })
        }));
    Ok(tasks)
}
