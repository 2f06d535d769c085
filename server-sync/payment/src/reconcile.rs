//! Matching the platform's daily bill against our orders, line by line.
//! Every bill line either matches a local fact or becomes a [`Difference`];
//! every local payment or refund of the day either matches a bill line or
//! becomes one. Nothing is dropped: a line we cannot classify is a
//! difference too. Days are China Standard Time (the bill's days).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::bill::{BillRow, BillTradeState, TradeBill};
use crate::model::cst;
use crate::order::{LocalOrder, LocalRefundState, OrderState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffCause {
    /// The bill names an order we never created.
    UnknownOrder,
    /// The platform took the money; our order is not paid.
    PaidAtPlatformNotLocal {
        local_state: OrderState,
    },
    /// We think it paid that day; the bill has no payment line for it.
    LocalPaidNotAtPlatform,
    AmountDiffers {
        local: u64,
        platform: u64,
    },
    CurrencyDiffers {
        local: String,
        platform: String,
    },
    TransactionIdDiffers {
        local: String,
        platform: String,
    },
    /// The order is held in `Mismatch` (a payment report disagreed earlier).
    LocalMismatchUnresolved,
    /// The same payment or refund appears twice in the bill.
    DuplicateInBill,
    /// The platform refunded; we have no such refund, or not as succeeded.
    RefundAtPlatformNotLocal {
        local_state: Option<LocalRefundState>,
    },
    /// We recorded a refund as succeeded that day; the bill does not have it.
    LocalRefundNotAtPlatform,
    RefundAmountDiffers {
        local: u64,
        platform: u64,
    },
    /// Both sides have it, on different days (e.g. paid at 23:59:59 and
    /// booked by the platform after midnight).
    DayDiffers {
        local_day: Option<NaiveDate>,
    },
    /// A revoked payment line: not something a native (QR) order produces.
    RevokedAtPlatform,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    pub cause: DiffCause,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    pub day: NaiveDate,
    pub matched_payments: usize,
    pub matched_refunds: usize,
    pub differences: Vec<Difference>,
}

impl Reconciliation {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// The CST day of a platform time (`2026-12-05T10:00:00+08:00`).
pub fn platform_day(t: &str) -> Option<NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&cst()).date_naive())
}

fn bill_day(row: &BillRow) -> Option<NaiveDate> {
    chrono::NaiveDateTime::parse_from_str(&row.trade_time, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.date())
}

