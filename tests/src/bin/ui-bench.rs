//! Benchmark, side by side in one run under Xvfb: the kiosk's Slint touch
//! UI (the real `kiosk ui`, enrolled against a central service on
//! loopback) against Chromium in kiosk mode showing the same attract screen
//! as HTML (tests/bench/attract.html). Measures time from spawn to the first
//! frame on the X screen (both polled the same way, by screenshot) and
//! memory (PSS summed over every process of each, after 5 s).
//!
//! cargo build --release -p e2e-tests --bin e2e-kiosk && cargo run --release -p e2e-tests --bin ui-bench -- [ROUNDS]
//! Needs Xvfb, xwd (x11-apps / x11-utils) and chromium.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const DISPLAY: &str = ":97";
const HEADER: (u8, u8, u8) = (0x0a, 0x6e, 0xbd);
const BACKGROUND: (u8, u8, u8) = (0xf3, 0xf7, 0xfb);

/// One pixel of the X root window, from an `xwd` dump (ZPixmap, 32 bpp).
fn pixels(points: &[(usize, usize)]) -> Option<Vec<(u8, u8, u8)>> {
    let out = Command::new("xwd")
        .args(["-root", "-silent", "-display", DISPLAY])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let d = out.stdout;
    let be = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]) as usize;
    if d.len() < 100 {
        return None;
    }
    let (header, bpp, line, ncolors) = (be(0), be(44), be(48), be(76));
    let byte_order = be(28); // 0: LSBFirst
    if bpp != 32 {
        return None;
    }
    let data = header + ncolors * 12;
    points
        .iter()
        .map(|&(x, y)| {
            let i = data + y * line + x * 4;
            let p = d.get(i..i + 4)?;
            Some(if byte_order == 0 {
                (p[2], p[1], p[0])
            } else {
                (p[1], p[2], p[3])
            })
        })
        .collect()
}

fn close(a: (u8, u8, u8), b: (u8, u8, u8)) -> bool {
    let d = |x: u8, y: u8| (i16::from(x) - i16::from(y)).abs() <= 6;
    d(a.0, b.0) && d(a.1, b.1) && d(a.2, b.2)
}

/// Waits until the attract screen is on the X screen: the header's blue at
/// the top left and the background in the lower middle.
fn first_frame(started: Instant, limit: Duration) -> anyhow::Result<Duration> {
    while started.elapsed() < limit {
        if let Some(p) = pixels(&[(4, 4), (960, 1060)])
            && close(p[0], HEADER)
            && close(p[1], BACKGROUND)
        {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("no attract screen within {limit:?}")
}

fn descendants(root: u32) -> Vec<u32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let pid = all[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let c = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
                all.extend(c.split_whitespace().filter_map(|s| s.parse::<u32>().ok()));
            }
        }
        i += 1;
    }
    all.sort_unstable();
    all.dedup();
    all
}

/// Proportional set size of a process tree, in KiB.
fn pss_kib(root: u32) -> u64 {
    descendants(root)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .flat_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

fn kill_tree(child: &mut Child) {
    for p in descendants(child.id()).into_iter().rev() {
        let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
    }
    let _ = child.wait();
}

fn measure(mut cmd: Command) -> anyhow::Result<(Duration, u64)> {
    // A clean screen: nothing of the previous run may count as a frame.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let mut child = cmd
        .env("DISPLAY", DISPLAY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("spawn")?;
    let r = first_frame(started, Duration::from_secs(60));
    let frame = match r {
        Ok(f) => f,
        Err(e) => {
            kill_tree(&mut child);
            return Err(e);
        }
    };
    std::thread::sleep(Duration::from_secs(5));
    let pss = pss_kib(child.id());
    kill_tree(&mut child);
    Ok((frame, pss))
}

fn median(v: &mut [f64]) -> f64 {
    e2e_tests::percentile(v, 0.5)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir()?;
    let mut xvfb = Command::new("Xvfb")
        .args([DISPLAY, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
        .stderr(Stdio::null())
        .spawn()
        .context("Xvfb (apt-get install xvfb)")?;
    std::thread::sleep(Duration::from_secs(1));
    let server =
        e2e_tests::start_server(&dir.path().join("central.db"), e2e_tests::free_addr(), 20).await?;
    // The kiosk binary is built beside this one (`--bin e2e-kiosk`).
    let kiosk_bin = std::env::current_exe()?.with_file_name("e2e-kiosk");
    let html = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/attract.html");
    let (mut k_ms, mut k_mib, mut c_ms, mut c_mib) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let id = format!("K-BENCH-{round}");
        let secret = exam_protocol::auth::random_token();
        server
            .state
            .db
            .add_kiosk(&id, "main", "lobby", &secret)
            .await?;
        let mut k = Command::new(&kiosk_bin);
        k.args(["ui", "--journal"])
            .arg(dir.path().join(format!("{id}.db")))
            .args([
                "--dev-loopback-http",
                "--server",
                &server.url(),
                "--kiosk-id",
                &id,
                "--enrol-secret",
                &secret,
            ]);
        let (f, m) = measure(k)?;
        k_ms.push(f.as_secs_f64() * 1000.0);
        k_mib.push(m as f64 / 1024.0);
        let mut c = Command::new("chromium");
        c.args([
            "--kiosk",
            "--no-sandbox",
            "--no-first-run",
            "--disable-gpu",
            "--noerrdialogs",
            "--disable-translate",
            "--window-position=0,0",
            "--window-size=1920,1080",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join(format!("chromium-{round}")).display()
        ))
        .arg(format!("file://{}", html.display()));
        let (f, m) = measure(c)?;
        c_ms.push(f.as_secs_f64() * 1000.0);
        c_mib.push(m as f64 / 1024.0);
        eprintln!(
            "round {round}: kiosk {:.0} ms {:.1} MiB | chromium {:.0} ms {:.1} MiB",
            k_ms[round], k_mib[round], c_ms[round], c_mib[round]
        );
    }
    let (kf, km, cf, cm) = (
        median(&mut k_ms),
        median(&mut k_mib),
        median(&mut c_ms),
        median(&mut c_mib),
    );
    println!("\n| medians of {rounds} rounds, 1920×1080 Xvfb | first frame | memory (PSS) |");
    println!("|---|---|---|");
    println!("| kiosk (Slint, software renderer) | {kf:.0} ms | {km:.1} MiB |");
    println!("| Chromium --kiosk, same screen in HTML | {cf:.0} ms | {cm:.1} MiB |");
    println!(
        "| ratio kiosk / Chromium | {:.2} (target ≤ 0.33) | {:.2} (target ≤ 0.25) |",
        kf / cf,
        km / cm
    );
    server.stop().await;
    let _ = xvfb.kill();
    Ok(())
}
