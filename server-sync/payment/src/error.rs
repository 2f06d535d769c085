//! Typed errors. The one question a caller asks is "may I try again?":
//! [`PaymentError::is_retryable`]. Every call this crate makes is idempotent
//! at the platform (keyed by out_trade_no or out_refund_no), so retrying a
//! retryable failure never charges or refunds twice.

use thiserror::Error;

/// The platform's error codes we act on (`{"code": "...", "message": "..."}`
/// in a non-2xx answer). Anything else is kept verbatim in `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    ParamError,
    InvalidRequest,
    SignError,
    OrderNotExist,
    ResourceNotExists,
    OrderPaid,
    OrderClosed,
    NotEnough,
    FrequencyLimited,
    SystemError,
    BankError,
    NoStatementExist,
    Other(String),
}

impl ErrorCode {
    pub fn parse(s: &str) -> Self {
        match s {
            "PARAM_ERROR" => Self::ParamError,
            "INVALID_REQUEST" => Self::InvalidRequest,
            "SIGN_ERROR" => Self::SignError,
            "ORDER_NOT_EXIST" | "ORDERNOTEXIST" => Self::OrderNotExist,
            "RESOURCE_NOT_EXISTS" => Self::ResourceNotExists,
            "ORDERPAID" | "ORDER_PAID" => Self::OrderPaid,
            "ORDER_CLOSED" | "ORDERCLOSED" => Self::OrderClosed,
            "NOT_ENOUGH" => Self::NotEnough,
            "FREQUENCY_LIMITED" => Self::FrequencyLimited,
            "SYSTEM_ERROR" | "SYSTEMERROR" => Self::SystemError,
            "BANK_ERROR" => Self::BankError,
            "NO_STATEMENT_EXIST" => Self::NoStatementExist,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::ParamError => "PARAM_ERROR",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::SignError => "SIGN_ERROR",
            Self::OrderNotExist => "ORDER_NOT_EXIST",
            Self::ResourceNotExists => "RESOURCE_NOT_EXISTS",
            Self::OrderPaid => "ORDERPAID",
            Self::OrderClosed => "ORDER_CLOSED",
            Self::NotEnough => "NOT_ENOUGH",
            Self::FrequencyLimited => "FREQUENCY_LIMITED",
            Self::SystemError => "SYSTEM_ERROR",
            Self::BankError => "BANK_ERROR",
            Self::NoStatementExist => "NO_STATEMENT_EXIST",
            Self::Other(s) => s,
        }
    }
}

/// A failure of one call to the platform.
#[derive(Debug, Error)]
pub enum PaymentError {
    /// No answer in time: the platform may or may not have acted.
    #[error("the payment platform did not answer in time")]
    Timeout,
    /// The connection could not be made or broke mid-answer.
    #[error("connection to the payment platform failed: {0}")]
    Connection(String),
    /// 5xx or 429: the platform's own trouble, by its contract worth a retry.
    #[error("payment platform unavailable (HTTP {status}, {})", code.as_str())]
    Unavailable { status: u16, code: ErrorCode },
    /// A 2xx answer whose signature did not verify: not trusted, the state is
    /// unknown (asking again is how to learn it).
    #[error("the platform's answer carried no valid signature")]
    BadResponseSignature,
    /// The platform refused the request (4xx): retrying the same request
    /// gives the same answer.
    #[error("payment platform refused (HTTP {status}, {}): {message}", code.as_str())]
    Rejected {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The answer could not be understood (not the documented JSON / CSV).
    #[error("malformed answer from the payment platform: {0}")]
    Malformed(String),
    /// The downloaded bill's hash did not match the one announced.
    #[error("daily bill hash mismatch")]
    BillHash,
    /// Local configuration: keys that do not load, a bad base URL.
    #[error("payment configuration: {0}")]
    Config(String),
}

impl PaymentError {
    /// Whether the same call may simply be made again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout
            | Self::Connection(_)
            | Self::Unavailable { .. }
            | Self::BadResponseSignature
            | Self::BillHash => true,
            Self::Rejected { .. } | Self::Malformed(_) | Self::Config(_) => false,
        }
    }

    /// The platform's code when it answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Unavailable { code, .. } | Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The order (or refund) is not known at the platform.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::OrderNotExist | ErrorCode::ResourceNotExists)
        )
    }
}

/// Why a notification was refused (the merchant then answers non-2xx and the
/// platform sends it again later).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NotifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("unsupported signature type {0}")]
    SignatureType(String),
    #[error("signed by an unknown platform key {0}")]
    UnknownSerial(String),
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("unsupported resource algorithm {0}")]
    Algorithm(String),
    #[error("resource does not decrypt with the APIv3 key")]
    Decrypt,
    #[error("unknown event type {0}")]
    EventType(String),
}
