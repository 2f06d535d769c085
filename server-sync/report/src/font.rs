//! Fonts: a regular and a bold CJK face, measured with skrifa and drawn by
//! krilla. Chinese needs no shaping (one glyph per character, no
//! ligatures), so glyphs come straight from the character map; measuring
//! and drawing use the same advances, so what the layout measured is what
//! the page shows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::Error;

/// One face of a font file (a TrueType collection holds several).
#[derive(Clone)]
pub struct Face {
    data: Arc<Vec<u8>>,
    index: u32,
    font: Font,
}

impl Face {
    pub fn from_bytes(data: Vec<u8>, index: u32) -> Result<Face, Error> {
        let data = Arc::new(data);
        FontRef::from_index(&data, index)
            .map_err(|_| Error::Font("not an OpenType font".into()))?;
        let font = Font::new(data.clone().into(), index)
            .ok_or_else(|| Error::Font("krilla cannot read the font".into()))?;
        Ok(Face { data, index, font })
    }

    fn font_ref(&self) -> FontRef<'_> {
        // Checked in `from_bytes`.
        FontRef::from_index(&self.data, self.index).expect("font checked on load")
    }

    /// Glyphs for `text` (advances in em) and its width in em. A character
    /// the font lacks draws as the font's .notdef glyph, so nothing shifts.
    pub(crate) fn shape(&self, text: &str) -> (Vec<KrillaGlyph>, f32) {
        let font = self.font_ref();
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        let mut glyphs = Vec::with_capacity(text.len());
        let mut width = 0.0;
        for (at, c) in text.char_indices() {
            let gid = charmap.map(c).unwrap_or_default();
            let advance = metrics.advance_width(gid).unwrap_or(upem) / upem;
            width += advance;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(gid.to_u32()),
                advance,
                0.0,
                0.0,
                0.0,
                at..at + c.len_utf8(),
                None,
            ));
        }
        (glyphs, width)
    }

    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text).1 * size
    }

    pub(crate) fn krilla(&self) -> Font {
        self.font.clone()
    }
}

/// The report's fonts.
#[derive(Clone)]
pub struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

/// Where Debian's fonts-noto-cjk puts its collections; face 2 of each is
/// Simplified Chinese (SC).
const NOTO_DIR: &str = "/usr/share/fonts/opentype/noto";
const SC_FACE: u32 = 2;

impl Fonts {
    /// Noto Sans CJK SC from `dir` (Debian's path when None).
    pub fn noto_sans_sc(dir: Option<&Path>) -> Result<Fonts, Error> {
        let dir = dir.map_or_else(|| PathBuf::from(NOTO_DIR), Path::to_path_buf);
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| Error::Font(format!("{}: {e}", path.display())))
        };
        let regular = Face::from_bytes(read("NotoSansCJK-Regular.ttc")?, SC_FACE)?;
        // Without the bold file headings are drawn in the regular face.
        let bold = match read("NotoSansCJK-Bold.ttc") {
            Ok(b) => Face::from_bytes(b, SC_FACE)?,
            Err(_) => regular.clone(),
        };
        Ok(Fonts { regular, bold })
    }

    pub(crate) fn face(&self, bold: bool) -> &Face {
        if bold { &self.bold } else { &self.regular }
    }
}
