//! Benchmark: ID card placed on the simulated reader → guide sheet fully
//! received by the simulated printer, through the real drivers, the
//! patient session and flow (the headless kiosk: each patient pays when
//! asked, prints everything and takes it), the journal and the spooler;
//! 200 patients with
//! the central service on loopback, then 200 with it stopped (offline
//! cache). Prints p50 / p95 / max.
//!
//! cargo run --release -p e2e-tests --bin checkin-bench -- [PATIENTS]

use std::time::{Duration, Instant};

use anyhow::bail;
use device_drivers::sim::idcard::card_for;
use device_drivers::sim::{IdCardSim, PrinterSim};
use e2e_tests::percentile as pct;
use kiosk_app::assemble::{self, KioskOptions};
use kiosk_app::flow::Settings;
use kiosk_app::headless::{Arrival, Headless};
use sync_client::AgentConfig;

fn cuts(b: &[u8]) -> usize {
    b.windows(2).filter(|w| w == &[0x1d, 0x56]).count()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir()?;
    // A few demo bookings are for a later slot (K8); those people are
    // skipped, so the pool is larger than the patients measured.
    let pool = 3 * n;
    let server =
        e2e_tests::start_server(&dir.path().join("central.db"), e2e_tests::free_addr(), pool)
            .await?;
    let day = e2e_tests::demo_day(pool);
    let secret = exam_protocol::auth::random_token();
    server
        .state
        .db
        .add_kiosk("K-BENCH", "main", "lobby", &secret)
        .await?;

    let printer = PrinterSim::new();
    let printer_addr = printer.listen_tcp()?;
    let reader = IdCardSim::new();
    let pty = device_drivers::serial::pty_pair()?;
    {
        let (r, port) = (reader.clone(), pty.sim.try_clone_native()?);
        std::thread::spawn(move || r.serve(port, &std::sync::atomic::AtomicBool::new(false)));
    }
    let kiosk = assemble::start(KioskOptions {
        journal: dir.path().join("kiosk.db"),
        server_url: Some(server.url()),
        server_link: sync_client::LinkOptions::loopback_dev(),
        kiosk_id: Some("K-BENCH".into()),
        enrol_secret: Some(secret),
        agent: AgentConfig {
            pull_every: Duration::from_secs(1),
            heartbeat_every: Duration::from_secs(5),
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_millis(1500),
        receipt_printer: Some(device_drivers::config::PrinterConfig::at(&format!(
            "tcp://{printer_addr}"
        ))),
        report_printer: None,
        label_printer: None,
    })
    .await?;
    // The offline half needs every booking in the kiosk's cache.
    let deadline = Instant::now() + Duration::from_secs(60);
    while kiosk.journal.lock().cache_stats()?.bookings < day.bookings.len() as u64 {
        if Instant::now() > deadline {
            bail!("the cache did not fill");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The patients: everyone whose bookings can all print now, with how
    // many guide sheets each gets.
    let now = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .naive_local();
    let mut patients = Vec::new();
    for p in &day.people {
        let q = exam_domain::IdentityQuery::IdNumber {
            id_number: p.id_number.clone(),
        };
        let records = kiosk.journal.lock().find_bookings(&q)?;
        let ready = records.iter().all(|r| {
            exam_domain::slot::eligibility(&r.booking, "main", now)
                == exam_domain::slot::Eligibility::Ready
        });
        if ready && !records.is_empty() {
            // A guide sheet each, and a fee list when something is due.
            let receipts = records
                .iter()
                .map(|r| 1 + usize::from(r.booking.amount_due_fen > 0))
                .sum::<usize>();
            patients.push((p.clone(), receipts));
        }
    }
    if patients.len() < 2 * n {
        bail!("only {} demo people can check in now", patients.len());
    }

    // The reader's cards reach the headless kiosk; each patient answers as
    // a typical one does (pays at once through the payment simulator,
    // prints everything).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _driver =
        kiosk_app::devices::start_idcard(&device_drivers::config::IdCardConfig::at(&pty.path), tx);
    let (arrive, arrivals) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(i) = rx.recv().await {
            let _ = arrive.send(Arrival::Device(i));
        }
    });
    let settings = Settings {
        elderly: false,
        photo: false,
        face: false,
        face_policy: Default::default(),
    };
    let mut headless = Headless::new(&kiosk, settings, std::io::sink());
    let watch_views = headless.views();
    tokio::spawn(async move { headless.serve(arrivals).await });

    let mut server = Some(server);
    let mut rows = Vec::new();
    for (label, people) in [
        ("online (central service on loopback)", &patients[..n]),
        ("offline (central service stopped)", &patients[n..2 * n]),
    ] {
        if label.starts_with("offline")
            && let Some(s) = server.take()
        {
            s.stop().await;
        }
        let mut lat = Vec::new();
        for (p, sheets) in people {
            let sheets = *sheets;
            let before = cuts(&printer.printed());
            let t0 = Instant::now();
            reader.place(card_for(p));
            let limit = t0 + Duration::from_secs(10);
            while cuts(&printer.printed()) < before + sheets {
                if Instant::now() > limit {
                    bail!(
                        "no guide sheet for {} within 10 s; the screen shows {:?}",
                        p.id_number.as_str(),
                        watch_views.borrow().screen
                    );
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            // The patient takes the card and leaves; the reader sees it go.
            e2e_tests::take_card_away(&reader).await;
        }
        let (p50, p95, max) = (pct(&mut lat, 0.5), pct(&mut lat, 0.95), pct(&mut lat, 1.0));
        rows.push((label, lat.len(), p50, p95, max));
    }
    println!(
        "\n| card placed → last guide sheet of the patient received | patients | p50 | p95 | max |"
    );
    println!("|---|---|---|---|---|");
    for (l, n, p50, p95, max) in rows {
        println!("| {l} | {n} | {p50:.0} ms | {p95:.0} ms | {max:.0} ms |");
    }
    kiosk.stop().await;
    drop(pty);
    Ok(())
}
