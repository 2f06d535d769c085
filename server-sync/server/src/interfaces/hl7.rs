//! The HL7 v2 adapter (`adapter = "hl7_mllp"`) for the laboratory, imaging,
//! ultrasound, ECG, endoscopy and pathology systems: orders and their
//! cancellations as `ORM^O01` (or `OML^O21`) over MLLP, through `exam-hl7`,
//! and the staff's re-fetch of an item's results as `QRY^R02` (QRD-8 the
//! patient id the order went under, QRD-10 its placer order number). The
//! peer acknowledges a query like an order (an ACK or an `ORF^R04` with
//! MSA); the results it sends again come as ordinary `ORU^R01` to the
//! listener below, where what we already have is dropped as a repeat.
//!
//! ```toml
//! [interfaces.counterparts.lis]
//! adapter = "hl7_mllp"
//! address = "10.1.2.3:2575"     # the peer's MLLP listener
//! charset = "gbk"               # utf-8 (default) or gbk, as the peer reads
//! message = "oml"               # orm (default) or oml (OML^O21, v2.5 labs)
//! facility = "体检中心"          # MSH-4 (default EXAM)
//! receiving_application = "LIS" # MSH-5 (default the counterpart's name)
//! ack_timeout_seconds = 30
//! ```
//!
//! With `listen = "0.0.0.0:2576"` the service also takes the peer's
//! results (`ORU^R01`) there: each item kept once in the inbound log
//! (by control id and by content) and matched to its order by the placer
//! order number we sent, its observations checked for major abnormal
//! results (`abnormal`), then acknowledged (AA; AR when the store cannot
//! keep it, so the peer sends it again; AE for a message we cannot read).
//!
//! MSH-10 is the queue row's id, the same on every attempt, so a peer that
//! took a message whose ACK was lost drops the repeat. The peer's ACK is
//! read as `exam-hl7` reads it: AA taken; AR retried later; AE refused for
//! good (a dead letter with the ERR text); no answer: unavailable.

use chrono::Utc;
use exam_hl7::mllp::{ClientConfig, MllpClient};
use exam_hl7::{
    Charset, Coded, Delivery, Header, Order, OrderControl, Processing, ResultQuery, TargetSystem,
};
use futures_util::future::BoxFuture;
use tokio::sync::Mutex;

use super::Counterpart;
use super::abnormal::ObservedValue;
use super::adapter::{Delivered, Outbound, Outgoing, SendError};
use super::inbound::{Inbound, InboundKind, ResultStatus};
use super::payload::{OrderLine, Payload};
use super::settings::AdapterSpec;
use crate::db::Db;

pub struct Hl7Mllp {
    counterpart: Counterpart,
    target: TargetSystem,
    kind: exam_hl7::MessageKind,
    charset: Charset,
    facility: String,
    receiving_application: String,
    addr: String,
    /// One connection, one message at a time (the line is sent in order
    /// anyway).
    client: Mutex<MllpClient>,
}

fn text<'a>(spec: &'a AdapterSpec, key: &str) -> Option<&'a str> {
    spec.options.get(key).and_then(|v| v.as_str())
}

