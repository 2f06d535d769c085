//! Where the machine's processor time went during a run: the server, the
//! store's processes (PostgreSQL's backends, by their process name, when
//! it runs on this machine), this benchmark, and everything else, in cores
//! (1.0 = one core busy for the whole run), from `/proc`. On a small
//! machine shared by all three, a latency figure means little without it.

use std::time::Instant;

/// Clock ticks a second of `/proc`'s times (USER_HZ: 100 on Linux).
const TICKS: f64 = 100.0;

fn ticks(stat: &str) -> Option<u64> {
    // After the command's closing parenthesis: state is field 3, utime 14,
    // stime 15 (1-based over the whole line).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn process(pid: u32) -> Option<(String, u64)> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some((comm.trim().to_string(), ticks(&stat)?))
}

/// The whole machine's busy ticks (all cores), from `/proc/stat`.
fn machine() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<u64> = s
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle
    // and iowait.
    Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
}

#[derive(Debug, Clone, Default)]
struct Snapshot {
    server: u64,
    store: u64,
    bench: u64,
    machine: u64,
}

fn snapshot(server: u32) -> Snapshot {
    let mut s = Snapshot {
        machine: machine().unwrap_or(0),
        ..Snapshot::default()
    };
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return s;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Some((comm, t)) = process(pid) else {
            continue;
        };
        if pid == server {
            s.server += t;
        } else if pid == me {
            s.bench += t;
        } else if comm == "postgres" {
            s.store += t;
        }
    }
    s
}

/// A run's start; [`Cpu::print`] at its end.
pub struct Cpu {
    server: u32,
    at: Instant,
    start: Snapshot,
}

impl Cpu {
    pub fn start(server: u32) -> Self {
        Self {
            server,
            at: Instant::now(),
            start: snapshot(server),
        }
    }

    /// One line: cores used by each since [`Cpu::start`], and the machine's.
    pub fn print(&self) {
        let end = snapshot(self.server);
        let secs = self.at.elapsed().as_secs_f64().max(0.001);
        let cores = |a: u64, b: u64| b.saturating_sub(a) as f64 / TICKS / secs;
        let server = cores(self.start.server, end.server);
        let store = cores(self.start.store, end.store);
        let bench = cores(self.start.bench, end.bench);
        let machine = cores(self.start.machine, end.machine);
        println!(
            "processor, in cores of {}: server {server:.2}, PostgreSQL {store:.2}, this benchmark {bench:.2}, all else {:.2}; machine busy {machine:.2}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            (machine - server - store - bench).max(0.0),
        );
    }
}
