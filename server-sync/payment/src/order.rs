//! The local order: the merchant's own record, created before the platform
//! hears of it, and moved only by facts from the platform (a verified
//! notification, an order query, a close answer). Every transition is
//! idempotent: the same fact twice changes nothing; an older fact after a
//! newer one (out-of-order notification, late query answer) is ignored.
//! A reported amount or currency that differs from ours never makes the
//! order paid: it goes to `Mismatch` for staff.

use crate::model::{Currency, RefundStatus, TradeState, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Recorded locally; the platform may not know it yet.
    Created,
    /// The platform gave a code_url; the payer may be scanning.
    Paying,
    Paid,
    /// Closed unpaid (expired or cancelled), confirmed by the platform.
    Closed,
    PartiallyRefunded,
    Refunded,
    /// The platform reported a payment whose amount or currency differs
    /// from the order: never treated as paid.
    Mismatch,
}

impl OrderState {
    /// The money is (or was) with the merchant.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }
}

/// A payment as the platform confirmed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFact {
    pub transaction_id: String,
    pub success_time: String,
}

/// A payment report that disagreed with the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchFact {
    pub transaction_id: Option<String>,
    pub reported_total: Option<u64>,
    pub reported_currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRefund {
    pub out_refund_no: String,
    pub amount: u64,
    pub state: LocalRefundState,
    pub refund_id: Option<String>,
    pub success_time: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalRefundState {
    /// Decided locally; the request may or may not have reached the platform
    /// (a retry sends the same out_refund_no).
    Requested,
    Processing,
    Success,
    /// Failed at the platform; its amount is free again.
    Closed,
    /// Needs staff at the platform (e.g. the payer's card was cancelled).
    Abnormal,
}

impl LocalRefundState {
    fn from_platform(s: RefundStatus) -> Self {
        match s {
            RefundStatus::Success => Self::Success,
            RefundStatus::Closed => Self::Closed,
            RefundStatus::Processing => Self::Processing,
            RefundStatus::Abnormal => Self::Abnormal,
        }
    }
    /// Final states are never left.
    fn is_final(self) -> bool {
        matches!(self, Self::Success | Self::Closed)
    }
    /// Counts against the refundable amount.
    fn holds_money(self) -> bool {
        !matches!(self, Self::Closed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOrder {
    pub out_trade_no: String,
    pub total: u64,
    pub currency: Currency,
    pub state: OrderState,
    pub code_url: Option<String>,
    pub payment: Option<PaymentFact>,
    pub mismatch: Option<MismatchFact>,
    /// The platform reported it paid after we had closed it locally (the
    /// payer scanned just before the close): money to give back or keep.
    pub paid_after_close: bool,
    pub refunds: Vec<LocalRefund>,
}

/// What applying a fact did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Changed {
        from: OrderState,
        to: OrderState,
    },
    /// Already known (a duplicate) or says nothing new.
    Unchanged,
    /// Older than what we know (out of order); ignored.
    Stale,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("fact is about order {got}, not {expected}")]
    WrongOrder { expected: String, got: String },
    #[error("cannot {action} an order in state {state:?}")]
    InvalidTransition {
        action: &'static str,
        state: OrderState,
    },
    #[error("refund of {requested} fen exceeds the refundable {refundable} fen")]
    RefundExceedsPaid { requested: u64, refundable: u64 },
    #[error("refund amount must be positive")]
    ZeroRefund,
    #[error("unknown refund {0}")]
    UnknownRefund(String),
    #[error("refund {out_refund_no} reported as {reported} fen, requested {local} fen")]
    RefundAmountMismatch {
        out_refund_no: String,
        local: u64,
        reported: u64,
    },
    #[error("the platform reports a different transaction for this order")]
    TransactionIdConflict,
}

impl LocalOrder {
    pub fn new(out_trade_no: impl Into<String>, total: u64, currency: Currency) -> Self {
        Self {
            out_trade_no: out_trade_no.into(),
            total,
            currency,
            state: OrderState::Created,
            code_url: None,
            payment: None,
            mismatch: None,
            paid_after_close: false,
            refunds: Vec::new(),
        }
    }

    fn set(&mut self, to: OrderState) -> Applied {
        let from = self.state;
        if from == to {
            return Applied::Unchanged;
        }
        self.state = to;
        Applied::Changed { from, to }
    }

    /// The platform accepted the order and gave its QR content.
    pub fn on_code_url(&mut self, code_url: &str) -> Result<Applied, OrderError> {
        match self.state {
            OrderState::Created => {
                self.code_url = Some(code_url.to_string());
                Ok(self.set(OrderState::Paying))
            }
            // A retried create answered again: same order, nothing new.
            OrderState::Paying => Ok(Applied::Unchanged),
            // The payment notice overtook the create answer.
            _ => Ok(Applied::Stale),
        }
    }

    /// Apply what the platform says about the order (a verified payment
    /// notification's resource or an order query answer).
    pub fn apply_transaction(&mut self, t: &Transaction) -> Result<Applied, OrderError> {
        if t.out_trade_no != self.out_trade_no {
            return Err(OrderError::WrongOrder {
                expected: self.out_trade_no.clone(),
                got: t.out_trade_no.clone(),
            });
        }
        match t.trade_state {
            TradeState::Success | TradeState::Refund => self.apply_paid(t),
            TradeState::Closed | TradeState::Revoked | TradeState::Payerror => {
                Ok(match self.state {
                    OrderState::Created | OrderState::Paying => self.set(OrderState::Closed),
                    OrderState::Closed => Applied::Unchanged,
                    // A paid order cannot become unpaid: an older answer.
                    _ => Applied::Stale,
                })
            }
            TradeState::Notpay | TradeState::Userpaying => Ok(match self.state {
                OrderState::Created => self.set(OrderState::Paying),
                OrderState::Paying => Applied::Unchanged,
                _ => Applied::Stale,
            }),
        }
    }

    fn apply_paid(&mut self, t: &Transaction) -> Result<Applied, OrderError> {
        let reported_total = t.amount.as_ref().map(|a| a.total);
        let reported_currency = t.amount.as_ref().map(|a| a.currency.clone());
        let amount_ok = reported_total == Some(self.total)
            && reported_currency.as_deref().and_then(Currency::parse) == Some(self.currency);
        let tx_id = t.transaction_id.clone().filter(|s| !s.is_empty());
        if !amount_ok || tx_id.is_none() {
            self.mismatch = Some(MismatchFact {
                transaction_id: tx_id,
                reported_total,
                reported_currency,
            });
            return Ok(self.set(OrderState::Mismatch));
        }
        let tx_id = tx_id.unwrap_or_default();
        if let Some(p) = &self.payment {
            // Paid already: a duplicate unless the platform names another
            // transaction, which cannot happen for one out_trade_no.
            return if p.transaction_id == tx_id {
                Ok(Applied::Unchanged)
            } else {
                Err(OrderError::TransactionIdConflict)
            };
        }
        if self.state == OrderState::Mismatch {
            // A staff decision, not a later report, leaves Mismatch.
            return Ok(Applied::Unchanged);
        }
        if self.state == OrderState::Closed {
            self.paid_after_close = true;
        }
        self.payment = Some(PaymentFact {
            transaction_id: tx_id,
            success_time: t.success_time.clone().unwrap_or_default(),
        });
        let to = self.paid_state();
        Ok(self.set(to))
    }

    /// The platform confirmed our close (204, or ORDER_CLOSED).
    pub fn on_closed(&mut self) -> Result<Applied, OrderError> {
        match self.state {
            OrderState::Created | OrderState::Paying => Ok(self.set(OrderState::Closed)),
            OrderState::Closed => Ok(Applied::Unchanged),
            s => Err(OrderError::InvalidTransition {
                action: "close",
                state: s,
            }),
        }
    }

    /// Refunded so far (succeeded).
    pub fn refunded(&self) -> u64 {
        self.refunds
            .iter()
            .filter(|r| r.state == LocalRefundState::Success)
            .map(|r| r.amount)
            .sum()
    }

    /// What may still be refunded: paid minus every refund not failed.
    pub fn refundable(&self) -> u64 {
        if !self.state.is_paid() {
            return 0;
        }
        let held: u64 = self
            .refunds
            .iter()
            .filter(|r| r.state.holds_money())
            .map(|r| r.amount)
            .sum();
        self.total.saturating_sub(held)
    }

    /// Decide a new refund; returns its out_refund_no (`{out_trade_no}R{n}`,
    /// n counting this order's refunds). To retry a refund whose request
    /// failed, send the existing number again: do not call this.
    pub fn request_refund(&mut self, amount: u64) -> Result<&LocalRefund, OrderError> {
        if !self.state.is_paid() {
            return Err(OrderError::InvalidTransition {
                action: "refund",
                state: self.state,
            });
        }
        if amount == 0 {
            return Err(OrderError::ZeroRefund);
        }
        let refundable = self.refundable();
        if amount > refundable {
            return Err(OrderError::RefundExceedsPaid {
                requested: amount,
                refundable,
            });
        }
        let out_refund_no = format!("{}R{}", self.out_trade_no, self.refunds.len() + 1);
        self.refunds.push(LocalRefund {
            out_refund_no,
            amount,
            state: LocalRefundState::Requested,
            refund_id: None,
            success_time: None,
        });
        Ok(&self.refunds[self.refunds.len() - 1])
    }

    /// Refunds still to be sent or confirmed (retry these with their own numbers).
    pub fn pending_refunds(&self) -> impl Iterator<Item = &LocalRefund> {
        self.refunds.iter().filter(|r| !r.state.is_final())
    }

    /// Apply a refund's state from its create answer, query or notification.
    pub fn apply_refund(
        &mut self,
        out_refund_no: &str,
        status: RefundStatus,
        reported_amount: u64,
        refund_id: &str,
        success_time: Option<&str>,
    ) -> Result<Applied, OrderError> {
        let r = self
            .refunds
            .iter_mut()
            .find(|r| r.out_refund_no == out_refund_no)
            .ok_or_else(|| OrderError::UnknownRefund(out_refund_no.to_string()))?;
        if r.amount != reported_amount {
            return Err(OrderError::RefundAmountMismatch {
                out_refund_no: out_refund_no.to_string(),
                local: r.amount,
                reported: reported_amount,
            });
        }
        let next = LocalRefundState::from_platform(status);
        if r.state == next {
            return Ok(Applied::Unchanged);
        }
        // Final states stay; PROCESSING after SUCCESS is an older answer.
        if r.state.is_final()
            || (next == LocalRefundState::Processing && r.state == LocalRefundState::Abnormal)
        {
            return Ok(Applied::Stale);
        }
        r.state = next;
        if !refund_id.is_empty() {
            r.refund_id = Some(refund_id.to_string());
        }
        if let Some(t) = success_time {
            r.success_time = Some(t.to_string());
        }
        let from = self.state;
        let to = self.paid_state();
        self.state = to;
        // The order's state may not move (a partial refund still processing),
        // but the refund did: report a change either way.
        Ok(Applied::Changed { from, to })
    }

    fn paid_state(&self) -> OrderState {
        let r = self.refunded();
        if r == 0 {
            OrderState::Paid
        } else if r >= self.total {
            OrderState::Refunded
        } else {
            OrderState::PartiallyRefunded
        }
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
