//! The staff's "re-fetch": `QRY^R02`, the query for results of
//! observation that hospitals' LIS take to send an order's results again.
//!
//! ```text
//! MSH  ... QRY^R02^QRY_R02 | control id | P | 2.5 ... charset
//! QRD  |when|R|I|query id|||1^RD|patient id|RES|placer order number
//! QRF  |receiving application
//! ```
//!
//! QRD-2 R (record-oriented), QRD-3 I (immediate), QRD-7 `1^RD` (one
//! record), QRD-8 who: the patient id as our orders carry it (PID-3),
//! QRD-9 what: RES (results), QRD-10: the placer order number we sent
//! (ORC-2 / OBR-2), QRF-1 where: the receiving application.
//!
//! The peer answers on the same connection with an acknowledgment whose
//! MSA-2 is our MSH-10: a plain `ACK` (any trigger, e.g. `ACK^R02`) or an
//! `ORF^R04` carrying MSA (see [`crate::Ack::from_message`]). The results
//! themselves come back as ordinary `ORU^R01` on the results channel,
//! where the receiver's duplicate check (control id, then content) drops
//! what it already has; any QRD / OBR an `ORF^R04` carries is not read.

use chrono::NaiveDateTime;

use crate::charset::Charset;
use crate::error::{EncodeError, MessageError};
use crate::header::{Header, MessageKind, format_ts, parse_ts};
use crate::message::{Delimiters, Field, Message, Segment};

/// A query for one order's results (`QRY^R02`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultQuery {
    pub header: Header,
    /// QRD-1.
    pub queried_at: NaiveDateTime,
    /// QRD-4: unique per query; we use the message's control id.
    pub query_id: String,
    /// QRD-8: the patient id the order was sent under (PID-3).
    pub patient_id: String,
    /// QRD-10: the placer order number whose results are wanted.
    pub placer_order_number: String,
    /// QRF-1: the application asked (MSH-5 unless told otherwise).
    pub where_subject: String,
}

impl ResultQuery {
    pub fn to_message(&self) -> Message {
        let mut m = Message::new(
            Delimiters::default(),
            self.header.to_segment(MessageKind::QryR02, ""),
        );
        m.push(
            Segment::new("QRD")
                .with(1, Field::text(format_ts(self.queried_at)))
                .with(2, Field::text("R"))
                .with(3, Field::text("I"))
                .with(4, Field::text(&self.query_id))
                .with(7, Field::components(["1", "RD"]))
                .with(8, Field::text(&self.patient_id))
                .with(9, Field::text("RES"))
                .with(10, Field::text(&self.placer_order_number)),
        );
        m.push(Segment::new("QRF").with(1, Field::text(&self.where_subject)));
        m
    }

