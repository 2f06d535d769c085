//! The HL7 adapter over the real wire: the queue's laboratory orders go as
//! ORM^O01 over MLLP to a listener (exam-hl7's own, in the test) that
//! parses them back; MSH-10 is the queue row's id on every attempt; AR is
//! retried, AE makes a dead letter, a listener that is away is an outage;
//! a refund's cancellation goes as ORC-1 CA; a GBK peer gets GBK. The
//! LIS's results (exam-hl7's simulator builds them from the orders it
//! took) come back as ORU^R01 over MLLP to the service's listener: each
//! kept once (a repeat by control id, and the same result under a new
//! control id, are acknowledged and dropped), and the items show results.
//! Both stores.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use common::Harness;
use exam_hl7::mllp::{ListenerConfig, Reply, serve};
use exam_hl7::{Charset, ErrorCode, Order, OrderControl};
use exam_server::interfaces::adapter::{Adapters, from_config};
use exam_server::interfaces::settings::AdapterSpec;
use exam_server::interfaces::{Counterpart, Dispatcher, InterfacesConfig, MessageState};
use interfaces::{config, line, pay, walk_in};
use serde_json::json;

on_both_stores!(orders_go_over_mllp_in_order_and_once);

/// What the listener took: (MSH-10, ORC-1, placer order number, patient
/// name), and the orders themselves (to make their results from).
type Seen = Arc<Mutex<Vec<(String, OrderControl, String, String, Order)>>>;

