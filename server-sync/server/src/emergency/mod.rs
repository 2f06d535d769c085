//! Emergency mode (E15; seed 000 §七 2.1 应急系统): when HIS or the
//! payment platform has not answered for `[emergency] after_minutes` (30),
//! the centre may, on its own, switch to emergency registration and
//! charging; the information centre's recovery estimate and the leadership
//! group's confirmation are recorded when given.
//!
//! - **Rules** (`machine`, pure): eligibility from the signals, who may
//!   switch on and off and on what ground, when an ending episode closes.
//! - **Signals**: HIS's line head failing since (`interface_messages`), the
//!   platform's calls failing since (`payments::health`).
//! - **While active**: the desk goes on as ever (its facts only write rows;
//!   nothing waits for a counterpart); each registration, charge and refund
//!   is also an entry of the episode (`store::record_in`, in the fact's
//!   transaction), a charge with its emergency receipt number; kiosks are
//!   told payment is unavailable (pay at the desk) without the platform
//!   being called; every HIS / LIS / PACS message waits in the queue.
//! - **Ending**: switched off, the queue drains (sent once, in order: the
//!   interfaces engine); once HIS and the platform answer and none of the
//!   episode's HIS messages is left in the line, the episode closes (the
//!   other systems' messages are on its report with their state).
//! - **Report** (`report`): per episode, on `/emergency` and as CSV.
//! - **Banner** (`page::banner`): every staff page says so while active.

pub mod machine;
mod page;
pub mod report;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use page::{banner, routes};
pub use store::{EntryKind, Episode, Stamp};

use crate::AppState;
use crate::db::DbError;
use crate::roles::Role;
use machine::{Eligibility, EpisodeState, Phase, Refusal, Signals, SwitchOn};

/// `[emergency]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct EmergencyConfig {
    /// HIS or the platform away this long: the centre may switch on.
    pub after_minutes: i64,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        Self { after_minutes: 30 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmergencyError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The centre's state as the page and the JSON show it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub phase: Phase,
    pub eligibility: Eligibility,
    /// The episode not yet closed.
    pub open: Option<Episode>,
    /// Messages the open episode queued still in the line.
    pub still_open: u64,
    pub platform_configured: bool,
    pub platform_error: Option<String>,
    pub now: DateTime<Utc>,
}

pub async fn signals(st: &AppState) -> Result<Signals, DbError> {
    Ok(Signals {
        his_failing_since: st.db.his_failing_since().await?,
        platform_failing_since: st.payments.health.failing_since(),
    })
}

fn after_minutes(st: &AppState) -> i64 {
    st.config.emergency.after_minutes.max(1)
}

/// The state at `now`; an ending episode whose queue has drained is
/// closed on the way.
pub async fn status(st: &AppState, now: DateTime<Utc>) -> Result<Status, DbError> {
    settle(st, now).await?;
    let e = machine::assess(signals(st).await?, after_minutes(st), now);
    let open = st.db.emergency_open().await?;
    let still_open = match &open {
        Some(ep) => st.db.emergency_still_open(ep).await?,
        None => 0,
    };
    Ok(Status {
        phase: machine::phase(open.as_ref().map(|o| o.state), &e),
        eligibility: e,
        open,
        still_open,
        platform_configured: st.payments.available(),
        platform_error: st.payments.health.state().last_error,
        now,
    })
}

/// Closes the ending episode once the counterparts answer and what it
/// queued has left the line. Returns the episode when it closed now.
pub async fn settle(st: &AppState, now: DateTime<Utc>) -> Result<Option<Episode>, DbError> {
    let Some(ep) = st.db.emergency_open().await? else {
        return Ok(None);
    };
    if ep.state != EpisodeState::Ending {
        return Ok(None);
    }
    let s = signals(st).await?;
    let back = s.his_failing_since.is_none() && s.platform_failing_since.is_none();
    let still = st.db.emergency_still_open(&ep).await?;
    if machine::settle(ep.state, still, back) == EpisodeState::Closed
        && st.db.emergency_close(ep.id, now).await?
    {
        tracing::info!(episode = ep.id, "emergency episode closed");
        return st.db.emergency_episode(ep.id).await;
    }
    Ok(None)
}

/// Switch on, as `who` with `role`, at `now` (audited).
pub async fn switch_on(
    st: &AppState,
    who: &str,
    role: Role,
    req: &SwitchOn,
    now: DateTime<Utc>,
) -> Result<Episode, EmergencyError> {
    settle(st, now).await?;
    let e = machine::assess(signals(st).await?, after_minutes(st), now);
    let open = st.db.emergency_open().await?;
    let basis = machine::switch_on(open.as_ref().map(|o| o.state), &e, role, req)?;
    let elig = serde_json::to_value(&e).unwrap_or_default();
    let ep = st
        .db
        .emergency_start(
            &store::NewEpisode {
                basis,
                eligibility: &elig,
                by: who,
                role: role.as_str(),
                reason: &req.reason,
                override_reason: req.override_reason.as_deref(),
                leadership: req.leadership.as_deref(),
                recovery_estimate: req.recovery_estimate.as_deref(),
            },
            now,
        )
        .await?
        .ok_or(Refusal::AlreadyOn)?;
    tracing::warn!(episode = ep.id, basis = basis.as_str(), "emergency mode on");
    crate::cluster::feed::publish(st, crate::cluster::feed::Topic::Registrations).await;
    Ok(ep)
}

/// Switch off, as `who` with `role`, at `now` (audited): the episode ends
/// and closes once its messages have left the line.
pub async fn switch_off(
    st: &AppState,
    who: &str,
    role: Role,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Episode, EmergencyError> {
    let open = st.db.emergency_open().await?;
    machine::switch_off(open.as_ref().map(|o| o.state), role, reason)?;
    let ep = open.ok_or(Refusal::NotOn)?;
    if !st.db.emergency_end(ep.id, who, reason, now).await? {
        return Err(Refusal::NotOn.into());
    }
    tracing::warn!(episode = ep.id, "emergency mode off");
    settle(st, now).await?;
    Ok(st
        .db
        .emergency_episode(ep.id)
        .await?
        .ok_or(Refusal::NotOn)?)
}

/// Whether kiosks are to send patients to the desk to pay (an episode is
/// active): checked before any call to the platform.
pub(crate) async fn kiosk_payment_refused(st: &AppState) -> Result<Option<String>, DbError> {
    Ok(store::active(&st.db).await?.then(|| {
        "体检中心处于应急模式，请到收费处缴费 / emergency mode: please pay at the desk".to_string()
    }))
}

/// Runs `settle` every half minute, so an ending episode closes without
/// anyone opening the page.
pub fn spawn(st: &AppState) -> tokio::task::JoinHandle<()> {
    let st = st.clone();
    tokio::spawn(async move {
        // Once across instances (issue 21).
        let job =
            crate::cluster::lease::Job::new("emergency_settle", std::time::Duration::from_secs(30));
        loop {
            job.turn(&st, || async {
                if let Err(e) = settle(&st, Utc::now()).await {
                    tracing::warn!(error = %e, "emergency settle");
                }
            })
            .await;
            tokio::time::sleep(job.every).await;
        }
    })
}
