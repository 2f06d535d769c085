//! Major abnormal results (重要异常结果) from the laboratory's results, over
//! the real wire: python-hl7's MLLP client (PyPI `hl7`, a peer no one here
//! wrote; tests/peers/hl7_peer.py) sends ORU^R01 to the service's MLLP
//! listener for an item the desk ordered. An HH potassium of 6.8 mmol/L is
//! acknowledged AA and raises one category-A result, sealed in the store,
//! shown on the visit's interfaces view with its value and in the open
//! list, audited (raise and reads), exported as a metric; the same ORU
//! again and the same result under a new control id are acknowledged and
//! raise nothing more; a normal potassium raises nothing; a GBK laboratory's
//! low glucose (flag L only) raises category A by the table's rule. Both
//! stores.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use chrono::Utc;
use common::{Harness, Staff, id_number};
use exam_domain::abnormal::Category;
use exam_hl7::Charset;
use exam_server::db::AuditQuery;
use exam_server::interfaces::Counterpart;
use exam_server::interfaces::abnormal::{ObservedValue, Raise, Source};
use interfaces::pay;
use serde_json::{Value, json};

on_both_stores!(an_hh_potassium_from_python_hl7_raises_one_category_a_result);

/// The peers' interpreter; fails (never skips) when python-hl7 is missing.
fn python() -> String {
    let py = std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let ok = std::process::Command::new(&py)
        .args(["-c", "import hl7, hl7.mllp"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python-hl7 is missing: run scripts/test, or install tests/peers/requirements.txt \
         into a venv and set EXAM_PEERS_PYTHON (tried {py})"
    );
    py
}

/// python-hl7's MLLP client sends each message of `text` `times` times;
/// its ACKs as JSON lines (`code`, `sent`, `acked`).
fn send_with_python(port: u16, text: &str, encoding: &str, times: u32) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oru.hl7");
    std::fs::write(&path, text).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers/hl7_peer.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .args(["send", "--port", &port.to_string(), "--encoding", encoding])
        .arg("--file")
        .arg(&path)
        .args(["--times", &times.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-hl7 client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn send(port: u16, text: String, encoding: &'static str, times: u32) -> Vec<Value> {
    let acks = tokio::task::spawn_blocking(move || send_with_python(port, &text, encoding, times))
        .await
        .unwrap();
    for a in &acks {
        assert_eq!(a["code"], "AA", "{a}");
        assert_eq!(a["acked"], a["sent"], "MSA-2 echoes MSH-10");
    }
    acks
}

/// An ORU^R01 as a laboratory writes it: one OBR (our placer order number
/// in OBR-2) and its OBX lines `(code, name, value, unit, range, flag)`.
fn oru(
    control: &str,
    order_no: &str,
    item: &str,
    obx: &[(&str, &str, &str, &str, &str, &str)],
) -> String {
    let mut s = format!(
        "MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101500||ORU^R01^ORU_R01|{control}|P|2.5\n\
         PID|1||P0001^^^^PI||吴建国||19700101|M\n\
         OBR|1|{order_no}|L7788|{item}|||20261205100000||||||||||||||||||F\n"
    );
    for (i, (code, name, value, unit, range, flag)) in obx.iter().enumerate() {
        s.push_str(&format!(
            "OBX|{}|NM|{code}^{name}^L||{value}|{unit}|{range}|{flag}|||F\n",
            i + 1
        ));
    }
    s
}

/// A man's walk-in with the electrolytes added (his package has glucose),
/// paid: the laboratory's orders are queued with their numbers.
async fn visit(s: &Staff, seq: u16) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id_number(1970, seq * 2 + 1), "name": "吴建国", "mobile": "13912345678" },
                    "marital": "married", "package": "P-M-BASIC", "add": ["L-ELEC"], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let id = r["visit"]["id"].as_i64().unwrap();
    pay(s, id).await;
    id
}

async fn order_no(h: &Harness, id: i64, item: &str) -> String {
    let (items, _) = h.db().interface_visit(id).await.unwrap();
    items
        .iter()
        .find(|i| i.item_code == item)
        .and_then(|i| i.order_no.clone())
        .unwrap_or_else(|| panic!("{item} ordered: {items:?}"))
}

/// The values as they lie in the store (a connection of our own).
async fn stored_values(h: &Harness) -> Vec<String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match h.pg_url() {
        Some(u) => u.to_string(),
        None => format!(
            "sqlite://{}",
            h.dir.as_ref().unwrap().path().join("exam.db").display()
        ),
    };
    let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("SELECT value FROM major_abnormal_results")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

async fn html(s: &Staff, path: &str) -> String {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn listener(h: &Harness, charset: Charset) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(exam_server::interfaces::hl7::listen(
        h.db().clone(),
        Counterpart::Lis,
        charset,
        l,
    ));
    port
}

async fn an_hh_potassium_from_python_hl7_raises_one_category_a_result(h: &Harness) {
    let desk = h.staff("abn-desk", "front_desk").await;
    let db = h.db();
    let high = visit(&desk, 81).await;
    let normal = visit(&desk, 82).await;
    let low_glucose = visit(&desk, 83).await;
    let utf8 = listener(h, Charset::Utf8).await;

    // The serum tube was drawn in the blood room (E5).
    let doc = h.staff("abn-doc", "doctor").await;
    let exam_no = db.visit(high).await.unwrap().record.booking.exam_no;
    let serum = format!("{exam_no}01");
    let (st, r) = doc
        .post(
            &format!("/api/specimens/{serum}/events"),
            json!({ "event": "draw" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");

    // HH potassium and a normal sodium, sent twice (a LIS that lost our ACK).
    let elec = order_no(h, high, "L-ELEC").await;
    let k_high = oru(
        "LIS-K-1",
        &elec,
        "L-ELEC^电解质^L",
        &[
            ("K", "钾", "6.8", "mmol/L", "3.5-5.3", "HH"),
            ("NA", "钠", "141", "mmol/L", "137-147", "N"),
        ],
    );
    assert_eq!(send(utf8, k_high.clone(), "utf-8", 2).await.len(), 2);
    let open = db
        .open_major_abnormal(Some(Category::A), Utc::now())
        .await
        .unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].booking_id, high);
    assert_eq!(open[0].item_code, "L-ELEC");
    assert_eq!(open[0].analyte_code, "K");
    assert_eq!(open[0].rule, "potassium_high");
    let mine = db.visit_major_abnormal(high).await.unwrap();
    assert_eq!(mine.len(), 1, "the sodium is normal: {mine:?}");
    let k = &mine[0];
    assert_eq!((k.value.as_str(), k.unit.as_str()), ("6.8", "mmol/L"));
    assert_eq!(k.lab_flag.as_deref(), Some("HH"));
    assert_eq!(k.category, Category::A);
    assert_eq!(k.rule_zh, "血钾 > 6.2 mmol/L");
    assert_eq!(
        (k.source.as_str(), k.raised_by.as_str()),
        ("interface", "system:lis")
    );
    // Its final result settles the tube: received and resulted, by the LIS.
    let (_, tubes) = doc.get(&format!("/api/specimens/find?q={serum}")).await;
    let tube = tubes["tubes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["barcode"] == serum.as_str())
        .unwrap();
    assert_eq!(tube["state"], "resulted", "{tubes}");
    let by: Vec<&str> = tubes["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["abn-doc", "system:lis", "system:lis"]);

    // The same ORU again later, and the same result under a new control id:
    // acknowledged, dropped, still one.
    send(utf8, k_high.clone(), "utf-8", 1).await;
    send(
        utf8,
        k_high.replace("LIS-K-1", "LIS-K-1-RESENT"),
        "utf-8",
        1,
    )
    .await;
    assert_eq!(db.visit_major_abnormal(high).await.unwrap().len(), 1);

    // A normal potassium raises nothing.
    let elec2 = order_no(h, normal, "L-ELEC").await;
    send(
        utf8,
        oru(
            "LIS-K-2",
            &elec2,
            "L-ELEC^电解质^L",
            &[("K", "钾", "4.2", "mmol/L", "3.5-5.3", "N")],
        ),
        "utf-8",
        1,
    )
    .await;
    assert!(db.visit_major_abnormal(normal).await.unwrap().is_empty());
    let (items, _) = db.interface_visit(normal).await.unwrap();
    let e = items.iter().find(|i| i.item_code == "L-ELEC").unwrap();
    assert_eq!(e.result, "final", "the normal result is kept: {e:?}");

    // A GBK laboratory: glucose 2.5 mmol/L flagged only L meets the
    // table's rule (≤ 2.8 mmol/L), category A.
    let gbk = listener(h, Charset::Gbk).await;
    let glu = order_no(h, low_glucose, "L-GLU").await;
    send(
        gbk,
        oru(
            "LIS-GLU-1",
            &glu,
            "L-GLU^空腹血糖^L",
            &[("GLU", "葡萄糖", "2.5", "mmol/L", "3.9-6.1", "L")],
        ),
        "gbk",
        1,
    )
    .await;
    let g = db.visit_major_abnormal(low_glucose).await.unwrap();
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(
        (g[0].analyte_name.as_str(), g[0].rule.as_str()),
        ("葡萄糖", "glucose_low")
    );
    assert_eq!(g[0].category, Category::A);

    // A staff member's entry (issue 20's board raises through the same
    // call): once, with its own audit line.
    let hb = ObservedValue {
        code: "HGB".into(),
        name: "血红蛋白".into(),
        value: "58".into(),
        unit: "g/L".into(),
        reference_range: "130-175".into(),
        flag: None,
    };
    let manual = Raise {
        booking_id: normal,
        item_code: "L-CBC",
        inbound_id: None,
        observed: &hb,
        category: Category::A,
        rule: "haemoglobin_low".into(),
        source: Source::Manual,
        by: "abn-desk",
    };
    assert!(
        db.raise_major_abnormal(&manual, Utc::now())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.raise_major_abnormal(&manual, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.visit_major_abnormal(normal).await.unwrap()[0].source,
        "manual"
    );

    // Sealed at rest: the value is not in the row in clear.
    let stored = stored_values(h).await;
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|v| v.starts_with("sealed:v1:")),
        "{stored:?}"
    );

    // Raises are in the trail, subject the person, no value.
    let raised = db
        .audit_rows(
            &AuditQuery {
                actions: vec!["abnormal.raised".into()],
                ..AuditQuery::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(raised.len(), 3, "{raised:?}");
    assert!(raised.iter().all(|r| r.subject.starts_with("person:")));
    assert!(raised.iter().all(|r| !r.detail.contains("6.8")));
    assert_eq!(raised.iter().filter(|r| r.actor == "system:lis").count(), 2);

    // The interfaces pages: the visit's view shows the value, the open
    // list both A results; each read audited.
    let admin = h.staff("abn-admin", "admin").await;
    let (st, v) = admin.get(&format!("/api/interfaces/visits/{high}")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["abnormal"][0]["value"], "6.8");
    assert_eq!(v["abnormal"][0]["category"], "A");
    let (st, list) = admin.get("/api/interfaces/abnormal?category=A").await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("value").is_none()),
        "no values in the list: {list}"
    );
    let (st, _) = admin.get("/api/interfaces/abnormal?category=C").await;
    assert_eq!(st, 400);
    let page = html(&admin, &format!("/interfaces/visits/{high}")).await;
    assert!(
        page.contains("id=\"visit-abnormal\"") && page.contains("6.8 mmol/L"),
        "{page}"
    );
    assert!(
        page.contains("血钾 &#62; 6.2 mmol/L"),
        "the rule as staff read it"
    );
    let page = html(&admin, "/interfaces").await;
    assert!(page.contains("id=\"abnormal-open\""), "{page}");
    let reads = db
        .audit_rows(
            &AuditQuery {
                actions: vec!["read.abnormal".into(), "read.interfaces".into()],
                actor: Some("abn-admin".into()),
                ..AuditQuery::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(
        reads.iter().any(|r| r.action == "read.abnormal"),
        "{reads:?}"
    );
    assert!(
        reads
            .iter()
            .any(|r| r.action == "read.interfaces" && r.detail.contains("major_abnormal=1"))
    );
    // The front desk may not read them.
    let (st, _) = desk.get("/api/interfaces/abnormal").await;
    assert_eq!(st, 403);

    // The metric: three category-A results open.
    let metrics = h
        .http
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("exam_major_abnormal_open{category=\"A\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("exam_major_abnormal_open{category=\"B\"} 0"));
}
