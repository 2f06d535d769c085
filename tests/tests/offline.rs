//! With the central service stopped the kiosk keeps checking people in from
//! its cache; when the service is back, everything arrives exactly once.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e_tests::{free_addr, start_server, wait_for};
use exam_server::db::CountTable;
use kiosk_app::assemble::{self, KioskOptions};
use kiosk_app::{Source, script};
use sync_client::AgentConfig;

fn fast_agent() -> AgentConfig {
    AgentConfig {
        pull_every: Duration::from_millis(300),
        heartbeat_every: Duration::from_millis(300),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        ..AgentConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_works_through_a_server_outage_and_everything_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, addr) = (dir.path().join("exam.db"), free_addr());
    let server = start_server(&db, addr, 60).await.unwrap();
    server
        .state
        .db
        .add_kiosk("K-OFF", "main", "lobby", "enrol-secret-for-offline-test")
        .await
        .unwrap();

    let kiosk = assemble::start(KioskOptions {
        journal: dir.path().join("kiosk.db"),
        server_url: Some(server.url()),
        server_link: sync_client::LinkOptions::loopback_dev(),
        kiosk_id: Some("K-OFF".into()),
        enrol_secret: Some("enrol-secret-for-offline-test".into()),
        agent: fast_agent(),
        // Generous: with the service up, a lookup answers online however
        // loaded the machine; stopped, its port refuses at once.
        lookup_timeout: Duration::from_secs(10),
        receipt_printer: None,
        report_printer: None,
        label_printer: None,
    })
    .await
    .unwrap();
    let journal = kiosk.journal.clone();
    assert!(
        wait_for(Duration::from_secs(30), || journal
            .lock()
            .cache_stats()
            .unwrap()
            .bookings
            > 60)
        .await,
        "cache filled"
    );

    // The whole day's people, as a deck; the first third arrive online.
    let day = e2e_tests::demo_day(60);
    let deck = script::demo_deck(&day, 0, 7);
    let (first, rest) = deck.split_at(20);
    let (mut headless, out) = e2e_tests::headless(&kiosk);
    let online = headless.play(first).await;
    assert!(online.checked_in > 5, "{online:?}\n{}", out.text());
    assert_eq!(online.offline, 0, "the service answered every lookup");
    assert!(kiosk.drain(Duration::from_secs(30)).await.unwrap());

    // The server goes away; patients keep coming.
    server.stop().await;
    let offline = headless.play(rest).await;
    assert!(offline.checked_in > 10, "{offline:?}\n{}", out.text());
    assert_eq!(offline.offline, offline.checked_in, "all from the cache");
    let q = exam_domain::IdentityQuery::IdNumber {
        id_number: day.people[0].id_number.clone(),
    };
    assert_eq!(
        kiosk
            .core
            .identify(&q, chrono::Utc::now())
            .await
            .unwrap()
            .source,
        Source::OfflineCache
    );
    let backlog = kiosk.backlog().unwrap();
    assert!(
        backlog.pending as usize >= offline.checked_in,
        "{backlog:?}"
    );
    assert!(!kiosk.sync_status().online);

    // Back again on the same address and store.
    let server = start_server(&db, addr, 0).await.unwrap();
    assert!(
        kiosk.drain(Duration::from_secs(60)).await.unwrap(),
        "backlog drained after the outage"
    );

    let journal_ids: BTreeSet<String> = kiosk
        .journal
        .lock()
        .all_event_ids()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(journal_ids.len(), online.checked_in + offline.checked_in);
    let db = &server.state.db;
    assert_eq!(
        db.count(CountTable::KioskEvents).await.unwrap() as usize,
        journal_ids.len()
    );
    let rows = db
        .registrations(chrono::Utc::now() - chrono::Duration::days(1), 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        journal_ids.len(),
        "each check-in registered exactly once"
    );
    assert!(
        rows.iter().all(|r| r.outcome == "registered"),
        "no repeats, no unknown bookings"
    );
    assert_eq!(
        rows.iter().filter(|r| r.offline).count(),
        online.offline + offline.offline
    );
    // Q1: every check-in joined today's queue once it reached the service,
    // those made offline too (once each: the queue's own count).
    let st = &server.state;
    let mut joined = 0;
    for _ in 0..100 {
        joined = st
            .queue
            .read(st, "main", |e| e.known_count())
            .await
            .unwrap();
        if joined >= rows.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(joined, rows.len(), "each check-in joined the queue once");
    kiosk.stop().await;
    server.stop().await;
}
