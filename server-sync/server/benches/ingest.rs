//! Ingest benchmark (issue 21, R4): check-ins taken in by the service per
//! second, side by side in one run with the same store's physical limit:
//! durable single-row commits per second and rows per second in batched
//! commits of 100. Then a kiosk's catch-up: its own journal (offline-store)
//! with 10,000 queued check-ins pushed by its sync agent, as after a night
//! offline.
//!
//! cargo bench -p exam-server --bench ingest -- [--single 3000]
//!     [--batched 20000] [--catch-up 10000] [--kiosks 4]
//!     [--pg postgres://user@host/admin-db]
//!
//! SQLite (a temporary file, WAL, synchronous=FULL: the service's own
//! settings) always; PostgreSQL too with `--pg` (a fresh database made
//! there and dropped after). The service runs in this process on a
//! loopback port; the kiosks sign their requests here too, so the two
//! cores are shared by both sides (the service's figure is a floor).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use exam_protocol::{BookingRecord, CheckIn, Event, EventBody};
use sqlx::any::AnyPoolOptions;

#[path = "support/kiosks.rs"]
mod kiosks;
#[path = "support/raw_rate.rs"]
mod raw_rate;
use raw_rate::{raw_rates, same_rows_rate};

struct Args {
    single: usize,
    batched: usize,
    catch_up: usize,
    kiosks: usize,
    pg: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        single: 3000,
        batched: 20_000,
        catch_up: 10_000,
        kiosks: 4,
        pg: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--bench" {
            continue;
        }
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--single" => a.single = v.parse()?,
            "--batched" => a.batched = v.parse()?,
            "--catch-up" => a.catch_up = v.parse()?,
            "--kiosks" => a.kiosks = v.parse()?,
            "--pg" => a.pg = Some(v),
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(a)
}

fn check_in(rec: &BookingRecord) -> Event {
    let body = EventBody::CheckIn(CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now(),
        offline: true,
        privacy: None,
    });
    Event::new(uuid::Uuid::now_v7(), 1, Utc::now(), &body)
}

