//! Orders to the laboratory and the imaging / ECG / endoscopy / pathology
//! systems, as `ORM^O01` or `OML^O21`, and their cancellations (ORC-1 CA).
//!
//! ```text
//! MSH  ... ORM^O01^ORM_O01 | control id | P | 2.5 ... charset
//! PID  |1||patient id^^^^PI||name||birth date|sex
//! PV1  |1|O| ... PV1-19 visit (exam) number
//! ORC  |NW or CA|barcode||exam number||||||when||||||department code^name^L
//! OBR  |n|barcode||item code^item name^L||when|| ... OBR-24 section (LAB, RAD, ...)
//! SPM  |n|barcode||specimen code^name^L          (OML^O21 only, when known)
//! ```

use chrono::NaiveDateTime;

use crate::charset::Charset;
use crate::error::{EncodeError, MessageError};
use crate::header::{Coded, Header, MessageKind, Patient, parse_ts, ts_field};
use crate::message::{Delimiters, Field, Message, Segment};

/// Which counterpart an order goes to; OBR-24 (diagnostic service
/// section, HL7 table 0074) carries it, so a shared interface engine can
/// route it. Endoscopy has no code in table 0074: "ENDO" is local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetSystem {
    Lis,
    Pacs,
    Ultrasound,
    Ecg,
    Endoscopy,
    Pathology,
}

impl TargetSystem {
    pub const ALL: [TargetSystem; 6] = [
        TargetSystem::Lis,
        TargetSystem::Pacs,
        TargetSystem::Ultrasound,
        TargetSystem::Ecg,
        TargetSystem::Endoscopy,
        TargetSystem::Pathology,
    ];

    pub fn section_code(self) -> &'static str {
        match self {
            TargetSystem::Lis => "LAB",
            TargetSystem::Pacs => "RAD",
            TargetSystem::Ultrasound => "RUS",
            TargetSystem::Ecg => "EC",
            TargetSystem::Endoscopy => "ENDO",
            TargetSystem::Pathology => "SP",
        }
    }

    pub fn from_section_code(code: &str) -> Option<TargetSystem> {
        TargetSystem::ALL
            .into_iter()
            .find(|t| t.section_code() == code)
    }

    /// Everything but the laboratory sends back a report (text, and a PDF
    /// or a link) rather than numbers.
    pub fn is_imaging(self) -> bool {
        self != TargetSystem::Lis
    }
}

/// ORC-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderControl {
    /// NW: a new order.
    New,
    /// CA: cancel the order (after a refund, or an item removed).
    Cancel,
}

impl OrderControl {
    pub fn code(self) -> &'static str {
        match self {
            OrderControl::New => "NW",
            OrderControl::Cancel => "CA",
        }
    }
    pub fn from_code(s: &str) -> Option<OrderControl> {
        match s {
            "NW" => Some(OrderControl::New),
            "CA" => Some(OrderControl::Cancel),
            _ => None,
        }
    }
}

/// One ordered item (an ORC / OBR pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub control: OrderControl,
    /// ORC-2 and OBR-2, the placer order number: the specimen barcode for
    /// the laboratory, the request number for imaging. With the item code
    /// it is the key results come back under.
    pub placer_order_number: String,
    /// OBR-4: the centre's item code and name.
    pub item: Coded,
    /// ORC-9 / OBR-6.
    pub requested_at: Option<NaiveDateTime>,
    /// SPM-4 (OML^O21 only): the specimen type, e.g. serum.
    pub specimen: Option<Coded>,
}

