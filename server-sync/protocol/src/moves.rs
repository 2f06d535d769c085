//! Moving a kiosk's waiting documents to another kiosk (K15): staff ask
//! for it on the staff page when a printer is out for long; the source
//! kiosk learns it from its heartbeat's answer, releases its unfinished
//! jobs in one journaled event, and the target kiosk receives them in its
//! own heartbeat's answer, journals them and confirms. Parts that may have
//! reached paper at the source travel as reprints (printed under the mark).

use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PrinterKind;

/// To the source kiosk: release your unfinished print jobs to `to_kiosk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOrder {
    pub move_id: i64,
    pub to_kiosk: String,
    /// What the target prints (its heartbeat's `prints`): receipt parts
    /// always move; label parts only to a printer of their language, A4
    /// parts only to a kiosk with a report printer.
    #[serde(default, deserialize_with = "crate::printing::known_kinds")]
    pub accepts: Vec<PrinterKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMovedPart")]
pub struct MovedPart {
    pub idx: i64,
    /// A label part names its language ("label:tspl"); a version-1 kiosk
    /// sent plain "label", read by [`PrinterKind::legacy_label`].
    pub printer: PrinterKind,
    /// The rendered bytes, base64.
    pub body: String,
    /// It was on its way to paper at the source: print it marked 补打.
    pub reprint: bool,
}

impl MovedPart {
    pub fn new(idx: i64, printer: PrinterKind, body: &[u8], reprint: bool) -> Self {
        Self {
            idx,
            printer,
            body: base64::engine::general_purpose::STANDARD.encode(body),
            reprint,
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.body)
    }
}

/// A moved part as read from the wire, before its printer is typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMovedPart {
    idx: i64,
    printer: String,
    body: String,
    reprint: bool,
}

impl TryFrom<WireMovedPart> for MovedPart {
    type Error = String;

    fn try_from(w: WireMovedPart) -> Result<Self, String> {
        let printer = match w.printer.parse::<PrinterKind>() {
            Ok(k) => k,
            Err(e) if w.printer == "label" => {
                let body = base64::engine::general_purpose::STANDARD
                    .decode(&w.body)
                    .map_err(|b| format!("moved part {}: {b}", w.idx))?;
                PrinterKind::legacy_label(&body).ok_or_else(|| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        Ok(MovedPart {
            idx: w.idx,
            printer,
            body: w.body,
            reprint: w.reprint,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovedJob {
    pub job_id: Uuid,
    pub kind: String,
    /// Whose documents (booking code).
    pub person: String,
    /// Only the parts not yet printed at the source.
    pub parts: Vec<MovedPart>,
}

/// Event of the source kiosk: these jobs are released (no longer printed here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintReleased {
    pub move_id: i64,
    pub to_kiosk: String,
    pub jobs: Vec<MovedJob>,
}

/// Event of the target kiosk: the moved jobs are in its journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintAccepted {
    pub move_id: i64,
}

/// To the target kiosk: jobs released to it, until it confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingMove {
    pub move_id: i64,
    pub from_kiosk: String,
    pub jobs: Vec<MovedJob>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_label_names_its_language_and_a_version_one_label_is_read_from_its_bytes() {
        let p = MovedPart::new(
            2,
            PrinterKind::Label(crate::LabelLanguage::Zpl),
            b"^XA^XZ",
            false,
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["printer"], "label:zpl");
        assert_eq!(
            serde_json::from_value::<MovedPart>(json.clone()).unwrap(),
            p
        );
        let mut old = json;
        old["printer"] = "label".into();
        assert_eq!(serde_json::from_value::<MovedPart>(old.clone()).unwrap(), p);
        old["printer"] = "fax".into();
        assert!(serde_json::from_value::<MovedPart>(old).is_err());
    }
}
