//! MSH for the typed messages, and the small value types they share:
//! coded values, patients, timestamps.

use chrono::{NaiveDate, NaiveDateTime};

use crate::charset::Charset;
use crate::error::MessageError;
use crate::message::{Field, Segment};

/// The HL7 version we write (and the one hl7apy validates against).
pub const VERSION: &str = "2.5";

/// The message types this crate builds and reads (MSH-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// General order (`ORM^O01`), what most Chinese LIS / PACS take.
    OrmO01,
    /// Laboratory order (`OML^O21`), for LIS that speak v2.5 orders.
    OmlO21,
    /// Observation result (`ORU^R01`).
    OruR01,
    /// General acknowledgment (`ACK`).
    Ack,
    /// Query for results of observation (`QRY^R02`): the staff's re-fetch.
    QryR02,
    /// Response to a results query (`ORF^R04`): read only for its MSA, as
    /// the acknowledgment of our `QRY^R02`; we never write one.
    OrfR04,
}

impl MessageKind {
    /// MSH-9 components: code, trigger, structure. An ACK's trigger echoes
    /// the message it acknowledges, so it is passed separately.
    fn msh9(self) -> [&'static str; 3] {
        match self {
            MessageKind::OrmO01 => ["ORM", "O01", "ORM_O01"],
            MessageKind::OmlO21 => ["OML", "O21", "OML_O21"],
            MessageKind::OruR01 => ["ORU", "R01", "ORU_R01"],
            MessageKind::Ack => ["ACK", "", "ACK"],
            MessageKind::QryR02 => ["QRY", "R02", "QRY_R02"],
            MessageKind::OrfR04 => ["ORF", "R04", "ORF_R04"],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::OrmO01 => "ORM^O01",
            MessageKind::OmlO21 => "OML^O21",
            MessageKind::OruR01 => "ORU^R01",
            MessageKind::Ack => "ACK",
            MessageKind::QryR02 => "QRY^R02",
            MessageKind::OrfR04 => "ORF^R04",
        }
    }

    /// Reads MSH-9's code and trigger.
    pub fn from_type(code: &str, trigger: &str) -> Option<MessageKind> {
        match (code, trigger) {
            ("ORM", "O01") => Some(MessageKind::OrmO01),
            ("OML", "O21") => Some(MessageKind::OmlO21),
            ("ORU", "R01") => Some(MessageKind::OruR01),
            ("ACK", _) => Some(MessageKind::Ack),
            ("QRY", "R02") => Some(MessageKind::QryR02),
            ("ORF", "R04") => Some(MessageKind::OrfR04),
            _ => None,
        }
    }
}

/// MSH-11: production, training or debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Processing {
    #[default]
    Production,
    Training,
    Debugging,
}

impl Processing {
    fn code(self) -> &'static str {
        match self {
            Processing::Production => "P",
            Processing::Training => "T",
            Processing::Debugging => "D",
        }
    }
    fn from_code(s: &str) -> Processing {
        match s {
            "T" => Processing::Training,
            "D" => Processing::Debugging,
            _ => Processing::Production,
        }
    }
}

/// Who sends to whom, when, with which control id and charset (MSH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    /// MSH-7, local time of the centre (callers pass `now` in).
    pub timestamp: NaiveDateTime,
    /// MSH-10: unique per sender. The outbound queue's row id (or its
    /// idempotency key, ≤ 20 characters) is the natural choice: a retry
    /// reuses it, so the peer can drop the duplicate.
    pub control_id: String,
    pub processing: Processing,
    /// MSH-18, and the bytes' encoding when the message is written.
    pub charset: Charset,
}

impl Header {
    /// The MSH segment for a message of `kind` (`trigger` only for ACKs).
    pub(crate) fn to_segment(&self, kind: MessageKind, ack_trigger: &str) -> Segment {
        let [code, trigger, structure] = kind.msh9();
        let trigger = if kind == MessageKind::Ack {
            ack_trigger
        } else {
            trigger
        };
        Segment::new("MSH")
            .with(3, Field::text(&self.sending_application))
            .with(4, Field::text(&self.sending_facility))
            .with(5, Field::text(&self.receiving_application))
            .with(6, Field::text(&self.receiving_facility))
            .with(7, Field::text(format_ts(self.timestamp)))
            .with(9, Field::components([code, trigger, structure]))
            .with(10, Field::text(&self.control_id))
            .with(11, Field::text(self.processing.code()))
            .with(12, Field::text(VERSION))
            .with(17, Field::text("CHN"))
            .with(18, Field::text(self.charset.hl7_name()))
    }

    /// Reads MSH. The charset is the one the bytes were read in.
    pub fn from_segment(msh: &Segment, charset: Charset) -> Result<Header, MessageError> {
        let control_id = msh.get(10);
        if control_id.is_empty() {
            return Err(MessageError::MissingField {
                segment: "MSH",
                field: 10,
                what: "message control id",
            });
        }
        let ts = msh.get(7);
        let timestamp = parse_ts(ts).ok_or_else(|| MessageError::BadValue {
            segment: "MSH",
            field: 7,
            value: ts.to_string(),
            expected: "a timestamp YYYYMMDD[HHMM[SS]]",
        })?;
        Ok(Header {
            sending_application: msh.get(3).to_string(),
            sending_facility: msh.get(4).to_string(),
            receiving_application: msh.get(5).to_string(),
            receiving_facility: msh.get(6).to_string(),
            timestamp,
            control_id: control_id.to_string(),
            processing: Processing::from_code(msh.get(11)),
            charset,
        })
    }

