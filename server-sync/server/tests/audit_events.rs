//! S7 and issue 17 item 10: security events and reads of personal data are
//! in the audit trail, typed (category, outcome, source); a refusal from a
//! caller nobody authenticated is written once per source and kind, not
//! once per request; and a request whose audit row cannot be written fails
//! instead of proceeding, its change undone.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::{Harness, id_number};
use exam_server::db::{AuditQuery, AuditRow, Backend};
use serde_json::json;
use sqlx::Connection;

on_both_stores!(
    security_events_are_audited,
    reads_of_personal_data_are_audited,
    a_failed_audit_fails_the_request
);

async fn rows(h: &Harness, action: &str) -> Vec<AuditRow> {
    h.db()
        .audit_rows(
            &AuditQuery {
                actions: vec![action.into()],
                ..Default::default()
            },
            1000,
        )
        .await
        .unwrap()
}

fn tomorrow() -> String {
    (exam_server::workflow::now_local().date() + chrono::Duration::days(1)).to_string()
}

async fn security_events_are_audited(h: &Harness) {
    let desk = h.staff("desk1", "front_desk").await;
    // Denied by the role: the JSON API and a page.
    assert_eq!(desk.get("/api/admin/accounts").await.0, 403);
    let page = desk
        .http
        .get(format!("{}/admin", h.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 403);
    let denied = rows(h, "access.denied").await;
    assert_eq!(denied.len(), 2, "{denied:?}");
    for r in &denied {
        assert_eq!(
            (
                r.category.as_str(),
                r.outcome.as_str(),
                r.actor.as_str(),
                r.source.as_str()
            ),
            ("security", "denied", "desk1", "127.0.0.1"),
            "{r:?}"
        );
    }
    assert!(denied.iter().any(|r| r.detail == "GET /api/admin/accounts"));
    assert!(denied.iter().any(|r| r.detail == "GET /admin"));

    // A change with a forged CSRF token.
    let r = desk
        .http
        .post(format!("{}/api/desk/visits", h.url))
        .header("cookie", &desk.cookie)
        .header("x-csrf", "forged")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let csrf = rows(h, "csrf.refused").await;
    assert_eq!(csrf.len(), 1);
    assert_eq!(
        (
            csrf[0].category.as_str(),
            csrf[0].outcome.as_str(),
            csrf[0].detail.as_str()
        ),
        ("security", "denied", "POST /api/desk/visits")
    );

    // Refused kiosk requests: unsigned, and signed by a kiosk nobody knows.
    let before = h.server.state.metrics.kiosk_audit_suppressed.load(Relaxed);
    for _ in 0..5 {
        let r = h
            .http
            .post(format!("{}{}", h.url, exam_protocol::paths::HEARTBEAT))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let stranger = exam_protocol::auth::KioskKey::from_secret("K-NOBODY", &[9; 32]);
    let (status, _) = h
        .signed(
            &stranger,
            "POST",
            exam_protocol::paths::HEARTBEAT,
            b"{}",
            None,
        )
        .await;
    assert_eq!(status, 401);
    let refused = rows(h, "kiosk.refused").await;
    // One row per source and kind: a flood does not fill the trail.
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|r| r.outcome == "denied" && r.category == "security")
    );
    assert!(
        refused
            .iter()
            .any(|r| r.detail.starts_with("unsigned /api/v1/kiosk/heartbeat"))
    );
    let unknown = refused
        .iter()
        .find(|r| r.detail.starts_with("unknown_kiosk"))
        .unwrap();
    assert_eq!(unknown.actor, "kiosk:K-NOBODY");
    assert_eq!(
        h.server.state.metrics.kiosk_audit_suppressed.load(Relaxed) - before,
        4
    );
    let check = h.db().verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
}

