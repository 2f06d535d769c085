//! Layout: content flows down A4 pages into a display list (positions in
//! points from the top-left), with page breaks, line wrapping and tables
//! whose header repeats on each page. Nothing here writes PDF: the pages
//! are counted before anything is drawn, so the footer can say 共 N 页
//! and a table of contents can name the pages its sections start on.

use crate::font::Fonts;

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN_X: f32 = 48.0;
pub const TOP: f32 = 64.0;
pub const BOTTOM: f32 = PAGE_H - 56.0;
pub const WIDTH: f32 = PAGE_W - 2.0 * MARGIN_X;

/// Colours, as RGB.
pub type Rgb = (u8, u8, u8);
pub const BLACK: Rgb = (0x1d, 0x1d, 0x1f);
pub const GREY: Rgb = (0x6e, 0x6e, 0x73);
pub const RULE: Rgb = (0xc7, 0xc7, 0xcc);
pub const SHADE: Rgb = (0xf0, 0xf3, 0xf7);
pub const ACCENT: Rgb = (0x0b, 0x5c, 0xad);
pub const RED: Rgb = (0xc4, 0x1e, 0x1e);
pub const BAND: Rgb = (0xe3, 0xf2, 0xe6);

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
    },
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: Rgb,
    },
    Dot {
        x: f32,
        y: f32,
        r: f32,
        color: Rgb,
    },
    /// The centre's seal, centred at (x, y).
    Seal {
        x: f32,
        y: f32,
        r: f32,
        text: String,
    },
    /// The reviewer's signature image (PNG), fitted into the box.
    Signature {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// A page's display list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub ops: Vec<Op>,
    /// Drawn without the running header and footer (the cover).
    pub bare: bool,
}

impl Page {
    /// The page's text in drawing order (tests read pages with it).
    pub fn text(&self) -> String {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A table column: its share of the width and whether it is right-aligned.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub share: f32,
    pub right: bool,
}

/// A cell's text and colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub color: Rgb,
    pub bold: bool,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            color: BLACK,
            bold: false,
        }
    }
    pub fn flagged(text: impl Into<String>, abnormal: bool) -> Cell {
        Cell {
            text: text.into(),
            color: if abnormal { RED } else { BLACK },
            bold: abnormal,
        }
    }
}

/// Content flowing down pages.
pub struct Flow<'f> {
    pub fonts: &'f Fonts,
    pub pages: Vec<Page>,
    pub y: f32,
}

impl<'f> Flow<'f> {
    pub fn new(fonts: &'f Fonts) -> Flow<'f> {
        Flow {
            fonts,
            pages: vec![Page::default()],
            y: TOP,
        }
    }

    pub fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("a flow always has a page")
    }

