//! The way of one major abnormal result (重要异常结果, E7, items 34–36 and
//! 95–97) from raised to closed: reviewed by a doctor, the patient (and
//! the doctor responsible) notified — who was told, how, when, by whom —
//! then followed up (advice, referral, outcome); nothing closes without a
//! follow-up that records an outcome. Timers per category: the expert
//! consensus asks category A to reach the patient at once and category B
//! soon; the centre's limits are `Timers` (defaults below).
//!
//! Pure: `now` is passed in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::abnormal::Category;

/// Where a major abnormal result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Raised (by a rule on entry or import, or by hand): a doctor reviews it.
    Raised,
    /// A doctor confirmed it: the patient must be told.
    Reviewed,
    /// The patient was reached: follow-up under way.
    Notified,
    /// Followed up with an outcome: done.
    Closed,
    /// The doctor found it was not one (a typing error, a known state):
    /// closed with the reason.
    Dismissed,
}

impl CaseState {
    pub const ALL: [CaseState; 5] = [
        Self::Raised,
        Self::Reviewed,
        Self::Notified,
        Self::Closed,
        Self::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Reviewed => "reviewed",
            Self::Notified => "notified",
            Self::Closed => "closed",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Raised => "待审核",
            Self::Reviewed => "待通知",
            Self::Notified => "待随访",
            Self::Closed => "已闭环",
            Self::Dismissed => "已排除",
        }
    }

    /// Still needs someone.
    pub fn open(self) -> bool {
        matches!(self, Self::Raised | Self::Reviewed | Self::Notified)
    }
}

/// Who was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Whom {
    Patient,
    /// A relative or the person the patient named.
    Family,
    /// The doctor responsible (the clinic the patient is referred to, the
    /// company doctor).
    Doctor,
}

/// How.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A telephone call (its record: reached or not, what was said).
    Phone,
    /// A text message through the SMS interface (no result in it).
    Sms,
    /// Told face to face at the centre.
    InPerson,
}

/// A follow-up record's kind (items 95, 96).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    /// Advice given: a re-test, an extra item.
    Advice,
    /// Referred to a clinic (就诊信息).
    Referral,
    /// What came of it: seen, treated, re-test result. Closes the case.
    Outcome,
}

/// What someone does to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    /// The doctor confirms it (or not, with the reason: dismissed).
    Review {
        confirmed: bool,
        note: String,
    },
    /// A notification attempt; `reached` when the person got it (a call
    /// answered, told in person; an SMS only counts as sent).
    Notify {
        whom: Whom,
        channel: Channel,
        reached: bool,
        note: String,
    },
    FollowUp {
        kind: FollowUpKind,
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("该重要异常当前为“{0}”，不能这样处理")]
    NotNow(&'static str),
    #[error("请填写说明")]
    NoteMissing,
    #[error("短信只能发给受检者本人")]
    SmsOnlyToPatient,
}

/// The case's next state after `action`.
pub fn step(state: CaseState, action: &CaseAction) -> Result<CaseState, CaseError> {
    use CaseAction as A;
    use CaseState as S;
    let not_now = || Err(CaseError::NotNow(state.label_zh()));
    match action {
        A::Review { confirmed, note } => match state {
            S::Raised if *confirmed => Ok(S::Reviewed),
            S::Raised if note.trim().is_empty() => Err(CaseError::NoteMissing),
            S::Raised => Ok(S::Dismissed),
            _ => not_now(),
        },
        A::Notify {
            whom,
            channel,
            reached,
            ..
        } => {
            if *channel == Channel::Sms && *whom != Whom::Patient {
                return Err(CaseError::SmsOnlyToPatient);
            }
            match state {
                // Reaching the patient (or family) is what moves it on; a
                // call unanswered or a message only sent is recorded and
                // the case waits.
                S::Reviewed if *reached && *whom != Whom::Doctor => Ok(S::Notified),
                S::Reviewed | S::Notified => Ok(state),
                _ => not_now(),
            }
        }
        A::FollowUp { kind, note } => {
            if note.trim().is_empty() {
                return Err(CaseError::NoteMissing);
            }
            match state {
                S::Notified if *kind == FollowUpKind::Outcome => Ok(S::Closed),
                S::Notified => Ok(S::Notified),
                _ => not_now(),
            }
        }
    }
}

