//! Pictures sent to the service are checked to be what they claim (seed
//! §(九) 2.8.2, 2.8.3; issue 17 item 10): a waiver's signature must be a PNG
//! that decodes, within a size and dimension cap, before it is stored and
//! later served as `image/png` to the desk. The signature byte check alone
//! would pass a script with a PNG header; decoding the whole image does not.

use std::io::Cursor;

/// Largest signature accepted, encoded.
pub const MAX_SIGNATURE_BYTES: usize = 384 * 1024;
/// Largest side of a signature picture (a signature pad is ~ 1000 × 400).
pub const MAX_SIGNATURE_SIDE: u32 = 2048;

const PNG_MAGIC: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    #[error("签名图片过大（最大 {} KiB） / the signature is too large", MAX_SIGNATURE_BYTES / 1024)]
    TooLarge,
    #[error("签名不是 PNG 图片 / the signature is not a PNG picture")]
    NotPng,
    /// The decoder's reason is for the log; the desk is told what to do.
    #[error(
        "签名不是完整可读的 PNG 图片，请重新签名 / the signature is not a whole, readable PNG picture"
    )]
    Undecodable(String),
    #[error("签名图片尺寸不合理（{0}×{1}） / the signature's size is out of range")]
    Dimensions(u32, u32),
}

/// Checks that `bytes` are one whole PNG picture of a plausible size.
pub fn check_png(bytes: &[u8], max_bytes: usize, max_side: u32) -> Result<(), PictureError> {
    if bytes.len() > max_bytes {
        return Err(PictureError::TooLarge);
    }
    if !bytes.starts_with(PNG_MAGIC) {
        return Err(PictureError::NotPng);
    }
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        // Bounds the decoder's memory: a tiny file may declare a huge image.
        png::Limits {
            bytes: (max_side as usize) * (max_side as usize) * 8,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder
        .read_info()
        .map_err(|e| PictureError::Undecodable(e.to_string()))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > max_side || h > max_side {
        return Err(PictureError::Dimensions(w, h));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| PictureError::Undecodable("no frame size".into()))?;
    let mut buf = vec![0u8; size];
    reader
        .next_frame(&mut buf)
        .map_err(|e| PictureError::Undecodable(e.to_string()))?;
    Ok(())
}

/// A waiver's signature as the desk sends it: base64, with or without the
/// `data:image/png;base64,` prefix of a canvas export.
pub fn signature_png(text: &str) -> Result<Vec<u8>, PictureError> {
    use base64::Engine;
    let raw = text.strip_prefix("data:image/png;base64,").unwrap_or(text);
    if raw.len() > MAX_SIGNATURE_BYTES.div_ceil(3) * 4 + 4 {
        return Err(PictureError::TooLarge);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|_| PictureError::NotPng)?;
    check_png(&bytes, MAX_SIGNATURE_BYTES, MAX_SIGNATURE_SIDE)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real PNG made with the png crate's encoder.
    pub(crate) fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, w, h);
            e.set_color(png::ColorType::Grayscale);
            e.set_depth(png::BitDepth::Eight);
            let mut wr = e.write_header().unwrap();
            wr.write_image_data(&vec![200u8; (w * h) as usize]).unwrap();
        }
        out
    }

    #[test]
    fn a_real_signature_passes() {
        let png = png_of(600, 200);
        assert_eq!(
            check_png(&png, MAX_SIGNATURE_BYTES, MAX_SIGNATURE_SIDE),
            Ok(())
        );
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
        assert_eq!(
            signature_png(&format!("data:image/png;base64,{b64}")).unwrap(),
            png
        );
    }

    #[test]
    fn what_only_looks_like_a_png_is_refused() {
        let png = png_of(60, 20);
        // A script with the PNG signature in front.
        let mut fake = PNG_MAGIC.to_vec();
        fake.extend_from_slice(b"<script>alert(1)</script>");
        assert!(matches!(
            check_png(&fake, 1 << 20, 100),
            Err(PictureError::Undecodable(_))
        ));
        // A GIF, a JPEG's start, an executable.
        for other in [&b"GIF89a...."[..], b"\xff\xd8\xff\xe0", b"MZ\x90\x00"] {
            assert_eq!(check_png(other, 1 << 20, 100), Err(PictureError::NotPng));
        }
        // Cut short: the image data is missing.
        assert!(matches!(
            check_png(&png[..png.len() - 20], 1 << 20, 100),
            Err(PictureError::Undecodable(_))
        ));
        // Too large, or a size no signature has.
        assert_eq!(check_png(&png, 10, 100), Err(PictureError::TooLarge));
        assert_eq!(
            check_png(&png, 1 << 20, 50),
            Err(PictureError::Dimensions(60, 20))
        );
        assert_eq!(signature_png("not base64!"), Err(PictureError::NotPng));
    }
}
