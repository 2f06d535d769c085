//! K16: paying at the kiosk through the hospital's payment platform. The
//! kiosk names the bookings; the service computes the amount from its own
//! store, creates the platform order and hands back the QR content
//! (`code_url`); the kiosk asks for the order's state until it is paid or
//! closed. The kiosk never holds platform keys and never says how much.

use chrono::{DateTime, Utc};
use exam_domain::IdNumber;
use serde::{Deserialize, Serialize};

/// `POST paths::PAYMENT`: pay the unpaid items of these bookings of the
/// person identified at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    pub id_number: IdNumber,
    pub bookings: Vec<i64>,
}

/// `POST paths::PAYMENT_STATE` and `paths::PAYMENT_CANCEL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRef {
    pub out_trade_no: String,
}

/// An order as the kiosk sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Waiting for the payer (the QR code is live).
    Pending,
    /// The platform confirmed the payment; the items are paid.
    Paid,
    /// Closed unpaid (cancelled or expired).
    Closed,
    /// Paid, then refunded (in part or whole) at the desk.
    Refunded,
    /// The platform reported an amount that differs: not paid, staff look.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOrder {
    pub out_trade_no: String,
    /// Computed by the service from the bookings' unpaid items.
    pub amount_fen: i64,
    /// The platform's QR content (`weixin://wxpay/...`); None until the
    /// platform has the order.
    pub code_url: Option<String>,
    pub state: PaymentState,
    pub expires_at: DateTime<Utc>,
}
