//! Specimens (检验采集, E5, items 26–27): each tube's way from its printed
//! label to its result, with what happened at the draw (晕针, 采血困难),
//! where it is now, and what is wrong with it: rejected by the laboratory
//! (haemolysed, clotted, too little...) and to be drawn again, or missing
//! (drawn but not received in time). The tube is known by its label's
//! barcode (`documents::label_barcode`: the exam number and the sample's
//! two digits), so the laboratory's system and ours name it alike.
//!
//! Pure: `now` is passed in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a tube is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeState {
    /// Label printed, nothing drawn yet.
    Pending,
    Drawn,
    /// On its way to the laboratory (a batch handed over).
    Sent,
    Received,
    Resulted,
    /// The laboratory refused it: to be drawn again.
    Rejected,
    /// Not drawn on purpose (the person refused, or the item was waived).
    NotDrawn,
}

impl TubeState {
    pub const ALL: [TubeState; 7] = [
        Self::Pending,
        Self::Drawn,
        Self::Sent,
        Self::Received,
        Self::Resulted,
        Self::Rejected,
        Self::NotDrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Drawn => "drawn",
            Self::Sent => "sent",
            Self::Received => "received",
            Self::Resulted => "resulted",
            Self::Rejected => "rejected",
            Self::NotDrawn => "not_drawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待采集",
            Self::Drawn => "已采集",
            Self::Sent => "已送检",
            Self::Received => "检验科已接收",
            Self::Resulted => "已出结果",
            Self::Rejected => "不合格，待重采",
            Self::NotDrawn => "未采集",
        }
    }
}

/// What the phlebotomist notes at the draw (item 26's 采集档案).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawNote {
    /// 晕针 / 晕血: the person felt faint (lie them down next time).
    Fainted,
    /// 采血困难: veins hard to find, several attempts.
    Difficult,
    /// 非空腹: the person had eaten (fasting items' results are doubtful).
    NotFasting,
    /// 服药后: taken medication that affects results.
    Medication,
}

impl DrawNote {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Fainted => "晕针",
            Self::Difficult => "采血困难",
            Self::NotFasting => "非空腹",
            Self::Medication => "服药后",
        }
    }
}

/// Why the laboratory refused a tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Haemolysed,
    Clotted,
    Insufficient,
    WrongTube,
    LabelMismatch,
    /// Reached the laboratory too late to be tested.
    TooLate,
}

impl RejectReason {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Haemolysed => "溶血",
            Self::Clotted => "凝块",
            Self::Insufficient => "标本量不足",
            Self::WrongTube => "容器错误",
            Self::LabelMismatch => "标签与标本不符",
            Self::TooLate => "送检超时",
        }
    }
}

/// What happens to a tube.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TubeEvent {
    Draw {
        #[serde(default)]
        notes: Vec<DrawNote>,
    },
    /// Not drawn, with the reason (refused, waived).
    Skip {
        reason: String,
    },
    Send,
    Receive,
    Reject {
        reason: RejectReason,
    },
    Result,
    /// A rejected tube drawn again (补采): drawn, counted.
    Redraw {
        #[serde(default)]
        notes: Vec<DrawNote>,
    },
}

impl TubeEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Draw { .. } => "draw",
            Self::Skip { .. } => "skip",
            Self::Send => "send",
            Self::Receive => "receive",
            Self::Reject { .. } => "reject",
            Self::Result => "result",
            Self::Redraw { .. } => "redraw",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TubeError {
    #[error("该试管当前为“{0}”，不能这样操作")]
    NotNow(&'static str),
    #[error("请填写未采集的原因")]
    ReasonMissing,
}

/// The tube's next state.
pub fn step(state: TubeState, event: &TubeEvent) -> Result<TubeState, TubeError> {
    use TubeEvent as E;
    use TubeState as S;
    match (state, event) {
        (S::Pending, E::Draw { .. }) => Ok(S::Drawn),
        (S::Pending, E::Skip { reason }) if reason.trim().is_empty() => {
            Err(TubeError::ReasonMissing)
        }
        (S::Pending, E::Skip { .. }) => Ok(S::NotDrawn),
        (S::Drawn, E::Send) => Ok(S::Sent),
        // The laboratory's receipt may come without our hand-over being
        // recorded (a runner took the rack).
        (S::Drawn | S::Sent, E::Receive) => Ok(S::Received),
        (S::Drawn | S::Sent | S::Received, E::Reject { .. }) => Ok(S::Rejected),
        (S::Received | S::Sent, E::Result) => Ok(S::Resulted),
        (S::Rejected, E::Redraw { .. }) => Ok(S::Drawn),
        _ => Err(TubeError::NotNow(state.label_zh())),
    }
}

/// A tube as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tube {
    pub barcode: String,
    pub state: TubeState,
    /// When it was (last) drawn.
    pub drawn_at: Option<DateTime<Utc>>,
}

