//! Renders ESC/POS bytes as the printer would put them on paper: one
//! grayscale image per cut receipt, 576 dots wide, written as PNG so a test
//! or a person can look at what was printed.

use std::path::Path;

use super::escpos::{Cmd, ParseError, next_command};
use crate::escpos::DOTS_PER_LINE;

/// One receipt as printed (0 = black, 255 = white).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paper {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
    /// Whether the receipt was cut (a receipt without a cut is unfinished).
    pub cut: bool,
}

/// Where receipt fonts are looked for; `RECEIPT_FONT` overrides.
const FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no CJK font found (install fonts-noto-cjk or set RECEIPT_FONT)")]
    NoFont,
    #[error("font: {0}")]
    Font(&'static str),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("png: {0}")]
    Png(String),
}

/// Loads the printer's font: Noto Sans CJK SC (index 2 of the collection
/// is Simplified Chinese; other fonts use index 0).
pub fn load_font() -> Result<fontdue::Font, RenderError> {
    let path = std::env::var("RECEIPT_FONT")
        .ok()
        .or_else(|| {
            FONTS
                .iter()
                .find(|p| Path::new(p).exists())
                .map(|p| p.to_string())
        })
        .ok_or(RenderError::NoFont)?;
    let bytes = std::fs::read(&path).map_err(|_| RenderError::NoFont)?;
    let index = if path.contains("NotoSansCJK") { 2 } else { 0 };
    fontdue::Font::from_bytes(
        bytes,
        fontdue::FontSettings {
            collection_index: index,
            scale: 24.0,
            ..Default::default()
        },
    )
    .map_err(RenderError::Font)
}

struct Canvas {
    rows: Vec<[u8; DOTS_PER_LINE]>,
}

impl Canvas {
    fn blank(&mut self, h: usize) -> usize {
        let top = self.rows.len();
        self.rows
            .extend(std::iter::repeat_n([255u8; DOTS_PER_LINE], h));
        top
    }
    fn ink(&mut self, x: i64, y: usize, coverage: u8) {
        if (0..DOTS_PER_LINE as i64).contains(&x) && y < self.rows.len() {
            let p = &mut self.rows[y][x as usize];
            *p = (*p).min(255 - coverage);
        }
    }
}

struct Style {
    align: u8,
    bold: bool,
    size: u8,
    bar_height: u8,
    bar_width: u8,
    hri: u8,
    qr_module: u8,
    qr_data: Vec<u8>,
}

fn x0(align: u8, width: usize) -> i64 {
    let free = DOTS_PER_LINE.saturating_sub(width) as i64;
    match align {
        1 => free / 2,
        2 => free,
        _ => 0,
    }
}

fn text(c: &mut Canvas, font: &fontdue::Font, s: &str, px: f32, align: u8, bold: bool) {
    let glyphs: Vec<_> = s.chars().map(|ch| font.rasterize(ch, px)).collect();
    let width: f32 = glyphs.iter().map(|(m, _)| m.advance_width).sum();
    let line = (px * 1.25).ceil() as usize;
    let top = c.blank(line);
    let baseline = top + (px * 1.0) as usize;
    let mut x = x0(align, width.ceil() as usize) as f32;
    for (m, bitmap) in &glyphs {
        for gy in 0..m.height {
            for gx in 0..m.width {
                let cov = bitmap[gy * m.width + gx];
                if cov == 0 {
                    continue;
                }
                let y = baseline as i64 - m.ymin as i64 - m.height as i64 + gy as i64;
                if y < 0 {
                    continue;
                }
                let px_x = x as i64 + m.xmin as i64 + gx as i64;
                c.ink(px_x, y as usize, cov);
                if bold {
                    c.ink(px_x + 1, y as usize, cov);
                }
            }
        }
        x += m.advance_width;
    }
}

