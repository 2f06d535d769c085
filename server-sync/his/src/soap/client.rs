//! The SOAP 1.1 client: one POST per operation to the service address,
//! `text/xml`, the operation's `SOAPAction`.

use std::time::Duration;

use super::{DecodeError, Operation, SoapRequest, SoapResponse, decode_response, encode_request};
use crate::api::HisApi;
use crate::error::HisError;
use crate::model::{
    ChargeLookup, ChargeReceipt, ChargeRequest, Demographics, IdempotencyKey, PatientRecord,
    PriceChange, PriceList, RefundReceipt, RefundRequest, Registration, RegistrationRequest,
};
use crate::transport::{check_url, http_client, map_send_error, read_answer};

#[derive(Debug, Clone)]
pub struct SoapClient {
    http: reqwest::Client,
    endpoint: String,
    timeout: Duration,
}

impl SoapClient {
    /// `endpoint`: the `soap:address` of the WSDL's service.
    pub fn new(endpoint: &str, timeout: Duration) -> Result<Self, HisError> {
        check_url(endpoint)?;
        Ok(Self {
            http: http_client(timeout)?,
            endpoint: endpoint.to_owned(),
            timeout,
        })
    }

    pub async fn call(&self, req: &SoapRequest) -> Result<SoapResponse, HisError> {
        let op = req.operation();
        let resp = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{}\"", op.soap_action()))
            .body(encode_request(req))
            .send()
            .await
            .map_err(|e| map_send_error(e, self.timeout))?;
        let (status, body) = read_answer(resp, self.timeout).await?;
        interpret(op, status, &body)
    }
}

/// SOAP 1.1 over HTTP: 200 with the answer, 500 with a fault; anything else
/// (or a 500 that is no SOAP) is the HTTP layer's failure.
fn interpret(op: Operation, status: u16, body: &[u8]) -> Result<SoapResponse, HisError> {
    match decode_response(op, body) {
        Ok(Ok(answer)) if status == 200 => Ok(answer),
        Ok(Ok(_)) => Err(HisError::Http { status }),
        Ok(Err(fault)) => Err(HisError::Refused {
            code: fault.code,
            message: fault.message,
        }),
        Err(_) if status != 200 => Err(HisError::Http { status }),
        Err(e) => Err(HisError::Malformed(e.to_string())),
    }
}

fn unexpected(op: Operation) -> HisError {
    HisError::Malformed(DecodeError::UnexpectedBody(op.response_name()).to_string())
}

impl HisApi for SoapClient {
    async fn create_patient(&self, who: &Demographics) -> Result<PatientRecord, HisError> {
        match self.call(&SoapRequest::CreatePatient(who.clone())).await? {
            SoapResponse::CreatePatient(r) => Ok(r),
            _ => Err(unexpected(Operation::CreatePatient)),
        }
    }

    async fn register_visit(&self, req: &RegistrationRequest) -> Result<Registration, HisError> {
        match self.call(&SoapRequest::RegisterVisit(req.clone())).await? {
            SoapResponse::RegisterVisit(r) => Ok(r),
            _ => Err(unexpected(Operation::RegisterVisit)),
        }
    }

    async fn post_charge(&self, req: &ChargeRequest) -> Result<ChargeReceipt, HisError> {
        match self.call(&SoapRequest::PostCharge(req.clone())).await? {
            SoapResponse::PostCharge(r) => Ok(r),
            _ => Err(unexpected(Operation::PostCharge)),
        }
    }

    async fn query_charge(&self, key: &IdempotencyKey) -> Result<ChargeLookup, HisError> {
        match self.call(&SoapRequest::QueryCharge(key.clone())).await? {
            SoapResponse::QueryCharge(r) => Ok(r),
            _ => Err(unexpected(Operation::QueryCharge)),
        }
    }

    async fn refund_charge(&self, req: &RefundRequest) -> Result<RefundReceipt, HisError> {
        match self.call(&SoapRequest::RefundCharge(req.clone())).await? {
            SoapResponse::RefundCharge(r) => Ok(r),
            _ => Err(unexpected(Operation::RefundCharge)),
        }
    }

    async fn price_list(&self) -> Result<PriceList, HisError> {
        match self.call(&SoapRequest::GetPriceList).await? {
            SoapResponse::GetPriceList(r) => Ok(r),
            _ => Err(unexpected(Operation::GetPriceList)),
        }
    }

    async fn price_changes(&self, since_version: u64) -> Result<Vec<PriceChange>, HisError> {
        match self
            .call(&SoapRequest::GetPriceChanges { since_version })
            .await?
        {
            SoapResponse::GetPriceChanges(r) => Ok(r),
            _ => Err(unexpected(Operation::GetPriceChanges)),
        }
    }
}