/// An order message: one patient's visit, one or more items, one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `MessageKind::OrmO01` or `MessageKind::OmlO21`.
    pub kind: MessageKind,
    pub header: Header,
    pub patient: Patient,
    /// PV1-19 and ORC-4 (placer group number): the exam number.
    pub visit_number: String,
    /// ORC-17, the ordering department.
    pub department: Coded,
    pub target: TargetSystem,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn to_message(&self) -> Message {
        let kind = match self.kind {
            MessageKind::OmlO21 => MessageKind::OmlO21,
            _ => MessageKind::OrmO01,
        };
        let mut m = Message::new(Delimiters::default(), self.header.to_segment(kind, ""));
        m.push(self.patient.to_pid());
        m.push(
            Segment::new("PV1")
                .with(1, Field::text("1"))
                // Outpatient: a health examination is an outpatient visit.
                .with(2, Field::text("O"))
                .with(19, Field::text(&self.visit_number)),
        );
        for (i, line) in self.lines.iter().enumerate() {
            let n = (i + 1).to_string();
            m.push(
                Segment::new("ORC")
                    .with(1, Field::text(line.control.code()))
                    .with(2, Field::text(&line.placer_order_number))
                    .with(4, Field::text(&self.visit_number))
                    .with(9, ts_field(line.requested_at))
                    .with(17, self.department.field()),
            );
            m.push(
                Segment::new("OBR")
                    .with(1, Field::text(&n))
                    .with(2, Field::text(&line.placer_order_number))
                    .with(4, line.item.field())
                    .with(6, ts_field(line.requested_at))
                    .with(24, Field::text(self.target.section_code())),
            );
            if kind == MessageKind::OmlO21
                && let Some(spec) = &line.specimen
            {
                m.push(
                    Segment::new("SPM")
                        .with(1, Field::text(&n))
                        .with(2, Field::text(&line.placer_order_number))
                        .with(4, spec.field()),
                );
            }
        }
        m
    }

    /// One order per line, control ids `<id>-<n>` (unchanged for a single
    /// line). Send OML^O21 this way: in v2.5's OML^O21 grammar a second ORC
    /// after an OBR may also start a PRIOR_RESULT's ORDER_PRIOR, and greedy
    /// parsers (hl7apy among them) read it so. ORM^O01 has no such
    /// ambiguity and carries several lines well.
    pub fn split_lines(&self) -> Vec<Order> {
        if self.lines.len() <= 1 {
            return vec![self.clone()];
        }
        self.lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let mut o = self.clone();
                o.header.control_id = format!("{}-{}", self.header.control_id, i + 1);
                o.lines = vec![line.clone()];
                o
            })
            .collect()
    }

    /// The message as bytes in the header's charset, ready for MLLP.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.to_message().encode_bytes(self.header.charset)
    }

    /// Reads an `ORM^O01` or `OML^O21`. `charset` is the one the bytes
    /// were read in (from [`crate::decode`]).
    pub fn from_message(m: &Message, charset: Charset) -> Result<Order, MessageError> {
        let (code, trigger) = m.message_type();
        let kind = match MessageKind::from_type(code, trigger) {
            Some(k @ (MessageKind::OrmO01 | MessageKind::OmlO21)) => k,
            _ => {
                return Err(MessageError::WrongType {
                    expected: "ORM^O01 or OML^O21",
                    found: format!("{code}^{trigger}"),
                });
            }
        };
        let header =
            Header::from_segment(m.msh().ok_or(MessageError::MissingSegment("MSH"))?, charset)?;
        let patient = Patient::from_pid(
            m.segment("PID")
                .ok_or(MessageError::MissingSegment("PID"))?,
        )?;
        let mut visit_number = m
            .segment("PV1")
            .map(|s| s.get(19))
            .unwrap_or("")
            .to_string();
        let mut department = Coded::default();
        let mut target = None;
        let mut lines: Vec<OrderLine> = Vec::new();
        for seg in &m.segments {
            match seg.id.as_str() {
                "ORC" => {
                    let control = OrderControl::from_code(seg.get(1)).ok_or_else(|| {
                        MessageError::BadValue {
                            segment: "ORC",
                            field: 1,
                            value: seg.get(1).to_string(),
                            expected: "NW or CA",
                        }
                    })?;
                    if visit_number.is_empty() {
                        visit_number = seg.get(4).to_string();
                    }
                    if department.code.is_empty() {
                        department = Coded::read(seg, 17);
                    }
                    lines.push(OrderLine {
                        control,
                        placer_order_number: seg.get(2).to_string(),
                        item: Coded::default(),
                        requested_at: parse_ts(seg.get(9)),
                        specimen: None,
                    });
                }
                "OBR" => {
                    let line = lines
                        .last_mut()
                        .ok_or(MessageError::MissingSegment("ORC"))?;
                    if line.placer_order_number.is_empty() {
                        line.placer_order_number = seg.get(2).to_string();
                    }
                    line.item = Coded::read(seg, 4);
                    if line.requested_at.is_none() {
                        line.requested_at = parse_ts(seg.get(6));
                    }
                    let section = seg.get(24);
                    let t = TargetSystem::from_section_code(section).ok_or_else(|| {
                        MessageError::BadValue {
                            segment: "OBR",
                            field: 24,
                            value: section.to_string(),
                            expected: "a diagnostic service section (LAB, RAD, RUS, EC, ENDO, SP)",
                        }
                    })?;
                    target.get_or_insert(t);
                }
                // SPM belongs to OML^O21 (an ORM^O01 has no such segment).
                "SPM" if kind == MessageKind::OmlO21 => {
                    if let Some(line) = lines.last_mut() {
                        line.specimen = Some(Coded::read(seg, 4));
                    }
                }
                _ => {}
            }
        }
        if lines.is_empty() {
            return Err(MessageError::MissingSegment("ORC"));
        }
        for line in &lines {
            if line.placer_order_number.is_empty() {
                return Err(MessageError::MissingField {
                    segment: "ORC",
                    field: 2,
                    what: "placer order number (barcode)",
                });
            }
            if line.item.code.is_empty() {
                return Err(MessageError::MissingField {
                    segment: "OBR",
                    field: 4,
                    what: "item code",
                });
            }
        }
        Ok(Order {
            kind,
            header,
            patient,
            visit_number,
            department,
            target: target.ok_or(MessageError::MissingSegment("OBR"))?,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Sex;
    use chrono::NaiveDate;

    pub(crate) fn sample(kind: MessageKind, charset: Charset) -> Order {
        let at = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(8, 30, 0)
            .unwrap();
        Order {
            kind,
            header: Header {
                sending_application: "EXAM".into(),
                sending_facility: "CENTER".into(),
                receiving_application: "LIS".into(),
                receiving_facility: "LAB".into(),
                timestamp: at,
                control_id: "ORD0001".into(),
                processing: Default::default(),
                charset,
            },
            patient: Patient {
                id: "P0001".into(),
                name: "张三".into(),
                sex: Sex::Male,
                birth_date: NaiveDate::from_ymd_opt(1980, 1, 1),
            },
            visit_number: "2612050001".into(),
            department: Coded::new("TJK", "体检科"),
            target: TargetSystem::Lis,
            lines: vec![
                OrderLine {
                    control: OrderControl::New,
                    placer_order_number: "B123456".into(),
                    item: Coded::new("L-ELEC", "电解质(钾、钠、氯)"),
                    requested_at: Some(at),
                    specimen: Some(Coded::new("SER", "血清")),
                },
                OrderLine {
                    control: OrderControl::Cancel,
                    placer_order_number: "B123457".into(),
                    item: Coded::new("L-GLU", "空腹血糖(GLU)"),
                    requested_at: Some(at),
                    specimen: Some(Coded::new("SER", "血清")),
                },
            ],
        }
    }

    #[test]
    fn orm_and_oml_round_trip() {
        for kind in [MessageKind::OrmO01, MessageKind::OmlO21] {
            for cs in [Charset::Utf8, Charset::Gbk] {
                let mut o = sample(kind, cs);
                if kind == MessageKind::OrmO01 {
                    // ORM carries no SPM.
                    o.lines.iter_mut().for_each(|l| l.specimen = None);
                }
                let bytes = o.encode().unwrap();
                let (m, read_cs) = crate::decode(&bytes, Charset::Utf8).unwrap();
                assert_eq!(read_cs, cs);
                assert_eq!(Order::from_message(&m, read_cs).unwrap(), o);
            }
        }
    }

    #[test]
    fn wire_layout() {
        let text = sample(MessageKind::OrmO01, Charset::Utf8)
            .to_message()
            .encode();
        let segs: Vec<&str> = text.split('\r').collect();
        assert!(segs[0].starts_with("MSH|^~\\&|EXAM|CENTER|LIS|LAB|20261205083000||ORM^O01^ORM_O01|ORD0001|P|2.5|||||CHN|UNICODE UTF-8"));
        assert_eq!(segs[1], "PID|1||P0001^^^^PI||张三||19800101|M");
        assert!(segs[3].starts_with("ORC|NW|B123456||2612050001|"));
        assert!(segs[3].ends_with("|TJK^体检科^L"));
        assert!(segs[4].starts_with("OBR|1|B123456||L-ELEC^电解质(钾、钠、氯)^L||20261205083000|"));
        assert!(segs[4].ends_with("|LAB"));
        assert!(segs[5].starts_with("ORC|CA|B123457|"));
    }

    #[test]
    fn refuses_what_is_not_an_order() {
        let o = sample(MessageKind::OrmO01, Charset::Utf8);
        let text = o.to_message().encode();
        let read = |t: &str| {
            Order::from_message(&Message::parse(t, Charset::Utf8).unwrap(), Charset::Utf8)
        };
        assert!(matches!(
            read(&text.replace("ORM^O01^ORM_O01", "ADT^A01")),
            Err(MessageError::WrongType { .. })
        ));
        assert!(matches!(
            read(&text.replace("ORC|NW|", "ORC|XX|")),
            Err(MessageError::BadValue {
                segment: "ORC",
                field: 1,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("|LAB\r", "|ZZZ\r")),
            Err(MessageError::BadValue {
                segment: "OBR",
                field: 24,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("P0001^^^^PI", "")),
            Err(MessageError::MissingField { segment: "PID", .. })
        ));
        assert!(matches!(
            read(&text.replace("|ORD0001|", "||")),
            Err(MessageError::MissingField {
                segment: "MSH",
                field: 10,
                ..
            })
        ));
    }
}