    pub fn push(&mut self, op: Op) {
        self.page().ops.push(op);
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    /// Starts a new page unless `h` more points fit on this one.
    pub fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    /// The index of the page being filled (0-based).
    pub fn at(&self) -> usize {
        self.pages.len() - 1
    }

    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.fonts.face(bold).width(text, size)
    }

    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: Rgb, text: &str) {
        if text.is_empty() {
            return;
        }
        self.push(Op::Text {
            x,
            y,
            size,
            bold,
            color,
            text: text.to_string(),
        });
    }

    /// Breaks `text` into lines of at most `max` points: between any two
    /// Chinese characters, at spaces for Latin words, never leaving a
    /// closing punctuation mark at a line's start (避头点).
    pub fn wrap(&self, text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
        let face = self.fonts.face(bold);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut width = 0.0;
            for token in tokens(para) {
                let w = face.width(&token, size);
                let no_break = token.chars().next().is_some_and(closing);
                if width + w > max && !line.is_empty() && !no_break {
                    lines.push(std::mem::take(&mut line).trim_end().to_string());
                    width = 0.0;
                    if token == " " {
                        continue;
                    }
                }
                width += w;
                line.push_str(&token);
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }

    /// A paragraph at the left margin plus `indent`, wrapped.
    pub fn para(&mut self, text: &str, size: f32, color: Rgb, indent: f32) {
        let lead = size * 1.6;
        for line in self.wrap(text, size, false, WIDTH - indent) {
            self.need(lead);
            self.y += lead;
            let y = self.y - lead * 0.3;
            self.text(MARGIN_X + indent, y, size, false, color, &line);
        }
    }

    /// A section heading with a rule under it; kept with `keep` points of
    /// what follows.
    pub fn heading(&mut self, text: &str, keep: f32) {
        self.need(40.0 + keep);
        self.y += 28.0;
        self.text(MARGIN_X, self.y, 14.0, true, ACCENT, text);
        self.y += 6.0;
        let y = self.y;
        self.push(Op::Line {
            points: vec![(MARGIN_X, y), (MARGIN_X + WIDTH, y)],
            width: 1.2,
            color: ACCENT,
        });
        self.y += 4.0;
    }

    /// A table; the header row repeats on every page it runs onto, and a
    /// row is never split.
    pub fn table(&mut self, cols: &[Col], header: &[&str], rows: &[Vec<Cell>]) {
        const SIZE: f32 = 9.5;
        const PAD: f32 = 5.0;
        let total: f32 = cols.iter().map(|c| c.share).sum();
        let widths: Vec<f32> = cols.iter().map(|c| c.share / total * WIDTH).collect();
        let lead = SIZE * 1.45;
        let head_h = lead + 2.0 * PAD;
        self.need(head_h * 2.0);
        self.table_header(cols, &widths, header, head_h, SIZE);
        for (n, row) in rows.iter().enumerate() {
            let wrapped: Vec<Vec<String>> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| self.wrap(&c.text, SIZE, c.bold, w - 2.0 * PAD))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * lead + 2.0 * PAD;
            if self.y + h > BOTTOM {
                self.new_page();
                self.table_header(cols, &widths, header, head_h, SIZE);
            }
            if n % 2 == 1 {
                let y = self.y;
                self.push(Op::Rect {
                    x: MARGIN_X,
                    y,
                    w: WIDTH,
                    h,
                    fill: Some(SHADE),
                    stroke: None,
                });
            }
            let mut x = MARGIN_X;
            for ((cell, lines), (col, w)) in row.iter().zip(&wrapped).zip(cols.iter().zip(&widths))
            {
                for (i, line) in lines.iter().enumerate() {
                    let lw = self.width(line, SIZE, cell.bold);
                    let tx = if col.right { x + w - PAD - lw } else { x + PAD };
                    let ty = self.y + PAD + lead * (i as f32 + 1.0) - lead * 0.28;
                    self.text(tx, ty, SIZE, cell.bold, cell.color, line);
                }
                x += w;
            }
            self.y += h;
        }
        let y = self.y;
        self.push(Op::Line {
            points: vec![(MARGIN_X, y), (MARGIN_X + WIDTH, y)],
            width: 0.6,
            color: RULE,
        });
    }

    fn table_header(&mut self, cols: &[Col], widths: &[f32], header: &[&str], h: f32, size: f32) {
        let y = self.y;
        self.push(Op::Rect {
            x: MARGIN_X,
            y,
            w: WIDTH,
            h,
            fill: Some((0xdd, 0xe6, 0xf0)),
            stroke: None,
        });
        let mut x = MARGIN_X;
        for ((col, w), title) in cols.iter().zip(widths).zip(header) {
            let tw = self.width(title, size, true);
            let tx = if col.right { x + w - 5.0 - tw } else { x + 5.0 };
            self.text(tx, y + h - 6.5, size, true, BLACK, title);
            x += w;
        }
        self.y += h;
    }
}

/// Closing punctuation that must not start a line.
fn closing(c: char) -> bool {
    "，。、；：？！）》」』】%,.;:?!)".contains(c)
}

/// Break opportunities: each CJK character alone, Latin words and numbers
/// whole, spaces alone.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || ".-/:%↑↓×^~".contains(c) && !word.is_empty() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        out.push(c.to_string());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn latin_words_stay_whole_and_chinese_breaks_anywhere() {
        assert_eq!(
            tokens("血压 120/80 mmHg偏高"),
            ["血", "压", " ", "120/80", " ", "mmHg", "偏", "高"]
        );
    }
}
