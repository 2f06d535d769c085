//! Pictures as the models want them: 8-bit BGR, rows top to bottom
//! (OpenCV's order, in which both models were trained).

use kiosk_face::align::ImageRef;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("not a picture we can read: {0}")]
    Decode(#[from] image::ImageError),
    #[error("{width}×{height} with {len} bytes is not a BGR picture")]
    Size {
        width: usize,
        height: usize,
        len: usize,
    },
}

/// An 8-bit BGR picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgr {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Bgr {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self, ImageError> {
        if width == 0 || height == 0 || data.len() != width * height * 3 {
            return Err(ImageError::Size {
                width,
                height,
                len: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// A JPEG or PNG file's bytes (a registration photo, an enrolment).
    pub fn decode(bytes: &[u8]) -> Result<Self, ImageError> {
        let rgb = image::load_from_memory(bytes)?.to_rgb8();
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let mut data = rgb.into_raw();
        for px in data.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
        Self::new(w, h, data)
    }

    /// From 8-bit RGB (a camera frame after conversion).
    pub fn from_rgb(width: usize, height: usize, mut rgb: Vec<u8>) -> Result<Self, ImageError> {
        for px in rgb.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
        Self::new(width, height, rgb)
    }

    /// Mean brightness (BT.601 luma, 0–255) inside a face's box, clipped
    /// to the picture; 0 for a box outside it.
    pub fn brightness(&self, face: &kiosk_face::Face) -> f32 {
        let clip = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
        let (x0, x1) = (clip(face.x, self.width), clip(face.x + face.w, self.width));
        let (y0, y1) = (
            clip(face.y, self.height),
            clip(face.y + face.h, self.height),
        );
        let (mut sum, mut n) = (0.0f64, 0usize);
        for y in y0..y1 {
            for px in
                self.data[(y * self.width + x0) * 3..(y * self.width + x1) * 3].chunks_exact(3)
            {
                let (b, g, r) = (f64::from(px[0]), f64::from(px[1]), f64::from(px[2]));
                sum += 0.114 * b + 0.587 * g + 0.299 * r;
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
    }

    pub fn as_ref(&self) -> ImageRef<'_> {
        ImageRef {
            width: self.width,
            height: self.height,
            channels: 3,
            data: &self.data,
        }
    }
}
