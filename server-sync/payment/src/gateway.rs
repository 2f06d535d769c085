//! What the central service needs from a payment platform. The semantics
//! are the ones the Chinese platforms share (WeChat Pay v3, Alipay):
//! merchant order numbers as idempotency keys, QR (native) orders,
//! asynchronous signed notifications backed by queries, closes, refunds by
//! merchant refund number, a daily bill.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::bill::TradeBill;
use crate::crypto::SignedHeaders;
use crate::error::{NotifyError, PaymentError};
use crate::model::{Refund, Transaction};
use crate::notify::Notification;

/// A QR order to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeOrder {
    pub out_trade_no: String,
    pub description: String,
    /// Fen.
    pub total: u64,
    /// RFC 3339; the platform refuses payment after it.
    pub time_expire: Option<String>,
    pub attach: Option<String>,
}

/// A refund to ask for (the number decided and stored beforehand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOrder {
    pub out_trade_no: String,
    pub out_refund_no: String,
    /// Fen, this refund.
    pub refund: u64,
    /// Fen, the original order.
    pub total: u64,
    pub reason: Option<String>,
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Create (or, same number and content, re-create) a QR order; returns
    /// the `code_url` to render as the QR code.
    async fn create_native(&self, order: &NativeOrder) -> Result<String, PaymentError>;
    /// The order as the platform sees it now.
    async fn query_order(&self, out_trade_no: &str) -> Result<Transaction, PaymentError>;
    /// Close an unpaid order. Closing a closed order succeeds; a paid one
    /// is `Rejected` with `ErrorCode::OrderPaid`.
    async fn close_order(&self, out_trade_no: &str) -> Result<(), PaymentError>;
    /// Ask for a refund; the same out_refund_no again returns the same refund.
    async fn refund(&self, refund: &RefundOrder) -> Result<Refund, PaymentError>;
    async fn query_refund(&self, out_refund_no: &str) -> Result<Refund, PaymentError>;
    /// Fetch, check (hash) and parse the trade bill of one day (CST).
    async fn trade_bill(&self, day: NaiveDate) -> Result<TradeBill, PaymentError>;
    /// Verify and open an asynchronous notification (headers, raw body).
    fn parse_notification(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
    ) -> Result<Notification, NotifyError>;
}
