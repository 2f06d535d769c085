//! For tests in this workspace: the peers' Python (`EXAM_PEERS_PYTHON`,
//! set up by `scripts/test`) and the float32 models it makes from the
//! registry package (`scripts/face-models`). Not for the kiosk.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::DETECTOR_FILE;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the peers' Python with `args`; its standard output. Panics (a
/// test's failure) when it is missing or fails.
pub fn python(args: &[&str]) -> String {
    let py = std::env::var_os("EXAM_PEERS_PYTHON")
        .expect("EXAM_PEERS_PYTHON: the peers' Python (scripts/test sets it up)");
    let out = Command::new(&py)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.to_string_lossy()));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the peer writes UTF-8")
}

/// The float32 models in `dir`, made there the first time.
pub fn models_in(dir: &Path) -> PathBuf {
    if !dir.join(DETECTOR_FILE).exists() {
        let script = repo().join("scripts/face-models");
        let path = |p: &Path| p.to_str().expect("a UTF-8 path").to_string();
        python(&[&path(&script), &path(dir)]);
    }
    dir.to_path_buf()
}
