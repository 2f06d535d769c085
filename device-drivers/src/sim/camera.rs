//! Camera frames with codes in them, as a phone or a printed sheet shows
//! them to the kiosk's camera: for the tests of the camera path.

use crate::camera::Frame;

/// A 640×480 camera frame: a grey gradient with noise, and `modules`
/// (rows of dark/light) drawn at `scale` pixels from (x0, y0).
pub fn frame_with(modules: &[Vec<bool>], scale: u32, x0: u32, y0: u32) -> Frame {
    let (w, h) = (640u32, 480u32);
    let mut seed = 7u32;
    let mut luma: Vec<u8> = (0..w * h)
        .map(|i| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (seed >> 16) % 24;
            (150 + (i % w) * 60 / w + noise) as u8
        })
        .collect();
    // A white card under the code, as a phone screen or paper would be.
    let (cw, ch) = (
        modules[0].len() as u32 * scale + 8 * scale,
        modules.len() as u32 * scale + 8 * scale,
    );
    for y in y0.saturating_sub(4 * scale)..(y0 - 4 * scale + ch).min(h) {
        for x in x0.saturating_sub(4 * scale)..(x0 - 4 * scale + cw).min(w) {
            luma[(y * w + x) as usize] = 235;
        }
    }
    for (my, row) in modules.iter().enumerate() {
        for (mx, &dark) in row.iter().enumerate() {
            if dark {
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (x, y) = (x0 + mx as u32 * scale + dx, y0 + my as u32 * scale + dy);
                        luma[(y * w + x) as usize] = 25;
                    }
                }
            }
        }
    }
    Frame {
        width: w,
        height: h,
        luma,
    }
}

pub fn qr(text: &str) -> Vec<Vec<bool>> {
    let q = qrcode::QrCode::new(text.as_bytes()).expect("a short text fits a QR code");
    let n = q.width();
    q.to_colors()
        .chunks(n)
        .map(|r| r.iter().map(|c| *c == qrcode::Color::Dark).collect())
        .collect()
}

/// A 640×480 frame with `text`'s QR code in it.
pub fn qr_frame(text: &str) -> Frame {
    frame_with(&qr(text), 6, 200, 120)
}
