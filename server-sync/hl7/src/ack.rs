//! Acknowledgments (original mode): `MSH ... ACK^<trigger>^ACK`, `MSA`
//! with AA / AE / AR echoing the acknowledged MSH-10, and `ERR` for the
//! reason of an AE or AR.

use chrono::NaiveDateTime;

use crate::charset::Charset;
use crate::error::{EncodeError, MessageError, ParseError};
use crate::header::{Header, MessageKind, Processing};
use crate::message::{Delimiters, Field, Message, Segment};

/// MSA-1 (HL7 table 0008).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// AA: accepted; the sender is done with the message.
    Accept,
    /// AE: the receiver could not process the message's content; sending
    /// it again unchanged will fail again (a dead letter for staff).
    Error,
    /// AR: rejected for a reason outside the content (the receiver is
    /// busy, down, or does not take this type now): try again later.
    Reject,
    /// CA / CE / CR: enhanced-mode commit acknowledgments, read as their
    /// original-mode twins.
    CommitAccept,
    CommitError,
    CommitReject,
}

impl AckCode {
    pub fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
            AckCode::CommitAccept => "CA",
            AckCode::CommitError => "CE",
            AckCode::CommitReject => "CR",
        }
    }
    pub fn from_code(s: &str) -> Option<AckCode> {
        Some(match s {
            "AA" => AckCode::Accept,
            "AE" => AckCode::Error,
            "AR" => AckCode::Reject,
            "CA" => AckCode::CommitAccept,
            "CE" => AckCode::CommitError,
            "CR" => AckCode::CommitReject,
            _ => return None,
        })
    }

    /// What the sender's queue does next.
    pub fn outcome(self) -> Delivery {
        match self {
            AckCode::Accept | AckCode::CommitAccept => Delivery::Accepted,
            AckCode::Reject | AckCode::CommitReject => Delivery::RetryLater,
            AckCode::Error | AckCode::CommitError => Delivery::Failed,
        }
    }
}

/// The outbound queue's reading of an ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Done: mark the message sent.
    Accepted,
    /// Keep it and try again with backoff (AR; also every transport error).
    RetryLater,
    /// The content was refused (AE): a dead letter with the ERR text.
    Failed,
}

/// HL7 table 0357 error codes we send in ERR-3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    SegmentSequence,
    RequiredFieldMissing,
    DataType,
    TableValueNotFound,
    UnsupportedMessageType,
    UnknownKey,
    DuplicateKey,
    ApplicationInternal,
}

impl ErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::SegmentSequence => "100",
            ErrorCode::RequiredFieldMissing => "101",
            ErrorCode::DataType => "102",
            ErrorCode::TableValueNotFound => "103",
            ErrorCode::UnsupportedMessageType => "200",
            ErrorCode::UnknownKey => "204",
            ErrorCode::DuplicateKey => "205",
            ErrorCode::ApplicationInternal => "207",
        }
    }
    fn text(self) -> &'static str {
        match self {
            ErrorCode::SegmentSequence => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataType => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnknownKey => "Unknown key identifier",
            ErrorCode::DuplicateKey => "Duplicate key identifier",
            ErrorCode::ApplicationInternal => "Application internal error",
        }
    }
}

/// An ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub header: Header,
    /// MSH-9.2 of the acknowledged message (an ACK of an ORU^R01 is
    /// `ACK^R01^ACK`).
    pub trigger: String,
    pub code: AckCode,
    /// MSA-2: the acknowledged message's MSH-10.
    pub acked_control_id: String,
    /// MSA-3.
    pub text: String,
    /// ERR-3 code and ERR-8 user message, for AE and AR. Read back only
    /// as the code's number and the message.
    pub error: Option<(String, String)>,
}

impl Ack {
    /// The reply to `msg` (read in `charset`): parties swapped, our own
    /// `control_id`, the acknowledged control id echoed.
    pub fn reply_to(
        msg: &Message,
        charset: Charset,
        control_id: impl Into<String>,
        now: NaiveDateTime,
        code: AckCode,
        text: impl Into<String>,
    ) -> Ack {
        let msh = msg.msh();
        let get = |n: usize| msh.map(|m| m.get(n)).unwrap_or("").to_string();
        let theirs = Header {
            sending_application: get(3),
            sending_facility: get(4),
            receiving_application: get(5),
            receiving_facility: get(6),
            timestamp: now,
            control_id: get(10),
            processing: match msh.map(|m| m.get(11)).unwrap_or("") {
                "T" => Processing::Training,
                "D" => Processing::Debugging,
                _ => Processing::Production,
            },
            charset,
        };
        Ack {
            header: theirs.reply(control_id, now),
            trigger: msg.message_type().1.to_string(),
            code,
            acked_control_id: get(10),
            text: text.into(),
            error: None,
        }
    }

