//! A camera's pixel formats into 8-bit BGR (what the face engine and the
//! photo take) and back into YUYV (what the virtual camera is fed). Pure
//! functions over byte slices: a short or odd buffer is an error, never a
//! panic, since the bytes come from a driver.
//!
//! YUV is BT.601 limited range, what UVC webcams and vivid send by default.

/// The pixel layouts a kiosk camera is read in, most preferred first:
/// uncompressed 4:2:2 (every UVC camera has it), 8-bit grey, packed RGB,
/// then Motion-JPEG (a camera that offers nothing else at a useful size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Yuyv,
    Grey,
    Bgr24,
    Rgb24,
    Mjpeg,
}

impl PixelFormat {
    pub const PREFERRED: [PixelFormat; 5] = [
        PixelFormat::Yuyv,
        PixelFormat::Grey,
        PixelFormat::Bgr24,
        PixelFormat::Rgb24,
        PixelFormat::Mjpeg,
    ];

    /// The V4L2 four-character code.
    pub fn fourcc(self) -> [u8; 4] {
        *match self {
            PixelFormat::Yuyv => b"YUYV",
            PixelFormat::Grey => b"GREY",
            PixelFormat::Bgr24 => b"BGR3",
            PixelFormat::Rgb24 => b"RGB3",
            PixelFormat::Mjpeg => b"MJPG",
        }
    }

    pub fn from_fourcc(code: [u8; 4]) -> Option<Self> {
        Self::PREFERRED.into_iter().find(|f| f.fourcc() == code)
    }

    /// Bytes per pixel of the packed formats (none for Motion-JPEG).
    fn bytes_per_pixel(self) -> Option<usize> {
        match self {
            PixelFormat::Yuyv => Some(2),
            PixelFormat::Grey => Some(1),
            PixelFormat::Bgr24 | PixelFormat::Rgb24 => Some(3),
            PixelFormat::Mjpeg => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("{got} bytes for a {width}×{height} frame with {stride} bytes a line")]
    Short {
        got: usize,
        width: u32,
        height: u32,
        stride: usize,
    },
    #[error("a {0}×{1} frame (YUYV needs an even width, and no side may be 0)")]
    Size(u32, u32),
    #[error("Motion-JPEG frame: {0}")]
    Jpeg(String),
}

/// One frame of `format` (`stride` bytes a line; 0 means packed) into
/// BGR, `width * height * 3` bytes.
pub fn to_bgr(
    format: PixelFormat,
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
) -> Result<Vec<u8>, ConvertError> {
    if width == 0 || height == 0 || (format == PixelFormat::Yuyv && width % 2 == 1) {
        return Err(ConvertError::Size(width, height));
    }
    let Some(bpp) = format.bytes_per_pixel() else {
        return mjpeg_to_bgr(data, width, height);
    };
    let (w, h) = (width as usize, height as usize);
    let stride = if stride == 0 { w * bpp } else { stride };
    if stride < w * bpp || data.len() < stride * (h - 1) + w * bpp {
        return Err(ConvertError::Short {
            got: data.len(),
            width,
            height,
            stride,
        });
    }
    let mut out = Vec::with_capacity(w * h * 3);
    for row in data.chunks(stride).take(h) {
        let row = &row[..w * bpp];
        match format {
            PixelFormat::Yuyv => {
                for px in row.chunks_exact(4) {
                    let (y0, u, y1, v) = (px[0], px[1], px[2], px[3]);
                    out.extend_from_slice(&yuv_to_bgr(y0, u, v));
                    out.extend_from_slice(&yuv_to_bgr(y1, u, v));
                }
            }
            PixelFormat::Grey => {
                for &g in row {
                    out.extend_from_slice(&[g, g, g]);
                }
            }
            PixelFormat::Bgr24 => out.extend_from_slice(row),
            PixelFormat::Rgb24 => {
                for px in row.chunks_exact(3) {
                    out.extend_from_slice(&[px[2], px[1], px[0]]);
                }
            }
            PixelFormat::Mjpeg => unreachable!("handled above"),
        }
    }
    Ok(out)
}

fn mjpeg_to_bgr(data: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ConvertError> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let opts = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::BGR);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(
        zune_jpeg::zune_core::bytestream::ZCursor::new(data),
        opts,
    );
    // The size in the frame's header is checked before anything is
    // allocated for it: a corrupt frame may claim 16384×16384.
    dec.decode_headers()
        .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
    let (w, h) = dec
        .dimensions()
        .ok_or_else(|| ConvertError::Jpeg("no dimensions".into()))?;
    if (w as u32, h as u32) != (width, height) {
        return Err(ConvertError::Jpeg(format!(
            "{w}×{h} decoded where the camera said {width}×{height}"
        )));
    }
    let px = dec
        .decode()
        .map_err(|e| ConvertError::Jpeg(e.to_string()))?;
    if px.len() != w * h * 3 {
        return Err(ConvertError::Jpeg(format!(
            "{} bytes for {w}×{h}",
            px.len()
        )));
    }
    Ok(px)
}

