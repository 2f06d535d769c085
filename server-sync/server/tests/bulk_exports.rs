//! Bulk exports (S5; 002 §(九) 6.2.5, 6.3.2) on both stores: the CSV of a
//! company's members, of today's check-ins and of the audit trail carry
//! what their pages show, masked the same way; each is limited per export
//! and per user per day by the configuration, and every export and every
//! refusal is in the audit trail.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Backend, Harness, Staff};
use exam_protocol::{BookingRecord, CheckIn, Event, EventBody, paths};
use exam_server::db::{AuditQuery, ExportLimits};
use serde_json::json;
use uuid::Uuid;

/// Small limits, so a test reaches them: 10 rows an export, 7 a day.
const LIMITS: ExportLimits = ExportLimits {
    max_rows: 10,
    daily_rows: 7,
};

async fn start(backend: Backend) -> Harness {
    Harness::start_with(backend, |c| c.exports = LIMITS).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let h = start(Backend::Sqlite).await;
    exports_are_masked_limited_and_audited(&h).await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let h = start(Backend::Postgres).await;
    exports_are_masked_limited_and_audited(&h).await;
    h.stop().await;
}

/// A download: status, headers, body.
async fn download(s: &Staff, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

async fn check_in_three(h: &Harness) -> Vec<BookingRecord> {
    let key = h.kiosk("K-EXPORT").await;
    let (s, v) = h
        .signed(
            &key,
            "GET",
            &format!("{}?cursor=0&limit=1000", paths::CHANGES),
            b"",
            None,
        )
        .await;
    assert_eq!(s, 200);
    let recs: Vec<BookingRecord> = serde_json::from_value::<exam_protocol::ChangesResponse>(v)
        .unwrap()
        .records
        .into_iter()
        .take(3)
        .collect();
    let events: Vec<Event> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Event::new(
                Uuid::now_v7(),
                i as i64 + 1,
                Utc::now(),
                &EventBody::CheckIn(CheckIn {
                    booking_id: r.booking.id,
                    booking_code: r.booking.code.clone(),
                    id_number: r.person.id_number.clone(),
                    identified_by: "id_card".into(),
                    checked_in_at: Utc::now(),
                    offline: false,
                    privacy: None,
                }),
            )
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    assert_eq!(
        h.signed(&key, "POST", paths::EVENTS, &body, None).await.0,
        200
    );
    recs
}

async fn refusals(h: &Harness, actor: &str) -> Vec<String> {
    h.db()
        .audit_rows(
            &AuditQuery {
                actor: Some(actor.into()),
                outcome: Some(exam_server::audit::Outcome::Denied),
                ..AuditQuery::default()
            },
            100,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        // (Signing in, the test's helper tries the desk page first.)
        .filter(|a| a.starts_with("export."))
        .collect()
}

async fn exports_are_masked_limited_and_audited(h: &Harness) {
    let recs = check_in_three(h).await;
    let desk = h.staff("desk-export", "front_desk").await;

    // Today's check-ins, masked as on the page.
    let (st, headers, csv) = download(&desk, "/registrations.csv").await;
    assert_eq!(st, 200, "{csv}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(csv.lines().count(), 4, "a header and three rows: {csv}");
    for r in &recs {
        let id = r.person.id_number.as_str();
        assert!(!csv.contains(id), "{id} in {csv}");
        assert!(csv.contains(&exam_domain::mask::id_number(id)));
        assert!(!csv.contains(&r.person.name) || r.person.name.chars().count() < 2);
    }
    // Three more rows today (6 of 7), then the day's limit refuses the next.
    assert_eq!(download(&desk, "/registrations.csv").await.0, 200);
    let (st, _, body) = download(&desk, "/registrations.csv").await;
    assert_eq!(st, 429, "{body}");
    assert!(body.contains("export_limit"), "{body}");
    assert_eq!(
        refusals(h, "desk-export").await,
        vec!["export.registrations"]
    );
    let allowed = h
        .db()
        .audit_rows(
            &AuditQuery {
                actor: Some("desk-export".into()),
                actions: vec!["export.registrations".into()],
                outcome: Some(exam_server::audit::Outcome::Allowed),
                ..AuditQuery::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(allowed.len(), 2, "each export is audited");
    assert!(
        allowed[0].detail.starts_with("3 rows"),
        "{}",
        allowed[0].detail
    );

    // A company's roster is larger than one export may carry: refused,
    // and the refusal audited; another user's day is their own.
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .unwrap();
    let group = h.staff("group-export", "group_desk").await;
    let (st, _, body) = download(
        &group,
        &format!("/api/group/companies/{company}/members.csv"),
    )
    .await;
    assert_eq!(st, 429, "{body}");
    assert!(body.contains("一次最多导出 10 行"), "{body}");
    assert_eq!(refusals(h, "group-export").await, vec!["export.members"]);
    // An empty company exports (a header only), masked columns named.
    let (st, empty) = group
        .post(
            "/api/group/companies",
            json!({ "name": "空单位", "contact": "" }),
        )
        .await;
    assert_eq!(st, 200, "{empty}");
    let (st, _, csv) = download(
        &group,
        &format!("/api/group/companies/{}/members.csv", empty["id"]),
    )
    .await;
    assert_eq!(st, 200, "{csv}");
    assert!(csv.starts_with("\u{FEFF}\"姓名\""), "{csv}");
    // The desk may not export a roster at all.
    assert_eq!(
        download(
            &desk,
            &format!("/api/group/companies/{company}/members.csv")
        )
        .await
        .0,
        403
    );

    // The audit trail's export keeps to the same limits: the whole trail
    // is more than 10 rows, a narrow filter is not.
    let auditor = h.staff("auditor-export", "auditor").await;
    let (st, _, body) = download(&auditor, "/audit/export.csv").await;
    assert_eq!(st, 429, "{body}");
    let (st, _, csv) = download(&auditor, "/audit/export.csv?actor=group-export").await;
    assert_eq!(st, 200, "{csv}");
    assert_eq!(refusals(h, "auditor-export").await, vec!["export.audit"]);
}
