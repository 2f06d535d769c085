//! A receipt as blocks, and its ESC/POS encoding.

/// Horizontal alignment of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One line of text (GB18030 on the wire). `double`: double width and height.
    Text {
        text: String,
        align: Align,
        bold: bool,
        double: bool,
    },
    /// A CODE128 barcode (code set B) with its text printed below.
    Code128 {
        data: String,
        height: u8,
    },
    /// A QR code; `module` is the dot size of one module (1-16).
    Qr {
        data: String,
        module: u8,
    },
    /// A 1-bit raster image, rows of `width_bytes` bytes, MSB first, 1 = black.
    Raster {
        width_bytes: u16,
        height: u16,
        bits: Vec<u8>,
    },
    Feed(u8),
    Cut,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    pub blocks: Vec<Block>,
}

impl Receipt {
    pub fn text(mut self, text: &str, align: Align, bold: bool, double: bool) -> Self {
        self.blocks.push(Block::Text {
            text: text.into(),
            align,
            bold,
            double,
        });
        self
    }
    pub fn block(mut self, b: Block) -> Self {
        self.blocks.push(b);
        self
    }
}

/// Characters per line of an 80 mm printer in font A (12 × 24 dots): an
/// ASCII character takes one column, a Chinese one (any character the
/// printer's Chinese mode prints, GB18030 beyond ASCII) two.
pub const COLUMNS: usize = 48;

/// Marks that close a phrase: a line does not start with one.
const CLOSING: &str = "）】》」』，。、：；！？";

/// How many columns `c` takes on the paper.
pub fn columns_of(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Breaks `text` into lines of at most `columns` columns: between words
/// where a line has spaces (an English phrase stays whole when it fits),
/// anywhere between Chinese characters, and inside a word only when the
/// word alone is wider than a line. What the printer would otherwise wrap
/// at its own edge (or cut, on some models) is laid out here.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0;
    // Tokens: a run of ASCII non-spaces (a word), a single space, or a
    // single wide character.
    let mut tokens: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let word = c.is_ascii() && c != ' ';
        let prev_word = text[start..i]
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii() && p != ' ');
        if i > start && !(word && prev_word) {
            tokens.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        tokens.push(&text[start..]);
    }
    for token in tokens {
        let w: usize = token.chars().map(columns_of).sum();
        if token == " " {
            if width > 0 && width < columns {
                line.push(' ');
                width += 1;
            }
            continue;
        }
        if width + w > columns && width > 0 {
            // Closing punctuation never starts a line: the character
            // before it goes down with it (禁则).
            let carry = match line.chars().last() {
                Some(last)
                    if CLOSING.contains(token) && last != ' ' && line.chars().count() > 1 =>
                {
                    line.pop();
                    Some(last)
                }
                _ => None,
            };
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            width = 0;
            if let Some(c) = carry {
                line.push(c);
                width = columns_of(c);
            }
        }
        if w <= columns {
            line.push_str(token);
            width += w;
            continue;
        }
        // A word wider than a line: cut it where the line ends.
        for c in token.chars() {
            if width + columns_of(c) > columns {
                lines.push(std::mem::take(&mut line));
                width = 0;
            }
            line.push(c);
            width += columns_of(c);
        }
    }
    if !line.trim_end().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;

fn align(out: &mut Vec<u8>, a: Align) {
    out.extend_from_slice(&[ESC, b'a', a as u8]);
}

