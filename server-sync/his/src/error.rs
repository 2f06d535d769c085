//! Typed failures of a HIS call, each saying whether sending again can help
//! (`Retry::Retryable`) or a person must act (`Retry::Permanent`), and
//! whether HIS may already have applied the request (so the sender asks with
//! `query_charge` before deciding, or simply resends under the same key).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Send again later with the same idempotency key.
    Retryable,
    /// Sending again gives the same answer: dead-letter it and tell staff.
    Permanent,
}

/// HIS's own refusal codes: the same set in the WSDL's `HisFaultCode`, the
/// REST error body and the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FaultCode {
    /// The ID number is on file with another name, sex or birth date.
    DemographicsMismatch,
    UnknownPatient,
    UnknownRegistration,
    UnknownItem,
    /// The charged price is not HIS's current price: sync prices first.
    PriceMismatch,
    UnknownCharge,
    AlreadyRefunded,
    /// The idempotency key was used before for a different request.
    KeyReused,
    InvalidRequest,
    /// HIS is overloaded or a dependency of its own is down.
    Busy,
    Internal,
}

impl FaultCode {
    pub const ALL: [FaultCode; 11] = [
        FaultCode::DemographicsMismatch,
        FaultCode::UnknownPatient,
        FaultCode::UnknownRegistration,
        FaultCode::UnknownItem,
        FaultCode::PriceMismatch,
        FaultCode::UnknownCharge,
        FaultCode::AlreadyRefunded,
        FaultCode::KeyReused,
        FaultCode::InvalidRequest,
        FaultCode::Busy,
        FaultCode::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FaultCode::DemographicsMismatch => "DEMOGRAPHICS_MISMATCH",
            FaultCode::UnknownPatient => "UNKNOWN_PATIENT",
            FaultCode::UnknownRegistration => "UNKNOWN_REGISTRATION",
            FaultCode::UnknownItem => "UNKNOWN_ITEM",
            FaultCode::PriceMismatch => "PRICE_MISMATCH",
            FaultCode::UnknownCharge => "UNKNOWN_CHARGE",
            FaultCode::AlreadyRefunded => "ALREADY_REFUNDED",
            FaultCode::KeyReused => "KEY_REUSED",
            FaultCode::InvalidRequest => "INVALID_REQUEST",
            FaultCode::Busy => "BUSY",
            FaultCode::Internal => "INTERNAL",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }

    /// Only HIS's own trouble passes with time; every other refusal is about
    /// the request and would be refused again.
    pub fn retry(self) -> Retry {
        match self {
            FaultCode::Busy | FaultCode::Internal => Retry::Retryable,
            _ => Retry::Permanent,
        }
    }

    /// SOAP 1.1 `faultcode`: `Client` when the request is at fault.
    pub fn is_client_fault(self) -> bool {
        self.retry() == Retry::Permanent
    }
}

impl std::fmt::Display for FaultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HisError {
    /// No connection was made: HIS cannot have seen the request.
    #[error("HIS unreachable: {0}")]
    Unreachable(String),
    /// The connection broke after the request went out: HIS may have
    /// applied it.
    #[error("connection to HIS lost before its answer: {0}")]
    ConnectionLost(String),
    #[error("no answer from HIS within {0:?}")]
    Timeout(Duration),
    /// An HTTP status without a HIS refusal in the body (a proxy's 502, a
    /// crashed handler's 500).
    #[error("HIS answered HTTP {status}")]
    Http { status: u16 },
    /// HIS refused with one of its codes (a SOAP fault or a REST error body).
    #[error("HIS refused ({code}): {message}")]
    Refused { code: FaultCode, message: String },
    /// An answer we cannot read. The request's outcome is unknown; resending
    /// under the same key is safe.
    #[error("HIS answer unreadable: {0}")]
    Malformed(String),
    /// The request could not be put on the wire (a bad endpoint URL).
    #[error("HIS client misconfigured: {0}")]
    Config(String),
}

impl HisError {
    pub fn retry(&self) -> Retry {
        match self {
            HisError::Unreachable(_)
            | HisError::ConnectionLost(_)
            | HisError::Timeout(_)
            | HisError::Malformed(_) => Retry::Retryable,
            // 408 and 429 say "later"; other 4xx say the request is wrong.
            HisError::Http { status } => {
                if *status >= 500 || *status == 408 || *status == 429 {
                    Retry::Retryable
                } else {
                    Retry::Permanent
                }
            }
            HisError::Refused { code, .. } => code.retry(),
            HisError::Config(_) => Retry::Permanent,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.retry() == Retry::Retryable
    }

    /// True when HIS may have applied the request although we got no answer
    /// saying so: a charge in this state is resolved by `query_charge`.
    pub fn may_have_applied(&self) -> bool {
        matches!(
            self,
            HisError::ConnectionLost(_) | HisError::Timeout(_) | HisError::Malformed(_)
        ) || matches!(self, HisError::Http { status } if *status >= 500)
    }

    pub fn fault_code(&self) -> Option<FaultCode> {
        match self {
            HisError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_codes_round_trip_and_only_his_trouble_is_retryable() {
        for c in FaultCode::ALL {
            assert_eq!(FaultCode::from_code(c.code()), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.code()));
        }
        let retryable: Vec<_> = FaultCode::ALL
            .into_iter()
            .filter(|c| c.retry() == Retry::Retryable)
            .collect();
        assert_eq!(retryable, vec![FaultCode::Busy, FaultCode::Internal]);
    }

    #[test]
    fn transport_failures_are_retryable_and_say_whether_applied() {
        assert!(HisError::Unreachable("refused".into()).is_retryable());
        assert!(!HisError::Unreachable("refused".into()).may_have_applied());
        assert!(HisError::Timeout(Duration::from_secs(5)).may_have_applied());
        assert!(HisError::Http { status: 503 }.is_retryable());
        assert!(HisError::Http { status: 429 }.is_retryable());
        assert!(!HisError::Http { status: 400 }.is_retryable());
        assert!(
            !HisError::Refused {
                code: FaultCode::DemographicsMismatch,
                message: String::new()
            }
            .is_retryable()
        );
    }
}
