//! The staff's re-fetch over HL7, end to end: the queue's laboratory orders
//! go as ORM^O01 over MLLP to a LIS (in the test, on exam-hl7's listener
//! and its simulator's decisions: `sim::results_for` makes the results,
//! `sim::answer_query` answers a QRY^R02), whose results come back as
//! ORU^R01 to the service's listener, one of them lost on the way. Staff
//! press re-fetch (`POST /api/interfaces/visits/{id}/items/{code}/refetch`):
//! the query goes as QRY^R02 (MSH-10 the row's id, QRD-8 the patient id
//! the order went under, QRD-10 its placer order number); the LIS answers
//! AR at first (busy: the query is tried again), then AA, and sends the
//! results again under new control ids. A result the
//! service has is acknowledged and dropped (the item's result time does not
//! move); the lost one lands. A re-fetch of an order the LIS never took is
//! answered AE with its reason: a dead letter that says so. Both stores.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use common::Harness;
use exam_hl7::mllp::{ClientConfig, ListenerConfig, MllpClient, Reply, serve};
use exam_hl7::sim::{Held, ResultRules, answer_query, results_for};
use exam_hl7::{AckCode, Charset, ErrorCode, MessageKind, Order, ResultMessage, ResultQuery};
use exam_server::interfaces::adapter::{Adapters, from_config};
use exam_server::interfaces::settings::AdapterSpec;
use exam_server::interfaces::{Counterpart, Dispatcher, InterfacesConfig, MessageState};
use interfaces::{config, pay, walk_in};
use serde_json::json;
use tokio::sync::mpsc;

on_both_stores!(a_refetch_brings_what_was_lost_and_changes_nothing_else);

/// What the LIS saw and did.
#[derive(Default)]
struct Lis {
    /// By placer order number: the patient and the results it made.
    held: HashMap<String, Held>,
    /// The queries it took: (MSH-10, QRD-8 patient id, QRD-10 placer).
    queries: Vec<(String, String, String)>,
    /// Queries answered AR once (busy), by MSH-10.
    busy: Vec<String>,
    /// Results our listener acknowledged: (control id, code).
    acked: Vec<(String, AckCode)>,
}

/// A LIS on MLLP: takes orders (AA) except `refuse` (AE), makes their
/// results and sends them to `results_to`, except those of `lose` (lost
/// on the way); answers a QRY^R02's first attempt AR (busy), then as
/// lis-sim does.
async fn lis(results_to: String, refuse: String, lose: String) -> (String, Arc<Mutex<Lis>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let state: Arc<Mutex<Lis>> = Arc::default();
    let (tx, mut rx) = mpsc::unbounded_channel::<ResultMessage>();
    let sender_state = state.clone();
    tokio::spawn(async move {
        let mut client = MllpClient::new(ClientConfig::new(results_to));
        while let Some(r) = rx.recv().await {
            let ack = client
                .send_bytes(&r.encode().unwrap(), &r.header.control_id)
                .await
                .unwrap();
            sender_state
                .lock()
                .unwrap()
                .acked
                .push((r.header.control_id.clone(), ack.code));
        }
    });
    let s = state.clone();
    tokio::spawn(async move {
        let _ = serve(
            l,
            ListenerConfig::default(),
            move |m: exam_hl7::mllp::Inbound| {
                let (s, tx, refuse, lose) = (s.clone(), tx.clone(), refuse.clone(), lose.clone());
                async move {
                    let (code, trigger) = m.message.message_type();
                    if MessageKind::from_type(code, trigger) == Some(MessageKind::QryR02) {
                        let q = match ResultQuery::from_message(&m.message, m.charset) {
                            Ok(q) => q,
                            Err(e) => {
                                return Reply::error(
                                    ErrorCode::RequiredFieldMissing,
                                    e.to_string(),
                                );
                            }
                        };
                        let mut st = s.lock().unwrap();
                        if !st.busy.contains(&q.header.control_id) {
                            st.busy.push(q.header.control_id.clone());
                            return Reply::reject(ErrorCode::ApplicationInternal, "busy");
                        }
                        st.queries.push((
                            q.header.control_id.clone(),
                            q.patient_id.clone(),
                            q.placer_order_number.clone(),
                        ));
                        return match answer_query(st.held.get(&q.placer_order_number), &q) {
                            Ok(again) => {
                                again.into_iter().for_each(|r| tx.send(r).unwrap());
                                Reply::accept()
                            }
                            Err(why) => Reply::error(ErrorCode::UnknownKey, why.to_string()),
                        };
                    }
                    let o = match Order::from_message(&m.message, m.charset) {
                        Ok(o) => o,
                        Err(e) => return Reply::error(ErrorCode::DataType, e.to_string()),
                    };
                    let placer = o.lines[0].placer_order_number.clone();
                    if placer == refuse {
                        return Reply::error(ErrorCode::UnknownKey, "unmapped item");
                    }
                    let rules = ResultRules {
                        seed: 11,
                        critical_patients: vec![],
                        report_style: Default::default(),
                        link_base: "http://lis.test/reports".into(),
                        charset: Charset::Utf8,
                    };
                    let made = results_for(
                        &o,
                        &rules,
                        o.header.timestamp,
                        &format!("R{}", o.header.control_id),
                    );
                    let mut st = s.lock().unwrap();
                    let held = st.held.entry(placer.clone()).or_default();
                    held.patient_id = o.patient.id.clone();
                    held.results.extend(made.iter().cloned());
                    if placer != lose {
                        made.into_iter().for_each(|r| tx.send(r).unwrap());
                    }
                    Reply::accept()
                }
            },
        )
        .await;
    });
    (addr, state)
}