/// Encodes a receipt. Text is GB18030 (what Chinese ESC/POS printers take
/// in their Chinese mode); characters it cannot encode become '?'.
pub fn encode(r: &Receipt) -> Vec<u8> {
    let mut out = vec![ESC, b'@', FS, b'&'];
    for b in &r.blocks {
        match b {
            Block::Text {
                text,
                align: a,
                bold,
                double,
            } => {
                align(&mut out, *a);
                out.extend_from_slice(&[
                    ESC,
                    b'E',
                    u8::from(*bold),
                    GS,
                    b'!',
                    if *double { 0x11 } else { 0x00 },
                ]);
                // Double width halves the columns of a line.
                let columns = if *double { COLUMNS / 2 } else { COLUMNS };
                for line in wrap(text, columns) {
                    let (bytes, _, _) = encoding_rs::GB18030.encode(&line);
                    out.extend(bytes.iter().map(|&c| if c < 0x20 { b'?' } else { c }));
                    out.push(b'\n');
                }
                out.extend_from_slice(&[ESC, b'E', 0, GS, b'!', 0]);
            }
            Block::Code128 { data, height } => {
                align(&mut out, Align::Center);
                let data: Vec<u8> = data
                    .bytes()
                    .filter(|c| (0x20..0x7F).contains(c))
                    .take(250)
                    .collect();
                out.extend_from_slice(&[GS, b'h', *height, GS, b'w', 2, GS, b'H', 2]);
                // GS k 73: CODE128, with the code set chosen by "{B".
                out.extend_from_slice(&[GS, b'k', 73, (data.len() + 2) as u8, b'{', b'B']);
                out.extend_from_slice(&data);
                out.push(b'\n');
            }
            Block::Qr { data, module } => {
                align(&mut out, Align::Center);
                let d = data.as_bytes();
                let store_len = (d.len() + 3) as u16;
                out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]); // model 2
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, (*module).clamp(1, 16)]);
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]); // error correction M
                out.extend_from_slice(&[
                    GS,
                    b'(',
                    b'k',
                    store_len.to_le_bytes()[0],
                    store_len.to_le_bytes()[1],
                    49,
                    80,
                    48,
                ]);
                out.extend_from_slice(d);
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
                out.push(b'\n');
            }
            Block::Raster {
                width_bytes,
                height,
                bits,
            } => {
                align(&mut out, Align::Center);
                let [xl, xh] = width_bytes.to_le_bytes();
                let [yl, yh] = height.to_le_bytes();
                out.extend_from_slice(&[GS, b'v', b'0', 0, xl, xh, yl, yh]);
                out.extend_from_slice(bits);
            }
            Block::Feed(n) => out.extend_from_slice(&[ESC, b'd', *n]),
            Block::Cut => out.extend_from_slice(&[GS, b'V', 66, 0]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width(s: &str) -> usize {
        s.chars().map(columns_of).sum()
    }

    #[test]
    fn lines_wrap_within_the_paper_between_words_and_chinese_characters() {
        let fee = "待缴费：请到收费处或扫码缴费 / To pay at the cashier";
        assert_eq!(width(fee), 52, "wider than the 48 columns of 80 mm paper");
        let lines = wrap(fee, COLUMNS);
        assert_eq!(
            lines,
            ["待缴费：请到收费处或扫码缴费 / To pay at the", "cashier"]
        );
        assert!(lines.iter().all(|l| width(l) <= COLUMNS));
        // Chinese alone breaks between any two characters.
        let zh = "体".repeat(30);
        let lines = wrap(&zh, COLUMNS);
        assert_eq!(lines.iter().map(|l| width(l)).collect::<Vec<_>>(), [48, 12]);
        // A word longer than a line is cut at the line's end.
        let long = "x".repeat(100);
        let lines = wrap(&long, COLUMNS);
        assert_eq!(
            lines.iter().map(|l| l.len()).collect::<Vec<_>>(),
            [48, 48, 4]
        );
        // A closing mark takes the character before it to the next line.
        let lines = wrap(&format!("{}（甲）", "体".repeat(22)), COLUMNS);
        assert_eq!(lines, ["体".repeat(22) + "（", "甲）".to_string()]);
        // What fits stays one line, as it was; an empty line stays a line.
        assert_eq!(
            wrap("扫码查看检查进度与排队", COLUMNS),
            ["扫码查看检查进度与排队"]
        );
        assert_eq!(wrap("", COLUMNS), [""]);
    }

    #[test]
    fn a_long_line_is_encoded_as_several_printer_lines() {
        let r = Receipt::default().text(
            "待缴费：请到收费处或扫码缴费 / To pay at the cashier",
            Align::Left,
            true,
            false,
        );
        let bytes = encode(&r);
        let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
        assert!(text.contains("To pay at the\ncashier\n"), "{text:?}");
        // Double width: half the columns.
        let r = Receipt::default().text(&"首".repeat(13), Align::Left, false, true);
        let bytes = encode(&r);
        let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
        assert!(
            text.contains(&format!("{}\n首\n", "首".repeat(12))),
            "{text:?}"
        );
    }
}
