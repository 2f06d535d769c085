//! The sign-in captcha (seed 002 §(九) 1.4): five characters drawn by the
//! service itself as a small PNG (each glyph scaled, rotated and sheared at
//! random, the whole picture waved, crossed by lines and speckled), checked
//! on the server, answerable once, for a short time, and only with the
//! sign-in form it was issued to. No outside service is called.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Characters that cannot be mistaken for one another (no 0/O, 1/I).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const LEN: usize = 5;
pub const WIDTH: u32 = 168;
pub const HEIGHT: u32 = 56;

/// 5×7 glyphs, one string per row ('#' is ink), for [`ALPHABET`].
fn glyph(c: u8) -> [&'static str; 7] {
    match c {
        b'2' => [
            " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####",
        ],
        b'3' => [
            "#### ", "    #", "    #", " ### ", "    #", "    #", "#### ",
        ],
        b'4' => [
            "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # ",
        ],
        b'5' => [
            "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### ",
        ],
        b'6' => [
            " ### ", "#    ", "#    ", "#### ", "#   #", "#   #", " ### ",
        ],
        b'7' => [
            "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   ",
        ],
        b'8' => [
            " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### ",
        ],
        b'9' => [
            " ### ", "#   #", "#   #", " ####", "    #", "    #", " ### ",
        ],
        b'A' => [
            " ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #",
        ],
        b'B' => [
            "#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### ",
        ],
        b'C' => [
            " ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### ",
        ],
        b'D' => [
            "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### ",
        ],
        b'E' => [
            "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####",
        ],
        b'F' => [
            "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    ",
        ],
        b'G' => [
            " ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####",
        ],
        b'H' => [
            "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #",
        ],
        b'J' => [
            "  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  ",
        ],
        b'K' => [
            "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #",
        ],
        b'L' => [
            "#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####",
        ],
        b'M' => [
            "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #",
        ],
        b'N' => [
            "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "#   #",
        ],
        b'P' => [
            "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    ",
        ],
        b'Q' => [
            " ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #",
        ],
        b'R' => [
            "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #",
        ],
        b'S' => [
            " ####", "#    ", "#    ", " ### ", "    #", "    #", "#### ",
        ],
        b'T' => [
            "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ",
        ],
        b'U' => [
            "#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### ",
        ],
        b'V' => [
            "#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  ",
        ],
        b'W' => [
            "#   #", "#   #", "#   #", "# # #", "# # #", "## ##", "#   #",
        ],
        b'X' => [
            "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #",
        ],
        b'Y' => [
            "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  ",
        ],
        b'Z' => [
            "#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####",
        ],
        _ => ["     "; 7],
    }
}

/// SplitMix64: the picture's jitter (the answer itself comes from the OS).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
}

