//! A stand-in for a reader vendor's WLT photo library, with the same C
//! interface (`int unpack(char *wlt, char *out, int save_bmp)`, 1 = done).
//! The real WLT codec is licensed and not in this tree: this library draws
//! a portrait from the photo bytes instead, so the kiosk's loading, calling
//! and error handling are exercised as with the vendor's. Built by the tests
//! with `rustc --crate-type cdylib` (see `device_drivers::sim::wlt`).

use std::os::raw::{c_char, c_int};

const W: usize = 102;
const H: usize = 126;
const ROW: usize = 308;

#[no_mangle]
pub unsafe extern "C" fn unpack(src: *mut c_char, dst: *mut c_char, save_bmp: c_int) -> c_int {
    if src.is_null() || dst.is_null() {
        return -1;
    }
    let wlt = std::slice::from_raw_parts(src as *const u8, 1024);
    // Every WLT photo starts with its format's marker.
    if &wlt[..2] != b"WL" {
        return -2;
    }
    // This library, unlike some, refuses to write zp.bmp into the working
    // directory; the kiosk never asks it to.
    if save_bmp != 0 {
        return -3;
    }
    let seed = wlt
        .iter()
        .fold(2_166_136_261u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
    let out = std::slice::from_raw_parts_mut(dst as *mut u8, 54 + ROW * H);
    out[..54].fill(0);
    out[0] = b'B';
    out[1] = b'M';
    out[2..6].copy_from_slice(&((54 + ROW * H) as u32).to_le_bytes());
    out[10] = 54;
    out[14] = 40;
    out[18..22].copy_from_slice(&(W as u32).to_le_bytes());
    out[22..26].copy_from_slice(&(H as u32).to_le_bytes());
    out[26] = 1;
    out[28] = 24;
    let hair = [(seed & 0x3f) as u8, ((seed >> 8) & 0x3f) as u8, ((seed >> 16) & 0x3f) as u8];
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32 - 51.0, y as f32 - 52.0);
            let face = (fx / 30.0).powi(2) + (fy / 38.0).powi(2) <= 1.0;
            let hair_cap = (fx / 34.0).powi(2) + ((fy + 14.0) / 36.0).powi(2) <= 1.0 && fy < -18.0;
            let shoulders = y > 100 && (fx / 50.0).powi(2) + ((y as f32 - 126.0) / 30.0).powi(2) <= 1.0;
            let rgb = if hair_cap {
                hair
            } else if face {
                [236, 200, 170]
            } else if shoulders {
                [40, 50, 80]
            } else {
                [235, 240, 248]
            };
            // Bottom-up rows, BGR.
            let i = 54 + (H - 1 - y) * ROW + x * 3;
            out[i] = rgb[2];
            out[i + 1] = rgb[1];
            out[i + 2] = rgb[0];
        }
    }
    1
}