    /// An AE for bytes we could not read as a message, echoing their
    /// control id when the MSH line can still be made out (so the sender
    /// can match it to what it sent).
    pub fn for_unreadable(
        frame: &[u8],
        charset: Charset,
        err: &ParseError,
        control_id: impl Into<String>,
        now: NaiveDateTime,
    ) -> Ack {
        let text = String::from_utf8_lossy(frame);
        let msh_line = text.split(['\r', '\n']).next().unwrap_or("");
        let msg = Message::parse(msh_line, charset).unwrap_or_else(|_| {
            // Delimiters too broken to parse: split on the field separator
            // anyway, for the parties and the control id to echo.
            let sep = msh_line
                .get(3..)
                .and_then(|r| r.chars().next())
                .unwrap_or('|');
            let parts: Vec<&str> = msh_line.split(sep).collect();
            let mut msh = Segment::new("MSH");
            for n in [3, 4, 5, 6, 10] {
                if let Some(v) = parts.get(n - 1) {
                    msh.set(n, Field::text(*v));
                }
            }
            let trigger = parts.get(8).and_then(|t| t.split('^').nth(1)).unwrap_or("");
            msh.set(9, Field::components(["", trigger]));
            Message::new(Delimiters::default(), msh)
        });
        let code = match err {
            ParseError::BadSegmentId { .. } | ParseError::MissingMsh => ErrorCode::SegmentSequence,
            _ => ErrorCode::DataType,
        };
        Ack::reply_to(&msg, charset, control_id, now, AckCode::Error, "")
            .with_error(code, err.to_string())
    }

    /// Adds an ERR with a table-0357 code and a message for people.
    pub fn with_error(mut self, code: ErrorCode, message: impl Into<String>) -> Ack {
        self.error = Some((code.code().to_string(), message.into()));
        self
    }

