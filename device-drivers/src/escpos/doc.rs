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
                let (bytes, _, _) = encoding_rs::GB18030.encode(text);
                out.extend(bytes.iter().map(|&c| if c < 0x20 { b'?' } else { c }));
                out.push(b'\n');
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
