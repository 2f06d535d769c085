//! The simulator's books: messages sent, reports waiting to be pulled or
//! pushed, the platform's per-number limits.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::limiter::{Decision, Limiter, Limits};
use crate::model::{CallbackReport, PulledStatus, ReportStatus};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SimMessage {
    pub serial_no: String,
    pub phone: String,
    pub template_id: String,
    pub params: Vec<String>,
    pub sign_name: String,
    pub session_context: String,
    pub sent_at: DateTime<Utc>,
    /// What its report says (none: lost, or not yet made).
    pub report: Option<ReportStatus>,
    /// Its request was answered only after the timeout fault's delay (the
    /// sender did not learn it went).
    pub answered_late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReport {
    pub serial_no: String,
    pub phone: String,
    pub status: ReportStatus,
    pub session_context: String,
    pub due: DateTime<Utc>,
}

impl SimReport {
    fn errmsg(&self) -> &'static str {
        match self.status {
            ReportStatus::Success => "DELIVRD",
            ReportStatus::Fail => "UNDELIV",
        }
    }

    pub fn pulled(&self) -> PulledStatus {
        PulledStatus {
            user_receive_time: Some(self.due.timestamp()),
            country_code: "86".into(),
            subscriber_number: self.phone.trim_start_matches("+86").into(),
            phone_number: self.phone.clone(),
            serial_no: self.serial_no.clone(),
            report_status: self.status.as_str().into(),
            description: self.errmsg().into(),
            session_context: self.session_context.clone(),
        }
    }

    pub fn callback(&self) -> CallbackReport {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!());
        CallbackReport {
            user_receive_time: self
                .due
                .with_timezone(&cst)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            nationcode: "86".into(),
            mobile: self.phone.trim_start_matches("+86").into(),
            report_status: self.status.as_str().into(),
            errmsg: self.errmsg().into(),
            description: match self.status {
                ReportStatus::Success => "用户短信送达成功".into(),
                ReportStatus::Fail => "用户短信未送达".into(),
            },
            sid: self.serial_no.clone(),
        }
    }
}

/// Which platform limit refused a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    ThirtySeconds,
    OneHour,
    Day,
}

impl LimitHit {
    pub fn code(self) -> &'static str {
        match self {
            Self::ThirtySeconds => "LimitExceeded.PhoneNumberThirtySecondLimit",
            Self::OneHour => "LimitExceeded.PhoneNumberOneHourLimit",
            Self::Day => "LimitExceeded.PhoneNumberDailyLimit",
        }
    }
}

pub struct Books {
    pub messages: Vec<SimMessage>,
    /// Reports not yet handed out, by due time.
    pub reports: Vec<SimReport>,
    /// One limiter per window, so a refusal names its window.
    limits: Vec<(Limiter, LimitHit)>,
    next_serial: u64,
}

impl Books {
    pub fn new(l: &Limits) -> Self {
        let limits = l
            .per_number
            .iter()
            .map(|w| {
                let hit = match w.seconds {
                    s if s <= 60 => LimitHit::ThirtySeconds,
                    s if s <= 3600 => LimitHit::OneHour,
                    _ => LimitHit::Day,
                };
                (
                    Limiter::new(Limits {
                        per_number: vec![*w],
                        overall_per_minute: 0,
                    }),
                    hit,
                )
            })
            .collect();
        Self {
            messages: Vec::new(),
            reports: Vec::new(),
            limits,
            next_serial: 1,
        }
    }

    /// The platform's per-number check; counts the send when it passes.
    pub fn limit(&mut self, phone: &str, now: DateTime<Utc>) -> Option<LimitHit> {
        for (l, hit) in &self.limits {
            if l.check(phone, false, now) != Decision::Admit {
                return Some(*hit);
            }
        }
        for (l, _) in &mut self.limits {
            l.record(phone, now);
        }
        None
    }

    pub fn serial(&mut self) -> String {
        let n = self.next_serial;
        self.next_serial += 1;
        format!("2433:{:020}", 104_571_066_915_705_365u64.wrapping_add(n))
    }

    pub fn take_due(&mut self, now: DateTime<Utc>, limit: usize) -> Vec<SimReport> {
        self.reports.sort_by_key(|r| r.due);
        let n = self
            .reports
            .iter()
            .take(limit)
            .take_while(|r| r.due <= now)
            .count();
        self.reports.drain(..n).collect()
    }

    pub fn put_back(&mut self, batch: Vec<SimReport>) {
        self.reports.extend(batch);
    }
}
