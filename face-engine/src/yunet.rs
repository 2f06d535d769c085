//! YuNet's input and output, apart from running it: the picture scaled
//! into the model's fixed 640×640 square (its output shapes are fixed),
//! and the model's per-anchor scores, boxes and landmarks decoded into
//! faces as OpenCV's `FaceDetectorYN` decodes them (score = √(cls·obj),
//! box centre and landmarks as offsets from the anchor's cell in strides,
//! size as exp(·)·stride), then non-maximum suppression.

pub use kiosk_face::Face;
use kiosk_face::{Landmarks, Point};

use crate::Bgr;

/// The model's input side.
pub const SIDE: usize = 640;
/// Its three feature levels.
pub const STRIDES: [usize; 3] = [8, 16, 32];

/// What the detector works on: kiosk-face's `Face` with its box arithmetic.
trait BoxOps {
    fn iou(&self, o: &Face) -> f32;
    fn scaled(self, k: f32) -> Face;
}

impl BoxOps for Face {
    fn iou(&self, o: &Face) -> f32 {
        let (x1, y1) = (self.x.max(o.x), self.y.max(o.y));
        let (x2, y2) = (
            (self.x + self.w).min(o.x + o.w),
            (self.y + self.h).min(o.y + o.h),
        );
        let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
        let union = self.w * self.h + o.w * o.h - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    fn scaled(mut self, k: f32) -> Face {
        self.x *= k;
        self.y *= k;
        self.w *= k;
        self.h *= k;
        self.landmarks = Landmarks::from_array(self.landmarks.to_array().map(|p| p.scale(k)));
        self
    }
}

/// The picture as the model's input: in the top-left of a black 640×640
/// square, scaled down by `scale` (keeping its proportions) only if it is
/// larger — a smaller one is only padded, as OpenCV pads its input, so a
/// camera frame of 640×480 is seen pixel for pixel; BGR planes, values
/// 0–255 (the model takes them as OpenCV's `blobFromImage` gives them).
pub fn input(image: &Bgr) -> (Vec<f32>, f32) {
    let scale = (SIDE as f32 / image.width as f32)
        .min(SIDE as f32 / image.height as f32)
        .min(1.0);
    let (w, h) = (
        ((image.width as f32 * scale).round() as usize).min(SIDE),
        ((image.height as f32 * scale).round() as usize).min(SIDE),
    );
    let mut out = vec![0.0f32; 3 * SIDE * SIDE];
    let src = image.as_ref();
    for y in 0..h {
        // Pixel centres map to pixel centres (OpenCV's INTER_LINEAR).
        let sy = ((y as f32 + 0.5) / scale - 0.5).clamp(0.0, (image.height - 1) as f32);
        for x in 0..w {
            let sx = ((x as f32 + 0.5) / scale - 0.5).clamp(0.0, (image.width - 1) as f32);
            for c in 0..3 {
                out[c * SIDE * SIDE + y * SIDE + x] = bilinear(src, sx, sy, c);
            }
        }
    }
    (out, scale)
}

fn bilinear(img: kiosk_face::align::ImageRef<'_>, x: f32, y: f32, c: usize) -> f32 {
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(img.width - 1), (y0 + 1).min(img.height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize| f32::from(img.data[(yy * img.width + xx) * 3 + c]);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// One feature level's outputs, each flattened: per anchor 1 class score,
/// 1 objectness, 4 box numbers and 10 landmark numbers.
#[derive(Debug, Clone, Copy)]
pub struct Level<'a> {
    pub stride: usize,
    pub cls: &'a [f32],
    pub obj: &'a [f32],
    pub bbox: &'a [f32],
    pub kps: &'a [f32],
}

/// Detection rules: OpenCV's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub score: f32,
    pub nms: f32,
    pub top_k: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            score: 0.9,
            nms: 0.3,
            top_k: 5000,
        }
    }
}