/// BT.601 limited range, integer arithmetic (as libv4lconvert does).
fn yuv_to_bgr(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = i32::from(y) - 16;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clip = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    let r = clip(298 * c + 409 * e);
    let g = clip(298 * c - 100 * d - 208 * e);
    let b = clip(298 * c + 516 * d);
    [b, g, r]
}

fn bgr_to_yuv(b: u8, g: u8, r: u8) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    let c = |x: i32| x.clamp(0, 255) as u8;
    (c(y), c(u), c(v))
}

/// BGR (`width * height * 3` bytes) into packed YUYV, scaled (nearest
/// pixel) to `out_w × out_h` and letterboxed in black to keep its shape:
/// what the virtual camera's output device is fed.
pub fn bgr_to_yuyv(
    bgr: &[u8],
    width: u32,
    height: u32,
    out_w: u32,
    out_h: u32,
) -> Result<Vec<u8>, ConvertError> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || out_w == 0 || out_h == 0 || out_w % 2 == 1 {
        return Err(ConvertError::Size(out_w, out_h));
    }
    if bgr.len() < w * h * 3 {
        return Err(ConvertError::Short {
            got: bgr.len(),
            width,
            height,
            stride: w * 3,
        });
    }
    let (ow, oh) = (out_w as usize, out_h as usize);
    // One scale for both axes, the picture centred.
    let scale = (ow as f64 / w as f64).min(oh as f64 / h as f64);
    let (sw, sh) = ((w as f64 * scale) as usize, (h as f64 * scale) as usize);
    let (x0, y0) = ((ow - sw) / 2, (oh - sh) / 2);
    let sample = |x: usize, y: usize| -> (u8, u8, u8) {
        if x < x0 || y < y0 || x >= x0 + sw || y >= y0 + sh {
            return (16, 128, 128);
        }
        let sx = ((x - x0) as f64 / scale) as usize;
        let sy = ((y - y0) as f64 / scale) as usize;
        let i = (sy.min(h - 1) * w + sx.min(w - 1)) * 3;
        bgr_to_yuv(bgr[i], bgr[i + 1], bgr[i + 2])
    };
    let mut out = Vec::with_capacity(ow * oh * 2);
    for y in 0..oh {
        for x in (0..ow).step_by(2) {
            let (ya, ua, va) = sample(x, y);
            let (yb, ub, vb) = sample(x + 1, y);
            let u = ((u16::from(ua) + u16::from(ub)) / 2) as u8;
            let v = ((u16::from(va) + u16::from(vb)) / 2) as u8;
            out.extend_from_slice(&[ya, u, yb, v]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_of_known_colours_comes_back_as_those_colours() {
        // Limited-range YUV of black, white, red, blue (BT.601).
        let cases: [([u8; 3], [u8; 3]); 4] = [
            ([16, 128, 128], [0, 0, 0]),
            ([235, 128, 128], [255, 255, 255]),
            ([81, 90, 240], [0, 0, 255]),
            ([41, 240, 110], [255, 0, 0]),
        ];
        for (yuv, bgr) in cases {
            let frame = [yuv[0], yuv[1], yuv[0], yuv[2]];
            let out = to_bgr(PixelFormat::Yuyv, &frame, 2, 1, 0).unwrap();
            for (got, want) in out[..3].iter().zip(bgr) {
                assert!(
                    got.abs_diff(want) <= 2,
                    "{yuv:?}: got {:?}, want {bgr:?}",
                    &out[..3]
                );
            }
            assert_eq!(out[..3], out[3..]);
        }
    }

    #[test]
    fn a_picture_fed_as_yuyv_reads_back_as_itself() {
        // What the vivid loop does: BGR → YUYV (feeder) → BGR (camera).
        let (w, h) = (64u32, 48u32);
        let bgr: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 4) as u8, (y * 5) as u8, 128]
            })
            .collect();
        let yuyv = bgr_to_yuyv(&bgr, w, h, w, h).unwrap();
        let back = to_bgr(PixelFormat::Yuyv, &yuyv, w, h, 0).unwrap();
        let worst = bgr
            .chunks(6)
            .zip(back.chunks(6))
            // Chroma is shared by two pixels: compare the pair's mean.
            .map(|(a, b)| {
                (0..3)
                    .map(|c| {
                        let ma = (u16::from(a[c]) + u16::from(a[c + 3])) / 2;
                        let mb = (u16::from(b[c]) + u16::from(b[c + 3])) / 2;
                        ma.abs_diff(mb)
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap();
        assert!(worst <= 6, "worst channel error {worst}");
    }

    #[test]
    fn strides_wider_than_the_picture_are_skipped() {
        // 2×2 grey with 4 bytes a line (2 of padding, set to 99).
        let data = [10, 20, 99, 99, 30, 40, 99, 99];
        let out = to_bgr(PixelFormat::Grey, &data, 2, 2, 4).unwrap();
        assert_eq!(out, [10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);
        let rgb = to_bgr(PixelFormat::Rgb24, &[1, 2, 3], 1, 1, 0).unwrap();
        assert_eq!(rgb, [3, 2, 1]);
    }

    #[test]
    fn short_odd_or_corrupt_frames_are_errors_not_panics() {
        assert!(matches!(
            to_bgr(PixelFormat::Yuyv, &[0; 7], 2, 2, 0),
            Err(ConvertError::Short { .. })
        ));
        assert!(matches!(
            to_bgr(PixelFormat::Yuyv, &[0; 12], 3, 1, 0),
            Err(ConvertError::Size(3, 1))
        ));
        assert!(matches!(
            to_bgr(PixelFormat::Grey, &[], 0, 4, 0),
            Err(ConvertError::Size(0, 4))
        ));
        assert!(matches!(
            to_bgr(PixelFormat::Bgr24, &[0; 10], 2, 2, 2),
            Err(ConvertError::Short { .. })
        ));
        assert!(matches!(
            to_bgr(PixelFormat::Mjpeg, b"\xff\xd8 not a jpeg", 8, 8, 0),
            Err(ConvertError::Jpeg(_))
        ));
    }

    #[test]
    fn a_motion_jpeg_frame_is_decoded_and_its_size_checked() {
        // A 16×8 JPEG made by the png/jpeg-free way: zune-jpeg's own
        // encoder is not a dependency, so the bytes are a committed frame.
        let jpeg = include_bytes!("testdata/red-16x8.jpg");
        let bgr = to_bgr(PixelFormat::Mjpeg, jpeg, 16, 8, 0).unwrap();
        assert_eq!(bgr.len(), 16 * 8 * 3);
        let (b, g, r) = (bgr[0], bgr[1], bgr[2]);
        assert!(r > 200 && g < 60 && b < 60, "{b} {g} {r}");
        assert!(matches!(
            to_bgr(PixelFormat::Mjpeg, jpeg, 32, 8, 0),
            Err(ConvertError::Jpeg(_))
        ));
    }

    #[test]
    fn letterboxing_keeps_the_shape_and_fills_black() {
        // A 4×4 white square into 8×4: white in the middle, black beside.
        let white = vec![255u8; 4 * 4 * 3];
        let yuyv = bgr_to_yuyv(&white, 4, 4, 8, 4).unwrap();
        let luma: Vec<u8> = yuyv.iter().step_by(2).copied().collect();
        assert_eq!(&luma[..8], &[16, 16, 235, 235, 235, 235, 16, 16]);
        assert!(bgr_to_yuyv(&white, 4, 4, 7, 4).is_err());
    }

    #[test]
    fn fourccs_round_trip() {
        for f in PixelFormat::PREFERRED {
            assert_eq!(PixelFormat::from_fourcc(f.fourcc()), Some(f));
        }
        assert_eq!(PixelFormat::from_fourcc(*b"H264"), None);
    }
}
