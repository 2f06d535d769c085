//! Failover benchmark (issue 21, S9's hot standby): the service on a
//! PostgreSQL primary with a synchronous hot standby under pg_auto_failover,
//! reached through HAProxy (`scripts/pg-failover up DIR`), while kiosks
//! check people in from their own journals and push with their sync
//! agents. The primary's postgres is killed (-9) mid-run; the monitor
//! promotes the standby; HAProxy sends new connections to it; the service
//! goes on by itself. Prints when requests failed and succeeded again, and
//! checks the promise: every check-in a kiosk had acknowledged is in the
//! store afterwards (commits wait for the standby: `synchronous_commit =
//! on` with `synchronous_standby_names = ANY 1 (…)`, set by
//! pg_auto_failover).
//!
//! scripts/pg-failover up /tmp/pgf
//! cargo bench -p exam-server --bench failover -- --url postgres://postgres@127.0.0.1:6432/exam
//!     --kill "scripts/pg-failover kill /tmp/pgf" [--kiosks 4] [--secs 40] [--kill-after 10]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use exam_protocol::{BookingRecord, CheckIn};
use sqlx::Row;
use sqlx::any::AnyPoolOptions;

#[path = "support/kiosks.rs"]
mod kiosks;

struct Args {
    url: String,
    kill: String,
    kiosks: usize,
    secs: u64,
    kill_after: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut url = None;
    let mut kill = None;
    let (mut kiosks, mut secs, mut kill_after) = (4, 40, 10);
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--bench" {
            continue;
        }
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--url" => url = Some(v),
            "--kill" => kill = Some(v),
            "--kiosks" => kiosks = v.parse()?,
            "--secs" => secs = v.parse()?,
            "--kill-after" => kill_after = v.parse()?,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(Args {
        url: url.context("--url (scripts/pg-failover up prints it)")?,
        kill: kill.context("--kill (a command that kills the primary)")?,
        kiosks,
        secs,
        kill_after,
    })
}

/// What the pushes saw, in milliseconds since the start.
#[derive(Default)]
struct Timeline {
    first_failure: AtomicU64,
    last_failure: AtomicU64,
    failures: AtomicU64,
    successes: AtomicU64,
}

impl Timeline {
    fn failed(&self, at: u64) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .first_failure
            .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed);
        self.last_failure.fetch_max(at, Ordering::Relaxed);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir()?;
    // A fresh database on the formation (made on the primary, replicated).
    let name = format!("exam_failover_{}", std::process::id());
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&a.url)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    admin.close().await;
    let url = format!("{}/{name}", a.url.rsplit_once('/').context("a URL")?.0);
    let key = dir.path().join("data.key");
    exam_vault::KeyRing::generate()?.write_new_file(&key)?;
    let people = 20_000;
    let server = exam_server::start(exam_server::Config {
        listen: "127.0.0.1:0".parse()?,
        database_url: url.clone(),
        data_key_file: Some(key),
        demo_people: people,
        ..exam_server::Config::default()
    })
    .await?;
    let kiosks = kiosks::enrol(&server, "K-FO", a.kiosks).await?;
    let records = kiosks::all_records(&kiosks[0]).await?;
    let per = records.len() / a.kiosks;
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let timeline = Arc::new(Timeline::default());
    let mut tasks = Vec::new();
    for (k, client) in kiosks.into_iter().enumerate() {
        let mine: Vec<BookingRecord> = records[k * per..(k + 1) * per].to_vec();
        let path = dir.path().join(format!("kiosk-{k}.db"));
        let (stop, timeline) = (Arc::clone(&stop), Arc::clone(&timeline));
        tasks.push(tokio::spawn(async move {
            let journal = offline_store::SharedJournal::new(offline_store::Journal::open(&path)?);
            let agent = sync_client::agent::SyncAgent::new(
                journal.clone(),
                client,
                sync_client::agent::AgentConfig::default(),
            );
            let mut n = 0;
            // A patient every 50 ms per kiosk: journaled at once (the
            // kiosk never waits for the service), pushed by the agent.
            while !stop.load(Ordering::Relaxed) && n < mine.len() {
                let rec = &mine[n];
                journal.lock().record_check_in(
                    &CheckIn {
                        booking_id: rec.booking.id,
                        booking_code: rec.booking.code.clone(),
                        id_number: rec.person.id_number.clone(),
                        identified_by: "id_card".into(),
                        checked_in_at: Utc::now(),
                        offline: false,
                        privacy: None,
                    },
                    None,
                )?;
                n += 1;
                let at = start.elapsed().as_millis() as u64;
                match tokio::time::timeout(Duration::from_secs(5), agent.push_all()).await {
                    Ok(Ok(_)) => {
                        timeline.successes.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => timeline.failed(at),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Catch up: everything journaled acknowledged.
            let caught = Instant::now();
            loop {
                if agent.push_all().await.is_ok() && journal.lock().pending_events(1)?.is_empty() {
                    break;
                }
                anyhow::ensure!(caught.elapsed() < Duration::from_secs(120), "caught up");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            anyhow::Ok(n)
        }));
    }
    tokio::time::sleep(Duration::from_secs(a.kill_after)).await;
    let killed_at = start.elapsed();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&a.kill)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    tokio::time::sleep(Duration::from_secs(a.secs.saturating_sub(a.kill_after))).await;
    stop.store(true, Ordering::Relaxed);
    let mut journaled = 0;
    for t in tasks {
        journaled += t.await??;
    }
    // The promise: every acknowledged check-in is in the store.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM kiosk_events WHERE kind = 'check_in') AS events,
                (SELECT COUNT(*) FROM bookings WHERE state = 'checked_in') AS checked_in",
    )
    .fetch_one(&pool)
    .await?;
    let events: i64 = row.try_get("events")?;
    let checked_in: i64 = row.try_get("checked_in")?;
    pool.close().await;
    server.stop().await;
    let ms = |v: u64| Duration::from_millis(v);
    let first = timeline.first_failure.load(Ordering::Relaxed);
    let last = timeline.last_failure.load(Ordering::Relaxed);
    println!("\n| | |\n|---|---|");
    println!("| primary killed at | {:.1} s |", killed_at.as_secs_f64());
    if first > 0 {
        println!(
            "| pushes failing | from {:.1} s to {:.1} s ({:.1} s after the kill) |",
            ms(first).as_secs_f64(),
            ms(last).as_secs_f64(),
            ms(last).saturating_sub(killed_at).as_secs_f64()
        );
    } else {
        println!("| pushes failing | none |");
    }
    println!(
        "| pushes | {} succeeded, {} failed (retried by the agents) |",
        timeline.successes.load(Ordering::Relaxed),
        timeline.failures.load(Ordering::Relaxed)
    );
    println!("| check-ins journaled at the kiosks | {journaled} |");
    println!("| check-in events in the store afterwards | {events} |");
    println!("| bookings checked in afterwards | {checked_in} |");
    anyhow::ensure!(
        events == journaled as i64 && checked_in == journaled as i64,
        "every acknowledged check-in is in the store"
    );
    println!("| every acknowledged check-in present | yes |");
    Ok(())
}
