//! Load benchmark (R4, issue: 500 users at once): N concurrent front-desk
//! clients book, register walk-ins, search and open visits against a real
//! `exam-server` process for a while, beside doctor stations calling the
//! walk-ins through the queue and room screens following it live (issue
//! 19); prints a table per interval with requests, p50 / p99 / max
//! latency, errors and the server's resident memory, then the whole run.
//!
//! cargo bench -p exam-server --bench desk_load -- [--clients 500] [--secs 600]
//!     [--think-ms 1000] [--interval-secs 60] [--database-url URL]
//!     [--doctors 30] [--screens 40] [--group-commit on|off]
//!     [--preload-visits 500000] [--preload-days 365]
//!
//! `EXAM_SERVER_BIN=path` runs that build of the server instead of this
//! tree's (a before/after pair under the same clients).
//!
//! `--preload-visits` first loads that many past visits, spread over the
//! days before today, through the desk's own visit creation
//! (`Db::preload_history`): the data-size run (issue 21) of a store that
//! holds a year of a large centre.
//!
//! Each client waits a random 0.5–1.5 × think time between requests, as
//! people at desks and kiosks do. A doctor station (one per room, round
//! robin) presses 呼叫下一位, refreshes its room, sees the person for 2–6
//! think times and presses 完成. A room screen holds its live stream open
//! and fetches its state at each change (at most once a second, as the
//! page does), with its announcement's voice for each new call. The
//! server is a separate process so its memory is measured alone. SQLite
//! (a temporary file) unless a URL is given.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use exam_domain::demo::Rng;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[path = "support/by_route.rs"]
mod by_route;
#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/pg_top.rs"]
mod pg_top;
#[path = "support/raw_rate.rs"]
mod raw_rate;

use by_route::percentile;

