//! ZPL II (Zebra): ^-commands between ^XA and ^XZ; UTF-8 text (^CI28) in a
//! CJK font stored on the printer (E:SIMSUN.TTF).

use super::{DOTS_PER_MM, Label, LabelItem, LabelStatus, field};

/// ~HS: host status, answered with three STX…ETX strings.
pub const STATUS_QUERY: &[u8] = b"~HS";

/// ZPL carries no gap size: ^MNY has the printer sense the gap itself.
pub fn encode(l: &Label) -> Vec<u8> {
    let mut s = format!(
        "^XA^CI28^MNY^PW{}^LL{}\n",
        l.width_mm * DOTS_PER_MM,
        l.height_mm * DOTS_PER_MM
    );
    for item in &l.items {
        match item {
            LabelItem::Text { x, y, height, text } => {
                s += &format!(
                    "^FO{x},{y}^A@N,{height},{height},E:SIMSUN.TTF^FD{}^FS\n",
                    field(text, &['^', '~'])
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
                    "^FO{x},{y}^BY{narrow}^BCN,{height},Y,N,N^FD{}^FS\n",
                    field(data, &['^', '~'])
                );
            }
        }
    }
    s += &format!("^PQ{}^XZ\n", l.copies.max(1));
    s.into_bytes()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsError {
    #[error("host status answer is not three STX…ETX strings")]
    Framing,
    #[error("host status field {0} is malformed")]
    Field(usize),
}

/// Parses the ~HS answer. String 1: field 2 is paper out, field 3 pause;
/// string 2: field 3 head up (open), field 4 ribbon out.
pub fn parse_status(answer: &[u8]) -> Result<LabelStatus, HsError> {
    let text = std::str::from_utf8(answer).map_err(|_| HsError::Framing)?;
    let strings: Vec<&str> = text
        .split('\u{2}')
        .skip(1)
        .map(|s| s.split('\u{3}').next().unwrap_or(""))
        .collect();
    if strings.len() < 2 || !text.trim_end().ends_with('\u{3}') {
        return Err(HsError::Framing);
    }
    let flag = |s: &str, i: usize| -> Result<bool, HsError> {
        match s.split(',').nth(i).map(str::trim) {
            Some("0") => Ok(false),
            Some("1") => Ok(true),
            _ => Err(HsError::Field(i)),
        }
    };
    Ok(LabelStatus {
        paper_out: flag(strings[0], 1)?,
        paused: flag(strings[0], 2)?,
        head_open: flag(strings[1], 2)?,
        ribbon_out: flag(strings[1], 3)?,
        paper_jam: false,
    })
}

/// The ~HS answer a printer in state `s` gives.
pub fn status_answer(s: &LabelStatus) -> Vec<u8> {
    let b = |v: bool| if v { '1' } else { '0' };
    format!(
        "\u{2}030,{},{},1245,000,0,0,0,000,0,0,0\u{3}\r\n\u{2}000,0,{},{},0,2,6,0,00000000,1,000\u{3}\r\n\u{2}1234,0\u{3}\r\n",
        b(s.paper_out),
        b(s.paused),
        b(s.head_open),
        b(s.ribbon_out)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in [
            LabelStatus::default(),
            LabelStatus {
                paper_out: true,
                ..Default::default()
            },
            LabelStatus {
                head_open: true,
                paused: true,
                ..Default::default()
            },
            LabelStatus {
                ribbon_out: true,
                ..Default::default()
            },
        ] {
            assert_eq!(parse_status(&status_answer(&s)), Ok(s));
        }
        assert_eq!(parse_status(b"garbage"), Err(HsError::Framing));
        assert!(parse_status("\u{2}030,x,0\u{3}\r\n\u{2}000,0,0,0\u{3}\r\n".as_bytes()).is_err());
    }
}
