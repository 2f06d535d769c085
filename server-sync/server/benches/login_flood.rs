//! Login-flood benchmark (issue 17, "Must show"): 1,000 wrong sign-ins at
//! once, each from its own address (127.1.x.y: the whole 127/8 reaches the
//! service on loopback) and for one of 50 account names (half real, half
//! unknown), against a real `exam-server` process, while a signed-in
//! front-desk member keeps opening the registrations page. Prints the
//! server's peak resident memory (VmHWM of its /proc status, sampled
//! VmRSS too), how the flood was answered, and the page's latency before
//! and during the flood.
//!
//! cargo bench -p exam-server --bench login_flood -- [--flood 1000] [--mode both|bounded|unbounded]
//!
//! `bounded` is the service as configured by default (as many Argon2id
//! hashes at once as CPUs, 32 waiting, the rest answered "busy");
//! `unbounded` sets the hash slots and the waiting line to 100,000, which
//! is the service before the bound (every sign-in hashed on its own
//! blocking thread, up to tokio's 512).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const NAMES: usize = 50;
const PW: &str = "Flood-Bench-Pass-2026!";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bounded,
    Unbounded,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Bounded => "bounded",
            Mode::Unbounded => "unbounded",
        }
    }
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address")
}

fn client(from: Option<IpAddr>) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(300));
    if let Some(ip) = from {
        b = b.local_address(ip);
    }
    Ok(b.build()?)
}