struct Args {
    clients: usize,
    secs: u64,
    think_ms: u64,
    interval_secs: u64,
    database_url: Option<String>,
    doctors: usize,
    screens: usize,
    /// SQLite's group commit (db/group.rs); off to measure without it.
    group_commit: bool,
    preload_visits: usize,
    preload_days: u32,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        clients: 500,
        secs: 600,
        think_ms: 1000,
        interval_secs: 60,
        database_url: None,
        doctors: 30,
        screens: 40,
        group_commit: true,
        preload_visits: 0,
        preload_days: 365,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--bench" {
            continue;
        }
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--clients" => a.clients = v.parse()?,
            "--secs" => a.secs = v.parse()?,
            "--think-ms" => a.think_ms = v.parse()?,
            "--interval-secs" => a.interval_secs = v.parse()?,
            "--database-url" => a.database_url = Some(v),
            "--doctors" => a.doctors = v.parse()?,
            "--screens" => a.screens = v.parse()?,
            "--preload-visits" => a.preload_visits = v.parse()?,
            "--preload-days" => a.preload_days = v.parse()?,
            "--group-commit" => {
                a.group_commit = match v.as_str() {
                    "on" => true,
                    "off" => false,
                    _ => bail!("--group-commit on|off"),
                }
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

#[derive(Default)]
struct Window {
    ms: Vec<f64>,
    /// The same samples by route.
    routes: Vec<(&'static str, f64)>,
    errors: u64,
    full: u64,
}

struct Session {
    cookie: String,
    csrf: String,
}

fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

const PACKAGES: &[&str] = &[
    "P-EMP",
    "P-M-BASIC",
    "P-SENIOR",
    "P-GRP-A",
    "P-CV",
    "P-YOUTH",
];
const ACCOUNTS: usize = 10;
const DOCTOR_ACCOUNTS: usize = 5;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn login(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    pw: &str,
    landing: &str,
) -> anyhow::Result<Session> {
    // The sign-in form's token and its cookie (double submit).
    let page = http.get(format!("{url}/login")).send().await?;
    let form_cookie = page
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
    let form = html[i..].split('"').next().unwrap_or_default().to_string();
    let r = http
        .post(format!("{url}/login"))
        .header("cookie", form_cookie)
        .form(&[("username", user), ("password", pw), ("form", &form)])
        .send()
        .await?;
    let cookie = r
        .headers()
        .get("set-cookie")
        .context("no session cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let html = http
        .get(format!("{url}{landing}"))
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    let i = html.find("name=\"csrf\" content=\"").context("no csrf")? + 21;
    let csrf = html[i..].split('"').next().unwrap_or_default().to_string();
    Ok(Session { cookie, csrf })
}

/// One client's request loop until `stop`.
async fn client(
    n: usize,
    url: String,
    http: reqwest::Client,
    s: Arc<Session>,
    think: Duration,
    stop: Arc<AtomicBool>,
    window: Arc<Mutex<Window>>,
) {
    let mut rng = Rng::new(0x5eed ^ n as u64);
    let mut mine: Vec<i64> = Vec::new();
    let mut serial = 0u16;
    let today = exam_server::workflow::now_local().date();
    // Start spread over one think time, not all at once.
    tokio::time::sleep(think.mul_f64(rng.below(1000) as f64 / 1000.0)).await;
    while !stop.load(Ordering::Relaxed) {
        let roll = rng.below(100);
        let started = Instant::now();
        let (route, path, body): (&str, String, Option<Value>) = if roll < 70 || mine.is_empty() {
            serial = serial.wrapping_add(1);
            let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).expect("1950-01-01 is a date")
                + chrono::Duration::days(rng.below(365 * 50) as i64);
            // A distinct person per request: client number and serial in the area code and sequence.
            let area = format!("32{:04}", (n * 7 + usize::from(serial) / 1000) % 10_000);
            let id = exam_domain::IdNumber::compose(&area, birth, serial % 1000).expect("valid");
            let mut v = json!({
                "person": { "id_number": id.as_str(), "name": "压测员", "mobile": "" },
                "marital": if rng.below(2) == 0 { "married" } else { "unmarried" },
                "package": PACKAGES[rng.below(PACKAGES.len() as u64) as usize],
            });
            let route = if roll < 40 { "book" } else { "walk-in" };
            if roll < 40 {
                v["date"] = json!(today + chrono::Duration::days(1 + rng.below(30) as i64));
                v["slot_start"] = json!(
                    [
                        "07:30:00", "08:00:00", "08:30:00", "09:00:00", "09:30:00", "10:00:00",
                        "10:30:00"
                    ][rng.below(7) as usize]
                );
            } else {
                v["walk_in"] = json!(true);
            }
            (route, "/api/desk/visits".into(), Some(v))
        } else if roll < 90 {
            let id = mine[rng.below(mine.len() as u64) as usize];
            ("visit", format!("/api/desk/visits/{id}"), None)
        } else {
            (
                "search",
                format!(
                    "/api/desk/search?q={}",
                    ["wang", "zhang", "yc", "li"][rng.below(4) as usize]
                ),
                None,
            )
        };
        let req = match &body {
            Some(b) => http
                .post(format!("{url}{path}"))
                .header("x-csrf", &s.csrf)
                .json(b),
            None => http.get(format!("{url}{path}")),
        };
        let res = req
            .header("cookie", &s.cookie)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let (ok, full) = match res {
            Ok(r) => {
                let status = r.status().as_u16();
                let j: Value = r.json().await.unwrap_or(Value::Null);
                if status == 200 {
                    if let Some(id) = j["visit"]["id"].as_i64() {
                        mine.push(id);
                        if mine.len() > 50 {
                            mine.remove(0);
                        }
                    }
                    (true, false)
                } else {
                    // A full slot or a same-day repeat is an answer, not an error.
                    let expected = status == 409;
                    if !expected {
                        eprintln!("client {n}: {path} -> {status} {j}");
                    }
                    (expected, expected)
                }
            }
            Err(e) => {
                eprintln!("client {n}: {path} -> {e}");
                (false, false)
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        {
            let mut w = window.lock().await;
            w.ms.push(ms);
            w.routes.push((route, ms));
            w.errors += u64::from(!ok);
            w.full += u64::from(full);
        }
        let jitter = 0.5 + rng.below(1000) as f64 / 1000.0;
        tokio::time::sleep(think.mul_f64(jitter)).await;
    }
}

async fn note(window: &Mutex<Window>, route: &'static str, started: Instant, ok: bool) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut w = window.lock().await;
    w.ms.push(ms);
    w.routes.push((route, ms));
    w.errors += u64::from(!ok);
}

/// A doctor station in `room`: call next, refresh, see them, finish.
#[allow(clippy::too_many_arguments)]
async fn doctor(
    n: usize,
    url: String,
    http: reqwest::Client,
    s: Arc<Session>,
    room: String,
    think: Duration,
    stop: Arc<AtomicBool>,
    window: Arc<Mutex<Window>>,
) {
    let mut rng = Rng::new(0xd0c7 ^ n as u64);
    tokio::time::sleep(think.mul_f64(rng.below(1000) as f64 / 1000.0)).await;
    let post = |path: String| {
        http.post(format!("{url}{path}"))
            .header("cookie", &s.cookie)
            .header("x-csrf", &s.csrf)
            .timeout(Duration::from_secs(30))
            .json(&json!({}))
            .send()
    };
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let called = match post(format!("/api/queue/rooms/{room}/call-next")).await {
            Ok(r) => {
                let status = r.status().as_u16();
                let j: Value = r.json().await.unwrap_or(Value::Null);
                // 409: nobody to call now, an answer.
                let ok = status == 200 || status == 409;
                if !ok {
                    eprintln!("doctor {n}: call-next {room} -> {status} {j}");
                }
                note(&window, "call-next", t, ok).await;
                j["decisions"][0]["person"].as_i64()
            }
            Err(e) => {
                eprintln!("doctor {n}: call-next {room} -> {e}");
                note(&window, "call-next", t, false).await;
                None
            }
        };
        let t = Instant::now();
        let r = http
            .get(format!("{url}/api/queue/rooms/{room}"))
            .header("cookie", &s.cookie)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let ok = matches!(&r, Ok(r) if r.status().is_success());
        if let Ok(r) = r {
            let _ = r.bytes().await;
        }
        note(&window, "room", t, ok).await;
        let Some(person) = called else {
            tokio::time::sleep(think.mul_f64(1.0 + rng.below(1000) as f64 / 1000.0)).await;
            continue;
        };
        tokio::time::sleep(think.mul_f64(2.0 + rng.below(4000) as f64 / 1000.0)).await;
        let t = Instant::now();
        let ok = match post(format!("/api/queue/visits/{person}/finish")).await {
            Ok(r) => {
                let status = r.status().as_u16();
                if status != 200 {
                    eprintln!("doctor {n}: finish {person} -> {status}");
                }
                status == 200
            }
            Err(e) => {
                eprintln!("doctor {n}: finish {person} -> {e}");
                false
            }
        };
        note(&window, "finish", t, ok).await;
    }
}

/// A room screen: its live stream held open; its state fetched at each
/// change (at most once a second) and the voice of each new call.
async fn screen(
    n: usize,
    url: String,
    http: reqwest::Client,
    token: String,
    stop: Arc<AtomicBool>,
    window: Arc<Mutex<Window>>,
) {
    let mut after = 0u64;
    let mut last = Instant::now() - Duration::from_secs(2);
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = http
            .get(format!("{url}/api/screen/{token}/stream"))
            .send()
            .await
        else {
            eprintln!("screen {n}: stream refused");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(1), stream.chunk()).await;
            let changed = match chunk {
                Ok(Ok(Some(b))) => b.windows(7).any(|w| w == b"changed"),
                Ok(Ok(None)) | Ok(Err(_)) => break,
                Err(_) => false,
            };
            if !changed || last.elapsed() < Duration::from_secs(1) {
                continue;
            }
            last = Instant::now();
            let t = Instant::now();
            let r = http
                .get(format!("{url}/api/screen/{token}?after={after}"))
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let j: Value = match r {
                Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
                _ => Value::Null,
            };
            note(&window, "screen", t, !j.is_null()).await;
            for a in j["announcements"].as_array().into_iter().flatten() {
                let seq = a["seq"].as_u64().unwrap_or(0);
                after = after.max(seq);
                if a["call"] != true {
                    continue;
                }
                let t = Instant::now();
                let r = http
                    .get(format!("{url}/api/screen/{token}/voice/{seq}.wav"))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok_and(|b| b.len() > 44),
                    Err(_) => false,
                };
                if !ok {
                    eprintln!("screen {n}: voice {seq} failed");
                }
                note(&window, "voice", t, ok).await;
            }
        }
    }
}