/// Reconcile `bill` (for `day`) against `orders`: pass every order the bill
/// names plus every order paid or refunded locally that day.
pub fn reconcile(day: NaiveDate, bill: &TradeBill, orders: &[LocalOrder]) -> Reconciliation {
    let by_no: HashMap<&str, &LocalOrder> = orders
        .iter()
        .map(|o| (o.out_trade_no.as_str(), o))
        .collect();
    let mut out = Reconciliation {
        day,
        matched_payments: 0,
        matched_refunds: 0,
        differences: Vec::new(),
    };
    let mut diff = |no: &str, rno: Option<&str>, cause: DiffCause| {
        out.differences.push(Difference {
            out_trade_no: no.to_string(),
            out_refund_no: rno.map(str::to_string),
            cause,
        })
    };
    let mut seen_pay: HashSet<&str> = HashSet::new();
    let mut seen_refund: HashSet<&str> = HashSet::new();
    let (mut matched_payments, mut matched_refunds) = (0, 0);

    for row in &bill.rows {
        let no = row.out_trade_no.as_str();
        match row.trade_state {
            BillTradeState::Revoked => diff(no, None, DiffCause::RevokedAtPlatform),
            BillTradeState::Success => {
                if !seen_pay.insert(no) {
                    diff(no, None, DiffCause::DuplicateInBill);
                    continue;
                }
                let Some(o) = by_no.get(no) else {
                    diff(no, None, DiffCause::UnknownOrder);
                    continue;
                };
                let mut causes = Vec::new();
                if o.state == OrderState::Mismatch {
                    causes.push(if o.total != row.order_total {
                        DiffCause::AmountDiffers {
                            local: o.total,
                            platform: row.order_total,
                        }
                    } else {
                        DiffCause::LocalMismatchUnresolved
                    });
                } else if !o.state.is_paid() {
                    causes.push(DiffCause::PaidAtPlatformNotLocal {
                        local_state: o.state,
                    });
                } else {
                    if o.total != row.order_total {
                        causes.push(DiffCause::AmountDiffers {
                            local: o.total,
                            platform: row.order_total,
                        });
                    }
                    if o.currency.as_str() != row.currency {
                        causes.push(DiffCause::CurrencyDiffers {
                            local: o.currency.as_str().into(),
                            platform: row.currency.clone(),
                        });
                    }
                    let local_tx = o
                        .payment
                        .as_ref()
                        .map(|p| p.transaction_id.as_str())
                        .unwrap_or("");
                    if local_tx != row.transaction_id {
                        causes.push(DiffCause::TransactionIdDiffers {
                            local: local_tx.into(),
                            platform: row.transaction_id.clone(),
                        });
                    }
                    let local_day = o
                        .payment
                        .as_ref()
                        .and_then(|p| platform_day(&p.success_time));
                    if local_day != Some(day) || bill_day(row) != Some(day) {
                        causes.push(DiffCause::DayDiffers { local_day });
                    }
                }
                if causes.is_empty() {
                    matched_payments += 1;
                }
                for c in causes {
                    diff(no, None, c);
                }
            }
            BillTradeState::Refund => {
                let rno = row.out_refund_no.as_str();
                if !seen_refund.insert(rno) {
                    diff(no, Some(rno), DiffCause::DuplicateInBill);
                    continue;
                }
                let Some(o) = by_no.get(no) else {
                    diff(no, Some(rno), DiffCause::UnknownOrder);
                    continue;
                };
                let Some(r) = o.refunds.iter().find(|r| r.out_refund_no == rno) else {
                    diff(
                        no,
                        Some(rno),
                        DiffCause::RefundAtPlatformNotLocal { local_state: None },
                    );
                    continue;
                };
                let mut causes = Vec::new();
                if r.state != LocalRefundState::Success {
                    causes.push(DiffCause::RefundAtPlatformNotLocal {
                        local_state: Some(r.state),
                    });
                } else {
                    if r.amount != row.refund {
                        causes.push(DiffCause::RefundAmountDiffers {
                            local: r.amount,
                            platform: row.refund,
                        });
                    }
                    let local_day = r.success_time.as_deref().and_then(platform_day);
                    if local_day != Some(day) || bill_day(row) != Some(day) {
                        causes.push(DiffCause::DayDiffers { local_day });
                    }
                }
                if causes.is_empty() {
                    matched_refunds += 1;
                }
                for c in causes {
                    diff(no, Some(rno), c);
                }
            }
        }
    }

    // The other direction: what we booked that day and the bill lacks.
    for o in orders {
        let paid_today = o
            .payment
            .as_ref()
            .and_then(|p| platform_day(&p.success_time))
            == Some(day);
        if paid_today && o.state.is_paid() && !seen_pay.contains(o.out_trade_no.as_str()) {
            diff(&o.out_trade_no, None, DiffCause::LocalPaidNotAtPlatform);
        }
        for r in &o.refunds {
            let refunded_today = r.success_time.as_deref().and_then(platform_day) == Some(day);
            if r.state == LocalRefundState::Success
                && refunded_today
                && !seen_refund.contains(r.out_refund_no.as_str())
            {
                diff(
                    &o.out_trade_no,
                    Some(&r.out_refund_no),
                    DiffCause::LocalRefundNotAtPlatform,
                );
            }
        }
    }
    out.matched_payments = matched_payments;
    out.matched_refunds = matched_refunds;
    out
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
