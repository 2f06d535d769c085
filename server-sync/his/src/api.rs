//! One trait for both styles of HIS, and the client chosen by configuration.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::HisError;
use crate::model::{
    ChargeLookup, ChargeReceipt, ChargeRequest, Demographics, IdempotencyKey, PatientRecord,
    PriceChange, PriceList, RefundReceipt, RefundRequest, Registration, RegistrationRequest,
};
use crate::rest::RestClient;
use crate::soap::client::SoapClient;

/// What the exam centre asks of HIS. Every call is one request and one
/// answer: retrying, backing off and dead-lettering belong to the caller's
/// outbound queue, which stores each request with its idempotency key and
/// resends it unchanged.
pub trait HisApi: Send + Sync {
    /// 建档: HIS's master record for the person, created or found by ID
    /// number; `DemographicsMismatch` when HIS holds other details for it.
    /// Naturally idempotent (keyed by the ID number).
    fn create_patient(
        &self,
        who: &Demographics,
    ) -> impl Future<Output = Result<PatientRecord, HisError>> + Send;

    fn register_visit(
        &self,
        req: &RegistrationRequest,
    ) -> impl Future<Output = Result<Registration, HisError>> + Send;

    fn post_charge(
        &self,
        req: &ChargeRequest,
    ) -> impl Future<Output = Result<ChargeReceipt, HisError>> + Send;

    /// Whether HIS booked the charge sent under `key` (after a timeout).
    fn query_charge(
        &self,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<ChargeLookup, HisError>> + Send;

    fn refund_charge(
        &self,
        req: &RefundRequest,
    ) -> impl Future<Output = Result<RefundReceipt, HisError>> + Send;

    fn price_list(&self) -> impl Future<Output = Result<PriceList, HisError>> + Send;

    /// HIS's change log of prices after `since_version`.
    fn price_changes(
        &self,
        since_version: u64,
    ) -> impl Future<Output = Result<Vec<PriceChange>, HisError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HisStyle {
    /// SOAP 1.1 web service; `endpoint` is the service address of the WSDL.
    Soap,
    /// REST / JSON; `endpoint` is the API's base (…/api/v1).
    Rest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HisConfig {
    pub style: HisStyle,
    pub endpoint: String,
    /// Whole-call limit: past it the call is `Timeout` (outcome unknown).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    5_000
}

impl HisConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// The client for the configured style.
#[derive(Debug, Clone)]
pub enum HisClient {
    Soap(SoapClient),
    Rest(RestClient),
}

impl HisClient {
    pub fn new(config: &HisConfig) -> Result<Self, HisError> {
        Ok(match config.style {
            HisStyle::Soap => HisClient::Soap(SoapClient::new(&config.endpoint, config.timeout())?),
            HisStyle::Rest => HisClient::Rest(RestClient::new(&config.endpoint, config.timeout())?),
        })
    }
}

macro_rules! both {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            HisClient::Soap($c) => $e.await,
            HisClient::Rest($c) => $e.await,
        }
    };
}

impl HisApi for HisClient {
    async fn create_patient(&self, who: &Demographics) -> Result<PatientRecord, HisError> {
        both!(self, c => c.create_patient(who))
    }
    async fn register_visit(&self, req: &RegistrationRequest) -> Result<Registration, HisError> {
        both!(self, c => c.register_visit(req))
    }
    async fn post_charge(&self, req: &ChargeRequest) -> Result<ChargeReceipt, HisError> {
        both!(self, c => c.post_charge(req))
    }
    async fn query_charge(&self, key: &IdempotencyKey) -> Result<ChargeLookup, HisError> {
        both!(self, c => c.query_charge(key))
    }
    async fn refund_charge(&self, req: &RefundRequest) -> Result<RefundReceipt, HisError> {
        both!(self, c => c.refund_charge(req))
    }
    async fn price_list(&self) -> Result<PriceList, HisError> {
        both!(self, c => c.price_list())
    }
    async fn price_changes(&self, since_version: u64) -> Result<Vec<PriceChange>, HisError> {
        both!(self, c => c.price_changes(since_version))
    }
}

/// One attempt to book a charge, resolving an unknown outcome by asking:
/// when the send failed in a way HIS may have applied (timeout, lost
/// connection, unreadable answer, 5xx), query by the key; a charge HIS has is
/// the answer, else the original error stands and the caller retries later
/// with the same request. Never sends the charge twice within one attempt.
pub async fn post_charge_resolving<H: HisApi>(
    his: &H,
    req: &ChargeRequest,
) -> Result<ChargeReceipt, HisError> {
    match his.post_charge(req).await {
        Ok(receipt) => Ok(receipt),
        Err(e) if e.may_have_applied() => match his.query_charge(&req.idempotency_key).await {
            Ok(ChargeLookup::Found(receipt)) => Ok(receipt),
            // Not booked, or the question failed too: the send's error
            // decides what the queue does next.
            Ok(ChargeLookup::NotFound) | Err(_) => Err(e),
        },
        Err(e) => Err(e),
    }
}
