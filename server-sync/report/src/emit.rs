//! The display list written as PDF with krilla: text as real glyphs of the
//! embedded, subset font (so it can be searched and copied), shapes as
//! paths, the seal as vector drawing, the signature as an image.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;

use crate::Error;
use crate::font::{Face, Fonts};
use crate::layout::{PAGE_H, PAGE_W, Page, Rgb};

const SEAL_RED: Rgb = (0xd4, 0x10, 0x10);

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        width,
        ..Default::default()
    }
}

fn text(s: &mut Surface, face: &Face, at: Point, size: f32, c: Rgb, t: &str) {
    let (glyphs, _) = face.shape(t);
    s.set_fill(Some(fill(c)));
    s.set_stroke(None);
    s.draw_glyphs(at, &glyphs, face.krilla(), t, size, false);
}

fn circle(pb: &mut PathBuilder, x: f32, y: f32, r: f32) {
    const K: f32 = 0.552_284_8;
    let k = r * K;
    pb.move_to(x + r, y);
    pb.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    pb.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    pb.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    pb.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    pb.close();
}

/// The centre's seal: a red ring, a five-pointed star, the centre's name
/// round the top and 体检专用章 across the bottom.
fn seal(s: &mut Surface, fonts: &Fonts, cx: f32, cy: f32, r: f32, name: &str) {
    let mut pb = PathBuilder::new();
    circle(&mut pb, cx, cy, r);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(stroke(SEAL_RED, r * 0.06)));
        s.draw_path(&path);
    }
    let mut pb = PathBuilder::new();
    let (outer, inner) = (r * 0.26, r * 0.10);
    for i in 0..10 {
        let rad = if i % 2 == 0 { outer } else { inner };
        let a = std::f32::consts::PI * (i as f32 / 5.0) - std::f32::consts::FRAC_PI_2;
        let (x, y) = (cx + rad * a.cos(), cy + rad * a.sin());
        if i == 0 {
            pb.move_to(x, y)
        } else {
            pb.line_to(x, y)
        }
    }
    pb.close();
    if let Some(path) = pb.finish() {
        s.set_stroke(None);
        s.set_fill(Some(fill(SEAL_RED)));
        s.draw_path(&path);
    }
    let chars: Vec<char> = name.chars().collect();
    let size = (r * 0.21).min(r * 3.4 / chars.len().max(1) as f32);
    let sweep = 250.0_f32.min(chars.len() as f32 * size / r * 64.0);
    let face = fonts.face(true);
    for (i, c) in chars.iter().enumerate() {
        let angle = if chars.len() > 1 {
            -sweep / 2.0 + sweep * i as f32 / (chars.len() - 1) as f32
        } else {
            0.0
        };
        let t = c.to_string();
        let w = face.width(&t, size);
        s.push_transform(&Transform::from_rotate_at(angle, cx, cy));
        let at = Point::from_xy(cx - w / 2.0, cy - r + r * 0.17 + size * 0.88);
        text(s, face, at, size, SEAL_RED, &t);
        s.pop();
    }
    let label = "体检专用章";
    let size = r * 0.17;
    let w = face.width(label, size);
    text(
        s,
        face,
        Point::from_xy(cx - w / 2.0, cy + r * 0.55),
        size,
        SEAL_RED,
        label,
    );
}

/// Writes `pages` as a PDF titled `title`.
pub(crate) fn pdf(
    fonts: &Fonts,
    pages: &[Page],
    title: &str,
    signature: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    use crate::layout::Op;
    let signature = match signature {
        Some(png) => Some(
            Image::from_png(png.to_vec().into(), true).map_err(|e| Error::Image(e.to_string()))?,
        ),
        None => None,
    };
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("zh-CN".into())
            .creator("exam-report".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4 is a valid size");
    for p in pages {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        for op in &p.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold,
                    color,
                    text: t,
                } => text(
                    &mut s,
                    fonts.face(*bold),
                    Point::from_xy(*x, *y),
                    *size,
                    *color,
                    t,
                ),
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill: f,
                    stroke: st,
                } => {
                    let mut pb = PathBuilder::new();
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        s.set_fill(f.map(fill));
                        s.set_stroke(st.map(|c| stroke(c, 0.8)));
                        s.draw_path(&path);
                    }
                }
                Op::Line {
                    points,
                    width,
                    color,
                } => {
                    let mut pb = PathBuilder::new();
                    for (i, (x, y)) in points.iter().enumerate() {
                        if i == 0 {
                            pb.move_to(*x, *y)
                        } else {
                            pb.line_to(*x, *y)
                        }
                    }
                    if let Some(path) = pb.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(stroke(*color, *width)));
                        s.draw_path(&path);
                    }
                }
                Op::Dot { x, y, r, color } => {
                    let mut pb = PathBuilder::new();
                    circle(&mut pb, *x, *y, *r);
                    if let Some(path) = pb.finish() {
                        s.set_stroke(None);
                        s.set_fill(Some(fill(*color)));
                        s.draw_path(&path);
                    }
                }
                Op::Seal {
                    x,
                    y,
                    r,
                    text: name,
                } => seal(&mut s, fonts, *x, *y, *r, name),
                Op::Signature { x, y, w, h } => {
                    let Some(img) = &signature else { continue };
                    let (iw, ih) = img.size();
                    let scale = (w / iw as f32).min(h / ih as f32);
                    let (dw, dh) = (iw as f32 * scale, ih as f32 * scale);
                    s.push_transform(&Transform::from_translate(*x, y + (h - dh) / 2.0));
                    if let Some(size) = Size::from_wh(dw, dh) {
                        s.draw_image(img.clone(), size);
                    }
                    s.pop();
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}
