//! The SMS gateway (I5), modelled on Tencent Cloud SMS API 3.0
//! (`SendSms` / `PullSmsSendStatus`, version 2021-01-11, TC3-HMAC-SHA256).
//!
//! Pure parts (no I/O, `now` passed in, tested directly):
//! - [`template`]: the four messages (booking confirmed, report ready,
//!   abnormal result, critical value), their parameters, the text as the
//!   phone shows it, its length and segment count;
//! - [`limiter::Limiter`]: per-number windows (30 s / 1 h / 1 day) and an
//!   overall per-minute cap, as a state machine;
//! - [`tc3`]: the request signature (both sides: the client signs, the
//!   simulator verifies);
//! - [`model`]: the wire JSON, answers and delivery reports parsed with
//!   bounds ([`model::parse_callback`] is fuzzed), +86 E.164 numbers.
//!
//! Edges: [`gateway::SmsGateway`] (the async trait the service uses) and
//! [`gateway::TencentSms`] over reqwest; [`sim`] is the platform simulator
//! behind the `sms-sim` binary (TC3 verified, seeded faults, delivery
//! reports by pull and by push to a callback URL).
//!
//! Typed errors say what a caller may do: [`error::SmsError::retry`].

pub mod error;
pub mod gateway;
pub mod limiter;
pub mod model;
pub mod sim;
pub mod tc3;
pub mod template;

pub use error::{Retry, SmsError};
pub use gateway::{OutgoingSms, SendReceipt, SmsGateway, TencentSms, TencentSmsConfig};
pub use limiter::{Decision, Limiter, Limits, Window};
pub use model::{DeliveryReport, ReportStatus};
pub use template::{Rendered, TemplateError, TemplateIds, TemplateKind};
/// The secret key's wrapper (callers build [`TencentSmsConfig`] with it).
pub use zeroize::Zeroizing;

/// The API version this crate speaks.
pub const API_VERSION: &str = "2021-01-11";
/// The TC3 service name of the SMS API.
pub const SERVICE: &str = "sms";
