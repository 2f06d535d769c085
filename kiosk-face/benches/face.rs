//! Face benchmark (issue 22), the parts that need no model yet: 1:N search
//! among enrolled faces (target ≤ 5 ms among 5,000) and the liveness
//! check's cost per frame. Prints a table.
//!
//! cargo bench -p kiosk-face --bench face -- [--enrolled 5000] [--runs 200]

use std::time::{Duration, Instant};

use kiosk_face::gallery::Gallery;
use kiosk_face::liveness::{Challenge, Config, Move};
use kiosk_face::{Landmarks, Point};

/// SFace's embedding length.
const DIMS: usize = 128;

/// Deterministic numbers in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let enrolled = arg("--enrolled", 5000);
    let runs = arg("--runs", 200);
    let mut rng = Lcg(42);
    let mut g = Gallery::new(DIMS);
    for id in 0..enrolled as i64 {
        let e: Vec<f32> = (0..DIMS).map(|_| rng.next()).collect();
        g.add(id, &e).expect("a finite embedding");
    }
    let mut search = Vec::with_capacity(runs);
    for _ in 0..runs {
        let probe: Vec<f32> = (0..DIMS).map(|_| rng.next()).collect();
        let t = Instant::now();
        let best = g.best(&probe).expect("a probe of the gallery's length");
        search.push(t.elapsed());
        std::hint::black_box(best);
    }

    // The liveness check on a frame: its whole cost beside the camera's
    // frame time (a challenge is decided by the person's speed).
    let face = Landmarks::from_array([
        Point::new(290.0, 240.0),
        Point::new(350.0, 240.0),
        Point::new(320.0, 275.0),
        Point::new(296.0, 305.0),
        Point::new(344.0, 305.0),
    ]);
    let mut frame = Vec::with_capacity(runs);
    let mut c = Challenge::new(vec![Move::TurnLeft, Move::Nod], Config::default());
    for i in 0..runs {
        let t = Instant::now();
        let v = c.observe(Duration::from_millis(i as u64), Some(&face));
        frame.push(t.elapsed());
        std::hint::black_box(v);
    }

    println!("| measure | median | p99 | target |");
    println!("|---|---|---|---|");
    println!(
        "| 1:N search among {enrolled} faces ({DIMS} numbers each) | {:.2} ms | {:.2} ms | ≤ 5 ms |",
        percentile(search.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(search, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| liveness check, one frame | {:.1} µs | {:.1} µs | (the person: ≤ 3 s) |",
        percentile(frame.clone(), 0.5).as_secs_f64() * 1e6,
        percentile(frame, 0.99).as_secs_f64() * 1e6
    );
}