    /// The header of a reply: the parties swapped, a new control id.
    pub fn reply(&self, control_id: impl Into<String>, now: NaiveDateTime) -> Header {
        Header {
            sending_application: self.receiving_application.clone(),
            sending_facility: self.receiving_facility.clone(),
            receiving_application: self.sending_application.clone(),
            receiving_facility: self.sending_facility.clone(),
            timestamp: now,
            control_id: control_id.into(),
            processing: self.processing,
            charset: self.charset,
        }
    }
}

/// A coded value (CE / CWE): code, text and coding system.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coded {
    pub code: String,
    pub text: String,
}

impl Coded {
    pub fn new(code: impl Into<String>, text: impl Into<String>) -> Coded {
        Coded {
            code: code.into(),
            text: text.into(),
        }
    }
    /// Written with coding system "L" (local codes: the centre's item
    /// dictionary), which is what the hospital's LIS maps.
    pub(crate) fn field(&self) -> Field {
        Field::components([self.code.as_str(), self.text.as_str(), "L"])
    }
    pub(crate) fn read(seg: &Segment, n: usize) -> Coded {
        Coded::new(seg.component(n, 1), seg.component(n, 2))
    }
}

/// Administrative sex (PID-8, HL7 table 0001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sex {
    Male,
    Female,
    Other,
    #[default]
    Unknown,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Other => "O",
            Sex::Unknown => "U",
        }
    }
    pub fn from_code(s: &str) -> Sex {
        match s {
            "M" => Sex::Male,
            "F" => Sex::Female,
            "O" | "A" | "N" => Sex::Other,
            _ => Sex::Unknown,
        }
    }
}

/// The patient as the counterpart knows them (PID).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Patient {
    /// PID-3: the centre's patient id (or HIS's, once 建档 has one).
    pub id: String,
    /// PID-5: the whole Chinese name in the family-name component, as
    /// Chinese LIS expect.
    pub name: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
}

impl Patient {
    pub(crate) fn to_pid(&self) -> Segment {
        Segment::new("PID")
            .with(1, Field::text("1"))
            .with(3, Field::components([self.id.as_str(), "", "", "", "PI"]))
            .with(5, Field::text(&self.name))
            .with(
                7,
                Field::text(
                    self.birth_date
                        .map(|d| d.format("%Y%m%d").to_string())
                        .unwrap_or_default(),
                ),
            )
            .with(8, Field::text(self.sex.code()))
    }

    pub(crate) fn from_pid(pid: &Segment) -> Result<Patient, MessageError> {
        let id = pid.component(3, 1);
        if id.is_empty() {
            return Err(MessageError::MissingField {
                segment: "PID",
                field: 3,
                what: "patient id",
            });
        }
        let birth = pid.get(7);
        let birth_date = if birth.is_empty() {
            None
        } else {
            Some(
                parse_ts(birth)
                    .map(|t| t.date())
                    .ok_or_else(|| MessageError::BadValue {
                        segment: "PID",
                        field: 7,
                        value: birth.to_string(),
                        expected: "a date YYYYMMDD",
                    })?,
            )
        };
        Ok(Patient {
            id: id.to_string(),
            name: pid.component(5, 1).to_string(),
            sex: Sex::from_code(pid.get(8)),
            birth_date,
        })
    }
}

pub(crate) fn format_ts(t: NaiveDateTime) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// Reads an HL7 timestamp: `YYYYMMDD[HH[MM[SS[.S...]]]][+/-ZZZZ]`; the
/// zone is ignored (both sides are the same hospital's clock).
pub fn parse_ts(s: &str) -> Option<NaiveDateTime> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let part = |a: usize, b: usize| digits.get(a..b).and_then(|x| x.parse::<u32>().ok());
    if digits.len() < 8 {
        return None;
    }
    let year = digits.get(0..4)?.parse::<i32>().ok()?;
    let date = NaiveDate::from_ymd_opt(year, part(4, 6)?, part(6, 8)?)?;
    let h = part(8, 10).unwrap_or(0);
    let m = part(10, 12).unwrap_or(0);
    let sec = part(12, 14).unwrap_or(0);
    date.and_hms_opt(h, m, sec)
}

/// Optional timestamp field.
pub(crate) fn ts_field(t: Option<NaiveDateTime>) -> Field {
    Field::text(t.map(format_ts).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_ts("20261205101530+0800").unwrap();
        assert_eq!(format_ts(t), "20261205101530");
        assert_eq!(
            format_ts(parse_ts("202612051015").unwrap()),
            "20261205101500"
        );
        assert_eq!(format_ts(parse_ts("20261205").unwrap()), "20261205000000");
        assert!(parse_ts("2026120").is_none());
        assert!(parse_ts("20261305").is_none());
        assert!(parse_ts("").is_none());
    }
}