/// The sign-in form: (cookie, token).
async fn form(http: &reqwest::Client, url: &str) -> anyhow::Result<(String, String)> {
    let page = http.get(format!("{url}/login")).send().await?;
    let cookie = page
        .headers()
        .get("set-cookie")
        .context("no form cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let html = page.text().await?;
    let i = html
        .find("name=\"form\" value=\"")
        .context("no form token")?
        + 19;
    Ok((
        cookie,
        html[i..].split('"').next().unwrap_or_default().to_string(),
    ))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Outcome {
    mode: Mode,
    flood: usize,
    answers: BTreeMap<u16, usize>,
    flood_secs: f64,
    rss_before_mib: f64,
    peak_rss_mib: f64,
    hwm_mib: f64,
    page_before_ms: (f64, f64),
    page_during_ms: (f64, f64, f64),
    page_during_n: usize,
    page_errors: u64,
}

async fn run(mode: Mode, flood: usize) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", dir.path().join("flood.db").display());
    let key_file = dir.path().join("data.key");
    let keys = exam_vault::KeyRing::generate()?;
    keys.write_new_file(&key_file)?;
    let db = exam_server::db::Db::connect(&database_url, Arc::new(keys)).await?;
    db.migrate().await?;
    exam_server::create_staff(
        &db,
        "desk-0",
        exam_server::roles::Role::FrontDesk,
        Some(PW.into()),
    )
    .await?;
    for i in 0..NAMES / 2 {
        exam_server::create_staff(
            &db,
            &format!("staff-{i}"),
            exam_server::roles::Role::FrontDesk,
            Some(PW.into()),
        )
        .await?;
    }
    db.close().await;
    let addr = free_addr();
    let config = dir.path().join("server.toml");
    let bound = match mode {
        Mode::Bounded => String::new(),
        Mode::Unbounded => "max_concurrent_hashes = 100000\nmax_waiting_hashes = 100000\n".into(),
    };
    std::fs::write(
        &config,
        format!(
            "listen = \"{addr}\"\ndatabase_url = \"{database_url}\"\ndata_key_file = \"{}\"\n[accounts]\n{bound}",
            key_file.display()
        ),
    )?;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_exam-server"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id().context("server pid")?;
    let url = format!("http://{addr}");
    let desk = client(None)?;
    let mut up = false;
    for _ in 0..200 {
        if desk.get(format!("{url}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(up, "server did not start");
    // The front-desk member signs in (the only right password of the run).
    let (fc, token) = form(&desk, &url).await?;
    let r = desk
        .post(format!("{url}/login"))
        .header("cookie", &fc)
        .form(&[("username", "desk-0"), ("password", PW), ("form", &token)])
        .send()
        .await?;
    anyhow::ensure!(r.status().as_u16() == 303, "desk sign-in: {}", r.status());
    let session = r
        .headers()
        .get("set-cookie")
        .context("no session")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let page = |desk: reqwest::Client, url: String, session: String| async move {
        let t = Instant::now();
        let ok = desk
            .get(format!("{url}/registrations"))
            .header("cookie", session)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        (t.elapsed().as_secs_f64() * 1000.0, ok)
    };
    let mut before = Vec::new();
    for _ in 0..20 {
        before.push(page(desk.clone(), url.clone(), session.clone()).await.0);
    }
    // The attackers: one address each, each with its sign-in form.
    let mut attackers = Vec::with_capacity(flood);
    for i in 0..flood {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8));
        attackers.push((client(Some(ip))?, i));
    }
    let mut forms = Vec::with_capacity(flood);
    for chunk in attackers.chunks(50) {
        let got = futures_util::future::join_all(chunk.iter().map(|(c, _)| form(c, &url))).await;
        for f in got {
            forms.push(f?);
        }
    }
    let rss_before = status_kib(pid, "VmRSS:");
    // Memory sampler and the desk's page, until the flood is over.
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let errors = Arc::new(AtomicU64::new(0));
    let prober = {
        let (done, errors) = (done.clone(), errors.clone());
        let (desk, url, session) = (desk.clone(), url.clone(), session.clone());
        tokio::spawn(async move {
            let mut during = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let (ms, ok) = page(desk.clone(), url.clone(), session.clone()).await;
                during.push(ms);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            during
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let shots = attackers
        .iter()
        .zip(&forms)
        .map(|((c, i), (cookie, token))| {
            let name = if i % 2 == 0 {
                format!("staff-{}", (i / 2) % (NAMES / 2))
            } else {
                format!("ghost-{}", (i / 2) % (NAMES / 2))
            };
            let url = url.clone();
            async move {
                c.post(format!("{url}/login"))
                    .header("cookie", cookie)
                    .form(&[
                        ("username", name.as_str()),
                        ("password", "Wrong-Guess-0000!"),
                        ("form", token),
                    ])
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        });
    let statuses = futures_util::future::join_all(shots).await;
    let flood_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let mut during = prober.await?;
    let hwm = status_kib(pid, "VmHWM:");
    let _ = child.kill().await;
    let mut answers = BTreeMap::new();
    for s in statuses {
        *answers.entry(s).or_insert(0) += 1;
    }
    let mib = |k: u64| k as f64 / 1024.0;
    let page_during_n = during.len();
    Ok(Outcome {
        mode,
        flood,
        answers,
        flood_secs,
        rss_before_mib: mib(rss_before),
        peak_rss_mib: mib(peak.load(Ordering::Relaxed)),
        hwm_mib: mib(hwm),
        page_before_ms: (pct(&mut before, 0.5), pct(&mut before, 0.95)),
        page_during_ms: (
            pct(&mut during, 0.5),
            pct(&mut during, 0.95),
            pct(&mut during, 1.0),
        ),
        page_during_n,
        page_errors: errors.load(Ordering::Relaxed),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut flood, mut modes) = (1000usize, vec![Mode::Bounded, Mode::Unbounded]);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--bench" => {}
            "--flood" => flood = it.next().context("--flood N")?.parse()?,
            "--mode" => {
                modes = match it.next().as_deref() {
                    Some("bounded") => vec![Mode::Bounded],
                    Some("unbounded") => vec![Mode::Unbounded],
                    Some("both") => vec![Mode::Bounded, Mode::Unbounded],
                    other => bail!("--mode bounded|unbounded|both, not {other:?}"),
                }
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let mut rows = Vec::new();
    for m in modes {
        let o = run(m, flood).await?;
        println!(
            "login-flood {}: {} wrong sign-ins in {:.1} s, answers {:?}",
            o.mode.name(),
            o.flood,
            o.flood_secs,
            o.answers
        );
        rows.push(o);
    }
    println!();
    println!(
        "| mode | wrong sign-ins | answered (status: count) | flood s | RSS before MiB | peak RSS MiB (sampled) | VmHWM MiB | page p50/p95 before ms | page p50/p95/max during ms (n) | page errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for o in &rows {
        let answers: Vec<String> = o.answers.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} / {:.0} | {:.0} / {:.0} / {:.0} ({}) | {} |",
            o.mode.name(),
            o.flood,
            answers.join(", "),
            o.flood_secs,
            o.rss_before_mib,
            o.peak_rss_mib,
            o.hwm_mib,
            o.page_before_ms.0,
            o.page_before_ms.1,
            o.page_during_ms.0,
            o.page_during_ms.1,
            o.page_during_ms.2,
            o.page_during_n,
            o.page_errors
        );
    }
    if let [b, u] = &rows[..] {
        println!(
            "\npeak memory unbounded / bounded: {:.1}×; page p95 during the flood unbounded / bounded: {:.1}×",
            u.hwm_mib / b.hwm_mib,
            u.page_during_ms.1 / b.page_during_ms.1
        );
    }
    Ok(())
}
