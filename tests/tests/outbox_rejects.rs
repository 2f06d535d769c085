//! An event the server cannot take (here: a kind from a newer kiosk) is set
//! aside in the journal, kept and counted, and does not block the others.

use e2e_tests::{free_addr, start_server};
use exam_server::db::CountTable;
use sync_client::{AgentConfig, SyncAgent, SyncClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_events_are_kept_aside_and_the_rest_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    server
        .state
        .db
        .add_kiosk("K-R", "main", "lobby", "enrol-secret-for-rejects")
        .await
        .unwrap();
    let (key, _) = SyncClient::enrol(
        &sync_client::ServiceLink::loopback_dev(&server.url()).unwrap(),
        "K-R",
        "enrol-secret-for-rejects",
        "t",
    )
    .await
    .unwrap();
    let client = SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&server.url()).unwrap(),
        key,
    );
    let journal = offline_store::SharedJournal::new(
        offline_store::Journal::open(dir.path().join("k.db")).unwrap(),
    );
    let agent = SyncAgent::new(journal.clone(), client, AgentConfig::default());
    assert!(agent.pull_all().await.unwrap() >= 10);

    let exam_no = server
        .state
        .db
        .changes_since("main", 0, 1)
        .await
        .unwrap()
        .records[0]
        .booking
        .exam_no
        .clone();
    let recs = journal
        .lock()
        .find_bookings(&exam_domain::IdentityQuery::ExamNo { exam_no });
    let rec = recs.unwrap().remove(0);
    journal
        .lock()
        .record_check_in(&e2e_tests::offline_check_in(&rec, "exam_no"), None)
        .unwrap();
    // An event of a kind this server does not know, as a newer kiosk would write.
    journal
        .lock()
        .connection()
        .execute(
            "INSERT INTO outbox(id, kind, payload, created_at) VALUES (?1, 'photo_taken', '{}', '2026-11-22T01:00:00Z')",
            [uuid::Uuid::now_v7().to_string()],
        )
        .unwrap();

    let acked = agent.push_all().await.unwrap();
    assert_eq!(acked, 1);
    let b = journal.lock().backlog().unwrap();
    assert_eq!((b.pending, b.rejected), (0, 1), "set aside, not deleted");
    assert_eq!(journal.lock().all_event_ids().unwrap().len(), 2);
    assert_eq!(
        server
            .state
            .db
            .count(CountTable::Registrations)
            .await
            .unwrap(),
        1
    );
    server.stop().await;
}
