//! Cameras behind a frame-source trait: photos for the guide sheet (K6),
//! codes read from frames as a second way to scan (rxing: QR and CODE128,
//! Chinese text included), and the face worker's pictures (K3).
//!
//! - [`v4l2`]: a real camera through Video4Linux2 (format negotiated,
//!   frames converted, a stall and an unplug told apart), and the output
//!   side that feeds a virtual camera (the kernel's `vivid`) for tests;
//! - [`ReplaySource`]: PNG files played in a loop, so tests and kiosks
//!   without a camera run the same code;
//! - [`live`]: one thread owns the camera (a device streams to one reader)
//!   and shares its latest picture with the photo screen, the code reader
//!   and the face worker; it reopens a camera that was unplugged or stalled.

use std::path::Path;
use std::time::Duration;

pub mod convert;
pub mod live;
pub mod v4l2;

use crate::escpos::Block;
use crate::scanner::{CodeError, ScannedCode, classify};

/// One 8-bit grayscale frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

/// One colour picture, 8-bit BGR rows with no padding, and when it was
/// taken by the source's clock (a camera's driver timestamp; a replay's
/// frame count times its interval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub bgr: Vec<u8>,
    pub at: Duration,
}

impl Picture {
    /// The grey frame the photo, the receipt and the code reader take.
    pub fn to_frame(&self) -> Frame {
        Frame {
            width: self.width,
            height: self.height,
            luma: self
                .bgr
                .chunks_exact(3)
                .map(|p| rgb_luma(p[2], p[1], p[0]))
                .collect(),
        }
    }

    /// The picture as a colour PNG (RGB), full size.
    pub fn to_png(&self) -> Vec<u8> {
        let rgb: Vec<u8> = self
            .bgr
            .chunks_exact(3)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // Writing into a Vec cannot fail once the header is valid.
        if let Ok(mut wr) = enc.write_header() {
            let _ = wr.write_image_data(&rgb);
        }
        out
    }

    /// A grey frame as a picture (its three channels equal).
    pub fn from_frame(f: &Frame, at: Duration) -> Self {
        Self {
            width: f.width,
            height: f.height,
            bgr: f.luma.iter().flat_map(|&y| [y, y, y]).collect(),
            at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("camera unavailable: {0}")]
    Unavailable(String),
    /// The device went away (unplugged, or its driver disconnected it).
    #[error("camera unplugged: {0}")]
    Unplugged(String),
    /// The camera is there but sent no frame for this long.
    #[error("the camera sent no picture for {0:?}")]
    Stalled(Duration),
    #[error("image {path}: {reason}")]
    Image { path: String, reason: String },
    #[error("the replay source has no frames")]
    Empty,
}

/// Where pictures come from: a camera, or a replay of files.
pub trait FrameSource: Send {
    fn next_picture(&mut self) -> Result<Picture, CameraError>;

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        self.next_picture().map(|p| p.to_frame())
    }

    /// The next picture, dropped: a camera keeps its queue moving without
    /// the cost of converting a frame nobody will look at.
    fn skip_picture(&mut self) -> Result<Duration, CameraError> {
        self.next_picture().map(|p| p.at)
    }
}

/// Plays pictures in a loop (a test's or a demo's camera), `interval`
/// apart by its clock (it does not sleep: [`live::LiveCamera`] paces it).
#[derive(Debug, Clone)]
pub struct ReplaySource {
    pictures: Vec<Picture>,
    next: u32,
    interval: Duration,
}

impl ReplaySource {
    /// Grey frames, 200 ms apart.
    pub fn new(frames: Vec<Frame>) -> Self {
        Self::of_pictures(
            frames
                .iter()
                .map(|f| Picture::from_frame(f, Duration::ZERO))
                .collect(),
            Duration::from_millis(200),
        )
    }

    pub fn of_pictures(pictures: Vec<Picture>, interval: Duration) -> Self {
        Self {
            pictures,
            next: 0,
            interval,
        }
    }

    /// PNG files in colour, 200 ms apart.
    pub fn from_pngs(paths: &[impl AsRef<Path>]) -> Result<Self, CameraError> {
        paths
            .iter()
            .map(|p| Picture::from_png_file(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(|p| Self::of_pictures(p, Duration::from_millis(200)))
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl FrameSource for ReplaySource {
    fn next_picture(&mut self) -> Result<Picture, CameraError> {
        if self.pictures.is_empty() {
            return Err(CameraError::Empty);
        }
        let mut p = self.pictures[self.next as usize % self.pictures.len()].clone();
        p.at = self.interval * self.next;
        self.next = self.next.wrapping_add(1);
        Ok(p)
    }
}

impl Picture {
    /// Reads a PNG (grey, grey+alpha, RGB or RGBA, 8-bit) in colour.
    pub fn from_png_file(path: &Path) -> Result<Self, CameraError> {
        let (info, px) = read_png(path)?;
        let bgr = match info.color_type {
            png::ColorType::Grayscale => px.iter().flat_map(|&y| [y, y, y]).collect(),
            png::ColorType::GrayscaleAlpha => px
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0]])
                .collect(),
            png::ColorType::Rgb => px
                .chunks_exact(3)
                .flat_map(|p| [p[2], p[1], p[0]])
                .collect(),
            png::ColorType::Rgba => px
                .chunks_exact(4)
                .flat_map(|p| [p[2], p[1], p[0]])
                .collect(),
            png::ColorType::Indexed => {
                return Err(CameraError::Image {
                    path: path.display().to_string(),
                    reason: "palette images are expanded; unexpected".into(),
                });
            }
        };
        Ok(Picture {
            width: info.width,
            height: info.height,
            bgr,
            at: Duration::ZERO,
        })
    }
}

/// A PNG's pixels, 8-bit, palettes expanded.
fn read_png(path: &Path) -> Result<(png::OutputInfo, Vec<u8>), CameraError> {
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
    buf.truncate(info.buffer_size());
    Ok((info, buf))
}

impl Frame {
    /// Reads a PNG (gray, gray+alpha, RGB or RGBA, 8-bit) into luma.
    pub fn from_png_file(path: &Path) -> Result<Self, CameraError> {
        Picture::from_png_file(path).map(|p| p.to_frame())
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
