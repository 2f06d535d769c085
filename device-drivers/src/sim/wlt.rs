//! The stand-in for a reader vendor's WLT photo library
//! (`device-drivers/vendor-sim/wlt_sim.rs`), compiled on demand into a
//! shared library that the real loader (`idcard::WltDecoder`) opens.

use std::io;
use std::path::{Path, PathBuf};

const SOURCE: &str = include_str!("../../vendor-sim/wlt_sim.rs");

/// A WLT photo as the simulated cards carry it: the format's marker, then
/// bytes that differ from card to card.
pub fn card_photo(seed: &str) -> Vec<u8> {
    let mut h = 2_166_136_261u32;
    let mut out = b"WLf".to_vec();
    while out.len() < crate::idcard::wlt::WLT_LEN {
        for b in seed.bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
        }
        out.push((h >> 13) as u8);
    }
    out
}

/// Builds the simulated vendor library into `dir` with `rustc` (the one
/// that builds this workspace) and returns its path.
pub fn build_vendor_library(dir: &Path) -> io::Result<PathBuf> {
    let src = dir.join("wlt_sim.rs");
    std::fs::write(&src, SOURCE)?;
    let lib = dir.join("libwlt_sim.so");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(["--edition", "2021", "--crate-type", "cdylib", "-O", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "rustc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(lib)
}
