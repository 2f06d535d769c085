//! Loading and running the two models with tract.

use std::path::{Path, PathBuf};

use kiosk_face::align::{self, CROP};
use thiserror::Error;
use tract_onnx::prelude::*;

use crate::Bgr;
use crate::yunet::{self, Face, Level, STRIDES, Thresholds};

/// The files `scripts/face-models` writes.
pub const DETECTOR_FILE: &str = "face_detection_yunet_2023mar_int8bq_f32.onnx";
pub const RECOGNIZER_FILE: &str = "face_recognition_sface_2021dec_int8bq_f32.onnx";

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("face model {path}: {why}")]
    Load { path: PathBuf, why: String },
    #[error("face model run: {0}")]
    Run(String),
    #[error("the face's landmarks give no alignment")]
    Degenerate,
}

type Plan = std::sync::Arc<TypedRunnableModel>;

/// Both models, loaded once (about 40 MB) and run from any thread.
pub struct Engine {
    detector: Plan,
    recognizer: Plan,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

fn load(path: &Path, shape: [usize; 4], outputs: &[&str]) -> Result<Plan, EngineError> {
    let err = |e: TractError| EngineError::Load {
        path: path.to_path_buf(),
        why: format!("{e:#}"),
    };
    tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.with_outputs_by_name(outputs.iter().copied()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(err)
}

/// The detector's outputs in the order `decode` reads them.
fn detector_outputs() -> Vec<String> {
    ["cls", "obj", "bbox", "kps"]
        .iter()
        .flat_map(|k| STRIDES.iter().map(move |s| format!("{k}_{s}")))
        .collect()
}

impl Engine {
    /// Loads `DETECTOR_FILE` and `RECOGNIZER_FILE` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EngineError> {
        let names = detector_outputs();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Ok(Self {
            detector: load(
                &dir.join(DETECTOR_FILE),
                [1, 3, yunet::SIDE, yunet::SIDE],
                &names,
            )?,
            recognizer: load(&dir.join(RECOGNIZER_FILE), [1, 3, CROP, CROP], &["fc1"])?,
        })
    }

    /// The faces in `image`, best first (OpenCV's default thresholds).
    pub fn detect(&self, image: &Bgr) -> Result<Vec<Face>, EngineError> {
        self.detect_with(image, Thresholds::default())
    }

    pub fn detect_with(&self, image: &Bgr, t: Thresholds) -> Result<Vec<Face>, EngineError> {
        let run = |e: TractError| EngineError::Run(format!("{e:#}"));
        let (pixels, scale) = yunet::input(image);
        let input = Tensor::from_shape(&[1, 3, yunet::SIDE, yunet::SIDE], &pixels).map_err(run)?;
        let out = self.detector.run(tvec!(input.into())).map_err(run)?;
        let views: Vec<&[f32]> = out
            .iter()
            .map(|v| v.try_as_plain_ram().and_then(|p| p.as_slice::<f32>()))
            .collect::<TractResult<_>>()
            .map_err(run)?;
        if views.len() != 12 {
            return Err(EngineError::Run(format!("{} outputs, not 12", views.len())));
        }
        let levels: Vec<Level<'_>> = (0..3)
            .map(|i| Level {
                stride: STRIDES[i],
                cls: views[i],
                obj: views[3 + i],
                bbox: views[6 + i],
                kps: views[9 + i],
            })
            .collect();
        Ok(yunet::decode(&levels, scale, t))
    }

    /// The 128 numbers of `face` in `image` (not normalised).
    pub fn embed(&self, image: &Bgr, face: &Face) -> Result<Vec<f32>, EngineError> {
        let run = |e: TractError| EngineError::Run(format!("{e:#}"));
        let crop = align::crop(image.as_ref(), &face.landmarks.to_array())
            .ok_or(EngineError::Degenerate)?;
        // HWC bytes to CHW floats in RGB order: OpenCV's `feature` swaps
        // the channels (`blobFromImage(…, swapRB = true)`), so SFace was
        // run on RGB; the model normalises the values itself.
        let mut planes = vec![0.0f32; 3 * CROP * CROP];
        for (i, px) in crop.chunks_exact(3).enumerate() {
            for c in 0..3 {
                planes[c * CROP * CROP + i] = f32::from(px[2 - c]);
            }
        }
        let input = Tensor::from_shape(&[1, 3, CROP, CROP], &planes).map_err(run)?;
        let out = self.recognizer.run(tvec!(input.into())).map_err(run)?;
        let v = out
            .first()
            .ok_or_else(|| EngineError::Run("no output".into()))?
            .try_as_plain_ram()
            .and_then(|p| p.as_slice::<f32>())
            .map_err(run)?
            .to_vec();
        Ok(v)
    }
}