impl Hl7Mllp {
    pub fn from_spec(counterpart: Counterpart, spec: &AdapterSpec) -> Result<Self, String> {
        let target = match counterpart {
            Counterpart::Lis => TargetSystem::Lis,
            Counterpart::Pacs => TargetSystem::Pacs,
            Counterpart::Ultrasound => TargetSystem::Ultrasound,
            Counterpart::Ecg => TargetSystem::Ecg,
            Counterpart::Endoscopy => TargetSystem::Endoscopy,
            Counterpart::Pathology => TargetSystem::Pathology,
            Counterpart::His | Counterpart::Sms => {
                return Err("hl7_mllp carries orders: not for HIS or SMS".into());
            }
        };
        let addr = text(spec, "address")
            .ok_or("hl7_mllp needs address = \"host:port\"")?
            .to_string();
        let charset = match text(spec, "charset").unwrap_or("utf-8") {
            "utf-8" | "UTF-8" | "utf8" => Charset::Utf8,
            "gbk" | "GBK" | "gb18030" => Charset::Gbk,
            other => return Err(format!("charset {other:?}: use utf-8 or gbk")),
        };
        let kind = match text(spec, "message").unwrap_or("orm") {
            "orm" => exam_hl7::MessageKind::OrmO01,
            "oml" => exam_hl7::MessageKind::OmlO21,
            other => return Err(format!("message {other:?}: use orm or oml")),
        };
        for k in spec.options.keys() {
            if ![
                "address",
                "charset",
                "message",
                "facility",
                "receiving_application",
                "ack_timeout_seconds",
                "listen",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("unknown setting {k:?} for hl7_mllp"));
            }
        }
        let mut cfg = ClientConfig::new(addr.clone());
        cfg.peer_charset = charset;
        if let Some(s) = spec
            .options
            .get("ack_timeout_seconds")
            .and_then(|v| v.as_u64())
        {
            cfg.ack_timeout = std::time::Duration::from_secs(s.max(1));
        }
        Ok(Self {
            counterpart,
            target,
            kind,
            charset,
            facility: text(spec, "facility").unwrap_or("EXAM").to_string(),
            receiving_application: text(spec, "receiving_application")
                .map_or_else(|| counterpart.as_str().to_uppercase(), String::from),
            addr,
            client: Mutex::new(MllpClient::new(cfg)),
        })
    }

    /// The HL7 order for a queued message (pure).
    pub fn order(&self, msg: &Outgoing) -> Result<Order, SendError> {
        let (control, visit, patient, line) = match &msg.payload {
            Payload::Order {
                visit,
                patient,
                order,
            } => (OrderControl::New, visit, Some(patient), order),
            Payload::OrderCancel { visit, order } => (OrderControl::Cancel, visit, None, order),
            other => {
                return Err(SendError::Permanent(format!(
                    "{} is not an HL7 order",
                    other.kind().as_str()
                )));
            }
        };
        let now = centre_now();
        Ok(Order {
            kind: self.kind,
            header: self.header(msg, now),
            patient: exam_hl7::Patient {
                id: patient_id(msg, &visit.exam_no),
                name: patient.map(|p| p.name.clone()).unwrap_or_default(),
                sex: match patient.map(|p| p.sex) {
                    Some(exam_domain::Sex::Male) => exam_hl7::Sex::Male,
                    Some(exam_domain::Sex::Female) => exam_hl7::Sex::Female,
                    None => exam_hl7::Sex::Unknown,
                },
                birth_date: patient.map(|p| p.birth_date),
            },
            visit_number: visit.exam_no.clone(),
            department: Coded::new("TJZX", "体检中心"),
            target: self.target,
            lines: vec![hl7_line(control, line, now)],
        })
    }

    /// The HL7 re-fetch (`QRY^R02`) for a queued `ResultQuery` (pure): the
    /// patient id and placer order number exactly as the order carried
    /// them, so the peer finds it.
    pub fn query(&self, msg: &Outgoing) -> Result<ResultQuery, SendError> {
        let Payload::ResultQuery { visit, order } = &msg.payload else {
            return Err(SendError::Permanent(format!(
                "{} is not an HL7 result query",
                msg.payload.kind().as_str()
            )));
        };
        let now = centre_now();
        let header = self.header(msg, now);
        Ok(ResultQuery {
            queried_at: now,
            query_id: header.control_id.clone(),
            patient_id: patient_id(msg, &visit.exam_no),
            placer_order_number: order.order_no.clone(),
            where_subject: self.receiving_application.clone(),
            header,
        })
    }

    /// MSH: MSH-10 is the queue row's id, the same on every attempt.
    fn header(&self, msg: &Outgoing, now: chrono::NaiveDateTime) -> Header {
        Header {
            sending_application: "EXAM-CENTRE".into(),
            sending_facility: self.facility.clone(),
            receiving_application: self.receiving_application.clone(),
            receiving_facility: self.facility.clone(),
            timestamp: now,
            control_id: msg.id.to_string(),
            processing: Processing::default(),
            charset: self.charset,
        }
    }
}

fn centre_now() -> chrono::NaiveDateTime {
    Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .naive_local()
}

/// HIS's patient id once HIS has the record, else the exam number: what
/// orders and queries both carry (PID-3, QRD-8).
fn patient_id(msg: &Outgoing, exam_no: &str) -> String {
    msg.his_patient_id
        .clone()
        .unwrap_or_else(|| exam_no.to_string())
}

fn hl7_line(
    control: OrderControl,
    l: &OrderLine,
    now: chrono::NaiveDateTime,
) -> exam_hl7::OrderLine {
    exam_hl7::OrderLine {
        control,
        placer_order_number: l.order_no.clone(),
        item: Coded::new(&l.item_code, &l.item_name),
        requested_at: Some(now),
        specimen: l.sample.map(|s| {
            let code = serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            Coded::new(code, s.label_zh())
        }),
    }
}