/// Faces from the three levels' outputs, in the model's 640×640 square,
/// best first, overlapping ones suppressed; `scale` (from [`input`])
/// brings them back to the picture's pixels.
pub fn decode(levels: &[Level<'_>], scale: f32, t: Thresholds) -> Vec<Face> {
    let mut faces = Vec::new();
    for l in levels {
        let cols = SIDE / l.stride;
        let s = l.stride as f32;
        let n = l
            .cls
            .len()
            .min(l.obj.len())
            .min(l.bbox.len() / 4)
            .min(l.kps.len() / 10);
        for i in 0..n {
            let score = (l.cls[i].clamp(0.0, 1.0) * l.obj[i].clamp(0.0, 1.0)).sqrt();
            if score < t.score {
                continue;
            }
            let (r, c) = ((i / cols) as f32, (i % cols) as f32);
            let b = &l.bbox[i * 4..i * 4 + 4];
            let (cx, cy) = ((c + b[0]) * s, (r + b[1]) * s);
            let (w, h) = (b[2].exp() * s, b[3].exp() * s);
            let k = &l.kps[i * 10..i * 10 + 10];
            let p = |j: usize| Point::new((k[2 * j] + c) * s, (k[2 * j + 1] + r) * s);
            faces.push(Face {
                score,
                x: cx - w / 2.0,
                y: cy - h / 2.0,
                w,
                h,
                landmarks: Landmarks::from_array([p(0), p(1), p(2), p(3), p(4)]),
            });
        }
    }
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    faces.truncate(t.top_k);
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.iou(&f) <= t.nms) {
            kept.push(f);
        }
    }
    kept.into_iter().map(|f| f.scaled(1.0 / scale)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs with one confident anchor at (row 10, col 20) of stride 16
    /// and a weaker copy next to it.
    #[test]
    fn an_anchor_decodes_as_opencv_does_and_its_neighbour_is_suppressed() {
        let n = (SIDE / 16) * (SIDE / 16);
        let (mut cls, mut obj) = (vec![0.0; n], vec![0.0; n]);
        let (mut bbox, mut kps) = (vec![0.0; n * 4], vec![0.0; n * 10]);
        let cols = SIDE / 16;
        for (i, conf) in [(10 * cols + 20, 0.98f32), (10 * cols + 21, 0.95)] {
            cls[i] = conf;
            obj[i] = 1.0;
            bbox[i * 4..i * 4 + 4].copy_from_slice(&[0.5, 0.25, 2.0f32.ln(), 3.0f32.ln()]);
            for j in 0..5 {
                kps[i * 10 + 2 * j] = j as f32 * 0.1;
                kps[i * 10 + 2 * j + 1] = 0.2;
            }
        }
        let none = Level {
            stride: 8,
            cls: &[],
            obj: &[],
            bbox: &[],
            kps: &[],
        };
        let l = Level {
            stride: 16,
            cls: &cls,
            obj: &obj,
            bbox: &bbox,
            kps: &kps,
        };
        let faces = decode(&[none, l], 0.5, Thresholds::default());
        assert_eq!(faces.len(), 1, "{faces:?}");
        let f = faces[0];
        assert!((f.score - 0.98f32.sqrt()).abs() < 1e-6);
        // Centre (20.5·16, 10.25·16) = (328, 164); size 32 × 48; then ×2.
        assert!((f.x - 2.0 * (328.0 - 16.0)).abs() < 1e-3, "{f:?}");
        assert!((f.y - 2.0 * (164.0 - 24.0)).abs() < 1e-3, "{f:?}");
        assert!((f.w - 64.0).abs() < 1e-3 && (f.h - 96.0).abs() < 1e-3);
        let nose = f.landmarks.nose;
        assert!((nose.x - 2.0 * 20.2 * 16.0).abs() < 1e-3, "{nose:?}");
        assert!((nose.y - 2.0 * 10.2 * 16.0).abs() < 1e-3, "{nose:?}");
    }

    #[test]
    fn nothing_above_the_threshold_is_no_face() {
        let n = 20 * 20;
        let l = Level {
            stride: 32,
            cls: &vec![0.5; n],
            obj: &vec![0.5; n],
            bbox: &vec![0.0; n * 4],
            kps: &vec![0.0; n * 10],
        };
        assert!(decode(&[l], 1.0, Thresholds::default()).is_empty());
    }

    #[test]
    fn the_input_keeps_proportions_in_the_top_left() {
        // 1280×640, white: scaled by ½ into 640×320, the rest black.
        let img = Bgr::new(1280, 640, vec![255; 1280 * 640 * 3]).unwrap();
        let (t, scale) = input(&img);
        assert_eq!(scale, 0.5);
        assert_eq!(t[0], 255.0);
        assert_eq!(t[319 * SIDE + 639], 255.0);
        assert_eq!(t[320 * SIDE], 0.0);
        assert_eq!(t[2 * SIDE * SIDE + 100 * SIDE + 100], 255.0);
        // A smaller picture is padded, not enlarged.
        let small = Bgr::new(320, 240, vec![255; 320 * 240 * 3]).unwrap();
        let (t, scale) = input(&small);
        assert_eq!(scale, 1.0);
        assert_eq!(
            (t[239 * SIDE + 319], t[239 * SIDE + 320], t[240 * SIDE]),
            (255.0, 0.0, 0.0)
        );
    }
}
