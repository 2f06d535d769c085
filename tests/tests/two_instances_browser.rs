//! Issue 21's two-instance test: HAProxy (Debian's) in front of two
//! exam-server instances on one PostgreSQL store. A kiosk enrols and pulls
//! through the load balancer (answered by both instances); a check-in pushed
//! to instance A appears on a Chromium staff page attached to instance B,
//! woken through the store's change log (the page's own fallback refresh
//! is 15 s, so a slower arrival fails the test); the daily audit-chain
//! check, a background job every instance starts, ran once; with A stopped
//! the balancer sends everything to B and B's page keeps going.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use e2e_tests::free_addr;
use exam_protocol::{BookingRecord, CheckIn, Event, EventBody};
use exam_server::roles::Role;
use fantoccini::{Client, Locator};
use sqlx::Connection;

mod browser;
use browser::chromedriver;

fn pg_admin_url() -> String {
    std::env::var("EXAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database; PostgreSQL missing fails the test (scripts/test
/// installs and starts it).
async fn fresh_pg() -> (String, String) {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e} (scripts/test starts it)"));
    let name = format!(
        "exam_two_{}",
        hex_name(exam_protocol::auth::random_bytes::<6>())
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    (format!("{base}/{name}"), name)
}

fn hex_name(b: [u8; 6]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn drop_pg(name: &str) {
    let mut conn = sqlx::AnyConnection::connect(&pg_admin_url()).await.unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
}

/// HAProxy in the foreground on `front`, round robin over `backends`, each
/// health-checked on /healthz; answers name the instance that served them.
fn haproxy(
    dir: &std::path::Path,
    front: std::net::SocketAddr,
    backends: &[(&str, std::net::SocketAddr)],
) -> tokio::process::Child {
    let bin = std::env::var("HAPROXY").unwrap_or_else(|_| "/usr/sbin/haproxy".into());
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} is missing: install haproxy (scripts/test does), or point HAPROXY at one"
    );
    let servers: String = backends
        .iter()
        .map(|(n, a)| format!("  server {n} {a} check inter 300ms fall 2 rise 1\n"))
        .collect();
    let cfg = format!(
        "global\n  maxconn 512\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n  retries 2\n  option redispatch\n\
         frontend fe\n  bind {front}\n  default_backend be\n\
         backend be\n  balance roundrobin\n  option httpchk GET /healthz\n  http-check expect status 200\n  http-response set-header X-Served-By %s\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let check = std::process::Command::new(&bin)
        .args(["-c", "-q", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(check.success(), "haproxy -c accepts the configuration");
    tokio::process::Command::new(bin)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("haproxy starts")
}

fn config(db_url: &str, key: &std::path::Path, demo: usize) -> exam_server::Config {
    exam_server::Config {
        listen: free_addr(),
        database_url: db_url.into(),
        data_key_file: Some(key.to_path_buf()),
        demo_people: demo,
        ..exam_server::Config::default()
    }
}

fn check_in(rec: &BookingRecord) -> Event {
    let body = EventBody::CheckIn(CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now(),
        offline: false,
        privacy: None,
    });
    Event::new(uuid::Uuid::now_v7(), 1, Utc::now(), &body)
}

/// Waits for the row of `code` on the page; returns how long it took.
async fn row_appears(c: &Client, code: &str, pushed: Instant) -> Duration {
    let row = format!("//tbody[@id='rows']/tr[contains(., '{code}')]");
    c.wait()
        .at_most(Duration::from_secs(12))
        .every(Duration::from_millis(50))
        .for_element(Locator::XPath(&row))
        .await
        .unwrap_or_else(|_| {
            panic!("the check-in {code} appears on B's page through the change log")
        });
    pushed.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_on_one_instance_shows_on_a_page_attached_to_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("data.key");
    exam_vault::KeyRing::generate()
        .unwrap()
        .write_new_file(&key)
        .unwrap();
    let (db_url, db_name) = fresh_pg().await;
    let a = exam_server::start(config(&db_url, &key, 20)).await.unwrap();
    let b = exam_server::start(config(&db_url, &key, 0)).await.unwrap();
    let front = free_addr();
    let _lb = haproxy(dir.path(), front, &[("a", a.addr), ("b", b.addr)]);
    let lb_url = format!("http://{front}");

    // The balancer is up once both instances pass its health check.
    let http = reqwest::Client::new();
    let mut served = BTreeSet::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{lb_url}/healthz")).send().await
            && r.status() == 200
            && let Some(s) = r.headers().get("x-served-by")
        {
            served.insert(s.to_str().unwrap().to_string());
            if served.len() == 2 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        served.len(),
        2,
        "both instances answer through HAProxy: {served:?}"
    );

    let pw = "Two-Instances-2026";
    exam_server::create_staff(&a.state.db, "desk2", Role::FrontDesk, Some(pw.into()))
        .await
        .unwrap();
    let mut driver = chromedriver().await;
    let c = browser::signed_in(&driver, &b.url(), "desk2", pw, "/registrations").await;
    c.wait().for_element(Locator::Id("rows")).await.unwrap();

    // The kiosk enrols and pulls through the balancer (its signed requests
    // go to either instance: nonces and keys are in the store).
    a.state
        .db
        .add_kiosk("K-LB", "main", "lobby", "enrol-secret-two-instances")
        .await
        .unwrap();
    let via_lb = sync_client::ServiceLink::loopback_dev(&lb_url).unwrap();
    let (kiosk_key, _) =
        sync_client::SyncClient::enrol(&via_lb, "K-LB", "enrol-secret-two-instances", "t")
            .await
            .unwrap();
    let lb_client = sync_client::SyncClient::new(&via_lb, kiosk_key.clone());
    let mut records = Vec::new();
    for _ in 0..4 {
        records = lb_client.changes(0, 50).await.unwrap().records;
    }
    assert!(records.len() >= 3, "{}", records.len());

    // Pushed to A; shown on B's page.
    let to_a = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&a.url()).unwrap(),
        kiosk_key.clone(),
    );
    let pushed = Instant::now();
    to_a.push(&[check_in(&records[0])]).await.unwrap();
    let took = row_appears(&c, &records[0].booking.code, pushed).await;
    println!("a check-in pushed to A showed on B's page after {took:?}");

    // Background jobs every instance starts ran once: the audit chain's
    // check (5 s after each start) is recorded by one of them.
    tokio::time::sleep(Duration::from_secs(6).saturating_sub(pushed.elapsed())).await;
    let mut conn = sqlx::AnyConnection::connect(&db_url).await.unwrap();
    let verified: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.verify'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    assert_eq!(verified, 1, "the chain check ran on one instance");

    // A stops: the balancer sends everything to B, and B's page goes on.
    a.stop().await;
    let pushed = Instant::now();
    let mut sent = false;
    for _ in 0..40 {
        if lb_client.push(&[check_in(&records[1])]).await.is_ok() {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "the balancer took the check-in with A down");
    let took = row_appears(&c, &records[1].booking.code, pushed).await;
    println!("with A stopped, a check-in through HAProxy showed after {took:?}");
    let r = http.get(format!("{lb_url}/healthz")).send().await.unwrap();
    assert_eq!(r.headers()["x-served-by"], "b");

    c.close().await.unwrap();
    let _ = driver.child.kill().await;
    b.stop().await;
    drop_pg(&db_name).await;
}
