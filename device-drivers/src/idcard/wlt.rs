//! The card's photo. A resident ID card stores it as 1024 bytes of WLT, a
//! licensed wavelet format that only the reader vendor's library decodes.
//! The kiosk keeps the bytes; when a vendor library is configured it is
//! loaded at run time (no link-time dependency, no licence in this tree)
//! and asked for the 102×126 picture, else the kiosk's camera photo is used.
//!
//! The vendor interface, as the common Linux libraries have it:
//! `int unpack(char *wlt, char *out, int save_bmp)` returning 1 on success,
//! `out` holding either a whole BMP file or its pixel array (BGR, rows padded
//! to four bytes, bottom-up). We pass `save_bmp = 0`: a photo written to the
//! working directory would leak personal data.

use std::ffi::{c_char, c_int};
use std::path::Path;
use std::sync::Mutex;

use crate::camera::Frame;

pub const WLT_LEN: usize = 1024;
pub const PHOTO_WIDTH: u32 = 102;
pub const PHOTO_HEIGHT: u32 = 126;
const ROW: usize = (PHOTO_WIDTH as usize * 3).div_ceil(4) * 4;
const PIXELS: usize = ROW * PHOTO_HEIGHT as usize;
/// The out buffer: a BMP file of the photo is 38,862 bytes; vendors have
/// been known to write past what they document, so leave room.
const OUT_LEN: usize = 64 * 1024;

type Unpack = unsafe extern "C" fn(*mut c_char, *mut c_char, c_int) -> c_int;

#[derive(Debug, thiserror::Error)]
pub enum WltError {
    #[error("cannot load the photo library {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("the photo library has no function {0:?}")]
    Symbol(String),
    #[error("the card's photo is {0} bytes, not {WLT_LEN}")]
    Length(usize),
    #[error("the photo library refused the photo (code {0})")]
    Refused(i32),
    #[error("the photo library returned no picture it documents ({0})")]
    BadOutput(&'static str),
}

/// A decoded card photo, RGB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Photo {
    /// The photo as a grayscale frame (the guide sheet's raster).
    pub fn to_frame(&self) -> Frame {
        let luma = self
            .rgb
            .chunks_exact(3)
            .map(|p| {
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                    as u8
            })
            .collect();
        Frame {
            width: self.width,
            height: self.height,
            luma,
        }
    }
}

/// The vendor's decoder, loaded once. Vendor libraries keep global state and
/// are not known to be thread-safe: calls are serialised.
pub struct WltDecoder {
    unpack: Mutex<Unpack>,
    // Keeps the library mapped while `unpack` may be called.
    _lib: libloading::Library,
}

impl std::fmt::Debug for WltDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WltDecoder")
    }
}

// Calling a vendor's C library cannot be done without `unsafe`; it is kept
// to these two functions, each block with what makes it sound.
#[allow(unsafe_code)]
impl WltDecoder {
    /// Loads `path` and finds `symbol` (usually "unpack") in it.
    pub fn load(path: &Path, symbol: &str) -> Result<Self, WltError> {
        // SAFETY: loading a library runs its initialisers; the path comes
        // from the kiosk's configuration, written by the technician.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| WltError::Load {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        // SAFETY: the symbol is declared with the vendor's signature above.
        let unpack: Unpack = unsafe { lib.get::<Unpack>(symbol.as_bytes()) }
            .map(|s| *s)
            .map_err(|_| WltError::Symbol(symbol.into()))?;
        Ok(Self {
            unpack: Mutex::new(unpack),
            _lib: lib,
        })
    }

    pub fn decode(&self, wlt: &[u8]) -> Result<Photo, WltError> {
        if wlt.len() != WLT_LEN {
            return Err(WltError::Length(wlt.len()));
        }
        let mut src = wlt.to_vec();
        let mut out = vec![0u8; OUT_LEN];
        let unpack = self
            .unpack
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: src holds the 1024 bytes the function reads, out is larger
        // than the largest picture it writes; the library stays loaded.
        let code = unsafe { (*unpack)(src.as_mut_ptr().cast(), out.as_mut_ptr().cast(), 0) };
        drop(unpack);
        if code != 1 {
            return Err(WltError::Refused(code));
        }
        photo_from(&out)
    }
}

/// The picture from the vendor's output: a BMP file or its bare pixels.
fn photo_from(out: &[u8]) -> Result<Photo, WltError> {
    let pixels = if out.starts_with(b"BM") {
        let u32_at = |i: usize| u32::from_le_bytes([out[i], out[i + 1], out[i + 2], out[i + 3]]);
        let (offset, w, h, bpp) = (
            u32_at(10) as usize,
            u32_at(18),
            u32_at(22),
            u16::from_le_bytes([out[28], out[29]]),
        );
        if w != PHOTO_WIDTH || h != PHOTO_HEIGHT || bpp != 24 {
            return Err(WltError::BadOutput("a BMP that is not 102×126, 24-bit"));
        }
        out.get(offset..offset + PIXELS)
            .ok_or(WltError::BadOutput("a BMP shorter than its header says"))?
    } else {
        &out[..PIXELS]
    };
    let (w, h) = (PHOTO_WIDTH as usize, PHOTO_HEIGHT as usize);
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let row = &pixels[(h - 1 - y) * ROW..][..w * 3];
        for p in row.chunks_exact(3) {
            rgb.extend_from_slice(&[p[2], p[1], p[0]]);
        }
    }
    if rgb.iter().all(|&b| b == 0) {
        return Err(WltError::BadOutput("an all-black picture"));
    }
    Ok(Photo {
        width: PHOTO_WIDTH,
        height: PHOTO_HEIGHT,
        rgb,
    })
}
