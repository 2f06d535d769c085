//! The HIS adapter (`adapter = "his_soap"` or `"his_rest"`), through
//! `exam-his`: the patient master record (建档), the visit's registration,
//! charges and refunds, in the web-service style the hospital runs.
//!
//! ```toml
//! [interfaces.counterparts.his]
//! adapter = "his_soap"          # or his_rest
//! endpoint = "http://his.hospital.local/his/soap"   # SOAP address / REST base
//! timeout_seconds = 15
//! department = "体检中心"        # the registration's department (default)
//! payment_method = "CASH"       # what HIS books charges as (default CASH)
//! price_sync_minutes = 60       # HIS's prices fetched this often (price_sync)
//! charge_codes = { "250301001" = "L-GLU" }  # HIS code → our item, where they differ
//! ```
//!
//! Every request carries the queue row's key as HIS's idempotency key, so a
//! repeat after a lost answer books nothing twice. HIS's answers are what
//! `Delivered::remote_ref` keeps: its patient id for a record, its
//! registration, charge and refund ids. A charge needs HIS's registration
//! id, which the queue does not carry: the adapter sends the visit's
//! registration again under its own key (`his.register:<booking>`, as
//! `facts` names it), and HIS answers with the registration it already
//! has. A refund names items; the adapter asks HIS for the visit's charges
//! (`his.charge:<booking>:<n>`, in order) and refunds each item from the
//! charge that holds it, one HIS refund per charge under `<key>:c<n>`.

use std::collections::BTreeMap;
use std::time::Duration;

use exam_his::{
    ChargeLine, ChargeLookup, ChargeRequest, Demographics, HisApi, HisClient, HisConfig, HisError,
    HisStyle, IdempotencyKey, PaymentMethod, RefundRequest, RegistrationRequest, Retry,
};
use futures_util::future::BoxFuture;

use super::adapter::{Delivered, Outbound, Outgoing, SendError};
use super::payload::{Line, PatientData, Payload, VisitRef};
use super::settings::AdapterSpec;

/// Charges of one visit the adapter looks through for a refund.
const MAX_CHARGES_PER_VISIT: u32 = 100;

pub struct HisAdapter {
    client: HisClient,
    style: HisStyle,
    endpoint: String,
    department: String,
    payment_method: PaymentMethod,
}

fn text<'a>(spec: &'a AdapterSpec, key: &str) -> Option<&'a str> {
    spec.options.get(key).and_then(|v| v.as_str())
}

/// The key `facts` gives a visit's registration message.
pub fn registration_key(booking_id: i64) -> String {
    format!("his.register:{booking_id}")
}

/// The key `facts` gives a visit's `n`th charge message (from 1).
pub fn charge_key(booking_id: i64, n: u32) -> String {
    format!("his.charge:{booking_id}:{n}")
}

fn key(s: &str) -> Result<IdempotencyKey, SendError> {
    IdempotencyKey::new(s).map_err(|e| SendError::Permanent(format!("key {s:?}: {e}")))
}

/// HIS's failure as the queue's: no answer is an outage, HIS's own trouble
/// a refusal for now, anything about the request a dead letter.
pub fn send_error(e: HisError) -> SendError {
    match e {
        HisError::Unreachable(_) | HisError::ConnectionLost(_) | HisError::Timeout(_) => {
            SendError::Unavailable(e.to_string())
        }
        _ if e.retry() == Retry::Retryable => SendError::Retryable(e.to_string()),
        _ => SendError::Permanent(e.to_string()),
    }
}

