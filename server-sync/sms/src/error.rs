//! Typed errors. The question a caller asks is "may I send it again, and
//! when?": [`SmsError::retry`].

use std::time::Duration;

use crate::model::ParseError;

/// What a caller may do after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Again soon (the platform or the way to it is in trouble).
    Retryable,
    /// Not before this long (the platform's per-number limit).
    After(Duration),
    /// The same request will be refused again (a bad number, a template the
    /// platform does not know, our credentials).
    Permanent,
}

/// How the platform's error codes are treated (`Response.Error.Code`, or a
/// number's `SendStatus.Code`).
pub fn classify(code: &str) -> Retry {
    match code {
        "LimitExceeded.PhoneNumberThirtySecondLimit" => Retry::After(Duration::from_secs(30)),
        "LimitExceeded.PhoneNumberOneHourLimit" => Retry::After(Duration::from_secs(3600)),
        "LimitExceeded.PhoneNumberDailyLimit"
        | "LimitExceeded.PhoneNumberSameContentDailyLimit" => {
            Retry::After(Duration::from_secs(24 * 3600))
        }
        c if c.starts_with("InternalError")
            || c == "RequestLimitExceeded"
            || c == "LimitExceeded.DeliveryFrequencyLimit"
            || c == "FailedOperation.InsufficientBalanceInSmsPackage"
            || c == "ResourceUnavailable"
            || c.starts_with("ResourceUnavailable.") =>
        {
            Retry::Retryable
        }
        _ => Retry::Permanent,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// No answer: connection refused or reset, or no answer in time. After
    /// a timeout the platform may have sent the message.
    #[error("SMS platform unavailable: {0}")]
    Unavailable(String),
    /// An HTTP status without an API answer (a proxy's 502, ...).
    #[error("SMS platform answered HTTP {status}")]
    Http { status: u16 },
    /// The platform refused the request (`Response.Error`).
    #[error("SMS platform refused the request: {code}: {message}")]
    Api {
        code: String,
        message: String,
        request_id: String,
    },
    /// The platform took the request and refused this number
    /// (`SendStatus.Code` other than `Ok`).
    #[error("SMS platform refused the message: {code}: {message}")]
    Rejected { code: String, message: String },
    /// The answer could not be read.
    #[error("SMS platform answer unreadable: {0}")]
    BadAnswer(#[from] ParseError),
    /// Our side: the request was not built (a bad number, a bad template).
    #[error("SMS not sent: {0}")]
    Invalid(String),
}

impl SmsError {
    pub fn retry(&self) -> Retry {
        match self {
            Self::Unavailable(_) | Self::BadAnswer(_) => Retry::Retryable,
            Self::Http { status } if *status >= 500 || *status == 429 => Retry::Retryable,
            Self::Http { .. } | Self::Invalid(_) => Retry::Permanent,
            Self::Api { code, .. } | Self::Rejected { code, .. } => classify(code),
        }
    }

    /// The platform's code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } | Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_say_what_to_do() {
        assert_eq!(classify("InternalError.Timeout"), Retry::Retryable);
        assert_eq!(classify("RequestLimitExceeded"), Retry::Retryable);
        assert_eq!(
            classify("LimitExceeded.PhoneNumberDailyLimit"),
            Retry::After(Duration::from_secs(86_400))
        );
        assert_eq!(classify("AuthFailure.SignatureFailure"), Retry::Permanent);
        assert_eq!(
            classify("InvalidParameterValue.IncorrectPhoneNumber"),
            Retry::Permanent
        );
        assert_eq!(
            classify("FailedOperation.TemplateIncorrectOrUnapproved"),
            Retry::Permanent
        );
        assert_eq!(SmsError::Http { status: 502 }.retry(), Retry::Retryable);
        assert_eq!(SmsError::Http { status: 404 }.retry(), Retry::Permanent);
        assert_eq!(
            SmsError::Unavailable("timeout".into()).retry(),
            Retry::Retryable
        );
    }
}
