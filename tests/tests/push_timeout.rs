//! A server too slow for a large push in the push's time (a night's
//! backlog on a loaded service) does not hold a kiosk's backlog for ever:
//! a push that times out is retried with half the events, and no larger
//! for the rest of the round, until everything is acknowledged.
//!
//! A proxy in front of the service holds back every push of more than four
//! events for longer than the kiosk's push timeout, and passes the rest.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use e2e_tests::{free_addr, start_server};
use exam_server::db::CountTable;
use sync_client::{AgentConfig, SyncAgent, SyncClient};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One HTTP/1.1 message (head and a Content-Length body) from `r`, or
/// None at the end of the stream.
async fn message(r: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = r.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 8192];
        let n = r.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf.drain(..head_end + len).collect())
}

/// Forwards to `upstream`, holding back for `hold` every event push whose
/// body is longer than `limit` bytes; counts those held.
async fn slow_for_big_pushes(
    upstream: std::net::SocketAddr,
    limit: usize,
    hold: Duration,
    held: Arc<AtomicUsize>,
) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let held = held.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
                while let Some(req) = message(&mut client, &mut from_client).await {
                    let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let push = req.starts_with(b"POST /api/v1/kiosk/events ");
                    if push && req.len() - head_end > limit {
                        held.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(hold).await;
                    }
                    if server.write_all(&req).await.is_err() {
                        return;
                    }
                    let Some(resp) = message(&mut server, &mut from_server).await else {
                        return;
                    };
                    if client.write_all(&resp).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_times_out_is_retried_smaller_until_all_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 30)
        .await
        .unwrap();
    let db = &server.state.db;
    db.add_kiosk("K-T", "main", "lobby", "enrol-secret-for-timeouts")
        .await
        .unwrap();
    let direct = sync_client::ServiceLink::loopback_dev(&server.url()).unwrap();
    let (key, _) = SyncClient::enrol(&direct, "K-T", "enrol-secret-for-timeouts", "t")
        .await
        .unwrap();
    let journal = offline_store::SharedJournal::new(
        offline_store::Journal::open(dir.path().join("k.db")).unwrap(),
    );
    let records = db.changes_since("main", 0, 30).await.unwrap().records;
    assert!(records.len() >= 20, "{} bookings", records.len());
    for r in &records[..20] {
        let c = e2e_tests::offline_check_in(r, "exam_no");
        journal.lock().record_check_in(&c, None).unwrap();
    }
    // Pushes of up to four of these events pass at once.
    let four = exam_protocol::PushRequest {
        events: journal.lock().pending_events(4).unwrap(),
    };
    let limit = serde_json::to_vec(&four).unwrap().len() + 16;
    let held = Arc::new(AtomicUsize::new(0));
    let upstream: std::net::SocketAddr =
        server.url().trim_start_matches("http://").parse().unwrap();
    let proxy = slow_for_big_pushes(upstream, limit, Duration::from_secs(5), held.clone()).await;
    let client = SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&format!("http://{proxy}")).unwrap(),
        key,
    );
    let agent = SyncAgent::new(
        journal.clone(),
        client,
        AgentConfig {
            batch: 16,
            // Long enough for a small push on a loaded machine in a debug build.
            push_timeout: Duration::from_secs(3),
            ..AgentConfig::default()
        },
    );

    let acked = agent.push_all().await.expect("every event arrives");
    assert_eq!(acked, 20);
    assert_eq!(journal.lock().backlog().unwrap().pending, 0);
    assert_eq!(db.count(CountTable::Registrations).await.unwrap(), 20);
    // Sixteen timed out, then eight; four passed, and the round kept to
    // four: a larger push was not tried again.
    assert_eq!(held.load(Ordering::SeqCst), 2);
    server.stop().await;
}