/// A year of history before the run: `preload_visits` over
/// `preload_days`, with the figures of the store afterwards.
async fn preload(db: &exam_server::db::Db, a: &Args) -> anyhow::Result<()> {
    let cat = exam_domain::catalogue::seed::catalogue();
    let prefix = cat
        .campuses
        .iter()
        .find(|c| c.code == "main")
        .map(|c| c.exam_no_prefix.clone())
        .context("campus main")?;
    let rule = exam_domain::exam_no::ExamNoRule::default();
    let tpl = exam_domain::slot::SlotTemplate::default();
    let per_day = a.preload_visits.div_ceil(a.preload_days.max(1) as usize);
    let today = exam_server::workflow::now_local().date();
    let started = Instant::now();
    let loaded = db
        .preload_history(
            &cat,
            &rule,
            &tpl,
            ("main", &prefix),
            PACKAGES,
            today,
            (a.preload_days, per_day, 500),
            |day, n| {
                if chrono::Datelike::ordinal(&day) % 30 == 0 {
                    eprintln!(
                        "preload: {day} done, {n} visits, {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            },
        )
        .await?;
    println!(
        "preloaded: {} visits over {} days ({} repeats skipped); the store holds {} visits and {} item rows; {:.0} s",
        loaded.visits,
        a.preload_days,
        loaded.skipped,
        loaded.visits_held,
        loaded.item_rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let database_url = a
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("load.db").display()));
    // Another build of the server under the same load (a before/after pair
    // side by side: the clients are then the same code).
    let server_bin = std::env::var_os("EXAM_SERVER_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_exam-server").into());
    // The store's data keys, made for this run (personal data is sealed).
    let key_file = dir.path().join("data.key");
    let keys = exam_vault::KeyRing::generate()?;
    keys.write_new_file(&key_file)?;
    // The campus's rooms, and a signed link per room screen (a TV).
    let rooms: Vec<String> = exam_domain::catalogue::seed::catalogue()
        .rooms
        .into_iter()
        .filter(|r| r.campus == "main")
        .map(|r| r.code)
        .collect();
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let screens: Vec<String> = (0..a.screens)
        .map(|i| {
            let subject = exam_server::queue::link::Subject::Screen {
                campus: "main".into(),
                room: rooms[i % rooms.len()].clone(),
            };
            exam_server::queue::link::sign(&keys, &subject, expires)
        })
        .collect();
    // The store's raw commit rates on this disk, now (quoted beside the
    // load figures: a figure means little without its machine's limit).
    sqlx::any::install_default_drivers();
    let raw_url = match &a.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.path().join("raw.db").display()),
    };
    let (raw_one, raw_hundred) = raw_rate::raw_rates(&raw_url, 2000, 20_000).await?;
    println!(
        "store's raw rate: {raw_one:.0} durable single-row commits/s, {raw_hundred:.0} rows/s in commits of 100"
    );
    // Accounts before the server starts (hashing is slow on purpose).
    let db = exam_server::db::Db::connect(&database_url, Arc::new(keys)).await?;
    db.migrate().await?;
    // Not on the weak-password list (a weak one must be changed at sign-in).
    let pw = "Load-Bench-Pass-2026!";
    for i in 0..ACCOUNTS {
        if let Err(e) = exam_server::create_staff(
            &db,
            &format!("load{i}"),
            exam_server::roles::Role::FrontDesk,
            Some(pw.into()),
        )
        .await
        {
            eprintln!("account load{i}: {e} (reusing it)");
        }
    }
    for i in 0..DOCTOR_ACCOUNTS.min(a.doctors) {
        if let Err(e) = exam_server::create_staff(
            &db,
            &format!("doc{i}"),
            exam_server::roles::Role::Doctor,
            Some(pw.into()),
        )
        .await
        {
            eprintln!("account doc{i}: {e} (reusing it)");
        }
    }
    if a.preload_visits > 0 {
        preload(&db, &a).await?;
    }
    db.close().await;
    let addr = free_addr();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{addr}\"\ndatabase_url = \"{database_url}\"\ndata_key_file = \"{}\"\ngroup_commit = {}\n\
             [exam_no_rule]\nrule = \"date_serial\"\nwidth = 7\n\
             [slots]\nfirst = \"07:30:00\"\nlast = \"10:30:00\"\nminutes = 30\ncapacity = 1000000\n",
            key_file.display(),
            a.group_commit
        ),
    )?;
    let mut child = tokio::process::Command::new(&server_bin)
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id().context("server pid")?;
    let url = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(a.clients)
        .build()?;
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{url}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(up, "server did not start");
    let mut sessions = Vec::new();
    for i in 0..ACCOUNTS {
        sessions.push(Arc::new(
            login(&http, &url, &format!("load{i}"), pw, "/desk").await?,
        ));
    }
    let mut doctor_sessions = Vec::new();
    for i in 0..DOCTOR_ACCOUNTS.min(a.doctors) {
        doctor_sessions.push(Arc::new(
            login(&http, &url, &format!("doc{i}"), pw, "/station").await?,
        ));
    }
    let rss_start = rss_kib(pid);
    println!(
        "desk-load: {} desk clients, {} doctor stations, {} room screens, think {} ms, {} s, {}; server RSS at start {:.1} MiB",
        a.clients,
        a.doctors,
        a.screens,
        a.think_ms,
        a.secs,
        if a.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        rss_start as f64 / 1024.0
    );
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>9}",
        "t(s)", "requests", "p50 ms", "p99 ms", "max ms", "errors", "full", "RSS MiB"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let window = Arc::new(Mutex::new(Window::default()));
    let mut tasks = Vec::new();
    for n in 0..a.clients {
        tasks.push(tokio::spawn(client(
            n,
            url.clone(),
            http.clone(),
            sessions[n % ACCOUNTS].clone(),
            Duration::from_millis(a.think_ms),
            stop.clone(),
            window.clone(),
        )));
    }
    for n in 0..a.doctors {
        tasks.push(tokio::spawn(doctor(
            n,
            url.clone(),
            http.clone(),
            doctor_sessions[n % doctor_sessions.len().max(1)].clone(),
            rooms[n % rooms.len()].clone(),
            Duration::from_millis(a.think_ms),
            stop.clone(),
            window.clone(),
        )));
    }
    for (n, token) in screens.iter().enumerate() {
        tasks.push(tokio::spawn(screen(
            n,
            url.clone(),
            http.clone(),
            token.clone(),
            stop.clone(),
            window.clone(),
        )));
    }
    // PostgreSQL's statement statistics from here on, when it keeps them.
    let pg_stats = match &a.database_url {
        Some(u) => pg_top::reset(u).await,
        None => false,
    };
    let started = Instant::now();
    let cpu = cpu::Cpu::start(pid);
    let mut all: Vec<f64> = Vec::new();
    let (mut errors, mut full, mut rss_max) = (0u64, 0u64, rss_start);
    let mut routes = by_route::ByRoute::default();
    while started.elapsed() < Duration::from_secs(a.secs) {
        tokio::time::sleep(
            Duration::from_secs(a.interval_secs).min(
                Duration::from_secs(a.secs) - started.elapsed().min(Duration::from_secs(a.secs)),
            ),
        )
        .await;
        let mut w = std::mem::take(&mut *window.lock().await);
        let rss = rss_kib(pid);
        rss_max = rss_max.max(rss);
        let n = w.ms.len();
        if n > 0 {
            println!(
                "{:>6} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>6} {:>9.1}",
                started.elapsed().as_secs(),
                n,
                percentile(&mut w.ms, 0.5),
                percentile(&mut w.ms, 0.99),
                w.ms.iter().cloned().fold(0.0, f64::max),
                w.errors,
                w.full,
                rss as f64 / 1024.0
            );
        }
        errors += w.errors;
        full += w.full;
        all.append(&mut w.ms);
        routes.add(std::mem::take(&mut w.routes), true);
    }
    stop.store(true, Ordering::Relaxed);
    cpu.print();
    for t in tasks {
        let _ = t.await;
    }
    let w = std::mem::take(&mut *window.lock().await);
    errors += w.errors;
    full += w.full;
    all.extend(w.ms);
    routes.add(w.routes, false);
    let n = all.len();
    println!(
        "total: {n} requests ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {errors}, slot full/repeat {full}, server RSS start {:.1} MiB max {:.1} MiB end {:.1} MiB",
        n as f64 / a.secs as f64,
        percentile(&mut all, 0.5),
        percentile(&mut all, 0.99),
        all.iter().cloned().fold(0.0, f64::max),
        rss_start as f64 / 1024.0,
        rss_max as f64 / 1024.0,
        rss_kib(pid) as f64 / 1024.0
    );
    // How many writes a disk flush carried (SQLite's group commit).
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let counter = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    if let (Some(w), Some(c)) = (
        counter("exam_store_group_writes_total "),
        counter("exam_store_group_commits_total "),
    ) {
        println!(
            "group commit: {w:.0} writes in {c:.0} commits ({:.2} a flush)",
            w / c.max(1.0)
        );
    } else if a.database_url.is_some() {
        println!("group commit: none (PostgreSQL flushes concurrent commits together itself)");
    } else {
        println!("group commit: off");
    }
    routes.print();
    if let Some(u) = &a.database_url
        && pg_stats
    {
        pg_top::print(u, 15).await?;
    }
    let _ = child.kill().await;
    if errors > 0 {
        bail!("{errors} errors");
    }
    Ok(())
}
