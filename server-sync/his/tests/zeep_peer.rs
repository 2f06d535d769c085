//! zeep, a SOAP client from PyPI no one here wrote, reads our WSDL from
//! his-sim and calls every operation; our own SOAP client must see the same
//! books: the patient zeep created, its charge (replayed by us: the same
//! charge), the refund's state, the price list and change log, and the same
//! fault code. zeep in turn finds the charge our client booked. This proves
//! the WSDL, the simulator and our client speak the same real SOAP.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{charge, client, key, person, visit};
use exam_his::sim::{Sim, SimConfig};
use exam_his::{
    ChargeLine, ChargeLookup, ChargeRequest, FaultCode, HisApi, HisError, HisStyle, PaymentMethod,
    RefundRequest,
};
use serde_json::{Value, json};

fn python() -> String {
    let python = std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "the peers' Python ({python}) is missing: run scripts/test, which installs \
         tests/peers/requirements.txt (zeep) into it, or set EXAM_PEERS_PYTHON"
    );
    python
}

/// Runs the zeep script (blocking, off the runtime's threads).
fn run_zeep(wsdl: String, params: Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers/his_zeep.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg(wsdl)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(params.to_string().as_bytes())
        .expect("params written");
    let out = child.wait_with_output().expect("zeep ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "zeep failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("zeep's output: {e}\n{stderr}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_and_our_client_see_the_same_his() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    let ours = client(&sim, HisStyle::Soap, Duration::from_secs(5));

    // Our client books a charge first, for zeep to find.
    let prices_v1 = ours.price_list().await.expect("prices");
    let me = person(600);
    let (p, r) = visit(&ours, &me, "ours").await;
    let our_charge = ours
        .post_charge(&charge(&prices_v1, "ours", &p, &r, 2))
        .await
        .expect("our charge");
    sim.change_prices_now();

    let who = person(601);
    let params = json!({
        "person": serde_json::to_value(&who).expect("json"),
        "registration_key": "reg-zeep",
        "exam_no": "E-zeep",
        "visit_date": "2026-12-05",
        "charge_key": "chg-zeep",
        "refund_key": "ref-zeep",
        "our_charge_key": our_charge.idempotency_key.as_str(),
    });
    let wsdl = sim.wsdl_url();
    let z = tokio::task::spawn_blocking(move || run_zeep(wsdl, params))
        .await
        .expect("zeep task");

    // zeep saw the WSDL's seven operations.
    let ops: Vec<&str> = z["operations"]
        .as_array()
        .expect("ops")
        .iter()
        .map(s)
        .collect();
    assert_eq!(
        ops,
        [
            "CreatePatient",
            "GetPriceChanges",
            "GetPriceList",
            "PostCharge",
            "QueryCharge",
            "RefundCharge",
            "RegisterVisit"
        ]
    );

    // The patient zeep created is the one our client finds by ID number.
    let found = ours.create_patient(&who).await.expect("建档 by us");
    assert_eq!(z["patient"]["created"], json!(true));
    assert_eq!(s(&z["patient"]["patient_id"]), found.patient_id);
    assert!(!found.created);
    assert_eq!(s(&z["registration"]["patient_id"]), found.patient_id);

    // The same price list and change log, read by both.
    let prices = ours.price_list().await.expect("prices v2");
    assert_eq!(z["price_list"]["version"], json!(prices.version));
    assert_eq!(
        z["price_list"]["items"],
        serde_json::to_value(&prices.items).expect("json")
    );
    let changes = serde_json::to_value(ours.price_changes(0).await.expect("log")).expect("json");
    let zeep_changes: Vec<Value> = z["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            // zeep writes absent optionals as null; serde leaves them out.
            let mut c = c.clone();
            c.as_object_mut()
                .expect("object")
                .retain(|_, v| !v.is_null());
            c["effective_at"] = json!(rfc3339(s(&c["effective_at"])));
            c
        })
        .collect();
    assert_eq!(Value::Array(zeep_changes), changes);

    // zeep's charge, replayed by our client with the same content: HIS
    // answers with the first charge (now partly refunded by zeep).
    let lines: Vec<ChargeLine> = serde_json::from_value(z["charge_lines"].clone()).expect("lines");
    let replay = ChargeRequest {
        idempotency_key: key("chg-zeep"),
        patient_id: found.patient_id.clone(),
        registration_id: s(&z["registration"]["registration_id"]).to_owned(),
        payment_method: PaymentMethod::Alipay,
        payment_ref: Some("2026120522001".into()),
        lines,
    };
    let receipt = ours.post_charge(&replay).await.expect("replay");
    assert_eq!(s(&z["charge"]["charge_id"]), receipt.charge_id);
    assert_eq!(z["charge"]["total_fen"], json!(receipt.total_fen));
    assert_eq!(z["charge_replayed"]["charge_id"], z["charge"]["charge_id"]);
    assert_eq!(
        rfc3339(s(&z["charge"]["booked_at"])),
        rfc3339(&receipt.booked_at.to_rfc3339())
    );
    assert_eq!(s(&z["refund"]["charge_state"]), "PARTLY_REFUNDED");
    assert_eq!(
        receipt.refunded_fen,
        z["refund"]["amount_fen"].as_i64().expect("amount")
    );
    match ours.query_charge(&key("chg-zeep")).await.expect("query") {
        ChargeLookup::Found(c) => assert_eq!(c, receipt),
        other => panic!("{other:?}"),
    }
    // zeep's refund under its key, sent again by us: the same refund.
    let refund = ours
        .refund_charge(&RefundRequest {
            idempotency_key: key("ref-zeep"),
            charge_key: key("chg-zeep"),
            item_codes: vec![replay.lines[0].item_code.clone()],
            reason: "弃检".into(),
        })
        .await
        .expect("refund replay");
    assert_eq!(s(&z["refund"]["refund_id"]), refund.refund_id);

    // zeep found our charge exactly as we hold it.
    assert_eq!(z["our_charge"]["charge_id"], json!(our_charge.charge_id));
    assert_eq!(z["our_charge"]["total_fen"], json!(our_charge.total_fen));
    assert_eq!(z["our_charge"]["state"], json!("BOOKED"));
    assert_eq!(z["missing_found"], json!(false));

    // The same refusal, with the same code, for both.
    let mut wrong = who.clone();
    wrong.name.push('乙');
    let e = ours.create_patient(&wrong).await.expect_err("mismatch");
    assert!(matches!(
        e,
        HisError::Refused {
            code: FaultCode::DemographicsMismatch,
            ..
        }
    ));
    assert_eq!(z["mismatch"]["code"], json!("DEMOGRAPHICS_MISMATCH"));
    assert!(s(&z["mismatch"]["faultcode"]).ends_with("Client"));
}

/// zeep writes `+00:00`, we write `Z`: compare instants.
fn rfc3339(t: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(t)
        .unwrap_or_else(|e| panic!("{t}: {e}"))
        .with_timezone(&chrono::Utc)
}