async fn reads_of_personal_data_are_audited(h: &Harness) {
    let desk = h.staff("desk1", "front_desk").await;
    let id = id_number(1984, 31);
    let (st, v) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": "周审计", "mobile": "13912345678" },
                    "marital": "married", "package": "P-EMP", "date": tomorrow(),
                    "slot_start": "09:30:00" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let visit = v["visit"]["id"].as_i64().unwrap();

    let (st, hits) = desk.get(&format!("/api/desk/search?q={id}")).await;
    assert_eq!(st, 200);
    let shown = hits["hits"].as_array().unwrap().len();
    assert!(shown >= 1);
    let (st, _) = desk.get("/api/desk/search?q=13912345678").await;
    assert_eq!(st, 200);
    let (st, _) = desk.get(&format!("/api/desk/visits/{visit}")).await;
    assert_eq!(st, 200);
    let page = desk
        .http
        .get(format!("{}/registrations", h.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);

    let masked = exam_domain::mask::id_number(&id);
    let searches = rows(h, "search.patients").await;
    assert_eq!(searches.len(), 2, "one row per request: {searches:?}");
    let by_id = searches
        .iter()
        .find(|r| r.detail.starts_with("by id_number"))
        .unwrap();
    assert_eq!(
        by_id.detail,
        format!("by id_number {masked}: {shown} shown")
    );
    assert_eq!(
        (by_id.category.as_str(), by_id.actor.as_str()),
        ("access", "desk1")
    );
    assert!(
        searches
            .iter()
            .any(|r| r.detail == "by mobile 139****5678: 1 shown")
    );
    let read = rows(h, "read.visit").await;
    assert_eq!(read.len(), 1);
    assert!(
        read[0]
            .detail
            .starts_with(&format!("visit {visit} of {masked}"))
    );
    // Under the person's subject: the auditor finds it by the ID number.
    assert_eq!(read[0].subject, h.db().subject_of(&id));
    assert_eq!(rows(h, "view.registrations").await.len(), 1);
    // The live stream: one row per connection.
    let stream = desk
        .http
        .get(format!("{}/registrations/stream", h.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    drop(stream);
    assert_eq!(rows(h, "view.registrations_stream").await.len(), 1);
    // A kiosk's cache feed: one row per page that carries people, none for
    // the empty polls of a quiet campus.
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        h.kiosk("K-AUD").await,
    );
    let (mut cursor, mut with_people) = (0, 0);
    loop {
        let page = client.changes(cursor, 50).await.unwrap();
        with_people += usize::from(!page.records.is_empty());
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert!(with_people >= 1, "the demo people's bookings were fed");
    assert!(client.changes(cursor, 50).await.unwrap().records.is_empty());
    let feed = rows(h, "read.kiosk_cache").await;
    assert_eq!(feed.len(), with_people, "{feed:?}");
    assert_eq!(
        (feed[0].actor.as_str(), feed[0].category.as_str()),
        ("K-AUD", "access")
    );
    // No full ID number or mobile anywhere in the trail.
    let all = h
        .db()
        .audit_rows(&AuditQuery::default(), 10_000)
        .await
        .unwrap();
    for r in &all {
        let text = format!("{} {} {}", r.subject, r.detail, r.actor);
        assert!(
            !text.contains(&id) && !text.contains("13912345678"),
            "{r:?}"
        );
    }
}

/// Makes every insert into the trail fail (the store "down" for audit
/// rows only), or undoes that.
async fn audit_down(h: &Harness, down: bool) {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&h.server.state.config.database_url)
        .await
        .unwrap();
    let sql: &[&'static str] = match (h.db().backend, down) {
        (Backend::Sqlite, true) => &["CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_log
              BEGIN SELECT RAISE(ABORT, 'audit store down'); END"],
        (Backend::Sqlite, false) => &["DROP TRIGGER test_audit_down"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'audit store down'; END $$",
            "CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_log
              FOR EACH ROW EXECUTE FUNCTION test_audit_down()",
        ],
        (Backend::Postgres, false) => &["DROP TRIGGER test_audit_down ON audit_log"],
    };
    for s in sql {
        sqlx::query(*s).execute(&mut c).await.unwrap();
    }
    c.close().await.unwrap();
}

async fn a_failed_audit_fails_the_request(h: &Harness) {
    let desk = h.staff("desk1", "front_desk").await;
    let id = id_number(1979, 55);
    let booking = json!({ "person": { "id_number": id, "name": "钱失败", "mobile": "" },
        "marital": "married", "package": "P-EMP", "date": tomorrow(), "slot_start": "10:00:00" });
    audit_down(h, true).await;
    // A change: refused, and nothing of it stays.
    let (st, e) = desk.post("/api/desk/visits", booking.clone()).await;
    assert_eq!(st, 503, "{e}");
    // A read of personal data: no row, no answer.
    assert_eq!(desk.get(&format!("/api/desk/search?q={id}")).await.0, 503);
    let page = desk
        .http
        .get(format!("{}/registrations", h.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 503);
    // Nor a refusal of the role: 503, not a 403 as if it were recorded.
    assert_eq!(desk.get("/api/admin/accounts").await.0, 503);
    // A refused kiosk request is not answered as if it had been recorded.
    let r = h
        .http
        .post(format!("{}{}", h.url, exam_protocol::paths::HEARTBEAT))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    audit_down(h, false).await;

    let (st, hits) = desk.get(&format!("/api/desk/search?q={id}")).await;
    assert_eq!(st, 200);
    assert_eq!(
        hits["hits"].as_array().unwrap().len(),
        0,
        "the booking was undone"
    );
    let (st, v) = desk.post("/api/desk/visits", booking).await;
    assert_eq!(st, 200, "{v}");
    let check = h.db().verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
}
