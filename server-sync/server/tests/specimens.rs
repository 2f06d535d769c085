//! Issue 20 (E5), specimens over HTTP on both stores: a visit's tubes are
//! its labels; a tube is drawn with its notes (采血困难), sent, refused by
//! the laboratory as haemolysed (listed to draw again), drawn again
//! (晕针), received and resulted; steps out of order and tubes of another
//! visit are refused; the history keeps each event; who may.

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

both!(a_tube_from_draw_to_result);

async fn event(s: &Staff, barcode: &str, body: Value) -> (u16, Value) {
    s.post(&format!("/api/specimens/{barcode}/events"), body)
        .await
}

fn tube<'a>(v: &'a Value, barcode: &str) -> &'a Value {
    v["tubes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["barcode"] == barcode)
        .unwrap_or_else(|| panic!("no tube {barcode} in {v}"))
}

async fn a_tube_from_draw_to_result(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("s-desk", "front_desk").await;
    let nurse = h.staff("s-doc", "doctor").await;
    let id = walk_in(&desk, 901).await;
    let exam_no = h.db().visit(id).await.unwrap().record.booking.exam_no;
    let (st, v) = nurse.get(&format!("/api/specimens/find?q={exam_no}")).await;
    assert_eq!(st, 200, "{v}");
    let serum = format!("{exam_no}01");
    let blood = format!("{exam_no}02");
    assert_eq!(tube(&v, &serum)["state"], "pending");
    assert_eq!(tube(&v, &blood)["sample_name"], "全血(紫管)");
    assert!(v["name"].as_str().unwrap().contains('*'));

    // Drawn with a note, handed over, refused as haemolysed.
    let (st, r) = event(
        &nurse,
        &serum,
        json!({ "event": "draw", "notes": ["difficult"] }),
    )
    .await;
    assert_eq!((st, &r["state"]), (200, &json!("drawn")), "{r}");
    assert_eq!(
        event(&nurse, &serum, json!({ "event": "send" })).await.1["state"],
        "sent"
    );
    let (st, r) = event(
        &nurse,
        &serum,
        json!({ "event": "reject", "reason": "haemolysed" }),
    )
    .await;
    assert_eq!((st, &r["state"]), (200, &json!("rejected")), "{r}");
    let (_, p) = nurse.get("/api/specimens/problems").await;
    assert_eq!(p, json!([{ "problem": "redraw", "barcode": serum }]));
    // No result from a refused tube; drawn again, received, resulted.
    assert_eq!(
        event(&nurse, &serum, json!({ "event": "result" })).await.0,
        409
    );
    let (st, r) = event(
        &nurse,
        &serum,
        json!({ "event": "redraw", "notes": ["fainted"] }),
    )
    .await;
    assert_eq!((st, &r["state"]), (200, &json!("drawn")), "{r}");
    assert_eq!(
        event(&nurse, &serum, json!({ "event": "receive" })).await.1["state"],
        "received"
    );
    assert_eq!(
        event(&nurse, &serum, json!({ "event": "result" })).await.1["state"],
        "resulted"
    );
    let (_, p) = nurse.get("/api/specimens/problems").await;
    assert_eq!(p, json!([]));

    // Out of order, no reason, or not this visit's tube: refused.
    assert_eq!(
        event(&nurse, &blood, json!({ "event": "send" })).await.0,
        409
    );
    assert_eq!(
        event(&nurse, &blood, json!({ "event": "skip", "reason": " " }))
            .await
            .0,
        409
    );
    assert_eq!(
        event(&nurse, &format!("{exam_no}99"), json!({ "event": "draw" }))
            .await
            .0,
        404
    );
    assert_eq!(
        event(&nurse, &blood, json!({ "event": "fly" })).await.0,
        422
    );

    let (_, v) = nurse.get(&format!("/api/specimens/find?q={serum}")).await;
    assert_eq!(tube(&v, &serum)["draws"], 2);
    let events: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["draw", "send", "reject", "redraw", "receive", "result"]
    );
    assert_eq!(v["events"][0]["event"]["notes"], json!(["difficult"]));
    assert_eq!(v["events"][3]["event"]["notes"], json!(["fainted"]));

    // Audited; the desk may not.
    let (_, log) = h
        .staff("s-audit", "auditor")
        .await
        .get("/api/audit/operations?actor=s-doc")
        .await;
    let ops = log["operations"].as_array().unwrap();
    assert_eq!(
        ops.iter()
            .filter(|o| o["action"].as_str().unwrap().starts_with("specimen."))
            .count(),
        6,
        "{log}"
    );
    assert_eq!(
        desk.get(&format!("/api/specimens/find?q={exam_no}"))
            .await
            .0,
        403
    );
}