/// The centre's time limits per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timers {
    /// Raised to the patient reached.
    pub notify_a_minutes: i64,
    pub notify_b_minutes: i64,
    /// Reached to the outcome recorded.
    pub follow_up_a_days: i64,
    pub follow_up_b_days: i64,
}

impl Default for Timers {
    /// A within the hour and an outcome within a week; B within a working
    /// day and an outcome within a month.
    fn default() -> Self {
        Self {
            notify_a_minutes: 60,
            notify_b_minutes: 24 * 60,
            follow_up_a_days: 7,
            follow_up_b_days: 30,
        }
    }
}

/// The deadline a case runs against now: to reach the patient while not
/// yet notified, to record the outcome after; None once done.
pub fn deadline(
    t: &Timers,
    category: Category,
    state: CaseState,
    raised_at: DateTime<Utc>,
    notified_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match state {
        CaseState::Raised | CaseState::Reviewed => Some(
            raised_at
                + Duration::minutes(match category {
                    Category::A => t.notify_a_minutes,
                    Category::B => t.notify_b_minutes,
                }),
        ),
        CaseState::Notified => Some(
            notified_at.unwrap_or(raised_at)
                + Duration::days(match category {
                    Category::A => t.follow_up_a_days,
                    Category::B => t.follow_up_b_days,
                }),
        ),
        CaseState::Closed | CaseState::Dismissed => None,
    }
}

/// One case as the statistics see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub category: Category,
    pub state: CaseState,
    pub raised_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
}

/// Counts and times over a period (item 95's statistics).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub raised_a: usize,
    pub raised_b: usize,
    pub open: usize,
    pub closed: usize,
    pub dismissed: usize,
    /// Notified after the category's limit, or still not notified past it.
    pub late: usize,
    /// Minutes from raised to reached, median, of those reached.
    pub median_minutes_to_notify: Option<i64>,
}

