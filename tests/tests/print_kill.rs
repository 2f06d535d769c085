//! Kill the kiosk with SIGKILL at random moments while it checks people in,
//! prints their guide sheets and syncs; restart it; repeat. In the end every
//! guide sheet is on paper, every copy beyond the first carries the reprint
//! mark and is a copy of the sheet that was in flight, and the server has
//! every check-in exactly once.
//!
//! `PRINT_KILL_CUTS=1000 cargo test -p e2e-tests --test print_kill -- --nocapture`
//! runs a longer series (default: 25 cuts).

use std::time::Duration;

mod common;

use device_drivers::sim::{PrinterFault, PrinterSim};
use e2e_tests::{free_addr, start_server};
use exam_domain::demo::Rng;
use exam_server::db::CountTable;

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

fn positions(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_during_printing_and_sync_lose_nothing_and_mark_every_duplicate() {
    let cuts: usize = std::env::var("PRINT_KILL_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 60)
        .await
        .unwrap();
    server
        .state
        .db
        .add_kiosk("K-CUT", "main", "lobby", "enrol-secret-for-the-cut-test")
        .await
        .unwrap();
    let sim = PrinterSim::new();
    // A slow printer widens the window in which a part is in flight.
    sim.inject(PrinterFault::Slow(Duration::from_millis(30)));
    let printer = format!("tcp://{}", sim.listen_tcp().unwrap());

    let day = e2e_tests::demo_day(60);
    let script_path = dir.path().join("script.txt");
    e2e_tests::write_card_script(&day, 30, &script_path).unwrap();
    let journal = dir.path().join("kiosk.db");

    let mut rng = Rng::new(cuts as u64);
    let started = std::time::Instant::now();
    for _ in 0..cuts {
        let mut child = common::kiosk_command(
            &journal,
            &server.url(),
            "K-CUT",
            "enrol-secret-for-the-cut-test",
            &script_path,
            &["--receipt-printer", &printer],
        )
        .spawn()
        .unwrap();
        let after = Duration::from_millis(150 + rng.below(1200));
        if tokio::time::timeout(after, child.wait()).await.is_ok() {
            break; // finished everything before the cut
        }
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
    }
    common::run_until_drained(
        common::kiosk_command(
            &journal,
            &server.url(),
            "K-CUT",
            "enrol-secret-for-the-cut-test",
            &script_path,
            &["--receipt-printer", &printer],
        ),
        Duration::from_secs(180),
    )
    .await;
    eprintln!("{cuts} cuts in {:?}", started.elapsed());

    // The journal: every job printed, nothing pending.
    let j = offline_store::Journal::open(&journal).unwrap();
    assert!(j.unfinished_parts().unwrap().is_empty());
    assert_eq!(j.backlog().unwrap().pending, 0);
    let jobs: Vec<String> = {
        let mut stmt = j
            .connection()
            .prepare("SELECT person FROM print_jobs ORDER BY created_at")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let events = j.all_event_ids().unwrap().len();
    assert_eq!(jobs.len(), events, "one guide sheet per check-in");
    assert!(events > 20, "{events} check-ins");

    // The paper: each sheet at least once; each extra copy marked, and a
    // copy of the sheet that was being printed when the kiosk died.
    let paper = sim.printed();
    let mark = gb("【补打 REPRINT】");
    let marks = positions(&paper, &mark);
    let mut extra_copies = 0;
    for code in &jobs {
        let at = positions(&paper, &gb(&format!("预约号：{code}")));
        assert!(!at.is_empty(), "sheet {code} never printed");
        extra_copies += at.len() - 1;
        for later in &at[1..] {
            let mark_before = marks
                .iter()
                .rev()
                .find(|&&m| m < *later)
                .expect("a mark before every extra copy");
            assert!(
                at[0] < *mark_before,
                "the reprint of {code} follows its first, interrupted copy"
            );
        }
    }
    assert!(
        extra_copies <= marks.len(),
        "{extra_copies} extra copies, {} marks",
        marks.len()
    );
    // (A mark with no earlier copy is allowed: the kiosk died after marking
    // the part as sending but before a byte left; it cannot know that.)
    assert!(sim.errors().is_empty(), "{:?}", sim.errors());

    // The server: each check-in exactly once.
    let db = &server.state.db;
    assert_eq!(
        db.count(CountTable::KioskEvents).await.unwrap() as usize,
        events
    );
    assert_eq!(
        db.count(CountTable::Registrations).await.unwrap() as usize,
        events
    );
    eprintln!(
        "{events} check-ins, {} sheets with {} marked reprints",
        jobs.len(),
        marks.len()
    );
    server.stop().await;
}
