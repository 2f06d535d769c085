//! Benchmark: restart to the first resumed part. The kiosk (a real
//! process) prints guide sheets into a slow simulated receipt printer; it
//! is cut while a part is on its way to the printer, started again, and the
//! time from the new process's start to the first byte of the resumed part
//! reaching the printer (now at full speed) is measured: process start,
//! journal open and recovery, printer connection, status check, claim. Both ways of cutting: SIGKILL, and a
//! power cut (the journal through the power-cut VFS). Prints p50 / p95 /
//! max per mode, side by side in one run.
//!
//! cargo build --release -p e2e-tests --bin e2e-kiosk && cargo run --release -p e2e-tests --bin resume-bench -- [ROUNDS]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use device_drivers::sim::{PrinterFault, PrinterSim};
use e2e_tests::percentile as pct;
use exam_domain::demo::Rng;

const SECRET: &str = "enrol-secret-for-the-resume-bench";

struct Setup {
    kiosk_bin: PathBuf,
    server: String,
    printer: String,
}

/// One kiosk per series: an enrolment secret binds to one kiosk's key.
fn kiosk_id(power_cut: bool) -> &'static str {
    if power_cut {
        "K-RESUME-POWER"
    } else {
        "K-RESUME-KILL"
    }
}

fn kiosk(s: &Setup, journal: &Path, script: &Path, power_cut: bool) -> std::io::Result<Child> {
    let mut c = Command::new(&s.kiosk_bin);
    c.args(["run", "--journal"])
        .arg(journal)
        .args(["--dev-loopback-http", "--server", &s.server])
        .args(["--kiosk-id", kiosk_id(power_cut)])
        .args(["--enrol-secret", SECRET, "--receipt-printer", &s.printer])
        .arg("--script")
        .arg(script)
        .args(["--exit-when-drained", "--sync-every-s", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if power_cut {
        c.env("E2E_POWER_CUT", "1");
    }
    c.spawn()
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    false
}

/// Rounds of cut-while-printing then restart; the restart times in ms.
fn series(
    s: &Setup,
    sim: &PrinterSim,
    day: &exam_domain::demo::DemoDay,
    next_person: &mut usize,
    rounds: usize,
    power_cut: bool,
    dir: &Path,
) -> anyhow::Result<Vec<f64>> {
    let journal = dir.join(if power_cut { "power.db" } else { "kill.db" });
    let script = dir.join("script.txt");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "")?;
    let mut rng = Rng::new(rounds as u64 + power_cut as u64);
    let mut times = Vec::new();
    let mut tries = 0;
    while times.len() < rounds && tries < rounds * 4 {
        tries += 1;
        // Slow while the part goes out, to cut inside it; at full speed for
        // the restart, so the measure is the kiosk's, not the simulator's.
        sim.inject(PrinterFault::Slow(Duration::from_millis(20)));
        let p = &day.people[*next_person % day.people.len()];
        *next_person += 1;
        std::fs::write(&script, format!("card {}\n", p.id_number))?;
        let before = sim.printed().len();
        let mut child = kiosk(s, &journal, &script, power_cut)?;
        // Cut while the part is on its way: a few ms after its first byte.
        // (No byte within 5 s: this patient's slot is not open yet.)
        if !wait_until(Duration::from_secs(5), || sim.printed().len() > before) {
            let _ = child.kill();
            let _ = child.wait();
            continue;
        }
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        child.kill()?;
        child.wait()?;
        let unfinished = offline_store::Journal::open(&journal)?.unfinished_parts()?;
        if unfinished.is_empty() {
            continue; // the part finished before the cut: nothing to resume
        }
        sim.inject(PrinterFault::Slow(Duration::ZERO));
        let at = sim.printed().len();
        let started = Instant::now();
        let mut child = kiosk(s, &journal, &empty, power_cut)?;
        let resumed = wait_until(Duration::from_secs(20), || sim.printed().len() > at);
        let took = started.elapsed();
        child.wait()?; // it exits once everything is printed and synced
        if resumed {
            times.push(took.as_secs_f64() * 1000.0);
        }
    }
    Ok(times)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir()?;
    let people = 10 * rounds + 10;
    let server = e2e_tests::start_server(
        &dir.path().join("central.db"),
        e2e_tests::free_addr(),
        people,
    )
    .await?;
    for power_cut in [false, true] {
        server
            .state
            .db
            .add_kiosk(kiosk_id(power_cut), "main", "lobby", SECRET)
            .await?;
    }
    let sim = PrinterSim::new();
    let setup = Setup {
        kiosk_bin: std::env::current_exe()?.with_file_name("e2e-kiosk"),
        server: server.url(),
        printer: format!("tcp://{}", sim.listen_tcp()?),
    };
    let day = e2e_tests::demo_day(people);
    let mut next = 0;
    let mut rows = Vec::new();
    for (name, power_cut) in [("SIGKILL", false), ("power cut (VFS)", true)] {
        let (s, sim, day, d) = (&setup, &sim, &day, dir.path().to_path_buf());
        let mut t =
            tokio::task::block_in_place(|| series(s, sim, day, &mut next, rounds, power_cut, &d))?;
        if t.is_empty() {
            anyhow::bail!("{name}: no cut landed while a part was in flight");
        }
        rows.push((
            name,
            t.len(),
            pct(&mut t, 0.5),
            pct(&mut t, 0.95),
            pct(&mut t, 1.0),
        ));
    }
    println!("restart → first byte of the resumed part at the printer");
    println!("| cut | rounds | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (name, n, p50, p95, max) in rows {
        println!("| {name} | {n} | {p50:.0} | {p95:.0} | {max:.0} |");
    }
    server.stop().await;
    Ok(())
}
