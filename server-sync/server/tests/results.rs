//! Issue 20, department results over HTTP on both stores: a doctor scans
//! the guide sheet in a room and gets this person's items there with
//! their templates and ranges; a normal exam saves with nothing typed; a
//! finding and numbers write the summary and its conclusions; a mass on
//! ultrasound and a glucose typed by hand raise major abnormal results; an
//! implausible value is refused; a word of the other sex waits for the
//! doctor's confirmation; other departments' summaries show beside; the
//! reads and saves are audited; who may do it.

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

both!(departments_enter_results_and_summaries);

async fn room(doc: &Staff, exam_no: &str, room: &str) -> Value {
    let (st, v) = doc
        .get(&format!("/api/results/find?q={exam_no}&room={room}"))
        .await;
    assert_eq!(st, 200, "{v}");
    v
}

fn findings(codes: &[&str]) -> Value {
    json!({ "type": "findings", "value": codes })
}

fn number(x: f64) -> Value {
    json!({ "type": "number", "value": x })
}

async fn departments_enter_results_and_summaries(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("r-desk", "front_desk").await;
    let doc = h.staff("r-doc", "doctor").await;
    let id = walk_in(&desk, 701).await;
    let exam_no = h.db().visit(id).await.unwrap().record.booking.exam_no;

    // The internal-medicine room: its one item, all findings.
    let int = room(&doc, &exam_no, "int").await;
    assert_eq!(int["department"], "int");
    assert!(int["person"]["name"].as_str().unwrap().contains('*'));
    let items: Vec<&str> = int["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(items, ["INT-EXAM"]);
    // A tube label (exam number + two digits) finds the same visit.
    let by_label = room(&doc, &format!("{exam_no}01"), "int").await;
    assert_eq!(by_label["person"]["id"], id);
    // Whatever a scanner or a keyboard types, an answer (not a crash).
    for typed in ["张三", "x", "", "体检号1"] {
        let (st, _) = doc
            .get(&format!("/api/results/find?q={typed}&room=int"))
            .await;
        assert_eq!(st, 404, "{typed:?}");
    }

    // Normal, nothing typed: every findings field with nothing ticked.
    let normal = json!({ "entries": [{ "item": "INT-EXAM", "values": [
        ["heart", findings(&[])], ["lung", findings(&[])], ["abdomen", findings(&[])]
    ]}]});
    let (st, saved) = doc
        .post(&format!("/api/results/visits/{id}/departments/int"), normal)
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["saved"], true, "{saved}");
    assert_eq!(saved["summary"]["text"], "未见明显异常");

    // Ultrasound: fatty liver and a solid mass (major, category B).
    let us = json!({ "entries": [{ "item": "US-ABD", "values": [
        ["liver", findings(&["fatty", "mass"])], ["gallbladder", findings(&[])],
        ["kidney", findings(&[])], ["spleen", findings(&[])]
    ]}]});
    let (st, p) = doc
        .post(
            &format!("/api/results/visits/{id}/departments/us/preview"),
            us.clone(),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["saved"], false);
    let names: Vec<&str> = p["conclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["脂肪肝", "肝脏占位性病变"]);
    let (st, saved) = doc
        .post(&format!("/api/results/visits/{id}/departments/us"), us)
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["majors_raised"], 1, "{saved}");

    // The blood room: a glucose typed by hand meets the consensus's A row;
    // a haemoglobin flagged low for a man.
    let lab = json!({ "entries": [
        { "item": "L-GLU", "values": [["glu", number(17.2)]] },
        { "item": "L-CBC", "values": [["wbc", number(6.1)], ["hgb", number(121.0)], ["plt", number(210.0)]] }
    ]});
    let (st, saved) = doc
        .post(&format!("/api/results/visits/{id}/departments/lab"), lab)
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["majors_raised"], 1, "{saved}");
    let flags = saved["flags"].as_array().unwrap();
    let flag = |f: &str| {
        flags
            .iter()
            .find(|x| x["field"] == f)
            .map(|x| x["flag"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(flag("glu"), "high");
    assert_eq!(flag("hgb"), "low");
    assert_eq!(flag("wbc"), "normal");
    let majors = h.db().visit_major_abnormal(id).await.unwrap();
    assert_eq!(majors.len(), 2, "{majors:?}");
    // An implausible value (45 for a glucose of 4.5) is refused, nothing saved.
    let (st, e) = doc
        .post(
            &format!("/api/results/visits/{id}/departments/lab"),
            json!({ "entries": [{ "item": "L-GLU", "values": [["glu", number(450.0)]] }]}),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("核对"), "{e}");
    // An item of another department, or not this visit's, is refused.
    let (st, _) = doc
        .post(
            &format!("/api/results/visits/{id}/departments/lab"),
            json!({ "entries": [{ "item": "US-ABD", "values": [] }]}),
        )
        .await;
    assert_eq!(st, 422);

    // The summary edited with a word a man cannot have: the issue comes
    // back unsaved, then the doctor confirms.
    let edited = |confirm: bool| {
        json!({ "entries": [{ "item": "INT-EXAM", "values": [
            ["heart", findings(&["arrhythmia"])], ["lung", findings(&[])], ["abdomen", findings(&[])]
        ]}], "summary": "心律不齐；子宫未见异常", "confirm": confirm })
    };
    let (st, p) = doc
        .post(
            &format!("/api/results/visits/{id}/departments/int"),
            edited(false),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(p["saved"], false);
    assert_eq!(p["issues"][0]["issue"], "sex_word", "{p}");
    let int = room(&doc, &exam_no, "int").await;
    assert_eq!(int["summary"]["text"], "未见明显异常", "not saved yet");
    let (_, p) = doc
        .post(
            &format!("/api/results/visits/{id}/departments/int"),
            edited(true),
        )
        .await;
    assert_eq!(p["saved"], true);
    let int = room(&doc, &exam_no, "int").await;
    assert_eq!(int["summary"]["text"], "心律不齐；子宫未见异常");
    assert_eq!(int["items"][0]["entry"]["version"], 2);
    // The other departments' summaries beside (item 29).
    let depts: Vec<&str> = int["others"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["department"].as_str().unwrap())
        .collect();
    assert_eq!(depts, ["lab", "us"]);
    let lab_summary = int["others"][0]["text"].as_str().unwrap();
    assert!(
        lab_summary.contains("空腹血糖 17.20 mmol/L ↑")
            && lab_summary.contains("血红蛋白 121 g/L ↓"),
        "{lab_summary}"
    );
    let blood = room(&doc, &exam_no, "blood").await;
    let glu = blood["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "L-GLU")
        .unwrap();
    assert_eq!(glu["entry"]["source"], "manual", "typed by hand, marked so");
    assert_eq!(glu["by_interface"], true);

    // Audited: each read and each save, the person by blind index.
    let (st, trail) = h
        .staff("r-audit", "auditor")
        .await
        .get("/api/audit/operations?actor=r-doc")
        .await;
    assert_eq!(st, 200, "{trail}");
    let rows = trail["operations"].as_array().unwrap();
    let count = |a: &str| rows.iter().filter(|r| r["action"] == a).count();
    assert_eq!(count("result.save"), 4, "{trail}");
    assert!(count("read.results") >= 4, "{trail}");
    assert!(
        rows.iter()
            .filter(|r| r["action"] == "result.save")
            .all(|r| r["subject"].as_str().unwrap().starts_with("person:")),
        "{trail}"
    );

    // The desk may not open results; signed out may not either.
    let (st, _) = desk
        .get(&format!("/api/results/find?q={exam_no}&room=int"))
        .await;
    assert_eq!(st, 403);
}
