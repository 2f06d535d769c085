//! A kiosk process killed with SIGKILL in the middle of a push (the server
//! has committed the batch, the acknowledgement is on its way) loses
//! nothing: after restarts, every journaled check-in is registered once.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod common;

use e2e_tests::{DelayProxy, free_addr, start_server};
use exam_server::db::CountTable;

const KILLS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_push_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 80)
        .await
        .unwrap();
    server
        .state
        .db
        .add_kiosk("K-KILL", "main", "lobby", "enrol-secret-for-the-kill-test")
        .await
        .unwrap();
    let mut proxy = DelayProxy::start(server.addr, Duration::from_millis(300)).await;
    let via_proxy = format!("http://{}", proxy.addr);

    // Patients arrive every 40 ms; each start replays the script and skips
    // whoever this kiosk already checked in.
    let day = e2e_tests::demo_day(80);
    let script_path = dir.path().join("script.txt");
    e2e_tests::write_card_script(&day, 40, &script_path).unwrap();
    let journal = dir.path().join("kiosk.db");

    let mut kills = 0;
    for _ in 0..KILLS {
        proxy.pushes_held.borrow_and_update();
        let mut child = common::kiosk_command(
            &journal,
            &via_proxy,
            "K-KILL",
            "enrol-secret-for-the-kill-test",
            &script_path,
            &[],
        )
        .spawn()
        .unwrap();
        let caught =
            tokio::time::timeout(Duration::from_secs(20), proxy.pushes_held.changed()).await;
        if caught.is_err() {
            // Nothing left to push: the kiosk finished before we could strike.
            let _ = child.wait().await;
            break;
        }
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
        kills += 1;
    }
    assert!(kills >= 3, "the kiosk was killed mid-push {kills} times");
    let dup_before = server
        .state
        .metrics
        .events_duplicate
        .load(Ordering::Relaxed);

    // A last, undisturbed run drains everything.
    common::run_while_progressing(
        common::kiosk_command(
            &journal,
            &via_proxy,
            "K-KILL",
            "enrol-secret-for-the-kill-test",
            &script_path,
            &[],
        ),
        Duration::from_secs(120),
        || 0,
    )
    .await
    .unwrap_or_else(|stall| panic!("{stall}"));

    let j = offline_store::Journal::open(&journal).unwrap();
    assert_eq!(j.backlog().unwrap().pending, 0);
    let journal_ids: BTreeSet<String> = j
        .all_event_ids()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let db = &server.state.db;
    let rows = db
        .registrations(chrono::Utc::now() - chrono::Duration::days(1), 0, 10_000)
        .await
        .unwrap();
    assert_eq!(
        db.count(CountTable::KioskEvents).await.unwrap() as usize,
        journal_ids.len(),
        "every journaled event arrived"
    );
    assert_eq!(rows.len(), journal_ids.len(), "and registered once");
    assert!(
        rows.iter().all(|r| r.outcome == "registered"),
        "no booking checked in twice"
    );
    let booked_today = db
        .changes_since("main", 0, 10_000)
        .await
        .unwrap()
        .records
        .len();
    assert!(journal_ids.len() > 20 && journal_ids.len() <= booked_today);
    // Batches the server had committed when the kiosk died were pushed
    // again after the restart and recognised as duplicates.
    let dups = server
        .state
        .metrics
        .events_duplicate
        .load(Ordering::Relaxed);
    assert!(
        dups >= kills as u64,
        "{kills} kills mid-push, re-pushed: {dup_before} before the last run, {dups} in all"
    );
    drop(proxy);
    server.stop().await;
}
