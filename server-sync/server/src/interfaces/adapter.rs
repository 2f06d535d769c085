//! The one trait an adapter implements, and the registry that picks one per
//! counterpart from `[interfaces.counterparts]`.
//!
//! An adapter turns an [`Outgoing`] message into its counterpart's wire
//! format (HL7 v2 over MLLP, a HIS web service, an SMS gateway's API), sends
//! it, and says how it went. It never decides about retries: it reports
//! [`SendError::Unavailable`] (no answer: connection refused, timeout, MLLP
//! link dropped), [`SendError::Retryable`] (an answer that refuses for now:
//! HL7 `AE`, HTTP 5xx, "busy") or [`SendError::Permanent`] (an answer that
//! will not change: HL7 `AR`, a malformed message, an unknown item), and
//! `policy` decides. The message's `key` is stable across attempts: an
//! adapter sends it as the counterpart's control id or idempotency key
//! (MSH-10, `Idempotency-Key`), so a repeat after a lost answer is dropped
//! there and nothing is done twice in effect.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::payload::Payload;
use super::settings::{AdapterSpec, InterfacesConfig};
use super::{Counterpart, MessageKind};

/// A message as an adapter gets it: the queue's row, opened.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub seq: i64,
    pub counterpart: Counterpart,
    pub kind: MessageKind,
    /// The idempotency key: the same on every attempt.
    pub key: String,
    pub booking_id: Option<i64>,
    pub item_code: Option<String>,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
    pub payload: Payload,
    /// HIS's id for the patient, once HIS answered the patient record
    /// (its messages go in order, so the record is acknowledged before the
    /// registration that needs the id is sent).
    pub his_patient_id: Option<String>,
}

/// The counterpart took the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// It also acknowledged it (HL7 `AA`, a 2xx with a result); false when
    /// only the transport took it and an acknowledgement comes later.
    pub acknowledged: bool,
    /// What the counterpart calls it: HIS's patient id for a patient
    /// record, its charge number, the filler order number.
    pub remote_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No answer (connection refused, timeout, link dropped): the
    /// counterpart is away; not the message's fault.
    #[error("对方系统无应答 / unavailable: {0}")]
    Unavailable(String),
    /// An answer that refuses the message for now.
    #[error("对方暂时拒收 / refused, will retry: {0}")]
    Retryable(String),
    /// An answer that will not change: a dead letter at once.
    #[error("对方拒收 / refused for good: {0}")]
    Permanent(String),
}

/// One counterpart's sender.
pub trait Outbound: Send + Sync {
    /// Sends one message and reports the counterpart's answer.
    fn send<'a>(&'a self, msg: &'a Outgoing) -> BoxFuture<'a, Result<Delivered, SendError>>;

    /// What the staff page calls this adapter ("HL7 MLLP 10.1.2.3:2575").
    fn describe(&self) -> String;
}

/// The adapters in use, by counterpart.
pub type Adapters = BTreeMap<Counterpart, Arc<dyn Outbound>>;

#[derive(Debug, thiserror::Error)]
#[error("[interfaces.counterparts.{counterpart}]: {reason}")]
pub struct AdapterError {
    pub counterpart: Counterpart,
    pub reason: String,
}

/// Builds the configured adapters; an unknown adapter name stops the start
/// (a typo must not leave orders queued without anyone noticing).
pub fn from_config(cfg: &InterfacesConfig) -> Result<Adapters, AdapterError> {
    let mut out = Adapters::new();
    for (&counterpart, spec) in &cfg.counterparts {
        out.insert(counterpart, build(counterpart, spec)?);
    }
    Ok(out)
}

/// An adapter by its name; each wraps a crate of its own (`exam-hl7` for
/// HL7 v2 over MLLP).
fn build(counterpart: Counterpart, spec: &AdapterSpec) -> Result<Arc<dyn Outbound>, AdapterError> {
    let fail = |reason: String| AdapterError {
        counterpart,
        reason,
    };
    match spec.adapter.as_str() {
        "hl7_mllp" => Ok(Arc::new(
            super::hl7::Hl7Mllp::from_spec(counterpart, spec).map_err(fail)?,
        )),
        "his_soap" | "his_rest" if counterpart != Counterpart::His => Err(fail(
            "the HIS adapters are for [interfaces.counterparts.his]".into(),
        )),
        "his_soap" => Ok(Arc::new(
            super::his::HisAdapter::from_spec(exam_his::HisStyle::Soap, spec).map_err(fail)?,
        )),
        "his_rest" => Ok(Arc::new(
            super::his::HisAdapter::from_spec(exam_his::HisStyle::Rest, spec).map_err(fail)?,
        )),
        "tencent_sms" if counterpart != Counterpart::Sms => Err(fail(
            "the SMS adapter is for [interfaces.counterparts.sms]".into(),
        )),
        "tencent_sms" => Ok(Arc::new(
            crate::sms::adapter::TencentSmsAdapter::from_spec(spec).map_err(fail)?,
        )),
        other => Err(fail(format!(
            "no adapter {other:?} in this build (known: hl7_mllp, his_soap, his_rest, tencent_sms)"
        ))),
    }
}