    /// The message as bytes in the header's charset, ready for MLLP.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.to_message().encode_bytes(self.header.charset)
    }

    /// Reads a `QRY^R02` strictly: QRD and QRF present, QRD-2 R, QRD-9
    /// RES, a query id, a patient and a placer order number.
    pub fn from_message(m: &Message, charset: Charset) -> Result<ResultQuery, MessageError> {
        let (code, trigger) = m.message_type();
        if MessageKind::from_type(code, trigger) != Some(MessageKind::QryR02) {
            return Err(MessageError::WrongType {
                expected: "QRY^R02",
                found: format!("{code}^{trigger}"),
            });
        }
        let header =
            Header::from_segment(m.msh().ok_or(MessageError::MissingSegment("MSH"))?, charset)?;
        let qrd = m
            .segment("QRD")
            .ok_or(MessageError::MissingSegment("QRD"))?;
        let qrf = m
            .segment("QRF")
            .ok_or(MessageError::MissingSegment("QRF"))?;
        let when = qrd.get(1);
        let queried_at = parse_ts(when).ok_or_else(|| MessageError::BadValue {
            segment: "QRD",
            field: 1,
            value: when.to_string(),
            expected: "a timestamp YYYYMMDD[HHMM[SS]]",
        })?;
        if qrd.get(2) != "R" {
            return Err(MessageError::BadValue {
                segment: "QRD",
                field: 2,
                value: qrd.get(2).to_string(),
                expected: "R (record-oriented)",
            });
        }
        if qrd.component(9, 1) != "RES" {
            return Err(MessageError::BadValue {
                segment: "QRD",
                field: 9,
                value: qrd.get(9).to_string(),
                expected: "RES (results)",
            });
        }
        let required = |n: usize, what: &'static str| {
            let v = qrd.component(n, 1);
            if v.is_empty() {
                Err(MessageError::MissingField {
                    segment: "QRD",
                    field: n,
                    what,
                })
            } else {
                Ok(v.to_string())
            }
        };
        Ok(ResultQuery {
            header,
            queried_at,
            query_id: required(4, "query id")?,
            patient_id: required(8, "who subject filter (patient id)")?,
            placer_order_number: required(10, "placer order number")?,
            where_subject: qrf.component(1, 1).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    pub(crate) fn sample(charset: Charset) -> ResultQuery {
        let at = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(9, 40, 0)
            .unwrap();
        ResultQuery {
            header: Header {
                sending_application: "EXAM".into(),
                sending_facility: "体检中心".into(),
                receiving_application: "LIS".into(),
                receiving_facility: "LAB".into(),
                timestamp: at,
                control_id: "Q0001".into(),
                processing: Default::default(),
                charset,
            },
            queried_at: at,
            query_id: "Q0001".into(),
            patient_id: "2612050001".into(),
            placer_order_number: "B12|3^4".into(),
            where_subject: "LIS".into(),
        }
    }

    #[test]
    fn wire_layout_and_round_trip_in_both_charsets() {
        let text = sample(Charset::Utf8).to_message().encode();
        let segs: Vec<&str> = text.split('\r').collect();
        assert!(segs[0].starts_with(
            "MSH|^~\\&|EXAM|体检中心|LIS|LAB|20261205094000||QRY^R02^QRY_R02|Q0001|P|2.5"
        ));
        // The placer order number escaped (\F\ and \S\), as every field.
        assert_eq!(
            segs[1],
            "QRD|20261205094000|R|I|Q0001|||1^RD|2612050001|RES|B12\\F\\3\\S\\4"
        );
        assert_eq!(segs[2], "QRF|LIS");
        for cs in [Charset::Utf8, Charset::Gbk] {
            let q = sample(cs);
            let bytes = q.encode().unwrap();
            if cs == Charset::Gbk {
                assert!(std::str::from_utf8(&bytes).is_err(), "GBK on the wire");
            }
            let (m, read_cs) = crate::decode(&bytes, Charset::Utf8).unwrap();
            assert_eq!(read_cs, cs);
            assert_eq!(ResultQuery::from_message(&m, read_cs).unwrap(), q);
        }
    }

    #[test]
    fn refuses_what_is_not_a_result_query() {
        let text = sample(Charset::Utf8).to_message().encode();
        let read = |t: &str| {
            ResultQuery::from_message(&Message::parse(t, Charset::Utf8).unwrap(), Charset::Utf8)
        };
        assert!(matches!(
            read(&text.replace("QRY^R02^QRY_R02", "QRY^A19")),
            Err(MessageError::WrongType { .. })
        ));
        let no_qrf = text.replace("QRF|LIS\r", "");
        assert!(matches!(
            read(&no_qrf),
            Err(MessageError::MissingSegment("QRF"))
        ));
        assert!(matches!(
            read(&text.replace("|R|I|", "|D|I|")),
            Err(MessageError::BadValue {
                segment: "QRD",
                field: 2,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("|RES|", "|DEM|")),
            Err(MessageError::BadValue {
                segment: "QRD",
                field: 9,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("QRD|20261205094000|", "QRD|soon|")),
            Err(MessageError::BadValue {
                segment: "QRD",
                field: 1,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("|RES|B12\\F\\3\\S\\4", "|RES|")),
            Err(MessageError::MissingField {
                segment: "QRD",
                field: 10,
                ..
            })
        ));
        assert!(matches!(
            read(&text.replace("|2612050001|", "||")),
            Err(MessageError::MissingField {
                segment: "QRD",
                field: 8,
                ..
            })
        ));
    }
}
