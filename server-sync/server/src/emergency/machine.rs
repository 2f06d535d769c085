//! Emergency mode as a pure state machine (E15; seed 000 §七 2.1): no
//! clock, no store. The callers pass `now`, what the queue and the payment
//! platform say, and who is asking; the answer is a decision the store
//! then records.
//!
//! ```text
//!  Normal ──(HIS or the platform away ≥ after_minutes)──► Eligible
//!    │                                                       │
//!    │ administrator + override reason          switch on (desk supervisor, administrator)
//!    ▼                                                       ▼
//!  Active ◄──────────────────────────────────────────────────┘
//!    │ switch off (staff)
//!    ▼
//!  Ending ──(HIS and the platform answer, the episode's HIS messages out of the line)──► Closed
//! ```
//!
//! Normal and Eligible are not stored: they are what the signals say now.
//! Active, Ending and Closed are an episode's states, stored with it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::roles::{Capability, Role};

/// Where the centre stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Everything reachable (or not for long enough).
    Normal,
    /// A counterpart away long enough: staff may switch emergency mode on.
    Eligible,
    /// Emergency mode: the desk registers and takes cash under emergency
    /// receipts; kiosks send patients to the desk to pay.
    Active,
    /// Switched off: back to normal work, the queue draining.
    Ending,
}

/// An episode's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeState {
    Active,
    Ending,
    /// Everything the episode queued has left the line; its report is final.
    Closed,
}

impl EpisodeState {
    pub const ALL: [EpisodeState; 3] = [
        EpisodeState::Active,
        EpisodeState::Ending,
        EpisodeState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeState::Active => "active",
            EpisodeState::Ending => "ending",
            EpisodeState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EpisodeState::Active => "应急模式运行中",
            EpisodeState::Ending => "已关闭，等待补传",
            EpisodeState::Closed => "已结束",
        }
    }
}

/// A counterpart whose absence makes the centre eligible. LIS, PACS and
/// the others are worked by hand in a disaster (the hospital's plan): they
/// do not stop registration or charging, so they do not count here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Away {
    His,
    PaymentPlatform,
}

impl Away {
    pub fn label_zh(self) -> &'static str {
        match self {
            Away::His => "HIS 医院信息系统",
            Away::PaymentPlatform => "统一支付平台",
        }
    }
}

/// Since when each counterpart has failed without a success (None: fine
/// or unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// The HIS line's head: failing since (`interface_messages.failing_since`).
    pub his_failing_since: Option<DateTime<Utc>>,
    /// The payment platform's calls: failing since the first failure after
    /// the last success (`payments::health`).
    pub platform_failing_since: Option<DateTime<Utc>>,
}

/// One counterpart that is away, and whether for long enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub away: Away,
    pub since: DateTime<Utc>,
    pub minutes: i64,
    /// Away for at least `after_minutes`.
    pub enough: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    pub eligible: bool,
    pub after_minutes: i64,
    /// Every counterpart away now, long enough or not.
    pub reasons: Vec<Reason>,
}

/// What the signals say at `now`.
pub fn assess(s: Signals, after_minutes: i64, now: DateTime<Utc>) -> Eligibility {
    let reasons: Vec<Reason> = [
        (Away::His, s.his_failing_since),
        (Away::PaymentPlatform, s.platform_failing_since),
    ]
    .into_iter()
    .filter_map(|(away, since)| {
        let since = since?;
        let minutes = (now - since).num_minutes().max(0);
        Some(Reason {
            away,
            since,
            minutes,
            enough: now - since >= Duration::minutes(after_minutes),
        })
    })
    .collect();
    Eligibility {
        eligible: reasons.iter().any(|r| r.enough),
        after_minutes,
        reasons,
    }
}

/// The centre's phase from the open episode (if any) and the signals.
pub fn phase(open: Option<EpisodeState>, e: &Eligibility) -> Phase {
    match open {
        Some(EpisodeState::Active) => Phase::Active,
        Some(EpisodeState::Ending) => Phase::Ending,
        Some(EpisodeState::Closed) | None if e.eligible => Phase::Eligible,
        Some(EpisodeState::Closed) | None => Phase::Normal,
    }
}