    pub fn to_message(&self) -> Message {
        let mut m = Message::new(
            Delimiters::default(),
            self.header.to_segment(MessageKind::Ack, &self.trigger),
        );
        m.push(
            Segment::new("MSA")
                .with(1, Field::text(self.code.code()))
                .with(2, Field::text(&self.acked_control_id))
                .with(3, Field::text(&self.text)),
        );
        if let Some((code, message)) = &self.error {
            let text = match code.as_str() {
                "100" => ErrorCode::SegmentSequence.text(),
                "101" => ErrorCode::RequiredFieldMissing.text(),
                "102" => ErrorCode::DataType.text(),
                "103" => ErrorCode::TableValueNotFound.text(),
                "200" => ErrorCode::UnsupportedMessageType.text(),
                "204" => ErrorCode::UnknownKey.text(),
                "205" => ErrorCode::DuplicateKey.text(),
                _ => ErrorCode::ApplicationInternal.text(),
            };
            m.push(
                Segment::new("ERR")
                    .with(3, Field::components([code.as_str(), text, "HL70357"]))
                    .with(4, Field::text("E"))
                    .with(8, Field::text(message)),
            );
        }
        m
    }

    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.to_message().encode_bytes(self.header.charset)
    }

    /// Reads an ACK. Also takes a v2.3-style ERR (code in ERR-1.4), and an
    /// `ORF^R04` (a LIS's answer to our `QRY^R02`) for its MSA alone: the
    /// results it may carry are not read here, they come as `ORU^R01`.
    pub fn from_message(m: &Message, charset: Charset) -> Result<Ack, MessageError> {
        let (code, trigger) = m.message_type();
        if !matches!(
            MessageKind::from_type(code, trigger),
            Some(MessageKind::Ack | MessageKind::OrfR04)
        ) {
            return Err(MessageError::WrongType {
                expected: "ACK or ORF^R04",
                found: format!("{code}^{trigger}"),
            });
        }
        let header =
            Header::from_segment(m.msh().ok_or(MessageError::MissingSegment("MSH"))?, charset)?;
        let msa = m
            .segment("MSA")
            .ok_or(MessageError::MissingSegment("MSA"))?;
        let ack_code = AckCode::from_code(msa.get(1)).ok_or_else(|| MessageError::BadValue {
            segment: "MSA",
            field: 1,
            value: msa.get(1).to_string(),
            expected: "AA, AE, AR, CA, CE or CR",
        })?;
        let acked = msa.get(2);
        if acked.is_empty() {
            return Err(MessageError::MissingField {
                segment: "MSA",
                field: 2,
                what: "acknowledged control id",
            });
        }
        let error = m.segment("ERR").map(|e| {
            let code = if e.component(3, 1).is_empty() {
                e.component(1, 4).to_string()
            } else {
                e.component(3, 1).to_string()
            };
            let message = if e.get(8).is_empty() {
                e.component(3, 2).to_string()
            } else {
                e.get(8).to_string()
            };
            (code, message)
        });
        Ok(Ack {
            header,
            trigger: trigger.to_string(),
            code: ack_code,
            acked_control_id: acked.to_string(),
            text: msa.get(3).to_string(),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn ack_echoes_control_id_and_round_trips() {
        let inbound = Message::parse(
            "MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101500||ORU^R01^ORU_R01|R0001|P|2.5\rPID|||P1\r",
            Charset::Utf8,
        )
        .unwrap();
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 15, 1)
            .unwrap();
        let ack = Ack::reply_to(
            &inbound,
            Charset::Gbk,
            "A1",
            now,
            AckCode::Error,
            "条码未知",
        )
        .with_error(ErrorCode::UnknownKey, "barcode B1 not ordered");
        let text = ack.to_message().encode();
        assert!(text.starts_with(
            "MSH|^~\\&|EXAM|CENTER|LIS|LAB|20261205101501||ACK^R01^ACK|A1|P|2.5|||||CHN|GB 18030-2000\rMSA|AE|R0001|条码未知\r"
        ));
        assert!(
            text.contains("ERR|||204^Unknown key identifier^HL70357|E||||barcode B1 not ordered\r")
        );
        let (m, cs) = crate::decode(&ack.encode().unwrap(), Charset::Utf8).unwrap();
        assert_eq!(Ack::from_message(&m, cs).unwrap(), ack);
        assert_eq!(ack.code.outcome(), Delivery::Failed);
        assert_eq!(AckCode::Reject.outcome(), Delivery::RetryLater);
        assert_eq!(AckCode::CommitAccept.outcome(), Delivery::Accepted);
    }

    #[test]
    fn unreadable_messages_still_get_their_control_id_echoed() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        for raw in [
            "MSH|^~|LIS|LAB|EXAM|C|20261205||ORU^R01|R77|P|2.5\rPID|1\r",
            "MSH|^~\\&|LIS|LAB|EXAM|C|20261205||ORU^R01|R77|P|2.5\rpid|1\r",
        ] {
            let err = crate::decode(raw.as_bytes(), Charset::Utf8).unwrap_err();
            let ack = Ack::for_unreadable(raw.as_bytes(), Charset::Utf8, &err, "A9", now);
            assert_eq!(ack.acked_control_id, "R77");
            assert_eq!(ack.code, AckCode::Error);
            assert_eq!(ack.trigger, "R01");
            assert_eq!(ack.header.receiving_application, "LIS");
        }
    }

    #[test]
    fn refuses_bad_acks() {
        let read =
            |t: &str| Ack::from_message(&Message::parse(t, Charset::Utf8).unwrap(), Charset::Utf8);
        let h = "MSH|^~\\&|A|B|C|D|20261205||ACK|X|P|2.5\r";
        assert!(matches!(read(h), Err(MessageError::MissingSegment("MSA"))));
        assert!(matches!(
            read(&format!("{h}MSA|ZZ|Y\r")),
            Err(MessageError::BadValue { segment: "MSA", .. })
        ));
        assert!(matches!(
            read(&format!("{h}MSA|AA\r")),
            Err(MessageError::MissingField {
                segment: "MSA",
                field: 2,
                ..
            })
        ));
        // A v2.3 peer's ERR.
        let a = read(&format!("{h}MSA|AR|Y\rERR|^^^207&busy\r")).unwrap();
        assert_eq!(a.error, Some(("207".into(), "".into())));
        // A LIS's ORF^R04 answer to our QRY^R02: read for its MSA alone.
        let orf = read(
            "MSH|^~\\&|LIS|LAB|EXAM|C|20261205||ORF^R04^ORF_R04|L9|P|2.5\rMSA|AA|Q1\rQRD|20261205|R|I|Q1|||1^RD|P1|RES|B1\r",
        )
        .unwrap();
        assert_eq!(
            (orf.code, orf.acked_control_id.as_str()),
            (AckCode::Accept, "Q1")
        );
        // Other messages are not acknowledgments.
        assert!(matches!(
            read("MSH|^~\\&|A|B|C|D|20261205||QRY^R02^QRY_R02|X|P|2.5\rMSA|AA|Y\r"),
            Err(MessageError::WrongType { .. })
        ));
    }
}
