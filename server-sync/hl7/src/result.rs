//! Results as `ORU^R01`: per ordered item an OBR (placer order number =
//! the barcode we sent, OBR-4 the item, OBR-25 the status) followed by its
//! OBX observations.
//!
//! ```text
//! OBR|1|barcode|filler no|item^name^L|||observed at|...|OBR-25 F
//! OBX|1|NM|K^钾^L||6.8|mmol/L|3.5-5.3|HH|||F|||observed at
//! OBX|2|TX|IMP^诊断^L||未见明显异常||||||F
//! OBX|3|ED|PDF^报告^L||^AP^PDF^Base64^JVBERi0...||||||F
//! OBX|4|RP|URL^报告链接^L||http://pacs/r/1^PACS^AP^PDF||||||F
//! ```

use base64::Engine as _;
use chrono::NaiveDateTime;

use crate::charset::Charset;
use crate::error::{EncodeError, MessageError};
use crate::header::{Coded, Header, MessageKind, Patient, parse_ts, ts_field};
use crate::message::{Component, Delimiters, Field, Message, Repetition, Segment};

/// OBX-8 abnormal flags (HL7 table 0078).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AbnormalFlag {
    Normal,
    Low,
    High,
    /// LL: below the lower panic limit (a critical value).
    CriticalLow,
    /// HH: above the upper panic limit (a critical value).
    CriticalHigh,
    /// `<`: below the lowest measurable value.
    BelowScale,
    /// `>`: above the highest measurable value.
    AboveScale,
    /// A: abnormal (non-numeric results).
    Abnormal,
    /// AA: very abnormal (a critical value, non-numeric).
    CriticalAbnormal,
    /// Any other code of table 0078 (U, D, B, W, S, R, I, MS, VS, ...).
    Other(String),
}

impl AbnormalFlag {
    pub fn code(&self) -> &str {
        match self {
            AbnormalFlag::Normal => "N",
            AbnormalFlag::Low => "L",
            AbnormalFlag::High => "H",
            AbnormalFlag::CriticalLow => "LL",
            AbnormalFlag::CriticalHigh => "HH",
            AbnormalFlag::BelowScale => "<",
            AbnormalFlag::AboveScale => ">",
            AbnormalFlag::Abnormal => "A",
            AbnormalFlag::CriticalAbnormal => "AA",
            AbnormalFlag::Other(s) => s,
        }
    }

    /// `None` for an empty field.
    pub fn from_code(s: &str) -> Option<AbnormalFlag> {
        Some(match s.trim() {
            "" => return None,
            "N" => AbnormalFlag::Normal,
            "L" => AbnormalFlag::Low,
            "H" => AbnormalFlag::High,
            "LL" => AbnormalFlag::CriticalLow,
            "HH" => AbnormalFlag::CriticalHigh,
            "<" => AbnormalFlag::BelowScale,
            ">" => AbnormalFlag::AboveScale,
            "A" => AbnormalFlag::Abnormal,
            "AA" => AbnormalFlag::CriticalAbnormal,
            other => AbnormalFlag::Other(other.to_string()),
        })
    }

    /// HH, LL and AA: a critical value (危急值) that must reach a doctor.
    pub fn is_critical(&self) -> bool {
        matches!(
            self,
            AbnormalFlag::CriticalLow | AbnormalFlag::CriticalHigh | AbnormalFlag::CriticalAbnormal
        )
    }

    /// Anything but normal (and the informational codes we do not know).
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, AbnormalFlag::Normal | AbnormalFlag::Other(_))
    }
}

/// OBR-25 / OBX-11 result status (HL7 tables 0123 / 0085).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultStatus {
    Final,
    Preliminary,
    Corrected,
    /// Any other code (R, S, X, D, I, W, ...), kept as sent.
    Other(String),
}

impl ResultStatus {
    pub fn code(&self) -> &str {
        match self {
            ResultStatus::Final => "F",
            ResultStatus::Preliminary => "P",
            ResultStatus::Corrected => "C",
            ResultStatus::Other(s) => s,
        }
    }
    pub fn from_code(s: &str) -> ResultStatus {
        match s {
            "F" => ResultStatus::Final,
            "P" => ResultStatus::Preliminary,
            "C" => ResultStatus::Corrected,
            other => ResultStatus::Other(other.to_string()),
        }
    }
}

/// OBX-5 by OBX-2 value type.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationValue {
    /// NM: kept as the text sent ("6.80" and "6.8" are both exact);
    /// [`ObservationValue::as_f64`] reads it.
    Numeric(String),
    /// ST, TX, FT: repetitions joined with newlines.
    Text(String),
    /// CE / CWE.
    Coded(Coded),
    /// ED: an embedded document, e.g. a PDF report.
    Document(EmbeddedDocument),
    /// RP: a reference to a report held elsewhere (a URL).
    Link(ReferencePointer),
    /// Any other type (SN, DT, TS, ...), with OBX-5 as written.
    Other { value_type: String, raw: String },
}

