//! The LFW protocol on our face engine, for whoever supplies a labelled
//! set in LFW's layout (no labelled face set can be downloaded here):
//!
//! face-eval --models DIR --lfw ROOT [--pairs FILE] [--fmr 1e-4]
//!
//! ROOT holds `<name>/<name>_<NNNN>.jpg`; FILE (default ROOT/pairs.txt)
//! is LFW's `pairs.txt`. Each picture's largest face is embedded once; a
//! pair scores the cosine of its two faces, and a picture without a face
//! makes its pairs score −1 (counted as the engine's failure, not left
//! out). Prints the 10-fold accuracy (each fold at the threshold best on
//! the other nine) and the false non-match rate at the false match rate
//! asked (the kiosk's own point, 1e-4), with what the set can resolve.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use kiosk_face::gallery::cosine;
use kiosk_face::lfw::{self, Picture, Scored};
use kiosk_face_engine::{Bgr, Engine};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let models = PathBuf::from(arg("--models").context("--models DIR (scripts/face-models DIR)")?);
    let root = PathBuf::from(arg("--lfw").context("--lfw ROOT (LFW's layout)")?);
    let pairs_file = arg("--pairs").map_or_else(|| root.join("pairs.txt"), PathBuf::from);
    let target: f64 = arg("--fmr").map_or(Ok(1e-4), |v| v.parse())?;
    let text = std::fs::read_to_string(&pairs_file)
        .with_context(|| format!("reading {}", pairs_file.display()))?;
    let pairs = lfw::parse_pairs(&text)?;
    let engine = Engine::load(&models)?;
    let mut embedded: BTreeMap<Picture, Option<Vec<f32>>> = BTreeMap::new();
    let mut no_face = 0usize;
    for p in pairs.iter().flat_map(|p| [&p.a, &p.b]) {
        if embedded.contains_key(p) {
            continue;
        }
        let path = p.path(&root);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let image = Bgr::decode(&bytes).with_context(|| path.display().to_string())?;
        let faces = engine.detect(&image)?;
        let largest = faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()));
        let e = match largest {
            Some(f) => Some(engine.embed(&image, f)?),
            None => {
                no_face += 1;
                None
            }
        };
        embedded.insert(p.clone(), e);
    }
    let scores: Vec<Scored> = pairs
        .iter()
        .map(|p| {
            let score = match (&embedded[&p.a], &embedded[&p.b]) {
                (Some(a), Some(b)) => cosine(a, b).unwrap_or(-1.0),
                _ => -1.0,
            };
            Scored {
                fold: p.fold,
                same: p.same,
                score,
            }
        })
        .collect();
    println!(
        "{} pairs ({} same, {} different) over {} pictures; no face found in {}",
        scores.len(),
        scores.iter().filter(|s| s.same).count(),
        scores.iter().filter(|s| !s.same).count(),
        embedded.len(),
        no_face
    );
    if let Some(f) = lfw::ten_fold(&scores) {
        println!(
            "{}-fold accuracy: {:.2} % ± {:.2}",
            f.per_fold.len(),
            100.0 * f.accuracy,
            100.0 * f.std_dev
        );
        for (i, (t, a)) in f.per_fold.iter().enumerate() {
            println!(
                "  fold {}: threshold {t:.3}, accuracy {:.2} %",
                i + 1,
                100.0 * a
            );
        }
    }
    match lfw::at_fmr(&scores, target) {
        Some(p) => println!(
            "at a false match rate of {target:e}: threshold {:.3}, false match rate {:.2e}, false non-match rate {:.2} % (this set resolves false match rates down to {:.1e}{})",
            p.threshold,
            p.fmr,
            100.0 * p.fnmr,
            p.resolution,
            if target < p.resolution {
                "; the target is below that: the figure is a bound, not a measurement"
            } else {
                ""
            }
        ),
        None => println!("no operating point: the set needs both kinds of pair"),
    }
    Ok(())
}