/// A LIS on MLLP: answers AR to the first attempt of `busy`, AE to every
/// attempt of `refuse`, AA otherwise; keeps what it accepted.
async fn lis(charset: Charset, busy: String, refuse: String) -> (String, Seen) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let tries: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let (s, t) = (seen.clone(), tries.clone());
    let cfg = ListenerConfig {
        peer_charset: charset,
        ..ListenerConfig::default()
    };
    tokio::spawn(async move {
        let _ = serve(l, cfg, move |inbound: exam_hl7::mllp::Inbound| {
            let (s, t, busy, refuse) = (s.clone(), t.clone(), busy.clone(), refuse.clone());
            async move {
                let o = match Order::from_message(&inbound.message, inbound.charset) {
                    Ok(o) => o,
                    Err(e) => return Reply::error(ErrorCode::DataType, e.to_string()),
                };
                let line = &o.lines[0];
                let n = {
                    let mut t = t.lock().unwrap();
                    let n = t.entry(line.placer_order_number.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                if line.placer_order_number == busy && n == 1 {
                    return Reply::reject(ErrorCode::ApplicationInternal, "busy");
                }
                if line.placer_order_number == refuse {
                    return Reply::error(ErrorCode::UnknownKey, "unmapped item");
                }
                s.lock().unwrap().push((
                    o.header.control_id.clone(),
                    line.control,
                    line.placer_order_number.clone(),
                    o.patient.name.clone(),
                    o.clone(),
                ));
                Reply::accept()
            }
        })
        .await;
    });
    (addr, seen)
}

fn adapters_for(addr: &str, charset: &str) -> Adapters {
    let mut cfg = InterfacesConfig::default();
    cfg.counterparts.insert(
        Counterpart::Lis,
        AdapterSpec {
            adapter: "hl7_mllp".into(),
            options: [
                ("address".to_string(), json!(addr)),
                ("charset".to_string(), json!(charset)),
                ("ack_timeout_seconds".to_string(), json!(5)),
            ]
            .into_iter()
            .collect(),
        },
    );
    from_config(&cfg).unwrap()
}

async fn orders_go_over_mllp_in_order_and_once(h: &Harness) {
    let s = h.staff("hl7-desk", "front_desk").await;
    let db = h.db();
    let id = walk_in(&s, 60).await;
    pay(&s, id).await;
    let (st, r) = s
        .post(
            &format!("/api/desk/visits/{id}/items/L-CBC"),
            json!({ "change": "refund" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let queued = line(db, Counterpart::Lis).await;
    let busy = queued[0].0.clone();
    let refuse = queued[1].0.clone();
    let msgs = db
        .interface_messages(Counterpart::Lis, None, 100)
        .await
        .unwrap();
    let placer = |key: &str| {
        msgs.iter()
            .find(|m| m.key == key)
            .unwrap()
            .summary
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let (addr, seen) = lis(Charset::Gbk, placer(&busy), placer(&refuse)).await;

    // Nothing listens at first: an outage (the port of a listener closed).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let away = Dispatcher::new(db.clone(), config(), adapters_for(&closed, "gbk"), "hl7-a")
        .with_jitter(0.0);
    let now = Utc::now() + chrono::Duration::seconds(1);
    let r = away.step(Counterpart::Lis, now).await.unwrap();
    assert!(
        matches!(
            r,
            exam_server::interfaces::StepOutcome::Tried {
                state: MessageState::Retrying,
                ..
            }
        ),
        "{r:?}"
    );
    let lines = db.interface_lines().await.unwrap();
    let l = lines
        .iter()
        .find(|l| l.counterpart == Some(Counterpart::Lis))
        .unwrap();
    assert!(l.head_error.as_deref().unwrap().contains("无应答"), "{l:?}");

    // The LIS is up (GBK): everything goes, in line order, each once.
    let d =
        Dispatcher::new(db.clone(), config(), adapters_for(&addr, "gbk"), "hl7-b").with_jitter(0.0);
    let mut t = now + chrono::Duration::minutes(1);
    for _ in 0..5 {
        d.drain(Counterpart::Lis, t, 1000).await.unwrap();
        t += chrono::Duration::minutes(1);
    }
    let after = line(db, Counterpart::Lis).await;
    let dead: Vec<_> = after.iter().filter(|m| m.2 == MessageState::Dead).collect();
    assert_eq!(dead.len(), 1, "AE: a dead letter: {after:?}");
    assert_eq!(dead[0].0, refuse);
    assert!(
        after
            .iter()
            .all(|m| m.2 == MessageState::Acked || m.0 == refuse)
    );
    let seen = seen.lock().unwrap().clone();
    // In line order, without the refused one; the busy one after its AR.
    let want: Vec<String> = after
        .iter()
        .filter(|m| m.0 != refuse)
        .map(|m| placer(&m.0))
        .collect();
    assert_eq!(seen.iter().map(|s| s.2.clone()).collect::<Vec<_>>(), want);
    // MSH-10 is the row's id (the same on the retry after AR).
    let busy_id = msgs.iter().find(|m| m.key == busy).unwrap().id;
    assert_eq!(seen[0].0, busy_id.to_string());
    // The refund's cancellation: ORC-1 CA, after the order it cancels.
    let cancel = seen
        .iter()
        .position(|s| s.1 == OrderControl::Cancel)
        .expect("a cancellation");
    assert!(seen[cancel].2.ends_with("-L-CBC-1"));
    let order = seen
        .iter()
        .position(|s| s.1 == OrderControl::New && s.2.ends_with("-L-CBC-1"))
        .unwrap();
    assert!(order < cancel);
    // The patient's name went in GBK and came back whole.
    assert_eq!(seen[order].3, "吴建国");
    // Results back: the simulator's ORU^R01 for every new order it took,
    // to the service's listener (GBK, as this LIS writes).
    let results_in = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let results_addr = results_in.local_addr().unwrap().to_string();
    tokio::spawn(exam_server::interfaces::hl7::listen(
        db.clone(),
        Counterpart::Lis,
        Charset::Gbk,
        results_in,
    ));
    let rules = exam_hl7::sim::ResultRules {
        seed: 7,
        critical_patients: vec![],
        report_style: exam_hl7::sim::ReportStyle::default(),
        link_base: "http://lis.test/reports".into(),
        charset: Charset::Gbk,
    };
    let mut cfg = exam_hl7::mllp::ClientConfig::new(results_addr);
    cfg.peer_charset = Charset::Gbk;
    let mut client = exam_hl7::mllp::MllpClient::new(cfg);
    let local = Utc::now().naive_utc();
    let mut sent = Vec::new();
    for (n, s) in seen.iter().enumerate() {
        for r in exam_hl7::sim::results_for(&s.4, &rules, local, &format!("R{n}")) {
            let ack = client
                .send_bytes(&r.encode().unwrap(), &r.header.control_id)
                .await
                .unwrap();
            assert_eq!(ack.code, exam_hl7::AckCode::Accept, "{ack:?}");
            sent.push(r);
        }
    }
    assert!(!sent.is_empty());
    // The same message again, and the same result under a new control id:
    // acknowledged, kept once.
    let again = sent[0].clone();
    let ack = client
        .send_bytes(&again.encode().unwrap(), &again.header.control_id)
        .await
        .unwrap();
    assert_eq!(ack.code, exam_hl7::AckCode::Accept);
    let mut renamed = sent[0].clone();
    renamed.header.control_id = "RESENT-1".into();
    let ack = client
        .send_bytes(&renamed.encode().unwrap(), "RESENT-1")
        .await
        .unwrap();
    assert_eq!(ack.code, exam_hl7::AckCode::Accept);
    let (items, _) = db.interface_visit(id).await.unwrap();
    let with_results: Vec<_> = items
        .iter()
        .filter(|i| i.result == "final" || i.result == "partial")
        .collect();
    let took_new: Vec<String> = seen
        .iter()
        .filter(|s| s.1 == OrderControl::New)
        .map(|s| s.2.clone())
        .collect();
    assert_eq!(
        with_results.len(),
        sent.len(),
        "one result per order the LIS took: {items:?}"
    );
    for i in &with_results {
        assert!(took_new.contains(i.order_no.as_ref().unwrap()), "{i:?}");
    }
    // The refused order has no result (the cancelled one may: the LIS had
    // taken it before the cancellation, and the page shows what came).
    let refused = items
        .iter()
        .find(|i| i.order_no.as_deref() == Some(placer(&refuse).as_str()))
        .unwrap();
    assert_eq!(refused.result, "none");
    // An adapter that does not exist, or a setting it does not know, stops the start.
    let mut cfg = InterfacesConfig::default();
    cfg.counterparts.insert(
        Counterpart::Pacs,
        AdapterSpec {
            adapter: "hl7_mllp".into(),
            options: [("adress".to_string(), json!(addr))].into_iter().collect(),
        },
    );
    assert!(from_config(&cfg).is_err());
}
