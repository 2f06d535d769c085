//! The REST / JSON client. Requests that change HIS send their key in the
//! `Idempotency-Key` header as well as in the body; refusals come as
//! `{"code": "...", "message": "..."}` with a 4xx or 5xx status.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::HisApi;
use crate::error::{FaultCode, HisError};
use crate::model::{
    ChargeLookup, ChargeReceipt, ChargeRequest, Demographics, IdempotencyKey, PatientRecord,
    PriceChange, PriceList, RefundReceipt, RefundRequest, Registration, RegistrationRequest,
};
use crate::transport::{check_url, http_client, map_send_error, read_answer};

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// A refusal's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: FaultCode,
    pub message: String,
    pub retryable: bool,
}

#[derive(Debug, Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
}

impl RestClient {
    /// `base`: the API's root, e.g. `https://his.example/api/v1`.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, HisError> {
        check_url(base)?;
        Ok(Self {
            http: http_client(timeout)?,
            base: base.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, HisError> {
        let resp = req
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| map_send_error(e, self.timeout))?;
        let (status, body) = read_answer(resp, self.timeout).await?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| HisError::Malformed(e.to_string()));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(refusal) => HisError::Refused {
                code: refusal.code,
                message: refusal.message,
            },
            Err(_) => HisError::Http { status },
        })
    }

    fn post_keyed<B: Serialize>(
        &self,
        path: &str,
        key: &IdempotencyKey,
        body: &B,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header(IDEMPOTENCY_HEADER, key.as_str())
            .json(body)
    }
}

impl HisApi for RestClient {
    async fn create_patient(&self, who: &Demographics) -> Result<PatientRecord, HisError> {
        self.send(self.http.post(format!("{}/patients", self.base)).json(who))
            .await
    }

    async fn register_visit(&self, req: &RegistrationRequest) -> Result<Registration, HisError> {
        self.send(self.post_keyed("/registrations", &req.idempotency_key, req))
            .await
    }

    async fn post_charge(&self, req: &ChargeRequest) -> Result<ChargeReceipt, HisError> {
        self.send(self.post_keyed("/charges", &req.idempotency_key, req))
            .await
    }

    async fn query_charge(&self, key: &IdempotencyKey) -> Result<ChargeLookup, HisError> {
        // The key's characters need no escaping in a path segment.
        let found = self
            .send::<ChargeReceipt>(self.http.get(format!("{}/charges/{key}", self.base)))
            .await;
        match found {
            Ok(receipt) => Ok(ChargeLookup::Found(receipt)),
            Err(HisError::Refused {
                code: FaultCode::UnknownCharge,
                ..
            }) => Ok(ChargeLookup::NotFound),
            Err(e) => Err(e),
        }
    }

    async fn refund_charge(&self, req: &RefundRequest) -> Result<RefundReceipt, HisError> {
        self.send(self.post_keyed("/refunds", &req.idempotency_key, req))
            .await
    }

    async fn price_list(&self) -> Result<PriceList, HisError> {
        self.send(self.http.get(format!("{}/prices", self.base)))
            .await
    }

    async fn price_changes(&self, since_version: u64) -> Result<Vec<PriceChange>, HisError> {
        self.send(self.http.get(format!(
            "{}/prices/changes?since={since_version}",
            self.base
        )))
        .await
    }
}