/// What the specimen desk is shown (item 27's quality control).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Drawn more than `minutes` ago and not at the laboratory.
    Missing { barcode: String, minutes: i64 },
    /// Rejected: the person must be drawn again.
    Redraw { barcode: String },
}

/// The tubes that need someone: missing after `limit` since the draw,
/// rejected and not yet drawn again.
pub fn problems(tubes: &[Tube], now: DateTime<Utc>, limit: Duration) -> Vec<Problem> {
    let mut out = Vec::new();
    for t in tubes {
        match t.state {
            TubeState::Drawn | TubeState::Sent => {
                if let Some(at) = t.drawn_at
                    && now - at > limit
                {
                    out.push(Problem::Missing {
                        barcode: t.barcode.clone(),
                        minutes: (now - at).num_minutes(),
                    });
                }
            }
            TubeState::Rejected => out.push(Problem::Redraw {
                barcode: t.barcode.clone(),
            }),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tube_from_label_to_result() {
        let mut s = TubeState::Pending;
        for e in [
            TubeEvent::Draw {
                notes: vec![DrawNote::Difficult],
            },
            TubeEvent::Send,
            TubeEvent::Receive,
            TubeEvent::Result,
        ] {
            s = step(s, &e).unwrap();
        }
        assert_eq!(s, TubeState::Resulted);
    }

    #[test]
    fn a_rejected_tube_is_drawn_again() {
        let mut s = step(TubeState::Pending, &TubeEvent::Draw { notes: vec![] }).unwrap();
        s = step(s, &TubeEvent::Receive).unwrap();
        s = step(
            s,
            &TubeEvent::Reject {
                reason: RejectReason::Haemolysed,
            },
        )
        .unwrap();
        assert_eq!(s, TubeState::Rejected);
        assert!(
            step(s, &TubeEvent::Result).is_err(),
            "no result from a rejected tube"
        );
        s = step(
            s,
            &TubeEvent::Redraw {
                notes: vec![DrawNote::Fainted],
            },
        )
        .unwrap();
        assert_eq!(s, TubeState::Drawn);
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        use TubeState as S;
        assert!(step(S::Pending, &TubeEvent::Send).is_err());
        assert!(step(S::Pending, &TubeEvent::Result).is_err());
        assert!(step(S::Resulted, &TubeEvent::Draw { notes: vec![] }).is_err());
        assert!(step(S::Drawn, &TubeEvent::Redraw { notes: vec![] }).is_err());
        assert_eq!(
            step(S::Pending, &TubeEvent::Skip { reason: " ".into() }),
            Err(TubeError::ReasonMissing)
        );
        assert_eq!(
            step(
                S::Pending,
                &TubeEvent::Skip {
                    reason: "受检者拒绝".into()
                }
            ),
            Ok(S::NotDrawn)
        );
        let e = step(S::NotDrawn, &TubeEvent::Draw { notes: vec![] }).unwrap_err();
        assert!(e.to_string().contains("未采集"));
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn missing_and_rejected_tubes_are_flagged() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-05T00:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let tube = |b: &str, state, drawn: Option<i64>| Tube {
            barcode: b.into(),
            state,
            drawn_at: drawn.map(|m| t0 + Duration::minutes(m)),
        };
        let tubes = [
            tube("2570655001", TubeState::Drawn, Some(0)),
            tube("2570655002", TubeState::Sent, Some(50)),
            tube("2570655003", TubeState::Received, Some(0)),
            tube("2570655005", TubeState::Rejected, Some(0)),
            tube("2570655006", TubeState::Pending, None),
        ];
        let p = problems(&tubes, t0 + Duration::minutes(90), Duration::minutes(60));
        assert_eq!(
            p,
            [
                Problem::Missing {
                    barcode: "2570655001".into(),
                    minutes: 90
                },
                Problem::Redraw {
                    barcode: "2570655005".into()
                }
            ]
        );
    }
}
