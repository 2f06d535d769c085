//! The hospital's unified payment platform, modelled on WeChat Pay API v3.
//!
//! Pure parts (no I/O, tested directly):
//! - [`order::LocalOrder`]: the local order state machine (created → paying
//!   → paid / closed → partially refunded / refunded; mismatch), moved by
//!   platform facts, idempotent against duplicates and late answers;
//!   refunds keyed by out_refund_no, never more than paid.
//! - [`trade_no`]: unique out_trade_no generation.
//! - [`bill`]: the daily trade bill (backquoted CSV + summary) both ways.
//! - [`reconcile`]: bill vs local orders, every difference with a typed cause.
//! - [`crypto`], [`notify`]: request signing, answer / notification
//!   verification, AES-256-GCM resources.
//!
//! Edges: [`gateway::PaymentGateway`] (the async trait the service uses) and
//! its implementation [`wechat::WechatPayV3`] over reqwest; [`sim`] is the
//! platform simulator behind the `pay-sim` binary.
//!
//! Typical use by the central service:
//! 1. `LocalOrder::new(gen.next(now), fen, Currency::Cny)`, stored;
//! 2. `gateway.create_native(..)` → `order.on_code_url(..)`, QR to the kiosk;
//! 3. notification → `gateway.parse_notification(..)` →
//!    `order.apply_transaction(..)` (row locked), answer 2xx once stored;
//!    no notification in time → `gateway.query_order(..)`, same apply;
//! 4. expired → `gateway.close_order(..)` → `order.on_closed()`;
//! 5. refund → `order.request_refund(fen)` stored, then `gateway.refund(..)`
//!    with that out_refund_no (retries reuse it) → `order.apply_refund(..)`;
//! 6. daily → `gateway.trade_bill(day)` → `reconcile(day, &bill, &orders)`.

pub mod bill;
pub mod crypto;
pub mod error;
pub mod gateway;
pub mod model;
pub mod notify;
pub mod order;
pub mod reconcile;
pub mod sim;
pub mod trade_no;
pub mod wechat;

pub use error::{ErrorCode, NotifyError, PaymentError};
pub use gateway::PaymentGateway;
pub use order::{Applied, LocalOrder, OrderState};
pub use wechat::WechatPayV3;