/// A fresh answer from the OS random source.
pub fn new_answer() -> String {
    exam_protocol::auth::random_bytes::<LEN>()
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A glyph placed on the picture.
struct Placed {
    rows: [&'static str; 7],
    cx: f32,
    cy: f32,
    cos: f32,
    sin: f32,
    shear: f32,
    scale: f32,
}

impl Placed {
    fn ink(&self, x: f32, y: f32) -> bool {
        let (dx, dy) = (x - self.cx, y - self.cy);
        // Undo the rotation, then the shear, then the scale.
        let (rx, ry) = (
            dx * self.cos + dy * self.sin,
            -dx * self.sin + dy * self.cos,
        );
        let rx = rx - self.shear * ry;
        let (gx, gy) = (rx / self.scale + 2.5, ry / self.scale + 3.5);
        if !(0.0..5.0).contains(&gx) || !(0.0..7.0).contains(&gy) {
            return false;
        }
        self.rows[gy as usize].as_bytes()[gx as usize] == b'#'
    }
}

/// Draws `answer` as a greyscale PNG, distorted by `seed`.
pub fn render(answer: &str, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let step = (WIDTH as f32 - 24.0) / LEN as f32;
    let glyphs: Vec<Placed> = answer
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let angle = rng.range(-0.38, 0.38);
            Placed {
                rows: glyph(c),
                cx: 12.0 + step * (i as f32 + 0.5) + rng.range(-3.0, 3.0),
                cy: HEIGHT as f32 / 2.0 + rng.range(-5.0, 5.0),
                cos: angle.cos(),
                sin: angle.sin(),
                shear: rng.range(-0.3, 0.3),
                scale: rng.range(4.2, 5.4),
            }
        })
        .collect();
    let (amp, freq, phase) = (
        rng.range(1.5, 3.0),
        rng.range(0.08, 0.16),
        rng.range(0.0, 6.3),
    );
    let mut px = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            // The wave: every glyph bends with the picture.
            let xf = x as f32 + amp * (y as f32 * freq + phase).sin();
            let yf = y as f32 + amp * 0.7 * (x as f32 * freq * 0.8 + phase).cos();
            let ink = glyphs.iter().any(|g| g.ink(xf, yf));
            px[y * w + x] = if ink {
                rng.range(15.0, 90.0) as u8
            } else {
                rng.range(205.0, 255.0) as u8
            };
        }
    }
    // Lines across the text and speckles, in ink-like greys.
    for _ in 0..3 {
        let (x0, y0) = (rng.range(0.0, 20.0), rng.range(5.0, HEIGHT as f32 - 5.0));
        let (x1, y1) = (
            rng.range(WIDTH as f32 - 20.0, WIDTH as f32),
            rng.range(5.0, HEIGHT as f32 - 5.0),
        );
        let grey = rng.range(40.0, 120.0) as u8;
        let steps = (WIDTH * 2) as usize;
        for s in 0..steps {
            let t = s as f32 / steps as f32;
            let (x, y) = (
                x0 + (x1 - x0) * t,
                y0 + (y1 - y0) * t + 2.0 * (t * 9.0).sin(),
            );
            let (xi, yi) = (x as usize, y as usize);
            if xi < w && yi < h {
                px[yi * w + xi] = grey;
            }
        }
    }
    for _ in 0..180 {
        let (x, y) = (rng.next() as usize % w, rng.next() as usize % h);
        px[y * w + x] = rng.range(30.0, 160.0) as u8;
    }
    encode_grey(&px, WIDTH, HEIGHT)
}

/// An 8-bit greyscale PNG.
pub(crate) fn encode_grey(px: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let written = enc
        .write_header()
        .and_then(|mut wr| wr.write_image_data(px));
    if let Err(e) = written {
        // Only a size mismatch can fail, and the callers size the buffer.
        tracing::error!(error = %e, "PNG encoding failed");
        out.clear();
    }
    out
}

/// Issued captchas by sign-in form (the form token's hash), each answerable
/// once before its deadline. Bounded: when full of live ones, no more are
/// issued until some expire.
#[derive(Debug)]
pub struct Captchas {
    issued: HashMap<String, (String, DateTime<Utc>)>,
    ttl: Duration,
    max: usize,
    last_prune: Option<DateTime<Utc>>,
}

/// The answer to a captcha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Right,
    Wrong,
    /// None was issued to this form, or it expired or was used.
    Missing,
}

