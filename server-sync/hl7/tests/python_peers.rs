//! Round trips against peers no one here wrote: python-hl7's MLLP server
//! and client, and hl7apy's strict structure validation.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod peers;

use exam_hl7::mllp::{ClientConfig, MllpClient};
use exam_hl7::{Ack, AckCode, Charset, ErrorCode, Message, MessageKind, ResultQuery};
use peers::{Peer, order, peer_script, python};
use serde_json::Value;

fn ack_server(encoding: &str) -> (Peer, u16) {
    let py = python();
    let script = peer_script();
    let mut peer = Peer::spawn(
        &py,
        &[
            script.to_str().expect("utf-8 path"),
            "ack-server",
            "--encoding",
            encoding,
        ],
    );
    let line = peer.line();
    let port = line
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from the peer: {line:?}"));
    (peer, port)
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_sends_orders_to_python_hl7_and_gets_its_ack() {
    let (mut peer, port) = ack_server("utf-8");
    let mut client = MllpClient::new(ClientConfig::new(format!("127.0.0.1:{port}")));
    for (kind, id) in [
        (MessageKind::OrmO01, "ORM0001"),
        (MessageKind::OmlO21, "OML0001"),
    ] {
        let mut o = order(kind, id, Charset::Utf8, "P0001");
        if kind == MessageKind::OrmO01 {
            // A cancellation travels the same way (ORC-1 CA).
            o.lines[1].control = exam_hl7::OrderControl::Cancel;
        }
        let ack = client.send_bytes(&o.encode().unwrap(), id).await.unwrap();
        assert_eq!(ack.code, AckCode::Accept);
        assert_eq!(ack.acked_control_id, id);
        let got = json(&peer.line());
        assert_eq!(got["type"], kind.name());
        assert_eq!(got["control_id"], id);
        assert_eq!(got["patient_id"], "P0001");
        assert_eq!(got["patient_name"], "张三");
        assert_eq!(got["items"][0][0], "B100001");
        assert_eq!(got["items"][0][1], "L-ELEC");
        assert_eq!(got["items"][0][2], "电解质(钾、钠、氯)");
        let controls = if kind == MessageKind::OrmO01 {
            ["NW", "CA"]
        } else {
            ["NW", "NW"]
        };
        assert_eq!(got["controls"], serde_json::json!(controls));
    }
}

fn query(control_id: &str, charset: Charset) -> ResultQuery {
    ResultQuery {
        header: peers::header(control_id, charset),
        queried_at: peers::at(9, 40),
        query_id: control_id.into(),
        patient_id: "P0001".into(),
        placer_order_number: "B100001".into(),
        where_subject: "LIS".into(),
    }
}

/// A re-fetch (QRY^R02) in UTF-8 and GBK: python-hl7 parses it and its
/// ACK (MSA-2 = our MSH-10) is what our client takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_hl7_reads_our_result_query_and_acknowledges_it() {
    for (cs, enc) in [(Charset::Utf8, "utf-8"), (Charset::Gbk, "gbk")] {
        let (mut peer, port) = ack_server(enc);
        let mut cfg = ClientConfig::new(format!("127.0.0.1:{port}"));
        cfg.peer_charset = cs;
        let mut client = MllpClient::new(cfg);
        let q = query("QRY0001", cs);
        let ack = client
            .send_bytes(&q.encode().unwrap(), "QRY0001")
            .await
            .unwrap();
        assert_eq!(ack.code, AckCode::Accept);
        assert_eq!(ack.acked_control_id, "QRY0001");
        let got = json(&peer.line());
        assert_eq!(got["type"], "QRY^R02");
        assert_eq!(got["control_id"], "QRY0001");
        assert_eq!(
            got["query"],
            serde_json::json!(["QRY0001", "P0001", "B100001", "LIS"])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_peer_reads_our_gbk_order() {
    let (mut peer, port) = ack_server("gbk");
    let mut cfg = ClientConfig::new(format!("127.0.0.1:{port}"));
    cfg.peer_charset = Charset::Gbk;
    let mut client = MllpClient::new(cfg);
    let o = order(MessageKind::OrmO01, "GBK0001", Charset::Gbk, "P0002");
    let bytes = o.encode().unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the order must really be GBK"
    );
    let ack = client.send_bytes(&bytes, "GBK0001").await.unwrap();
    assert_eq!(ack.code, AckCode::Accept);
    let got = json(&peer.line());
    assert_eq!(got["patient_name"], "张三");
    assert_eq!(got["charset"], "GB 18030-2000");
}

const ORU_FROM_LIS: &str =
    "MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101500||ORU^R01^ORU_R01|LIS20261205001|P|2.5
PID|1||P0001^^^^PI||张三||19800101|M
OBR|1|B100001|L7788|L-ELEC^电解质^L|||20261205100000|||||||||||||||||F
OBX|1|NM|K^钾^L||6.8|mmol/L|3.5-5.3|HH|||F
OBX|2|NM|NA^钠^L||141|mmol/L|137-147|N|||F

MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101600||ORU^R01^ORU_R01|LIS20261205002|P|2.5
PID|1||P0001^^^^PI||张三||19800101|M
OBR|1|B100001|L7788|L-ELEC^电解质^L|||20261205100000|||||||||||||||||F
OBX|1|NM|K^钾^L||6.8|mmol/L|3.5-5.3|HH|||F
OBX|2|NM|NA^钠^L||141|mmol/L|137-147|N|||F
";

fn send_with_python(port: u16, text: &str, encoding: &str, times: u32) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("msgs.hl7");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(python())
        .arg(peer_script())
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
        .map(json)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_hl7_sends_results_to_our_listener_duplicates_dropped() {
    let (port, seen) = peers::start_collector(Charset::Utf8).await;
    // Each message twice (a sender that lost our ACK sends again), and
    // the second message is the same result under a new control id.
    let text = ORU_FROM_LIS
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n");
    let acks = tokio::task::spawn_blocking(move || send_with_python(port, &text, "utf-8", 2))
        .await
        .unwrap();
    assert_eq!(acks.len(), 4);
    for a in &acks {
        assert_eq!(a["code"], "AA", "{a}");
        assert_eq!(a["acked"], a["sent"], "MSA-2 echoes MSH-10");
        assert!(
            a["ack"]
                .as_str()
                .unwrap()
                .starts_with("MSH|^~\\&|EXAM|CENTER|LIS|LAB|")
        );
    }
    let applied = seen.lock().unwrap().applied.clone();
    assert_eq!(
        applied.len(),
        1,
        "one result applied, three duplicates dropped"
    );
    let item = &applied[0].items[0];
    assert_eq!(item.placer_order_number, "B100001");
    assert!(item.has_critical(), "HH potassium is a critical value");
    assert_eq!(item.observations[0].value.as_f64(), Some(6.8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_lis_sends_results_in_gbk() {
    let (port, seen) = peers::start_collector(Charset::Gbk).await;
    let text = ORU_FROM_LIS.split("\n\n").next().unwrap().to_string();
    let acks = tokio::task::spawn_blocking(move || send_with_python(port, &text, "gbk", 1))
        .await
        .unwrap();
    assert_eq!(acks[0]["code"], "AA");
    let applied = seen.lock().unwrap().applied.clone();
    assert_eq!(applied[0].patient.name, "张三");
    assert_eq!(applied[0].items[0].observations[0].identifier.text, "钾");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_message_gets_an_ae_from_our_listener() {
    let (port, seen) = peers::start_collector(Charset::Utf8).await;
    let text = ORU_FROM_LIS
        .split("\n\n")
        .next()
        .unwrap()
        .replace("|HH|||F\n", "|HH|||F\nOBX|2|NM|BAD^x^L||\\XZZ\\\n");
    let acks = tokio::task::spawn_blocking(move || send_with_python(port, &text, "utf-8", 1))
        .await
        .unwrap();
    assert_eq!(acks[0]["code"], "AE");
    assert_eq!(acks[0]["acked"], "LIS20261205001");
    assert!(
        acks[0]["ack"]
            .as_str()
            .unwrap()
            .contains("\nERR|||102^Data type error^HL70357|E")
    );
    assert!(seen.lock().unwrap().applied.is_empty());
}

fn hl7apy_validates(name: &str, msg: &Message) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.hl7"));
    std::fs::write(&path, msg.encode()).unwrap();
    let out = std::process::Command::new(python())
        .arg(peer_script())
        .arg("validate")
        .arg("--file")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hl7apy refused our {name}:\n{}\n{}",
        msg.encode().replace('\r', "\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("valid"));
}

#[test]
fn hl7apy_validates_our_orders_and_acks() {
    let orm = order(MessageKind::OrmO01, "ORM0001", Charset::Utf8, "P0001");
    hl7apy_validates("ORM_O01", &orm.to_message());
    let oml = order(MessageKind::OmlO21, "OML0001", Charset::Utf8, "P0001");
    let parts = oml.split_lines();
    assert_eq!(parts.len(), 2);
    for part in parts {
        hl7apy_validates("OML_O21", &part.to_message());
    }
    let inbound = Message::parse(&first_oru(), Charset::Utf8).unwrap();
    let aa = Ack::reply_to(
        &inbound,
        Charset::Utf8,
        "A1",
        peers::at(10, 15),
        AckCode::Accept,
        "",
    );
    hl7apy_validates("ACK", &aa.to_message());
    let ae = Ack::reply_to(
        &inbound,
        Charset::Utf8,
        "A2",
        peers::at(10, 15),
        AckCode::Error,
        "",
    )
    .with_error(ErrorCode::UnknownKey, "barcode not ordered");
    hl7apy_validates("ACK with ERR", &ae.to_message());
}

#[test]
fn hl7apy_validates_our_result_query() {
    hl7apy_validates("QRY_R02", &query("QRY0002", Charset::Utf8).to_message());
    // And is no rubber stamp for it: a QRY^R02 without its QRF.
    let mut m = query("QRY0003", Charset::Utf8).to_message();
    m.segments.retain(|s| s.id != "QRF");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad_qry.hl7");
    std::fs::write(&path, m.encode()).unwrap();
    let out = std::process::Command::new(python())
        .arg(peer_script())
        .arg("validate")
        .arg("--file")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "hl7apy took a QRY^R02 without QRF");
}

#[test]
fn hl7apy_refuses_a_broken_order() {
    let out = |m: &Message| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.hl7");
        std::fs::write(&path, m.encode()).unwrap();
        std::process::Command::new(python())
            .arg(peer_script())
            .arg("validate")
            .arg("--file")
            .arg(&path)
            .output()
            .unwrap()
    };
    // Two order lines in one OML^O21: the grammar's ambiguity (see
    // Order::split_lines), which is why we never send it so.
    let oml = order(MessageKind::OmlO21, "OML0002", Charset::Utf8, "P0001");
    assert!(!out(&oml.to_message()).status.success());
    // The validator is not a rubber stamp: an order without its ORC.
    let mut m = order(MessageKind::OrmO01, "ORM0002", Charset::Utf8, "P0001").to_message();
    m.segments.retain(|s| s.id != "ORC");
    assert!(!out(&m).status.success());
    // Nor an ACK without its MSA.
    let inbound = Message::parse(&first_oru(), Charset::Utf8).unwrap();
    let mut ack = Ack::reply_to(
        &inbound,
        Charset::Utf8,
        "A3",
        peers::at(10, 15),
        AckCode::Accept,
        "",
    )
    .to_message();
    ack.segments.retain(|s| s.id != "MSA");
    assert!(!out(&ack).status.success());
}

fn first_oru() -> String {
    ORU_FROM_LIS
        .split("\n\n")
        .next()
        .unwrap_or("")
        .replace('\n', "\r")
}
