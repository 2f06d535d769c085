//! What a kiosk prints on: one [`PrinterKind`] names a part's printer in
//! the kiosk's journal, in the heartbeat (`prints`), in a move order
//! (`accepts`) and on each moved part. Its text is the wire form of
//! protocol version 1: "receipt", "label:tspl", "label:zpl", "report".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// The command language of a label printer: a label part is rendered in
/// one and prints only on a printer that speaks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelLanguage {
    Tspl,
    Zpl,
}

/// The printer a print part is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PrinterKind {
    /// The 80 mm ESC/POS receipt printer (guide sheets, fee lists, slips).
    Receipt,
    /// A lab label printer speaking this language.
    Label(LabelLanguage),
    /// The A4 report printer (CUPS).
    Report,
}

impl PrinterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterKind::Receipt => "receipt",
            PrinterKind::Label(LabelLanguage::Tspl) => "label:tspl",
            PrinterKind::Label(LabelLanguage::Zpl) => "label:zpl",
            PrinterKind::Report => "report",
        }
    }

    /// The kind of a label part sent by a kiosk of protocol version 1 as
    /// plain "label": its language told from its first command (TSPL
    /// starts `SIZE`, ZPL `^XA`). Only for reading such old senders.
    pub fn legacy_label(body: &[u8]) -> Option<Self> {
        let start = body.trim_ascii_start();
        if start.starts_with(b"^XA") {
            Some(PrinterKind::Label(LabelLanguage::Zpl))
        } else if start.starts_with(b"SIZE") {
            Some(PrinterKind::Label(LabelLanguage::Tspl))
        } else {
            None
        }
    }
}

impl fmt::Display for PrinterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown printer kind {0:?}")]
pub struct UnknownPrinterKind(pub String);

impl FromStr for PrinterKind {
    type Err = UnknownPrinterKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "receipt" => PrinterKind::Receipt,
            "label:tspl" => PrinterKind::Label(LabelLanguage::Tspl),
            "label:zpl" => PrinterKind::Label(LabelLanguage::Zpl),
            "report" => PrinterKind::Report,
            other => return Err(UnknownPrinterKind(other.into())),
        })
    }
}

impl TryFrom<String> for PrinterKind {
    type Error = UnknownPrinterKind;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PrinterKind> for String {
    fn from(k: PrinterKind) -> Self {
        k.as_str().into()
    }
}

/// Reads a list of printer kinds, leaving out those this version does not
/// know (a newer kiosk's printer is simply not a target for this one).
pub(crate) fn known_kinds<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PrinterKind>, D::Error> {
    let raw: Vec<String> = Vec::deserialize(d)?;
    Ok(raw.iter().filter_map(|s| s.parse().ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_text_is_version_one_s() {
        let all = [
            PrinterKind::Receipt,
            PrinterKind::Label(LabelLanguage::Tspl),
            PrinterKind::Label(LabelLanguage::Zpl),
            PrinterKind::Report,
        ];
        let json = serde_json::to_string(&all).unwrap();
        assert_eq!(json, r#"["receipt","label:tspl","label:zpl","report"]"#);
        let back: Vec<PrinterKind> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, all);
        assert!(serde_json::from_str::<PrinterKind>(r#""label""#).is_err());
        assert_eq!(
            PrinterKind::legacy_label(b"\r\n^XA^FO1,1^XZ"),
            Some(PrinterKind::Label(LabelLanguage::Zpl))
        );
        assert_eq!(
            PrinterKind::legacy_label(b"SIZE 50 mm"),
            Some(PrinterKind::Label(LabelLanguage::Tspl))
        );
        assert_eq!(PrinterKind::legacy_label(b"%PDF"), None);
    }
}