impl Captchas {
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            issued: HashMap::new(),
            ttl,
            max,
            last_prune: None,
        }
    }

    /// A new captcha for `form` (replacing any earlier one); None when full.
    pub fn issue(&mut self, form: &str, now: DateTime<Utc>) -> Option<String> {
        if self.issued.len() >= self.max
            && !self.issued.contains_key(form)
            && self
                .last_prune
                .is_none_or(|t| now - t >= Duration::seconds(1))
        {
            self.last_prune = Some(now);
            self.issued.retain(|_, (_, until)| *until > now);
        }
        if self.issued.len() >= self.max && !self.issued.contains_key(form) {
            return None;
        }
        let answer = new_answer();
        self.issue_with(form, &answer, now);
        Some(answer)
    }

    /// Records `answer` as issued to `form` at `now` (another instance's
    /// captcha, replayed: see `shared`).
    pub fn issue_with(&mut self, form: &str, answer: &str, now: DateTime<Utc>) {
        self.issued
            .insert(form.to_string(), (answer.to_string(), now + self.ttl));
    }

    /// Forgets `form`'s captcha (answered on another instance).
    pub fn forget(&mut self, form: &str) {
        self.issued.remove(form);
    }

    /// Checks `typed` against `form`'s captcha and forgets it either way:
    /// each captcha gets one answer.
    pub fn check(&mut self, form: &str, typed: &str, now: DateTime<Utc>) -> Answer {
        match self.issued.remove(form) {
            Some((answer, until)) if until > now => {
                let typed = typed.trim().to_ascii_uppercase();
                if super::ct_eq(typed.as_bytes(), answer.as_bytes()) {
                    Answer::Right
                } else {
                    Answer::Wrong
                }
            }
            _ => Answer::Missing,
        }
    }

    /// The answer issued to `form` (tests read it instead of the picture).
    pub fn peek(&self, form: &str) -> Option<String> {
        self.issued.get(form).map(|(a, _)| a.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn every_character_has_a_glyph_of_its_own() {
        let all: std::collections::BTreeSet<_> = ALPHABET.iter().map(|&c| glyph(c)).collect();
        assert_eq!(all.len(), ALPHABET.len());
        for &c in ALPHABET {
            assert!(glyph(c).iter().all(|r| r.len() == 5), "{}", c as char);
        }
        let a = new_answer();
        assert_eq!(a.len(), LEN);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
    }

    #[test]
    fn the_picture_is_a_png_with_ink_and_differs_each_time() {
        let one = render("AB3K7", 1);
        let two = render("AB3K7", 2);
        // To look at one: CAPTCHA_SAMPLE=/tmp/captcha.png cargo test … captcha
        if let Some(path) = std::env::var_os("CAPTCHA_SAMPLE") {
            std::fs::write(path, &one).unwrap();
        }
        assert_ne!(one, two, "the distortion depends on the seed");
        let decoder = png::Decoder::new(std::io::Cursor::new(one));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let dark = buf.iter().filter(|&&p| p < 100).count();
        // Five glyphs of ~25×35 px at about half ink, lines and speckles.
        assert!(dark > 800 && dark < (WIDTH * HEIGHT / 2) as usize, "{dark}");
    }

    #[test]
    fn a_captcha_answers_once_for_its_form_before_its_deadline() {
        let mut c = Captchas::new(Duration::minutes(2), 100);
        let a = c.issue("form-1", t0()).unwrap();
        assert_eq!(c.check("form-2", &a, t0()), Answer::Missing, "another form");
        assert_eq!(c.check("form-1", &a.to_lowercase(), t0()), Answer::Right);
        assert_eq!(c.check("form-1", &a, t0()), Answer::Missing, "used");
        let b = c.issue("form-1", t0()).unwrap();
        assert_eq!(c.check("form-1", "WRONG", t0()), Answer::Wrong);
        assert_eq!(
            c.check("form-1", &b, t0()),
            Answer::Missing,
            "one answer each"
        );
        let late = c.issue("form-1", t0()).unwrap();
        assert_eq!(
            c.check("form-1", &late, t0() + Duration::minutes(2)),
            Answer::Missing,
            "expired"
        );
    }

    #[test]
    fn issuing_is_bounded() {
        let mut c = Captchas::new(Duration::minutes(2), 10);
        for i in 0..10 {
            assert!(c.issue(&format!("f{i}"), t0()).is_some());
        }
        assert!(c.issue("f10", t0()).is_none(), "full of live captchas");
        assert!(c.issue("f3", t0()).is_some(), "a form may get a new one");
        assert!(c.issue("f10", t0() + Duration::minutes(3)).is_some());
    }
}