fn adapters_for(addr: &str) -> Adapters {
    let mut cfg = InterfacesConfig::default();
    cfg.counterparts.insert(
        Counterpart::Lis,
        AdapterSpec {
            adapter: "hl7_mllp".into(),
            options: [
                ("address".to_string(), json!(addr)),
                ("ack_timeout_seconds".to_string(), json!(5)),
            ]
            .into_iter()
            .collect(),
        },
    );
    from_config(&cfg).unwrap()
}

/// Waits until the LIS has `n` results acknowledged by our listener.
async fn acked(state: &Mutex<Lis>, n: usize) -> Vec<(String, AckCode)> {
    for _ in 0..200 {
        let a = state.lock().unwrap().acked.clone();
        if a.len() >= n {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "{n} results never acknowledged: {:?}",
        state.lock().unwrap().acked
    );
}

async fn a_refetch_brings_what_was_lost_and_changes_nothing_else(h: &Harness) {
    let desk = h.staff("refetch-desk", "front_desk").await;
    let admin = h.staff("refetch-admin", "admin").await;
    let db = h.db();
    let id = walk_in(&desk, 70).await;
    pay(&desk, id).await;
    let (items, _) = db.interface_visit(id).await.unwrap();
    let lab: Vec<_> = items
        .iter()
        .filter(|i| i.counterpart == Some(Counterpart::Lis) && i.ordered)
        .collect();
    assert!(
        lab.len() >= 3,
        "the package has laboratory items: {items:?}"
    );
    let (have, lost, refused) = (lab[0].clone(), lab[1].clone(), lab[2].clone());
    let placer = |i: &exam_server::interfaces::view::ItemLink| i.order_no.clone().unwrap();

    let results_in = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let results_to = results_in.local_addr().unwrap().to_string();
    tokio::spawn(exam_server::interfaces::hl7::listen(
        db.clone(),
        Counterpart::Lis,
        Charset::Utf8,
        results_in,
    ));
    let (addr, state) = lis(results_to, placer(&refused), placer(&lost)).await;
    let d = Dispatcher::new(db.clone(), config(), adapters_for(&addr), "refetch").with_jitter(0.0);
    let mut t = Utc::now() + chrono::Duration::seconds(1);
    let mut drain = async || {
        d.drain(Counterpart::Lis, t, 1000).await.unwrap();
        t += chrono::Duration::minutes(1);
    };
    drain().await;
    // Every order's results came, but the lost one's (none for the refused).
    let sent: usize = {
        let st = state.lock().unwrap();
        st.held
            .iter()
            .filter(|(p, _)| **p != placer(&lost))
            .map(|(_, h)| h.results.len())
            .sum()
    };
    let first = acked(&state, sent).await;
    assert!(first.iter().all(|a| a.1 == AckCode::Accept), "{first:?}");
    let result_of = async |code: &str| {
        let (items, _) = db.interface_visit(id).await.unwrap();
        let i = items.into_iter().find(|i| i.item_code == code).unwrap();
        (i.result, i.result_at)
    };
    let (had, had_at) = result_of(&have.item_code).await;
    assert!(had == "final" || had == "partial", "{had}");
    assert_eq!(result_of(&lost.item_code).await.0, "none");
    assert_eq!(result_of(&refused.item_code).await.0, "none");
    // Let the clock move, so a result applied again would show a new time.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Re-fetch of a result the service has: the LIS sends it again under
    // new control ids; acknowledged, dropped.
    let refetch = async |code: &str| {
        let (st, r) = admin
            .post(
                &format!("/api/interfaces/visits/{id}/items/{code}/refetch"),
                json!({}),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["counterpart"], "lis");
        r["key"].as_str().unwrap().to_string()
    };
    let msg_of = async |key: &str| {
        db.interface_messages(Counterpart::Lis, None, 1000)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.key == key)
            .unwrap()
    };
    let key = refetch(&have.item_code).await;
    drain().await;
    // AR (busy): kept, to be tried again.
    let m = msg_of(&key).await;
    assert_eq!(m.state, MessageState::Retrying, "{m:?}");
    assert!(
        m.last_error.as_deref().unwrap_or("").contains("AR"),
        "{m:?}"
    );
    drain().await;
    let m = msg_of(&key).await;
    assert_eq!(m.state, MessageState::Acked, "{m:?}");
    assert_eq!(m.attempts, 2, "{m:?}");
    let again = state.lock().unwrap().held[&placer(&have)].results.len();
    let after = acked(&state, sent + again).await;
    assert!(
        after[sent..]
            .iter()
            .all(|a| a.0.starts_with(&format!("{}-", m.id)) && a.1 == AckCode::Accept),
        "{after:?}"
    );
    {
        let st = state.lock().unwrap();
        let q = st.queries.last().unwrap();
        // MSH-10 the row's id; the patient id and placer order number as
        // the order carried them.
        assert_eq!(q.0, m.id.to_string());
        assert_eq!(q.1, st.held[&placer(&have)].patient_id);
        assert_eq!(q.2, placer(&have));
    }
    assert_eq!(result_of(&have.item_code).await, (had, had_at), "dropped");

    // Re-fetch of the lost one: it lands.
    let key = refetch(&lost.item_code).await;
    drain().await;
    drain().await;
    assert_eq!(msg_of(&key).await.state, MessageState::Acked);
    let lost_n = state.lock().unwrap().held[&placer(&lost)].results.len();
    acked(&state, sent + again + lost_n).await;
    let (now_has, _) = result_of(&lost.item_code).await;
    assert!(now_has == "final" || now_has == "partial", "{now_has}");

    // Re-fetch of an order the LIS never took: AE, a dead letter with its reason.
    let key = refetch(&refused.item_code).await;
    drain().await;
    drain().await;
    let m = msg_of(&key).await;
    assert_eq!(m.state, MessageState::Dead, "{m:?}");
    let why = m.last_error.unwrap_or_default();
    assert!(
        why.contains("AE") && why.contains(&placer(&refused)) && why.contains("unknown"),
        "{why}"
    );
    assert_eq!(result_of(&refused.item_code).await.0, "none");
}
