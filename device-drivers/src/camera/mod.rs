//! Cameras behind a frame-source trait: photos for the guide sheet (K6),
//! and codes read from frames as a second way to scan (rxing: QR and
//! CODE128, Chinese text included). A replay source plays PNG files, so
//! tests and kiosks without a camera run the same code. (The V4L2 source
//! through nokhwa is not built yet.)

use std::path::Path;

use crate::escpos::Block;
use crate::scanner::{CodeError, ScannedCode, classify};

/// One 8-bit grayscale frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("camera unavailable: {0}")]
    Unavailable(String),
    #[error("image {path}: {reason}")]
    Image { path: String, reason: String },
    #[error("the replay source has no frames")]
    Empty,
}

/// Where frames come from: a camera, or a replay of files.
pub trait FrameSource: Send {
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
}

/// Plays frames in a loop (a test's or a demo's camera).
#[derive(Debug, Clone)]
pub struct ReplaySource {
    frames: Vec<Frame>,
    next: usize,
}

impl ReplaySource {
    pub fn new(frames: Vec<Frame>) -> Self {
        Self { frames, next: 0 }
    }

    pub fn from_pngs(paths: &[impl AsRef<Path>]) -> Result<Self, CameraError> {
        paths
            .iter()
            .map(|p| Frame::from_png_file(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }
}

impl FrameSource for ReplaySource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if self.frames.is_empty() {
            return Err(CameraError::Empty);
        }
        let f = self.frames[self.next % self.frames.len()].clone();
        self.next += 1;
        Ok(f)
    }
}

impl Frame {
    /// Reads a PNG (gray, gray+alpha, RGB or RGBA, 8-bit) into luma.
    pub fn from_png_file(path: &Path) -> Result<Self, CameraError> {
        let err = |reason: String| CameraError::Image {
            path: path.display().to_string(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut dec = png::Decoder::new(std::io::BufReader::new(file));
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut r = dec.read_info().map_err(|e| err(e.to_string()))?;
        let mut buf = vec![
            0;
            r.output_buffer_size()
                .ok_or_else(|| err("too large".into()))?
        ];
        let info = r.next_frame(&mut buf).map_err(|e| err(e.to_string()))?;
        let px = &buf[..info.buffer_size()];
        let luma = match info.color_type {
            png::ColorType::Grayscale => px.to_vec(),
            png::ColorType::GrayscaleAlpha => px.chunks_exact(2).map(|p| p[0]).collect(),
            png::ColorType::Rgb => px
                .chunks_exact(3)
                .map(|p| rgb_luma(p[0], p[1], p[2]))
                .collect(),
            png::ColorType::Rgba => px
                .chunks_exact(4)
                .map(|p| rgb_luma(p[0], p[1], p[2]))
                .collect(),
            png::ColorType::Indexed => {
                return Err(err("palette images are expanded; unexpected".into()));
            }
        };
        Ok(Frame {
            width: info.width,
            height: info.height,
            luma,
        })
    }

    /// Any code in the frame: Some(Ok) for one of ours, Some(Err) for a
    /// code that is not, None when there is no code.
    pub fn scan(&self) -> Option<Result<ScannedCode, CodeError>> {
        let r =
            rxing::helpers::detect_in_luma_slice(&self.luma, self.width, self.height, None).ok()?;
        Some(classify(r.getText()))
    }

    /// The frame as a grayscale PNG at most `max_width` pixels wide (the
    /// photo kept with the registration: small, enough to know the face).
    pub fn to_png(&self, max_width: u32) -> Vec<u8> {
        let w = self.width.clamp(1, max_width.max(1));
        let h =
            ((u64::from(self.height) * u64::from(w)) / u64::from(self.width.max(1))).max(1) as u32;
        let luma: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let sx = (u64::from(x) * u64::from(self.width) / u64::from(w)) as u32;
                let sy = (u64::from(y) * u64::from(self.height) / u64::from(h)) as u32;
                self.luma[(sy * self.width + sx) as usize]
            })
            .collect();
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        // Writing into a Vec cannot fail once the header is valid.
        if let Ok(mut wr) = enc.write_header() {
            let _ = wr.write_image_data(&luma);
        }
        out
    }

    /// The frame as a receipt raster `width_dots` wide (a multiple of 8),
    /// scaled and dithered (Floyd–Steinberg) for a thermal printer.
    pub fn to_raster(&self, width_dots: u32) -> Block {
        let w = (width_dots / 8).max(1) * 8;
        let h =
            ((u64::from(self.height) * u64::from(w)) / u64::from(self.width.max(1))).max(1) as u32;
        let mut g: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let sx = (u64::from(x) * u64::from(self.width) / u64::from(w)) as u32;
                let sy = (u64::from(y) * u64::from(self.height) / u64::from(h)) as u32;
                f32::from(self.luma[(sy * self.width + sx) as usize])
            })
            .collect();
        let mut bits = vec![0u8; (w / 8 * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize;
                let old = g[i];
                let black = old < 128.0;
                let err = old - if black { 0.0 } else { 255.0 };
                if black {
                    bits[(y * (w / 8) + x / 8) as usize] |= 0x80 >> (x % 8);
                }
                let mut spread = |dx: i64, dy: u32, k: f32| {
                    let nx = i64::from(x) + dx;
                    if (0..i64::from(w)).contains(&nx) && y + dy < h {
                        g[((y + dy) * w) as usize + nx as usize] += err * k;
                    }
                };
                spread(1, 0, 7.0 / 16.0);
                spread(-1, 1, 3.0 / 16.0);
                spread(0, 1, 5.0 / 16.0);
                spread(1, 1, 1.0 / 16.0);
            }
        }
        Block::Raster {
            width_bytes: (w / 8) as u16,
            height: h as u16,
            bits,
        }
    }
}

pub(crate) fn rgb_luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8
}