impl HisAdapter {
    pub fn from_spec(style: HisStyle, spec: &AdapterSpec) -> Result<Self, String> {
        for k in spec.options.keys() {
            if ![
                "endpoint",
                "timeout_seconds",
                "department",
                "payment_method",
                // Read by `price_sync`: HIS code → our item code, and how
                // often HIS's prices are fetched.
                "charge_codes",
                "price_sync_minutes",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("unknown setting {k:?} for the HIS adapter"));
            }
        }
        let endpoint = text(spec, "endpoint")
            .ok_or("the HIS adapter needs endpoint = \"http(s)://…\"")?
            .to_string();
        let timeout = spec
            .options
            .get("timeout_seconds")
            .and_then(|v| v.as_u64())
            .unwrap_or(15)
            .max(1);
        let payment_method = match text(spec, "payment_method") {
            None => PaymentMethod::Cash,
            Some(m) => PaymentMethod::from_code(m).ok_or_else(|| {
                format!(
                    "payment_method {m:?}: CASH, WECHAT_PAY, ALIPAY, UNION_PAY or MEDICAL_INSURANCE"
                )
            })?,
        };
        let client = HisClient::new(&HisConfig {
            style,
            endpoint: endpoint.clone(),
            timeout_ms: Duration::from_secs(timeout).as_millis() as u64,
        })
        .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            style,
            endpoint,
            department: text(spec, "department").unwrap_or("体检中心").to_string(),
            payment_method,
        })
    }

    fn patient_id(msg: &Outgoing) -> Result<&str, SendError> {
        // The record goes first in the HIS line; until HIS has answered it
        // (or staff retried a dead one) there is no id to send.
        msg.his_patient_id
            .as_deref()
            .ok_or_else(|| SendError::Retryable("HIS 尚未建档 / no HIS patient id yet".into()))
    }

    fn registration(
        &self,
        key_text: &str,
        visit: &VisitRef,
        patient_id: &str,
    ) -> Result<RegistrationRequest, SendError> {
        Ok(RegistrationRequest {
            idempotency_key: key(key_text)?,
            patient_id: patient_id.to_string(),
            exam_no: visit.exam_no.clone(),
            department: self.department.clone(),
            visit_date: visit.exam_date,
        })
    }

    async fn send_payload(&self, msg: &Outgoing) -> Result<Delivered, SendError> {
        let done = |remote: String| Delivered {
            acknowledged: true,
            remote_ref: Some(remote),
        };
        match &msg.payload {
            Payload::PatientRecord { patient } => {
                let record = self
                    .client
                    .create_patient(&demographics(patient))
                    .await
                    .map_err(send_error)?;
                Ok(done(record.patient_id))
            }
            Payload::Registration { visit, .. } => {
                let req = self.registration(&msg.key, visit, Self::patient_id(msg)?)?;
                let reg = self.client.register_visit(&req).await.map_err(send_error)?;
                Ok(done(reg.registration_id))
            }
            Payload::Charge { visit, lines, .. } => {
                let patient_id = Self::patient_id(msg)?;
                let reg =
                    self.registration(&registration_key(visit.booking_id), visit, patient_id)?;
                let reg = self.client.register_visit(&reg).await.map_err(send_error)?;
                let req = ChargeRequest {
                    idempotency_key: key(&msg.key)?,
                    patient_id: patient_id.to_string(),
                    registration_id: reg.registration_id,
                    payment_method: self.payment_method,
                    payment_ref: None,
                    lines: lines.iter().map(charge_line).collect(),
                };
                let receipt = exam_his::post_charge_resolving(&self.client, &req)
                    .await
                    .map_err(send_error)?;
                Ok(done(receipt.charge_id))
            }
            Payload::Refund { visit, lines, .. } => self.refund(msg, visit, lines).await,
            other => Err(SendError::Permanent(format!(
                "{} is not a HIS message",
                other.kind().as_str()
            ))),
        }
    }

    async fn refund(
        &self,
        msg: &Outgoing,
        visit: &VisitRef,
        lines: &[Line],
    ) -> Result<Delivered, SendError> {
        // Which of the visit's charges holds each item (the first that does).
        let mut holder: BTreeMap<String, u32> = BTreeMap::new();
        for n in 1..=MAX_CHARGES_PER_VISIT {
            let found = self
                .client
                .query_charge(&key(&charge_key(visit.booking_id, n))?)
                .await
                .map_err(send_error)?;
            let ChargeLookup::Found(charge) = found else {
                break;
            };
            for l in charge.lines {
                holder.entry(l.item_code).or_insert(n);
            }
        }
        let mut by_charge: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for l in lines {
            let n = holder.get(&l.code).ok_or_else(|| {
                SendError::Permanent(format!(
                    "HIS 无此项目的收费 / no HIS charge holds {}",
                    l.code
                ))
            })?;
            by_charge.entry(*n).or_default().push(l.code.clone());
        }
        let mut refund_ids = Vec::new();
        for (n, codes) in by_charge {
            let req = RefundRequest {
                idempotency_key: key(&format!("{}:c{n}", msg.key))?,
                charge_key: key(&charge_key(visit.booking_id, n))?,
                item_codes: codes,
                reason: "体检退费".into(),
            };
            let r = self.client.refund_charge(&req).await.map_err(send_error)?;
            refund_ids.push(r.refund_id);
        }
        Ok(Delivered {
            acknowledged: true,
            remote_ref: Some(refund_ids.join(",")),
        })
    }
}

fn demographics(p: &PatientData) -> Demographics {
    Demographics {
        id_number: p.id_number.clone(),
        name: p.name.clone(),
        sex: match p.sex {
            exam_domain::Sex::Male => exam_his::Sex::Male,
            exam_domain::Sex::Female => exam_his::Sex::Female,
        },
        birth_date: p.birth_date,
        phone: (!p.mobile.is_empty()).then(|| p.mobile.clone()),
    }
}

/// HIS books the item at its list price, less what the visit did not pay.
fn charge_line(l: &Line) -> ChargeLine {
    let unit = l.list_price_fen.unwrap_or(l.price_fen).max(l.price_fen);
    ChargeLine {
        item_code: l.code.clone(),
        quantity: 1,
        unit_price_fen: unit,
        discount_fen: unit - l.price_fen,
    }
}

impl Outbound for HisAdapter {
    fn send<'a>(&'a self, msg: &'a Outgoing) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(self.send_payload(msg))
    }

    fn describe(&self) -> String {
        let style = match self.style {
            HisStyle::Soap => "SOAP",
            HisStyle::Rest => "REST",
        };
        format!("HIS {style} {}", self.endpoint)
    }
}

#[cfg(test)]
#[path = "his_tests.rs"]
mod tests;
