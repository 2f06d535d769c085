//! Issue 20, the major-abnormal-results board over HTTP on both stores: a
//! glucose typed at the department page raises a category-A case with its
//! one-hour timer; it is reviewed, the patient is texted (no result in the
//! SMS) and phoned, followed up, and closes only with an outcome; steps
//! out of order are refused; a case reported by hand is dismissed with a
//! reason; reads and steps are audited; who may see the board.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use common::{Backend, Harness, Staff};
use interfaces::walk_in;
use serde_json::{Value, json};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        })*
    };
}

both!(a_case_goes_from_raised_to_closed);

async fn step(doc: &Staff, id: i64, body: Value) -> (u16, Value) {
    doc.post(&format!("/api/abnormal/{id}/steps"), body).await
}

async fn a_case_goes_from_raised_to_closed(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("a-desk", "front_desk").await;
    let doc = h.staff("a-doc", "doctor").await;
    let visit = walk_in(&desk, 801).await;
    let exam_no = h.db().visit(visit).await.unwrap().record.booking.exam_no;
    let (st, saved) = doc
        .post(
            &format!("/api/results/visits/{visit}/departments/lab"),
            json!({ "entries": [{ "item": "L-GLU", "values": [["glu", { "type": "number", "value": 17.2 }]] }]}),
        )
        .await;
    assert_eq!((st, &saved["majors_raised"]), (200, &json!(1)), "{saved}");

    let (st, b) = doc.get("/api/abnormal").await;
    assert_eq!(st, 200, "{b}");
    let rows = b["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{b}");
    let r = &rows[0];
    assert_eq!(
        (&r["category"], &r["state"], &r["exam_no"], &r["overdue"]),
        (
            &json!("A"),
            &json!("raised"),
            &json!(exam_no),
            &json!(false)
        )
    );
    let raised = chrono::DateTime::parse_from_rfc3339(r["raised_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(r["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(
        (deadline - raised).num_minutes(),
        60,
        "category A: within the hour"
    );
    let id = r["id"].as_i64().unwrap();

    // The case: value, person, rule.
    let (st, d) = doc.get(&format!("/api/abnormal/{id}")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["value"], "17.2");
    assert_eq!(d["mobile"], "13912345678");
    assert!(d["name"].as_str().unwrap().contains('*'));

    // Out of order: no notification before the review, no follow-up.
    let phone = |reached: bool| json!({ "action": "notify", "whom": "patient", "channel": "phone", "reached": reached, "note": "告知尽快就诊" });
    assert_eq!(step(&doc, id, phone(true)).await.0, 409);
    let (st, e) = step(
        &doc,
        id,
        json!({ "action": "follow_up", "kind": "outcome", "note": "x" }),
    )
    .await;
    assert_eq!(st, 409, "{e}");
    let (st, r) = step(
        &doc,
        id,
        json!({ "action": "review", "confirmed": true, "note": "" }),
    )
    .await;
    assert_eq!((st, &r["state"]), (200, &json!("reviewed")), "{r}");
    // A text asks them to call (no result in it); a call unanswered.
    let (st, r) = step(
        &doc,
        id,
        json!({ "action": "notify", "whom": "patient", "channel": "sms", "reached": false, "note": "" }),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (&r["state"], &r["sms_requested"]),
        (&json!("reviewed"), &json!(true))
    );
    let sms = h.db().sms_messages(Some(visit), 10).await.unwrap();
    assert!(sms.iter().any(|m| m.kind == "critical_value"), "{sms:?}");
    assert_eq!(step(&doc, id, phone(false)).await.1["state"], "reviewed");
    assert_eq!(step(&doc, id, phone(true)).await.1["state"], "notified");
    // Nothing closes without an outcome, and an outcome needs its note.
    let follow =
        |kind: &str, note: &str| json!({ "action": "follow_up", "kind": kind, "note": note });
    assert_eq!(step(&doc, id, follow("outcome", " ")).await.0, 409);
    assert_eq!(
        step(&doc, id, follow("referral", "内分泌科急诊")).await.1["state"],
        "notified"
    );
    assert_eq!(
        step(
            &doc,
            id,
            follow("outcome", "急诊就诊，确诊2型糖尿病，已用药")
        )
        .await
        .1["state"],
        "closed"
    );
    let (_, d) = doc.get(&format!("/api/abnormal/{id}")).await;
    let kinds: Vec<&str> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "review",
            "notify",
            "notify",
            "notify",
            "follow_up",
            "follow_up"
        ]
    );
    assert_eq!(
        d["steps"][5]["action"]["note"],
        "急诊就诊，确诊2型糖尿病，已用药"
    );
    let (_, b) = doc.get("/api/abnormal").await;
    assert!(
        b["rows"].as_array().unwrap().is_empty(),
        "closed: off the board"
    );
    let (_, b) = doc.get("/api/abnormal?all=true").await;
    assert_eq!(b["rows"][0]["state"], "closed");
    assert_eq!(b["stats"]["closed"], 1);
    assert_eq!(b["stats"]["late"], 0);

    // Reported by hand at any step, then dismissed with its reason.
    let (st, rep) = doc
        .post(
            "/api/abnormal/report",
            json!({ "exam_no": exam_no, "item_code": "US-ABD", "finding": "肝右叶低回声团块", "category": "B" }),
        )
        .await;
    assert_eq!(st, 200, "{rep}");
    let manual = rep["id"].as_i64().unwrap();
    assert_eq!(
        step(
            &doc,
            manual,
            json!({ "action": "review", "confirmed": false, "note": "" })
        )
        .await
        .0,
        409
    );
    assert_eq!(
        step(
            &doc,
            manual,
            json!({ "action": "review", "confirmed": false, "note": "复核为肝囊肿，非占位" })
        )
        .await
        .1["state"],
        "dismissed"
    );
    let (st, _) = doc
        .post(
            "/api/abnormal/report",
            json!({ "exam_no": exam_no, "item_code": "RAD-LDCT", "finding": "x", "category": "B" }),
        )
        .await;
    assert_eq!(st, 422, "an item not in this visit");

    // Audited; the desk may not see the board.
    let (_, log) = h
        .staff("a-audit", "auditor")
        .await
        .get("/api/audit/operations?actor=a-doc")
        .await;
    let ops = log["operations"].as_array().unwrap();
    let n = |a: &str| ops.iter().filter(|o| o["action"] == a).count();
    assert!(n("read.abnormal") >= 2, "{log}");
    assert_eq!(n("abnormal.notify"), 3, "{log}");
    assert_eq!(n("abnormal.follow_up"), 2, "{log}");
    assert_eq!(desk.get("/api/abnormal").await.0, 403);
}
