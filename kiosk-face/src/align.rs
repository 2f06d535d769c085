//! Alignment: the similarity transform (rotation, uniform scale, shift)
//! that best carries a face's five landmarks onto the recognizer's template,
//! and the 112×112 crop it gives. The template and the least-squares fit
//! are those of OpenCV's `FaceRecognizerSF::alignCrop`, so the embedding
//! sees faces posed as in its training.

use crate::landmarks::Point;

/// SFace's input side, in pixels.
pub const CROP: usize = 112;

/// Where the five landmarks sit in a 112×112 aligned face (ArcFace's
/// reference points, as OpenCV uses them): right eye, left eye, nose tip,
/// right and left mouth corner.
pub const TEMPLATE: [Point; 5] = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

/// `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`: a rotation by
/// `atan2(b, a)` and a scale of `hypot(a, b)`, then a shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    pub fn apply(&self, p: Point) -> Point {
        Point::new(
            self.a * p.x - self.b * p.y + self.tx,
            self.b * p.x + self.a * p.y + self.ty,
        )
    }

    /// The transform that undoes this one; None when it squashes the plane
    /// to a point.
    pub fn inverse(&self) -> Option<Similarity> {
        let k = self.a * self.a + self.b * self.b;
        if k < 1e-12 {
            return None;
        }
        let (a, b) = (self.a / k, -self.b / k);
        Some(Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        })
    }

    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }
}

/// The least-squares similarity carrying `src` onto `dst` (Umeyama's, in
/// the plane: with points as complex numbers, `a + ib` is
/// `Σ d̄·s̄* / Σ |s̄|²` over the centred points). None when the source
/// points coincide.
pub fn fit(src: &[Point], dst: &[Point]) -> Option<Similarity> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let mean = |ps: &[Point]| {
        let s = ps[..n].iter().fold(Point::default(), |acc, p| acc + *p);
        s.scale(1.0 / n as f32)
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut re, mut im, mut den) = (0.0f32, 0.0f32, 0.0f32);
    for (s, d) in src[..n].iter().zip(&dst[..n]) {
        let (s, d) = (*s - ms, *d - md);
        // d · conj(s)
        re += d.x * s.x + d.y * s.y;
        im += d.y * s.x - d.x * s.y;
        den += s.x * s.x + s.y * s.y;
    }
    if den < 1e-9 {
        return None;
    }
    let (a, b) = (re / den, im / den);
    Some(Similarity {
        a,
        b,
        tx: md.x - (a * ms.x - b * ms.y),
        ty: md.y - (b * ms.x + a * ms.y),
    })
}

/// An 8-bit image with `channels` interleaved bytes per pixel, rows
/// top to bottom.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: &'a [u8],
}

impl ImageRef<'_> {
    /// Bilinear sample of channel `c` at (x, y); outside the image reads 0
    /// (OpenCV's constant border), so a face at the edge is cropped, not smeared.
    fn sample(&self, x: f32, y: f32, c: usize) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let px = |xi: f32, yi: f32| -> f32 {
            if xi < 0.0 || yi < 0.0 || xi >= self.width as f32 || yi >= self.height as f32 {
                return 0.0;
            }
            let i = (yi as usize * self.width + xi as usize) * self.channels + c;
            self.data.get(i).copied().map_or(0.0, f32::from)
        };
        let top = px(x0, y0) * (1.0 - fx) + px(x0 + 1.0, y0) * fx;
        let bottom = px(x0, y0 + 1.0) * (1.0 - fx) + px(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The aligned `CROP`×`CROP` face for landmarks `points` of `image`
/// (same channels and order as the image). None when the landmarks are
/// degenerate or the image's buffer is shorter than its size says.
pub fn crop(image: ImageRef<'_>, points: &[Point; 5]) -> Option<Vec<u8>> {
    if image.channels == 0 || image.data.len() < image.width * image.height * image.channels {
        return None;
    }
    let to_crop = fit(points, &TEMPLATE)?;
    let back = to_crop.inverse()?;
    let mut out = vec![0u8; CROP * CROP * image.channels];
    for v in 0..CROP {
        for u in 0..CROP {
            let p = back.apply(Point::new(u as f32, v as f32));
            for c in 0..image.channels {
                let value = image.sample(p.x, p.y, c).round().clamp(0.0, 255.0);
                out[(v * CROP + u) * image.channels + c] = value as u8;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Point, b: Point, tol: f32) -> bool {
        (a.x - b.x).abs() < tol && (a.y - b.y).abs() < tol
    }

    #[test]
    fn a_known_similarity_is_recovered_exactly() {
        let t = Similarity {
            a: 1.7 * 0.3f32.cos(),
            b: 1.7 * 0.3f32.sin(),
            tx: 200.0,
            ty: -40.0,
        };
        let moved: Vec<Point> = TEMPLATE.iter().map(|p| t.apply(*p)).collect();
        let fitted = fit(&TEMPLATE, &moved).unwrap();
        for (p, q) in TEMPLATE.iter().zip(&moved) {
            assert!(close(fitted.apply(*p), *q, 1e-3));
        }
        let back = fitted.inverse().unwrap();
        for (p, q) in TEMPLATE.iter().zip(&moved) {
            assert!(close(back.apply(*q), *p, 1e-3));
        }
    }

    #[test]
    fn coincident_points_have_no_fit() {
        let same = [Point::new(5.0, 5.0); 5];
        assert!(fit(&same, &TEMPLATE).is_none());
    }

    #[test]
    fn the_crop_puts_the_eyes_where_the_template_says() {
        // A grey image with two bright dots for eyes, twice the template's
        // size and shifted: after the crop the dots sit on the template's eyes.
        let (w, h) = (400, 300);
        let mut img = vec![40u8; w * h];
        let t = Similarity {
            a: 2.0,
            b: 0.0,
            tx: 90.0,
            ty: 30.0,
        };
        let pts: [Point; 5] = TEMPLATE.map(|p| t.apply(p));
        for eye in &pts[..2] {
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let (x, y) = (eye.x.round() as i32 + dx, eye.y.round() as i32 + dy);
                    img[y as usize * w + x as usize] = 250;
                }
            }
        }
        let out = crop(
            ImageRef {
                width: w,
                height: h,
                channels: 1,
                data: &img,
            },
            &pts,
        )
        .unwrap();
        for eye in &TEMPLATE[..2] {
            let v = out[eye.y.round() as usize * CROP + eye.x.round() as usize];
            assert!(v > 200, "eye at {eye:?} reads {v}");
        }
        // Far from the eyes the crop is the background.
        assert_eq!(out[5 * CROP + 5], 40);
    }

    #[test]
    fn a_short_buffer_is_refused_not_read_past() {
        let img = vec![0u8; 10];
        let r = ImageRef {
            width: 100,
            height: 100,
            channels: 3,
            data: &img,
        };
        assert!(crop(r, &TEMPLATE).is_none());
    }
}