/// Why a switch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("应急模式已经开启 / emergency mode is already on")]
    AlreadyOn,
    #[error("上一次应急尚未结束（等待补传完成）/ the last episode is still draining")]
    StillEnding,
    #[error("应急模式没有开启 / emergency mode is not on")]
    NotOn,
    #[error("当前账号不能切换应急模式 / this role may not switch emergency mode")]
    NotPermitted,
    #[error(
        "HIS 与支付平台尚未断开满 {0} 分钟：只有管理员填写越权原因才能开启 / not eligible: an administrator's override reason is required"
    )]
    NotEligible(i64),
    #[error("请填写{0}（200 字以内）")]
    Text(&'static str),
}

/// Why and by whom the mode is switched on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchOn {
    pub reason: String,
    /// The leadership group's confirmation (who confirmed), when given.
    pub leadership: Option<String>,
    /// The information centre's estimate of when systems are back.
    pub recovery_estimate: Option<String>,
    /// Only for switching on before the centre is eligible (administrators).
    pub override_reason: Option<String>,
}

/// On what ground an episode began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Away long enough (the centre's own decision, §2.1.1).
    Eligible,
    /// Before that, by an administrator with a stated reason.
    Override,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Eligible => "eligible",
            Basis::Override => "override",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Basis::Eligible, Basis::Override]
            .into_iter()
            .find(|b| b.as_str() == s)
    }
}

fn text(v: &str, what: &'static str) -> Result<(), Refusal> {
    let n = v.trim().chars().count();
    if n == 0 || n > 200 {
        return Err(Refusal::Text(what));
    }
    Ok(())
}

fn optional(v: &Option<String>, what: &'static str) -> Result<(), Refusal> {
    match v {
        Some(s) if !s.trim().is_empty() => text(s, what),
        _ => Ok(()),
    }
}

/// May `role` switch on now? The open episode (if any), the eligibility
/// at `now` and the request decide.
pub fn switch_on(
    open: Option<EpisodeState>,
    e: &Eligibility,
    role: Role,
    req: &SwitchOn,
) -> Result<Basis, Refusal> {
    if !role.may(Capability::SwitchEmergency) {
        return Err(Refusal::NotPermitted);
    }
    match open {
        Some(EpisodeState::Active) => return Err(Refusal::AlreadyOn),
        Some(EpisodeState::Ending) => return Err(Refusal::StillEnding),
        Some(EpisodeState::Closed) | None => {}
    }
    text(&req.reason, "开启原因")?;
    optional(&req.leadership, "领导小组确认人")?;
    optional(&req.recovery_estimate, "预计恢复时间")?;
    if e.eligible {
        return Ok(Basis::Eligible);
    }
    let has_override = req
        .override_reason
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    if has_override && role.may(Capability::OverrideEmergency) {
        optional(&req.override_reason, "越权开启原因")?;
        Ok(Basis::Override)
    } else {
        Err(Refusal::NotEligible(e.after_minutes))
    }
}

/// Switch off: the episode goes to Ending (the queue drains; see [`settle`]).
pub fn switch_off(open: Option<EpisodeState>, role: Role, reason: &str) -> Result<(), Refusal> {
    if !role.may(Capability::SwitchEmergency) {
        return Err(Refusal::NotPermitted);
    }
    if open != Some(EpisodeState::Active) {
        return Err(Refusal::NotOn);
    }
    text(reason, "关闭原因")
}

/// An ending episode is closed once HIS and the platform answer and none
/// of the HIS messages queued during it is still in the line
/// (acknowledged, sent or dead: a dead one is on its report for staff).
pub fn settle(state: EpisodeState, still_open: u64, counterparts_back: bool) -> EpisodeState {
    match state {
        EpisodeState::Ending if still_open == 0 && counterparts_back => EpisodeState::Closed,
        s => s,
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
