//! Face engine benchmark (issue 22): per camera frame (640×480), detection
//! with landmarks, the embedding of the face found, and both together
//! (target ≤ 150 ms on the kiosk's 2 cores). Prints a table.
//!
//! cargo bench -p kiosk-face-engine --bench engine -- --models DIR --photo FILE [--runs 20]
//!
//! DIR holds the float32 models (`scripts/face-models DIR`); FILE is any
//! face photo (e.g. matplotlib's sample_data/grace_hopper.jpg).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use kiosk_face_engine::{Bgr, Engine};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(mut v: Vec<Duration>, p: f64) -> f64 {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let models = PathBuf::from(arg("--models").context("--models DIR")?);
    let photo = PathBuf::from(arg("--photo").context("--photo FILE")?);
    let runs: usize = arg("--runs").map_or(Ok(20), |v| v.parse())?;
    let t = Instant::now();
    let engine = Engine::load(&models)?;
    let load = t.elapsed();
    // The photo in a camera-sized frame, as the kiosk sees a person.
    let p = Bgr::decode(&std::fs::read(&photo)?)?;
    let (w, h) = (640usize, 480usize);
    let mut data = vec![128u8; w * h * 3];
    for y in 0..h.min(p.height) {
        let n = w.min(p.width) * 3;
        data[y * w * 3..y * w * 3 + n]
            .copy_from_slice(&p.data[y * p.width * 3..y * p.width * 3 + n]);
    }
    let frame = Bgr::new(w, h, data)?;
    let (mut detect, mut embed, mut both) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let faces = engine.detect(&frame)?;
        let t1 = Instant::now();
        let face = faces.first().context("a face in the photo")?;
        let e = engine.embed(&frame, face)?;
        let t2 = Instant::now();
        std::hint::black_box(e);
        detect.push(t1 - t0);
        embed.push(t2 - t1);
        both.push(t2 - t0);
    }
    println!(
        "models loaded and optimised in {:.0} ms\n",
        load.as_secs_f64() * 1e3
    );
    println!("| per 640×480 frame | median | p90 | target |");
    println!("|---|---|---|---|");
    for (name, v, target) in [
        ("detection + landmarks (YuNet)", detect, ""),
        ("embedding (SFace)", embed, ""),
        ("both", both, "≤ 150 ms"),
    ] {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {target} |",
            percentile(v.clone(), 0.5),
            percentile(v, 0.9)
        );
    }
    Ok(())
}
