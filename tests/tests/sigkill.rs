//! A kiosk process killed with SIGKILL in the middle of a push (the server
//! has committed the batch, the acknowledgement is on its way) loses
//! nothing: after restarts, every journaled check-in is registered once.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::Duration;

use e2e_tests::{DelayProxy, free_addr, start_server};
use exam_server::db::CountTable;
use tokio::process::Command;

const KILLS: usize = 6;

fn kiosk_cmd(journal: &std::path::Path, server: &str, script: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_e2e-kiosk"));
    c.args(["run", "--journal"])
        .arg(journal)
        .args([
            "--server",
            server,
            "--kiosk-id",
            "K-KILL",
            "--enrol-secret",
            "enrol-secret-for-the-kill-test",
            "--script",
        ])
        .arg(script)
        .args(["--exit-when-drained", "--sync-every-s", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    c
}

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
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let day = exam_domain::demo::generate(
        exam_domain::demo::DEMO_SEED,
        80,
        today,
        chrono::NaiveTime::MIN,
        chrono::NaiveTime::MIN,
        "main",
    );
    let script: String = day
        .people
        .iter()
        .map(|p| format!("card {}\nwait 40\n", p.id_number))
        .collect();
    let script_path = dir.path().join("script.txt");
    std::fs::write(&script_path, script).unwrap();
    let journal = dir.path().join("kiosk.db");

    let mut kills = 0;
    for _ in 0..KILLS {
        proxy.pushes_held.borrow_and_update();
        let mut child = kiosk_cmd(&journal, &via_proxy, &script_path)
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
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        kiosk_cmd(&journal, &via_proxy, &script_path).output(),
    )
    .await
    .expect("the last run finishes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("drained"),
        "{stdout}"
    );

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