/// Renders every receipt in `data` (split at cuts).
pub fn render(data: &[u8], font: &fontdue::Font) -> Result<Vec<Paper>, RenderError> {
    let mut papers = Vec::new();
    let mut c = Canvas { rows: Vec::new() };
    c.blank(16);
    let mut st = Style {
        align: 0,
        bold: false,
        size: 0,
        bar_height: 80,
        bar_width: 2,
        hri: 0,
        qr_module: 3,
        qr_data: Vec::new(),
    };
    let mut pending_text: Vec<u8> = Vec::new();
    let mut at = 0;
    let flush_paper = |c: &mut Canvas, papers: &mut Vec<Paper>, cut: bool| {
        c.blank(16);
        let rows = std::mem::take(&mut c.rows);
        papers.push(Paper {
            width: DOTS_PER_LINE,
            height: rows.len(),
            pixels: rows.concat(),
            cut,
        });
        c.blank(16);
    };
    while at < data.len() {
        let Some((cmd, len)) = next_command(&data[at..], at)? else {
            break; // a truncated final command: the printer waits, prints nothing
        };
        let px = if st.size & 0x11 != 0 { 48.0 } else { 24.0 };
        match cmd {
            Cmd::Text(t) => pending_text.extend_from_slice(t),
            Cmd::Lf => {
                if pending_text.is_empty() {
                    c.blank(30);
                } else {
                    let (s, _) = encoding_rs::GB18030.decode_without_bom_handling(&pending_text);
                    text(&mut c, font, &s, px, st.align, st.bold);
                    pending_text.clear();
                }
            }
            Cmd::Init => {
                st = Style {
                    qr_data: Vec::new(),
                    ..st
                };
                st.align = 0;
                st.bold = false;
                st.size = 0;
            }
            Cmd::Align(a) => st.align = a,
            Cmd::Bold(b) => st.bold = b,
            Cmd::Size(s) => st.size = s,
            Cmd::Chinese(_) | Cmd::Status(_) => {}
            Cmd::Feed(n) => {
                c.blank(usize::from(n) * 30);
            }
            Cmd::BarHeight(h) => st.bar_height = h,
            Cmd::BarWidth(w) => st.bar_width = w,
            Cmd::Hri(h) => st.hri = h,
            Cmd::Code128(d) => {
                let body = d.strip_prefix(b"{B").unwrap_or(d);
                let s = String::from_utf8_lossy(body).into_owned();
                if let Ok(code) = barcoders::sym::code128::Code128::new(format!("Ɓ{s}")) {
                    let modules = code.encode();
                    let w = modules.len() * usize::from(st.bar_width);
                    let left = x0(st.align, w);
                    let top = c.blank(usize::from(st.bar_height));
                    for (i, &m) in modules.iter().enumerate() {
                        if m == 1 {
                            for dx in 0..i64::from(st.bar_width) {
                                for y in top..top + usize::from(st.bar_height) {
                                    c.ink(
                                        left + (i * usize::from(st.bar_width)) as i64 + dx,
                                        y,
                                        255,
                                    );
                                }
                            }
                        }
                    }
                    if st.hri == 2 {
                        text(&mut c, font, &s, 20.0, st.align, false);
                    }
                }
            }
            Cmd::Qr(f, params) => match f {
                67 => st.qr_module = params.first().copied().unwrap_or(3).clamp(1, 16),
                80 => st.qr_data = params.get(1..).unwrap_or_default().to_vec(),
                81 => {
                    if let Ok(q) =
                        qrcode::QrCode::with_error_correction_level(&st.qr_data, qrcode::EcLevel::M)
                    {
                        let (n, m) = (q.width(), usize::from(st.qr_module));
                        let left = x0(st.align, n * m);
                        let top = c.blank(n * m + 8);
                        for (i, col) in q.to_colors().iter().enumerate() {
                            if *col == qrcode::Color::Dark {
                                let (mx, my) = (i % n, i / n);
                                for dy in 0..m {
                                    for dx in 0..m {
                                        c.ink(
                                            left + (mx * m + dx) as i64,
                                            top + 4 + my * m + dy,
                                            255,
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            },
            Cmd::Raster {
                width_bytes,
                height,
                bits,
            } => {
                let wb = usize::from(width_bytes);
                let left = x0(st.align, wb * 8);
                let top = c.blank(usize::from(height));
                for y in 0..usize::from(height) {
                    for x in 0..wb * 8 {
                        if bits[y * wb + x / 8] & (0x80 >> (x % 8)) != 0 {
                            c.ink(left + x as i64, top + y, 255);
                        }
                    }
                }
            }
            Cmd::Cut => flush_paper(&mut c, &mut papers, true),
        }
        at += len;
    }
    if c.rows.len() > 32 {
        flush_paper(&mut c, &mut papers, false);
    }
    Ok(papers)
}

impl Paper {
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| RenderError::Png(e.to_string()))?;
            w.write_image_data(&self.pixels)
                .map_err(|e| RenderError::Png(e.to_string()))?;
        }
        Ok(out)
    }

    pub fn from_png(bytes: &[u8]) -> Result<Self, RenderError> {
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut r = dec
            .read_info()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        let mut buf = vec![
            0;
            r.output_buffer_size()
                .ok_or(RenderError::Png("size".into()))?
        ];
        let info = r
            .next_frame(&mut buf)
            .map_err(|e| RenderError::Png(e.to_string()))?;
        if info.color_type != png::ColorType::Grayscale || info.bit_depth != png::BitDepth::Eight {
            return Err(RenderError::Png("not 8-bit grayscale".into()));
        }
        buf.truncate(info.buffer_size());
        Ok(Self {
            width: info.width as usize,
            height: info.height as usize,
            pixels: buf,
            cut: true,
        })
    }

    /// Share of pixels that differ by more than a quarter of the scale.
    pub fn difference(&self, other: &Paper) -> f64 {
        if (self.width, self.height) != (other.width, other.height) {
            return 1.0;
        }
        let n = self
            .pixels
            .iter()
            .zip(&other.pixels)
            .filter(|(a, b)| a.abs_diff(**b) > 64)
            .count();
        n as f64 / self.pixels.len().max(1) as f64
    }
}
