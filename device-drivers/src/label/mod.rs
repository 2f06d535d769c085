//! Label printers for lab barcode labels (检验条码): TSPL, spoken by most
//! domestic label printers, and ZPL (Zebra). One [`Label`] model, two
//! encoders, and each language's status query.

mod printer;
pub mod tspl;
pub mod zpl;

pub use printer::{LabelError, LabelPrinter, Language};

/// The label in the printer's language.
pub fn encode(label: &Label, lang: Language) -> Vec<u8> {
    match lang {
        Language::Tspl => tspl::encode(label),
        Language::Zpl => zpl::encode(label),
    }
}

/// Dots per millimetre at 203 dpi, the usual label printer resolution.
pub const DOTS_PER_MM: u32 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelItem {
    /// Text at (x, y) dots, `height` dots tall (Chinese allowed).
    Text {
        x: u32,
        y: u32,
        height: u32,
        text: String,
    },
    /// A CODE128 barcode with its human-readable line below.
    Code128 {
        x: u32,
        y: u32,
        height: u32,
        narrow: u32,
        data: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub width_mm: u32,
    pub height_mm: u32,
    pub gap_mm: u32,
    pub items: Vec<LabelItem>,
    pub copies: u32,
}

/// Why a label printer cannot print now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelStatus {
    pub head_open: bool,
    pub paper_out: bool,
    pub ribbon_out: bool,
    pub paper_jam: bool,
    pub paused: bool,
}

impl LabelStatus {
    pub fn ready(&self) -> bool {
        !(self.head_open || self.paper_out || self.ribbon_out || self.paper_jam || self.paused)
    }

    pub fn label(&self) -> &'static str {
        match () {
            _ if self.head_open => "head_open",
            _ if self.paper_out => "paper_out",
            _ if self.ribbon_out => "ribbon_out",
            _ if self.paper_jam => "paper_jam",
            _ if self.paused => "paused",
            _ => "ok",
        }
    }
}

/// Text and barcode data must not break out of their quoted fields.
pub(crate) fn field(s: &str, forbidden: &[char]) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !forbidden.contains(c))
        .collect()
}