pub fn stats(t: &Timers, cases: &[CaseFacts], now: DateTime<Utc>) -> Stats {
    let mut s = Stats::default();
    let mut minutes = Vec::new();
    for c in cases {
        match c.category {
            Category::A => s.raised_a += 1,
            Category::B => s.raised_b += 1,
        }
        match c.state {
            CaseState::Closed => s.closed += 1,
            CaseState::Dismissed => s.dismissed += 1,
            _ => s.open += 1,
        }
        let limit =
            deadline(t, c.category, CaseState::Raised, c.raised_at, None).unwrap_or(c.raised_at);
        match c.notified_at {
            Some(at) => {
                minutes.push((at - c.raised_at).num_minutes());
                if at > limit {
                    s.late += 1;
                }
            }
            None if c.state != CaseState::Dismissed && now > limit => s.late += 1,
            None => {}
        }
    }
    minutes.sort_unstable();
    s.median_minutes_to_notify = minutes.get(minutes.len() / 2).copied();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-05T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn notify(whom: Whom, channel: Channel, reached: bool) -> CaseAction {
        CaseAction::Notify {
            whom,
            channel,
            reached,
            note: String::new(),
        }
    }

    fn follow(kind: FollowUpKind, note: &str) -> CaseAction {
        CaseAction::FollowUp {
            kind,
            note: note.into(),
        }
    }

    #[test]
    fn raised_reviewed_notified_followed_up_closed() {
        let mut s = CaseState::Raised;
        s = step(
            s,
            &CaseAction::Review {
                confirmed: true,
                note: String::new(),
            },
        )
        .unwrap();
        assert_eq!(s, CaseState::Reviewed);
        // An SMS sent, a call unanswered, the doctor told: still to notify.
        for a in [
            notify(Whom::Patient, Channel::Sms, false),
            notify(Whom::Patient, Channel::Phone, false),
            notify(Whom::Doctor, Channel::Phone, true),
        ] {
            s = step(s, &a).unwrap();
            assert_eq!(s, CaseState::Reviewed);
        }
        s = step(s, &notify(Whom::Patient, Channel::Phone, true)).unwrap();
        assert_eq!(s, CaseState::Notified);
        // Advice and a referral keep it open; the outcome closes it.
        s = step(s, &follow(FollowUpKind::Advice, "复查血钾")).unwrap();
        s = step(s, &follow(FollowUpKind::Referral, "急诊科")).unwrap();
        assert_eq!(s, CaseState::Notified);
        s = step(s, &follow(FollowUpKind::Outcome, "急诊补钾后复查 4.1")).unwrap();
        assert_eq!(s, CaseState::Closed);
        assert!(!s.open());
    }

    #[test]
    fn nothing_closes_without_a_follow_up_and_nothing_is_skipped() {
        use CaseState as S;
        // Not followed up before the patient is reached; not notified before review.
        assert!(step(S::Raised, &follow(FollowUpKind::Outcome, "x")).is_err());
        assert!(step(S::Reviewed, &follow(FollowUpKind::Outcome, "x")).is_err());
        assert!(step(S::Raised, &notify(Whom::Patient, Channel::Phone, true)).is_err());
        assert_eq!(
            step(S::Notified, &follow(FollowUpKind::Outcome, " ")),
            Err(CaseError::NoteMissing)
        );
        for done in [S::Closed, S::Dismissed] {
            for a in [
                notify(Whom::Patient, Channel::Phone, true),
                follow(FollowUpKind::Outcome, "x"),
            ] {
                assert!(step(done, &a).is_err());
            }
        }
        // Dismissing needs the reason.
        let dismiss = |note: &str| CaseAction::Review {
            confirmed: false,
            note: note.into(),
        };
        assert_eq!(step(S::Raised, &dismiss("")), Err(CaseError::NoteMissing));
        assert_eq!(
            step(S::Raised, &dismiss("录入错误，已更正")),
            Ok(S::Dismissed)
        );
        assert_eq!(
            step(S::Reviewed, &notify(Whom::Doctor, Channel::Sms, true)),
            Err(CaseError::SmsOnlyToPatient)
        );
    }

    #[test]
    fn timers_by_category() {
        let t = Timers::default();
        let a = deadline(&t, Category::A, CaseState::Raised, t0(), None).unwrap();
        let b = deadline(&t, Category::B, CaseState::Reviewed, t0(), None).unwrap();
        assert_eq!(a - t0(), Duration::hours(1));
        assert_eq!(b - t0(), Duration::hours(24));
        let reached = t0() + Duration::minutes(20);
        let f = deadline(&t, Category::A, CaseState::Notified, t0(), Some(reached)).unwrap();
        assert_eq!(f - reached, Duration::days(7));
        assert_eq!(
            deadline(&t, Category::A, CaseState::Closed, t0(), None),
            None
        );
    }

    #[test]
    fn statistics_count_late_notifications() {
        let t = Timers::default();
        let m = |x| t0() + Duration::minutes(x);
        let cases = [
            CaseFacts {
                category: Category::A,
                state: CaseState::Closed,
                raised_at: t0(),
                notified_at: Some(m(20)),
            },
            CaseFacts {
                category: Category::A,
                state: CaseState::Notified,
                raised_at: t0(),
                notified_at: Some(m(90)),
            },
            CaseFacts {
                category: Category::B,
                state: CaseState::Reviewed,
                raised_at: t0(),
                notified_at: None,
            },
            CaseFacts {
                category: Category::A,
                state: CaseState::Raised,
                raised_at: m(100),
                notified_at: None,
            },
        ];
        let s = stats(&t, &cases, m(150));
        assert_eq!((s.raised_a, s.raised_b), (3, 1));
        assert_eq!((s.open, s.closed, s.dismissed), (3, 1, 0));
        // Reached after 90 min (A: 60), and the A raised at 100 min is 50
        // min old: late = 1; the B is within its day.
        assert_eq!(s.late, 1);
        assert_eq!(s.median_minutes_to_notify, Some(90));
        assert_eq!(stats(&t, &cases, m(200)).late, 2);
    }
}