/// Check-ins per second: `kiosks` pushing `batch` events a request.
async fn service_rate(
    clients: &[sync_client::SyncClient],
    records: &[BookingRecord],
    batch: usize,
) -> anyhow::Result<f64> {
    let per = records.len() / clients.len();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (k, c) in clients.iter().enumerate() {
        let c = c.clone();
        let mine: Vec<BookingRecord> = records[k * per..(k + 1) * per].to_vec();
        tasks.push(tokio::spawn(async move {
            for chunk in mine.chunks(batch) {
                let events: Vec<Event> = chunk.iter().map(check_in).collect();
                let r = c.push(&events).await?;
                anyhow::ensure!(r.acks.len() == events.len(), "every event acknowledged");
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((per * clients.len()) as f64 / t.elapsed().as_secs_f64())
}

struct Row {
    store: &'static str,
    raw_one: f64,
    /// SQLite's service without its group commit, same run (db/group.rs).
    ungrouped_one: Option<f64>,
    raw_hundred: f64,
    svc_one: f64,
    svc_hundred: f64,
    catch_up: Duration,
    catch_up_n: usize,
    rows_each: f64,
    /// The same rows written again by plain set-wise statements, 100
    /// check-ins a commit: check-ins per second.
    raw_same: f64,
}

async fn run(
    store: &'static str,
    url: &str,
    ungrouped_url: Option<&str>,
    a: &Args,
    dir: &std::path::Path,
) -> anyhow::Result<Row> {
    eprintln!("{store}: the store's raw commit rates");
    let (raw_one, raw_hundred) = raw_rates(url, a.single, a.batched).await?;
    let people = a.single + a.batched + a.catch_up;
    let key = dir.join(format!("{store}.key"));
    exam_vault::KeyRing::generate()?.write_new_file(&key)?;
    // The same pushes without the group commit, on a store of their own
    // (SQLite only: PostgreSQL has no such switch).
    let ungrouped_one = match ungrouped_url {
        Some(url) => {
            eprintln!("{store}: check-ins one a request, without the group commit");
            let server = exam_server::start(exam_server::Config {
                listen: "127.0.0.1:0".parse()?,
                database_url: url.to_string(),
                data_key_file: Some(key.clone()),
                demo_people: a.single,
                group_commit: false,
                ..exam_server::Config::default()
            })
            .await?;
            let clients = kiosks::enrol(&server, "K-UNG", a.kiosks).await?;
            let records = kiosks::all_records(&clients[0]).await?;
            let rate = service_rate(&clients, &records[..a.single], 1).await?;
            server.stop().await;
            Some(rate)
        }
        None => None,
    };
    eprintln!("{store}: the service with {people} bookings");
    let server = exam_server::start(exam_server::Config {
        listen: "127.0.0.1:0".parse()?,
        database_url: url.to_string(),
        data_key_file: Some(key),
        demo_people: people,
        ..exam_server::Config::default()
    })
    .await?;
    let mut clients = kiosks::enrol(&server, "K-ING", a.kiosks + 1).await?;
    let catcher = clients.pop().context("a kiosk for the catch-up")?;
    let records = kiosks::all_records(&clients[0]).await?;
    anyhow::ensure!(records.len() >= people, "{} bookings", records.len());
    let (one, rest) = records.split_at(a.single);
    let (hundred, rest) = rest.split_at(a.batched);
    eprintln!("{store}: check-ins one a request");
    let svc_one = service_rate(&clients, one, 1).await?;
    eprintln!("{store}: check-ins 100 a request");
    let svc_hundred = service_rate(&clients, hundred, 100).await?;

    // A kiosk back from a night offline: its journal's queued check-ins
    // pushed by its own sync agent.
    let journal_path = dir.join(format!("{store}-kiosk.db"));
    let mut journal = offline_store::Journal::open(&journal_path)?;
    for rec in &rest[..a.catch_up] {
        let c = CheckIn {
            booking_id: rec.booking.id,
            booking_code: rec.booking.code.clone(),
            id_number: rec.person.id_number.clone(),
            identified_by: "id_card".into(),
            checked_in_at: Utc::now(),
            offline: true,
            privacy: None,
        };
        journal.record_check_in(&c, None)?;
    }
    let shared = offline_store::SharedJournal::new(journal);
    let agent = Arc::new(sync_client::agent::SyncAgent::new(
        shared,
        catcher,
        sync_client::agent::AgentConfig::default(),
    ));
    eprintln!("{store}: a kiosk catching up on {} events", a.catch_up);
    let t = Instant::now();
    let pushed = agent.push_all().await?;
    let catch_up = t.elapsed();
    anyhow::ensure!(
        pushed == a.catch_up,
        "{pushed} of {} acknowledged",
        a.catch_up
    );
    // What a check-in really writes (its event, registration, HIS
    // messages, the queue's rows once the joiner has run, the booking's
    // new state), against which the batched raw rate is a limit too.
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.stop().await;
    let check_ins = a.single + a.batched + a.catch_up;
    let rows_each = rows_written(url).await? / check_ins as f64;
    eprintln!("{store}: the same rows written again, set-wise in commits of 100 check-ins");
    let raw_same = same_rows_rate(url, &WRITTEN, check_ins).await?;
    Ok(Row {
        store,
        raw_one,
        ungrouped_one,
        raw_hundred,
        svc_one,
        svc_hundred,
        catch_up,
        catch_up_n: a.catch_up,
        rows_each,
        raw_same,
    })
}

/// The tables a check-in writes rows into (besides its booking's update).
const WRITTEN: [&str; 7] = [
    "kiosk_events",
    "registrations",
    "interface_messages",
    "interface_items",
    "queue_people",
    "queue_events",
    "queue_entries",
];

/// Rows in the tables a check-in writes, plus one for its booking's update.
async fn rows_written(url: &str) -> anyhow::Result<f64> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let mut n = 0i64;
    for table in WRITTEN {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        let c: i64 = sqlx::Row::try_get(
            &sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await?,
            0,
        )?;
        n += c;
    }
    let booked: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings WHERE state = 'checked_in'")
            .fetch_one(&pool)
            .await?,
        0,
    )?;
    pool.close().await;
    Ok((n + booked) as f64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    sqlx::any::install_default_drivers();
    let mut rows = vec![
        run(
            "SQLite",
            &format!("sqlite://{}?mode=rwc", dir.path().join("exam.db").display()),
            Some(&format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("ungrouped.db").display()
            )),
            &a,
            dir.path(),
        )
        .await?,
    ];
    if let Some(admin) = &a.pg {
        let name = format!("exam_ingest_{}", std::process::id());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await?;
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').context("a database URL")?.0
        );
        let r = run("PostgreSQL", &url, None, &a, dir.path()).await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&pool)
        .await?;
        rows.push(r?);
    }
    println!(
        "\n| store | raw single-row commits/s | service check-ins/s, 1 a request | share | the same without group commit | share | raw rows/s in commits of 100 | service check-ins/s, 100 a request | share | rows a check-in writes | share of the raw rate at that many rows | raw check-ins/s, the same rows in commits of 100 | share | catch-up |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} % | {} | {} | {:.0} | {:.0} | {:.0} % | {:.1} | {:.0} % | {:.0} | {:.0} % | {} events in {:.2} s |",
            r.store,
            r.raw_one,
            r.svc_one,
            100.0 * r.svc_one / r.raw_one,
            r.ungrouped_one.map_or("–".into(), |v| format!("{v:.0}")),
            r.ungrouped_one
                .map_or("–".into(), |v| format!("{:.0} %", 100.0 * v / r.raw_one)),
            r.raw_hundred,
            r.svc_hundred,
            100.0 * r.svc_hundred / r.raw_hundred,
            r.rows_each,
            100.0 * r.svc_hundred * r.rows_each / r.raw_hundred,
            r.raw_same,
            100.0 * r.svc_hundred / r.raw_same,
            r.catch_up_n,
            r.catch_up.as_secs_f64()
        );
    }
    Ok(())
}
