//! TSPL (TSC and most domestic label printers): text commands, one per
//! line; Chinese text in GB18030 with the printer's TSS24.BF2 font.

use super::{Label, LabelItem, LabelStatus, field};

/// ESC ! ?: the one-byte status query.
pub const STATUS_QUERY: [u8; 3] = [0x1B, b'!', b'?'];

pub fn encode(l: &Label) -> Vec<u8> {
    let mut s = format!(
        "SIZE {} mm,{} mm\r\nGAP {} mm,0 mm\r\nDIRECTION 1\r\nCODEPAGE 936\r\nCLS\r\n",
        l.width_mm, l.height_mm, l.gap_mm
    );
    for item in &l.items {
        match item {
            LabelItem::Text { x, y, height, text } => {
                // TSS24.BF2 is 24 dots high; scale by whole multiples.
                let m = (height / 24).clamp(1, 10);
                s += &format!(
                    "TEXT {x},{y},\"TSS24.BF2\",0,{m},{m},\"{}\"\r\n",
                    field(text, &['"'])
                );
            }
            LabelItem::Code128 {
                x,
                y,
                height,
                narrow,
                data,
            } => {
                s += &format!(
                    "BARCODE {x},{y},\"128\",{height},1,0,{narrow},{narrow},\"{}\"\r\n",
                    field(data, &['"'])
                );
            }
        }
    }
    s += &format!("PRINT {},1\r\n", l.copies.max(1));
    encoding_rs::GB18030.encode(&s).0.into_owned()
}

/// Reads the status byte: bit 0 head open, 1 paper jam, 2 paper out,
/// 3 ribbon out, 4 pause; bits 5-7 (printing, cover, heat) do not stop us.
pub fn parse_status(b: u8) -> LabelStatus {
    LabelStatus {
        head_open: b & 0x01 != 0,
        paper_jam: b & 0x02 != 0,
        paper_out: b & 0x04 != 0,
        ribbon_out: b & 0x08 != 0,
        paused: b & 0x10 != 0,
    }
}

pub fn status_byte(s: &LabelStatus) -> u8 {
    u8::from(s.head_open)
        | u8::from(s.paper_jam) << 1
        | u8::from(s.paper_out) << 2
        | u8::from(s.ribbon_out) << 3
        | u8::from(s.paused) << 4
}
