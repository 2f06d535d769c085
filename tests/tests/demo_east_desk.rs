//! The demo's second campus (E14): its simulated desk registers 东区分院's
//! booked people and takes their money, so the ledger (and `/figures`)
//! has that campus's takings apart from the main campus's, by method.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e_tests::free_addr;
use exam_server::finance::{Entry, Method};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_east_desk_takes_money_under_its_campus() {
    let dir = tempfile::tempdir().unwrap();
    let config = e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 6);
    let server = exam_server::start(config).await.unwrap();
    let st = server.state.clone();
    let desk = e2e_tests::east_desk::spawn(st.clone(), "east", 4, Duration::from_millis(10))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), desk)
        .await
        .unwrap()
        .unwrap();
    let today = exam_server::queue::today();
    let sums = exam_server::finance::store::day_ledger(&st.db, today, today)
        .await
        .unwrap();
    let east: Vec<_> = sums.iter().filter(|s| s.campus == "east").collect();
    assert!(!east.is_empty(), "{sums:?}");
    assert!(east.iter().all(|s| s.entry == Entry::Charge && s.fen > 0));
    let methods: Vec<Method> = east.iter().map(|s| s.method).collect();
    assert!(
        methods.contains(&Method::Cash) && methods.contains(&Method::Card),
        "{methods:?}"
    );
    assert!(
        sums.iter().all(|s| s.campus != "main"),
        "nothing under the main campus"
    );
    server.stop().await;
}