impl Outbound for Hl7Mllp {
    fn send<'a>(&'a self, msg: &'a Outgoing) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let (bytes, control_id) = if let Payload::ResultQuery { .. } = msg.payload {
                let q = self.query(msg)?;
                let bytes = q
                    .encode()
                    .map_err(|e| SendError::Permanent(format!("cannot write the query: {e}")))?;
                (bytes, q.header.control_id)
            } else {
                let order = self.order(msg)?;
                let bytes = order
                    .encode()
                    .map_err(|e| SendError::Permanent(format!("cannot write the order: {e}")))?;
                (bytes, order.header.control_id)
            };
            let answer = self
                .client
                .lock()
                .await
                .send_bytes(&bytes, &control_id)
                .await;
            match answer {
                Ok(ack) => {
                    let why = || match &ack.error {
                        Some((code, text)) => format!("{} {code} {text}", ack.code.code()),
                        None => format!("{} {}", ack.code.code(), ack.text),
                    };
                    match ack.code.outcome() {
                        Delivery::Accepted => Ok(Delivered {
                            acknowledged: true,
                            remote_ref: None,
                        }),
                        Delivery::RetryLater => Err(SendError::Retryable(why())),
                        Delivery::Failed => Err(SendError::Permanent(why())),
                    }
                }
                Err(e) => match e.delivery() {
                    Delivery::Failed => Err(SendError::Permanent(e.to_string())),
                    _ => Err(SendError::Unavailable(e.to_string())),
                },
            }
        })
    }

    fn describe(&self) -> String {
        format!(
            "HL7 {} over MLLP to {} ({}) for {}",
            self.kind.name(),
            self.addr,
            self.charset.hl7_name(),
            self.counterpart
        )
    }
}

/// Where an `hl7_mllp` counterpart's results come in, if it says.
pub fn listen_spec(spec: &AdapterSpec) -> Option<(String, Charset)> {
    let addr = text(spec, "listen")?.to_string();
    let charset = match text(spec, "charset") {
        Some("gbk" | "GBK" | "gb18030") => Charset::Gbk,
        _ => Charset::Utf8,
    };
    Some((addr, charset))
}

/// Takes `counterpart`'s results on `listener` until the service stops.
pub async fn listen(
    db: Db,
    counterpart: Counterpart,
    charset: Charset,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let cfg = exam_hl7::mllp::ListenerConfig {
        peer_charset: charset,
        ..Default::default()
    };
    exam_hl7::mllp::serve(listener, cfg, move |m: exam_hl7::mllp::Inbound| {
        let db = db.clone();
        async move { receive(&db, counterpart, &m).await }
    })
    .await
}

/// Keeps every item of one ORU^R01, then answers (the ACK only after the
/// store has it).
async fn receive(
    db: &Db,
    counterpart: Counterpart,
    m: &exam_hl7::mllp::Inbound,
) -> exam_hl7::mllp::Reply {
    use exam_hl7::mllp::Reply;
    let r = match exam_hl7::ResultMessage::from_message(&m.message, m.charset) {
        Ok(r) => r,
        Err(e) => return Reply::error(exam_hl7::ErrorCode::DataType, e.to_string()),
    };
    let body = m.message.encode();
    for (i, item) in r.items.iter().enumerate() {
        let status = match item.status {
            exam_hl7::ResultStatus::Final => ResultStatus::Final,
            exam_hl7::ResultStatus::Corrected => ResultStatus::Corrected,
            _ => ResultStatus::Partial,
        };
        let kept = Inbound {
            counterpart,
            kind: if counterpart == Counterpart::Lis {
                InboundKind::Result
            } else {
                InboundKind::Report
            },
            control_id: format!("{}#{}", r.header.control_id, i + 1),
            order_no: Some(item.placer_order_number.clone()),
            status,
            body: body.clone(),
            content: format!("{item:?}"),
            observations: item.observations.iter().map(observed).collect(),
        };
        if let Err(e) = db.receive_inbound(&kept, Utc::now()).await {
            tracing::error!(counterpart = %counterpart, error = %e, "a result could not be kept");
            return Reply::reject(
                exam_hl7::ErrorCode::ApplicationInternal,
                "result not stored, send again",
            );
        }
    }
    Reply::accept()
}

/// An OBX as the major-abnormal rules read it.
fn observed(o: &exam_hl7::Observation) -> ObservedValue {
    use exam_domain::abnormal::LabFlag;
    use exam_hl7::AbnormalFlag as F;
    let value = match &o.value {
        exam_hl7::ObservationValue::Numeric(s) | exam_hl7::ObservationValue::Text(s) => s.clone(),
        exam_hl7::ObservationValue::Coded(c) => c.text.clone(),
        exam_hl7::ObservationValue::Other { raw, .. } => raw.clone(),
        // A report (PDF or link) is not a value the rules read.
        exam_hl7::ObservationValue::Document(_) | exam_hl7::ObservationValue::Link(_) => {
            String::new()
        }
    };
    ObservedValue {
        code: o.identifier.code.clone(),
        name: o.identifier.text.clone(),
        value,
        unit: o.units.clone(),
        reference_range: o.reference_range.clone(),
        flag: o.abnormal.as_ref().map(|f| match f {
            F::Normal => LabFlag::Normal,
            F::Low => LabFlag::Low,
            F::High => LabFlag::High,
            F::CriticalLow => LabFlag::CriticalLow,
            F::CriticalHigh => LabFlag::CriticalHigh,
            F::CriticalAbnormal => LabFlag::CriticalAbnormal,
            F::BelowScale | F::AboveScale | F::Abnormal | F::Other(_) => LabFlag::Abnormal,
        }),
    }
}
