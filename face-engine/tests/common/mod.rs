//! What the engine's integration tests share: the float32 models made once
//! per build directory, the engine on them, and a liveness challenge run
//! on frames through our detector.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use kiosk_face::liveness::{Challenge, Move, Verdict};
use kiosk_face_engine::peers;
use kiosk_face_engine::{Bgr, Engine};

/// The float32 models, made once per build directory.
pub fn models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        peers::models_in(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("face-models"))
    })
}

pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::load(models()).expect("the models load"))
}

/// Runs a liveness challenge asking `asked` over `frames`, one every
/// `step`, the landmarks coming from our detector on each frame (the
/// largest face, turned or not: quality is judged before). Stops at the
/// first verdict.
pub fn challenge(frames: &[Bgr], asked: &[Move], step: Duration) -> Verdict {
    let mut c = Challenge::new(asked.to_vec(), Default::default());
    let mut v = c.verdict();
    for (i, f) in frames.iter().enumerate() {
        let face = engine()
            .detect(f)
            .expect("detection runs")
            .into_iter()
            .max_by(|a, b| a.area().total_cmp(&b.area()));
        v = c.observe(step * i as u32, face.as_ref().map(|f| &f.landmarks));
        if !matches!(v, Verdict::Continue(_)) {
            return v;
        }
    }
    v
}
