//! Latency by route: what a load figure is made of, and which request grows
//! during the run (its p99 in the first interval beside the last).

use std::collections::BTreeMap;

type Samples = BTreeMap<&'static str, Vec<f64>>;

#[derive(Default)]
pub struct ByRoute {
    all: Samples,
    first: Samples,
    last: Samples,
    intervals: usize,
}

impl ByRoute {
    /// One interval's samples (`interval`: a whole interval of the table,
    /// not the tail after the clients were stopped).
    pub fn add(&mut self, samples: Vec<(&'static str, f64)>, interval: bool) {
        let mut this = Samples::new();
        for (route, ms) in samples {
            this.entry(route).or_default().push(ms);
        }
        for (route, v) in &this {
            self.all.entry(route).or_default().extend(v);
        }
        if interval {
            if self.intervals == 0 {
                self.first = this.clone();
            }
            self.last = this;
            self.intervals += 1;
        }
    }

    pub fn print(&mut self) {
        println!(
            "{:<12} {:>8} {:>8} {:>8} {:>12} {:>12}",
            "route", "requests", "p50 ms", "p99 ms", "p99 first", "p99 last"
        );
        let p99 = |m: &mut Samples, r: &str| m.get_mut(r).map_or(f64::NAN, |v| percentile(v, 0.99));
        let routes: Vec<&'static str> = self.all.keys().copied().collect();
        for r in routes {
            let (first, last) = (p99(&mut self.first, r), p99(&mut self.last, r));
            let v = self.all.get_mut(r).expect("a route listed");
            println!(
                "{:<12} {:>8} {:>8.1} {:>8.1} {:>12.1} {:>12.1}",
                r,
                v.len(),
                percentile(v, 0.5),
                percentile(v, 0.99),
                first,
                last
            );
        }
    }
}

/// The `p` quantile (0..1) of `v` (sorted in place); NaN when empty.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}
