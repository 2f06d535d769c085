//! E4: item changes after registration. Each item of a registration has a
//! status; `apply` is the one place that says which change is allowed from
//! which status, and what it does to the bill and to the summary (总检).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Active,
    /// 退项: paid and refunded.
    Refunded,
    /// 弃检: the patient declined it and signed for it.
    Waived,
    /// 补检: to be done on another visit; the summary waits for it.
    MakeUp,
    /// 延检: done later; the summary does not wait.
    Deferred,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Refunded => "refunded",
            ItemStatus::Waived => "waived",
            ItemStatus::MakeUp => "make_up",
            ItemStatus::Deferred => "deferred",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "refunded" => Self::Refunded,
            "waived" => Self::Waived,
            "make_up" => Self::MakeUp,
            "deferred" => Self::Deferred,
            _ => return None,
        })
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemStatus::Active => "待检",
            ItemStatus::Refunded => "已退项",
            ItemStatus::Waived => "弃检",
            ItemStatus::MakeUp => "补检",
            ItemStatus::Deferred => "延检",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ItemChange {
    /// Take an unpaid item off (it was never charged).
    Remove,
    /// Refund a paid item.
    Refund,
    /// 弃检 with the patient's signature (a PNG image).
    Waive {
        signature_png: Vec<u8>,
    },
    MakeUp,
    Deferred,
    /// Back to active (a make-up or deferral arranged, or a mistake undone).
    Restore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemState {
    pub status: ItemStatus,
    pub paid: bool,
    pub price_fen: i64,
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The item leaves the registration.
    Removed,
    /// The item's new status; `refund_fen` is owed back to the payer.
    Status { status: ItemStatus, refund_fen: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("已缴费的项目不能直接删除，请办理退项")]
    PaidCannotBeRemoved,
    #[error("未缴费的项目无须退费，请直接删除")]
    UnpaidCannotBeRefunded,
    #[error("弃检须有受检者签名")]
    SignatureMissing,
    #[error("签名不是有效的 PNG 图片")]
    SignatureNotPng,
    #[error("该项目当前为“{0}”，不能这样修改")]
    NotAllowed(&'static str),
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

pub fn apply(item: ItemState, change: &ItemChange) -> Result<Outcome, ChangeError> {
    use ItemStatus::*;
    let status = |status| {
        Ok(Outcome::Status {
            status,
            refund_fen: 0,
        })
    };
    match (item.status, change) {
        (Active, ItemChange::Remove) if item.paid => Err(ChangeError::PaidCannotBeRemoved),
        (Active, ItemChange::Remove) => Ok(Outcome::Removed),
        (Active, ItemChange::Refund) if !item.paid => Err(ChangeError::UnpaidCannotBeRefunded),
        (Active, ItemChange::Refund) => Ok(Outcome::Status {
            status: Refunded,
            refund_fen: item.price_fen,
        }),
        (Active, ItemChange::Waive { signature_png }) => {
            if signature_png.is_empty() {
                Err(ChangeError::SignatureMissing)
            } else if !signature_png.starts_with(PNG_MAGIC) {
                Err(ChangeError::SignatureNotPng)
            } else {
                status(Waived)
            }
        }
        (Active, ItemChange::MakeUp) => status(MakeUp),
        (Active, ItemChange::Deferred) => status(Deferred),
        (MakeUp | Deferred, ItemChange::Restore) => status(Active),
        (s, _) => Err(ChangeError::NotAllowed(s.label_zh())),
    }
}

/// Whether the chief examiner may write the summary: not while a make-up
/// exam is outstanding. Deferred items do not hold it up.
pub fn summary_blocked(statuses: &[ItemStatus]) -> bool {
    statuses.contains(&ItemStatus::MakeUp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(status: ItemStatus, paid: bool) -> ItemState {
        ItemState {
            status,
            paid,
            price_fen: 1234,
        }
    }

    #[test]
    fn every_change_from_every_status() {
        use ItemStatus::*;
        let png = ItemChange::Waive {
            signature_png: b"\x89PNG\r\n\x1a\nrest".to_vec(),
        };
        assert_eq!(
            apply(st(Active, false), &ItemChange::Remove),
            Ok(Outcome::Removed)
        );
        assert_eq!(
            apply(st(Active, true), &ItemChange::Remove),
            Err(ChangeError::PaidCannotBeRemoved)
        );
        assert_eq!(
            apply(st(Active, true), &ItemChange::Refund),
            Ok(Outcome::Status {
                status: Refunded,
                refund_fen: 1234
            })
        );
        assert_eq!(
            apply(st(Active, false), &ItemChange::Refund),
            Err(ChangeError::UnpaidCannotBeRefunded)
        );
        assert!(matches!(
            apply(st(Active, true), &png),
            Ok(Outcome::Status {
                status: Waived,
                refund_fen: 0
            })
        ));
        assert_eq!(
            apply(
                st(Active, true),
                &ItemChange::Waive {
                    signature_png: vec![]
                }
            ),
            Err(ChangeError::SignatureMissing)
        );
        assert_eq!(
            apply(
                st(Active, true),
                &ItemChange::Waive {
                    signature_png: b"GIF89a".to_vec()
                }
            ),
            Err(ChangeError::SignatureNotPng)
        );
        for (from, to) in [
            (ItemChange::MakeUp, MakeUp),
            (ItemChange::Deferred, Deferred),
        ] {
            let Ok(Outcome::Status { status, .. }) = apply(st(Active, true), &from) else {
                panic!()
            };
            assert_eq!(status, to);
            assert!(matches!(
                apply(st(to, true), &ItemChange::Restore),
                Ok(Outcome::Status { status: Active, .. })
            ));
        }
        for done in [Refunded, Waived] {
            for c in [
                ItemChange::Remove,
                ItemChange::Refund,
                ItemChange::MakeUp,
                ItemChange::Restore,
                png.clone(),
            ] {
                assert!(
                    matches!(apply(st(done, true), &c), Err(ChangeError::NotAllowed(_))),
                    "{done:?} {c:?}"
                );
            }
        }
        assert!(matches!(
            apply(st(Active, false), &ItemChange::Restore),
            Err(ChangeError::NotAllowed("待检"))
        ));
    }

    #[test]
    fn make_up_blocks_the_summary_deferred_does_not() {
        use ItemStatus::*;
        assert!(!summary_blocked(&[Active, Deferred, Waived, Refunded]));
        assert!(summary_blocked(&[Active, MakeUp]));
    }
}