impl ObservationValue {
    pub fn value_type(&self) -> &str {
        match self {
            ObservationValue::Numeric(_) => "NM",
            ObservationValue::Text(_) => "TX",
            ObservationValue::Coded(_) => "CE",
            ObservationValue::Document(_) => "ED",
            ObservationValue::Link(_) => "RP",
            ObservationValue::Other { value_type, .. } => value_type,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ObservationValue::Numeric(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// ED: source application ^ type of data ^ subtype ^ encoding ^ data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedDocument {
    /// "AP" (application data) for a PDF.
    pub type_of_data: String,
    /// "PDF".
    pub subtype: String,
    /// The decoded bytes (sent as Base64).
    pub data: Vec<u8>,
}

/// RP: pointer ^ application id ^ type of data ^ subtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencePointer {
    pub pointer: String,
    pub application: String,
    pub type_of_data: String,
    pub subtype: String,
}

/// One OBX.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// OBX-3.
    pub identifier: Coded,
    pub value: ObservationValue,
    /// OBX-6.
    pub units: String,
    /// OBX-7, as written ("3.5-5.3", "<5.2", "阴性").
    pub reference_range: String,
    /// OBX-8.
    pub abnormal: Option<AbnormalFlag>,
    /// OBX-11.
    pub status: ResultStatus,
    /// OBX-14.
    pub observed_at: Option<NaiveDateTime>,
}

/// One OBR and its observations: the results for one ordered item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// OBR-2: the barcode we sent as the placer order number.
    pub placer_order_number: String,
    /// OBR-3: the counterpart's own number.
    pub filler_order_number: String,
    /// OBR-4: the item.
    pub item: Coded,
    /// OBR-7.
    pub observed_at: Option<NaiveDateTime>,
    /// OBR-25.
    pub status: ResultStatus,
    pub observations: Vec<Observation>,
}

impl ItemResult {
    /// Whether any observation carries a critical flag (HH, LL, AA).
    pub fn has_critical(&self) -> bool {
        self.observations
            .iter()
            .any(|o| o.abnormal.as_ref().is_some_and(AbnormalFlag::is_critical))
    }
}

/// An `ORU^R01`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultMessage {
    pub header: Header,
    pub patient: Patient,
    /// PV1-19, the exam number, when the counterpart sends it back.
    pub visit_number: String,
    pub items: Vec<ItemResult>,
}

impl ResultMessage {
    pub fn to_message(&self) -> Message {
        let mut m = Message::new(
            Delimiters::default(),
            self.header.to_segment(MessageKind::OruR01, ""),
        );
        m.push(self.patient.to_pid());
        m.push(
            Segment::new("PV1")
                .with(1, Field::text("1"))
                .with(2, Field::text("O"))
                .with(19, Field::text(&self.visit_number)),
        );
        for (i, item) in self.items.iter().enumerate() {
            m.push(
                Segment::new("OBR")
                    .with(1, Field::text((i + 1).to_string()))
                    .with(2, Field::text(&item.placer_order_number))
                    .with(3, Field::text(&item.filler_order_number))
                    .with(4, item.item.field())
                    .with(7, ts_field(item.observed_at))
                    .with(25, Field::text(item.status.code())),
            );
            for (j, o) in item.observations.iter().enumerate() {
                m.push(
                    Segment::new("OBX")
                        .with(1, Field::text((j + 1).to_string()))
                        .with(2, Field::text(o.value.value_type()))
                        .with(3, o.identifier.field())
                        .with(5, value_field(&o.value))
                        .with(6, Field::text(&o.units))
                        .with(7, Field::text(&o.reference_range))
                        .with(
                            8,
                            Field::text(o.abnormal.as_ref().map(AbnormalFlag::code).unwrap_or("")),
                        )
                        .with(11, Field::text(o.status.code()))
                        .with(14, ts_field(o.observed_at)),
                );
            }
        }
        m
    }

    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.to_message().encode_bytes(self.header.charset)
    }

    /// Reads an `ORU^R01`.
    pub fn from_message(m: &Message, charset: Charset) -> Result<ResultMessage, MessageError> {
        let (code, trigger) = m.message_type();
        if MessageKind::from_type(code, trigger) != Some(MessageKind::OruR01) {
            return Err(MessageError::WrongType {
                expected: "ORU^R01",
                found: format!("{code}^{trigger}"),
            });
        }
        let header =
            Header::from_segment(m.msh().ok_or(MessageError::MissingSegment("MSH"))?, charset)?;
        let patient = Patient::from_pid(
            m.segment("PID")
                .ok_or(MessageError::MissingSegment("PID"))?,
        )?;
        let visit_number = m
            .segment("PV1")
            .map(|s| s.get(19))
            .unwrap_or("")
            .to_string();
        let mut items: Vec<ItemResult> = Vec::new();
        for seg in &m.segments {
            match seg.id.as_str() {
                "OBR" => {
                    let placer = seg.get(2);
                    if placer.is_empty() {
                        return Err(MessageError::MissingField {
                            segment: "OBR",
                            field: 2,
                            what: "placer order number (barcode)",
                        });
                    }
                    let item = Coded::read(seg, 4);
                    if item.code.is_empty() {
                        return Err(MessageError::MissingField {
                            segment: "OBR",
                            field: 4,
                            what: "item code",
                        });
                    }
                    items.push(ItemResult {
                        placer_order_number: placer.to_string(),
                        filler_order_number: seg.get(3).to_string(),
                        item,
                        observed_at: parse_ts(seg.get(7)),
                        status: ResultStatus::from_code(seg.get(25)),
                        observations: Vec::new(),
                    });
                }
                "OBX" => {
                    let item = items
                        .last_mut()
                        .ok_or(MessageError::MissingSegment("OBR"))?;
                    item.observations.push(read_obx(seg)?);
                }
                _ => {}
            }
        }
        if items.is_empty() {
            return Err(MessageError::MissingSegment("OBR"));
        }
        Ok(ResultMessage {
            header,
            patient,
            visit_number,
            items,
        })
    }
}

