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

/// Rasterised glyphs of a line of text and its advance width.
fn shape(font: &fontdue::Font, s: &str, px: f32) -> (Vec<(fontdue::Metrics, Vec<u8>)>, f32) {
    let glyphs: Vec<_> = s.chars().map(|ch| font.rasterize(ch, px)).collect();
    let width = glyphs.iter().map(|(m, _)| m.advance_width).sum();
    (glyphs, width)
}

/// Draws shaped text with its baseline at `baseline`, starting at `x`.
fn draw_glyphs(
    glyphs: &[(fontdue::Metrics, Vec<u8>)],
    mut x: f32,
    baseline: i64,
    bold: bool,
    ink: &mut dyn FnMut(i64, i64, u8),
) {
    for (m, bitmap) in glyphs {
        for gy in 0..m.height {
            for gx in 0..m.width {
                let cov = bitmap[gy * m.width + gx];
                if cov == 0 {
                    continue;
                }
                let y = baseline - m.ymin as i64 - m.height as i64 + gy as i64;
                let px_x = x as i64 + m.xmin as i64 + gx as i64;
                ink(px_x, y, cov);
                if bold {
                    ink(px_x + 1, y, cov);
                }
            }
        }
        x += m.advance_width;
    }
}

/// Draws a CODE128 barcode (code set B); returns its width, or None when
/// the data cannot be encoded.
fn draw_code128(
    data: &str,
    narrow: i64,
    height: i64,
    x: i64,
    y: i64,
    ink: &mut dyn FnMut(i64, i64, u8),
) -> Option<i64> {
    let modules = barcoders::sym::code128::Code128::new(format!("Ɓ{data}"))
        .ok()?
        .encode();
    for (i, &m) in modules.iter().enumerate() {
        if m == 1 {
            for dx in 0..narrow {
                for dy in 0..height {
                    ink(x + i as i64 * narrow + dx, y + dy, 255);
                }
            }
        }
    }
    Some(modules.len() as i64 * narrow)
}

fn text(c: &mut Canvas, font: &fontdue::Font, s: &str, px: f32, align: u8, bold: bool) {
    let (glyphs, width) = shape(font, s, px);
    let top = c.blank((px * 1.25).ceil() as usize);
    let baseline = (top + px as usize) as i64;
    let x = x0(align, width.ceil() as usize) as f32;
    draw_glyphs(&glyphs, x, baseline, bold, &mut |x, y, cov| {
        if y >= 0 {
            c.ink(x, y as usize, cov);
        }
    });
}

/// Renders one label as the label printer puts it on its roll.
pub fn render_label(label: &crate::label::Label, font: &fontdue::Font) -> Paper {
    use crate::label::{DOTS_PER_MM, LabelItem};
    let (w, h) = (
        (label.width_mm * DOTS_PER_MM) as usize,
        (label.height_mm * DOTS_PER_MM) as usize,
    );
    let mut pixels = vec![255u8; w * h];
    let mut ink = |x: i64, y: i64, cov: u8| {
        if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) {
            let p = &mut pixels[y as usize * w + x as usize];
            *p = (*p).min(255 - cov);
        }
    };
    for item in &label.items {
        match item {
            LabelItem::Text { x, y, height, text } => {
                let (glyphs, _) = shape(font, text, *height as f32);
                draw_glyphs(
                    &glyphs,
                    *x as f32,
                    i64::from(*y) + i64::from(*height),
                    false,
                    &mut ink,
                );
            }
            LabelItem::Code128 {
                x,
                y,
                height,
                narrow,
                data,
            } => {
                if let Some(bw) = draw_code128(
                    data,
                    i64::from(*narrow),
                    i64::from(*height),
                    i64::from(*x),
                    i64::from(*y),
                    &mut ink,
                ) {
                    let (glyphs, tw) = shape(font, data, 20.0);
                    let tx = i64::from(*x) + (bw - tw as i64) / 2;
                    draw_glyphs(
                        &glyphs,
                        tx as f32,
                        i64::from(*y) + i64::from(*height) + 22,
                        false,
                        &mut ink,
                    );
                }
            }
        }
    }
    Paper {
        width: w,
        height: h,
        pixels,
        cut: true,
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
                let (narrow, height) = (i64::from(st.bar_width), usize::from(st.bar_height));
                let modules = barcoders::sym::code128::Code128::new(format!("Ɓ{s}"))
                    .map(|c| c.encode().len())
                    .unwrap_or(0) as i64;
                if modules > 0 {
                    let left = x0(st.align, (modules * narrow) as usize);
                    let top = c.blank(height) as i64;
                    draw_code128(&s, narrow, height as i64, left, top, &mut |x, y, cov| {
                        c.ink(x, y as usize, cov)
                    });
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