fn value_field(v: &ObservationValue) -> Field {
    match v {
        ObservationValue::Numeric(s) => Field::text(s),
        ObservationValue::Text(s) => Field {
            // A line per repetition: newlines would otherwise go out as
            // \X0A\, which some LIS show as text.
            repetitions: s
                .split('\n')
                .map(|line| Repetition {
                    components: vec![Component {
                        subcomponents: vec![line.to_string()],
                    }],
                })
                .collect(),
        },
        ObservationValue::Coded(c) => c.field(),
        ObservationValue::Document(d) => Field::components([
            String::new(),
            d.type_of_data.clone(),
            d.subtype.clone(),
            "Base64".to_string(),
            base64::engine::general_purpose::STANDARD.encode(&d.data),
        ]),
        ObservationValue::Link(r) => Field::components([
            r.pointer.as_str(),
            r.application.as_str(),
            r.type_of_data.as_str(),
            r.subtype.as_str(),
        ]),
        ObservationValue::Other { raw, .. } => Field::text(raw),
    }
}

fn read_obx(seg: &Segment) -> Result<Observation, MessageError> {
    let value_type = seg.get(2);
    let f5 = seg.field(5).cloned().unwrap_or_default();
    let value = match value_type {
        "NM" => ObservationValue::Numeric(f5.component(1).to_string()),
        "ST" | "TX" | "FT" => ObservationValue::Text(
            f5.repetitions
                .iter()
                .map(|r| r.component(1))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        "CE" | "CWE" => ObservationValue::Coded(Coded::new(f5.component(1), f5.component(2))),
        "ED" => {
            let encoding = f5.component(4);
            let raw = f5.component(5);
            let data = match encoding.to_ascii_uppercase().as_str() {
                "BASE64" => base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|_| MessageError::BadValue {
                        segment: "OBX",
                        field: 5,
                        value: raw.chars().take(32).collect(),
                        expected: "Base64 data",
                    })?,
                "A" | "" => raw.as_bytes().to_vec(),
                _ => {
                    return Err(MessageError::BadValue {
                        segment: "OBX",
                        field: 5,
                        value: encoding.to_string(),
                        expected: "an ED encoding we read (Base64, A)",
                    });
                }
            };
            ObservationValue::Document(EmbeddedDocument {
                type_of_data: f5.component(2).to_string(),
                subtype: f5.component(3).to_string(),
                data,
            })
        }
        "RP" => ObservationValue::Link(ReferencePointer {
            pointer: f5.component(1).to_string(),
            application: f5.component(2).to_string(),
            type_of_data: f5.component(3).to_string(),
            subtype: f5.component(4).to_string(),
        }),
        "" => {
            return Err(MessageError::MissingField {
                segment: "OBX",
                field: 2,
                what: "value type",
            });
        }
        other => ObservationValue::Other {
            value_type: other.to_string(),
            raw: f5.component(1).to_string(),
        },
    };
    let identifier = Coded::read(seg, 3);
    if identifier.code.is_empty() {
        return Err(MessageError::MissingField {
            segment: "OBX",
            field: 3,
            what: "observation identifier",
        });
    }
    Ok(Observation {
        identifier,
        value,
        units: seg.component(6, 1).to_string(),
        reference_range: seg.get(7).to_string(),
        abnormal: AbnormalFlag::from_code(seg.get(8)),
        status: ResultStatus::from_code(seg.get(11)),
        observed_at: parse_ts(seg.get(14)),
    })
}

#[cfg(test)]
#[path = "result_tests.rs"]
mod tests;
