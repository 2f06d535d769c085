//! `lis-sim` over real sockets: our client sends orders through its
//! faults until each is acknowledged, and our listener gets the results
//! (a critical potassium, image reports, duplicates and malformed copies
//! dropped), in UTF-8 and GBK, through an outage and a cancellation.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod peers;

use std::time::{Duration, Instant};

use exam_hl7::mllp::{ClientConfig, MllpClient};
use exam_hl7::{
    AbnormalFlag, Charset, Coded, Delivery, MessageKind, ObservationValue, Order, OrderControl,
    OrderLine, TargetSystem,
};
use peers::{Peer, Seen, order, start_collector};

fn lis_sim(args: &[&str]) -> (Peer, String) {
    let mut sim = Peer::spawn(env!("CARGO_BIN_EXE_lis-sim"), args);
    let line = sim.line();
    let addr = line
        .strip_prefix("lis-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from lis-sim: {line:?}"))
        .to_string();
    (sim, addr)
}

/// Sends until AA, as the outbound queue will; returns the attempts.
async fn send_until_accepted(client: &mut MllpClient, o: &Order) -> u32 {
    let bytes = o.encode().unwrap();
    for attempt in 1..=40 {
        match client.send_bytes(&bytes, &o.header.control_id).await {
            Ok(ack) => match ack.code.outcome() {
                Delivery::Accepted => return attempt,
                Delivery::RetryLater => {}
                Delivery::Failed => {
                    panic!("order {} refused: {:?}", o.header.control_id, ack.error)
                }
            },
            Err(e) => assert_eq!(e.delivery(), Delivery::RetryLater, "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("order {} never accepted", o.header.control_id);
}

async fn wait_for(seen: &std::sync::Mutex<Seen>, applied: usize, within: Duration) -> Seen {
    let start = Instant::now();
    loop {
        let s = seen.lock().unwrap().clone();
        if s.applied.len() >= applied || start.elapsed() > within {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn imaging_order(control_id: &str) -> Order {
    let mut o = order(MessageKind::OrmO01, control_id, Charset::Utf8, "P0009");
    o.target = TargetSystem::Ultrasound;
    o.lines = vec![OrderLine {
        control: OrderControl::New,
        placer_order_number: "U900001".into(),
        item: Coded::new("US-ABD", "腹部彩超(肝胆胰脾肾)"),
        requested_at: None,
        specimen: None,
    }];
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_through_faults_results_back_critical_potassium_duplicates_dropped() {
    let (port, seen) = start_collector(Charset::Utf8).await;
    let results_to = format!("127.0.0.1:{port}");
    let (_sim, addr) = lis_sim(&[
        "--listen",
        "127.0.0.1:0",
        "--results-to",
        &results_to,
        "--delay-ms",
        "50",
        "--seed",
        "42",
        "--critical-patient",
        "P0001",
        "--ar-rate",
        "0.25",
        "--drop-rate",
        "0.25",
        "--ae-rate",
        "0",
        "--duplicate-rate",
        "1",
        "--malformed-rate",
        "1",
        "--report-style",
        "mixed",
    ]);
    let mut cfg = ClientConfig::new(addr);
    cfg.ack_timeout = Duration::from_secs(5);
    let mut client = MllpClient::new(cfg);
    let mut orders = Vec::new();
    for i in 0..5 {
        let mut o = order(
            MessageKind::OrmO01,
            &format!("ORD{i}"),
            Charset::Utf8,
            &format!("P000{}", i + 1),
        );
        for line in &mut o.lines {
            line.placer_order_number = format!("{}{i}", line.placer_order_number);
        }
        orders.push(o);
    }
    orders.push(imaging_order("ORDUS"));
    let mut attempts = 0;
    for o in &orders {
        attempts += send_until_accepted(&mut client, o).await;
    }
    assert!(
        attempts > orders.len() as u32,
        "the seed's faults must have cost retries"
    );
    let expected = orders.iter().map(|o| o.lines.len()).sum::<usize>();
    let s = wait_for(&seen, expected, Duration::from_secs(30)).await;
    assert_eq!(
        s.applied.len(),
        expected,
        "every ordered item has its result once"
    );
    // Every result came three times (the same message again, then under a
    // new control id) after a malformed copy we refused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = seen.lock().unwrap().clone();
    assert_eq!(s.received.len(), expected * 3, "{:?}", s.received);
    assert_eq!(s.applied.len(), expected, "duplicates applied once");
    for r in &s.applied {
        let item = &r.items[0];
        match item.item.code.as_str() {
            "L-ELEC" => {
                let k = &item.observations[0];
                assert_eq!(k.identifier.code, "K");
                if r.patient.id == "P0001" {
                    assert_eq!(k.abnormal, Some(AbnormalFlag::CriticalHigh));
                    assert!(item.has_critical());
                } else {
                    assert_eq!(k.abnormal, Some(AbnormalFlag::Normal));
                }
            }
            "L-GLU" => assert!(!item.has_critical()),
            "US-ABD" => {
                let last = &item.observations.last().unwrap().value;
                assert!(
                    matches!(last, ObservationValue::Document(d) if d.data.starts_with(b"%PDF"))
                        || matches!(last, ObservationValue::Link(l) if l.pointer.ends_with("U900001.pdf")),
                    "{last:?}"
                );
            }
            other => panic!("unexpected item {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gbk_outage_late_acks_and_a_cancellation() {
    let (port, seen) = start_collector(Charset::Gbk).await;
    let results_to = format!("127.0.0.1:{port}");
    let (_sim, addr) = lis_sim(&[
        "--listen",
        "127.0.0.1:0",
        "--results-to",
        &results_to,
        "--delay-ms",
        "1500",
        "--seed",
        "7",
        "--charset",
        "gbk",
        "--outage",
        "0-1",
        "--late-ack-rate",
        "0.5",
        "--late-ack-ms",
        "800",
    ]);
    let mut cfg = ClientConfig::new(addr);
    cfg.ack_timeout = Duration::from_millis(400);
    cfg.peer_charset = Charset::Gbk;
    let mut client = MllpClient::new(cfg);
    let started = Instant::now();
    let first = order(MessageKind::OmlO21, "G1", Charset::Gbk, "P0001");
    let mut sent = 0;
    for part in first.split_lines() {
        sent += send_until_accepted(&mut client, &part).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the outage held the order back"
    );
    assert!(sent > 2);
    // Cancel the glucose before its result is due (ORC-1 CA).
    let mut cancel = order(MessageKind::OrmO01, "G2", Charset::Gbk, "P0001");
    cancel.lines.retain(|l| l.item.code == "L-GLU");
    cancel.lines[0].control = OrderControl::Cancel;
    send_until_accepted(&mut client, &cancel).await;
    let s = wait_for(&seen, 1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let s2 = seen.lock().unwrap().clone();
    assert_eq!(s.applied.len(), 1);
    assert_eq!(s2.applied.len(), 1, "the cancelled item got no result");
    // A late ACK we gave up on made us send again; the simulator took the
    // order once, so one result only, never a second.
    assert_eq!(s2.received.len(), 1, "{:?}", s2.received);
    let r = &s2.applied[0];
    assert_eq!(r.header.charset, Charset::Gbk);
    assert_eq!(r.patient.name, "张三");
    assert_eq!(r.items[0].item.code, "L-ELEC");
    assert_eq!(r.items[0].observations[0].identifier.text, "钾");
    assert!(!r.items[0].has_critical());
}

/// A re-fetch (QRY^R02): with every result lost the first time, nothing
/// arrives until the query, then the queried order's results (new control
/// ids, same content) and no other's; a repeat of what we have is dropped;
/// an unknown placer order number is answered AE with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_query_brings_lost_results_and_unknown_orders_get_ae() {
    let (port, seen) = start_collector(Charset::Gbk).await;
    let results_to = format!("127.0.0.1:{port}");
    let (_sim, addr) = lis_sim(&[
        "--listen",
        "127.0.0.1:0",
        "--results-to",
        &results_to,
        "--delay-ms",
        "20",
        "--charset",
        "gbk",
        "--lost-rate",
        "1",
        "--ar-rate",
        "0.3",
        "--seed",
        "5",
    ]);
    let mut cfg = ClientConfig::new(addr);
    cfg.ack_timeout = Duration::from_secs(5);
    cfg.peer_charset = Charset::Gbk;
    let mut client = MllpClient::new(cfg);
    let o = order(MessageKind::OrmO01, "ORDQ", Charset::Gbk, "P0007");
    send_until_accepted(&mut client, &o).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(seen.lock().unwrap().received.is_empty(), "all lost");
    let query = |id: &str, placer: &str| exam_hl7::ResultQuery {
        header: peers::header(id, Charset::Gbk),
        queried_at: peers::at(9, 0),
        query_id: id.into(),
        patient_id: "P0007".into(),
        placer_order_number: placer.into(),
        where_subject: "LIS".into(),
    };
    // Sent until AA through the AR faults, as the service's queue does.
    let send_query = async |client: &mut MllpClient, q: &exam_hl7::ResultQuery| {
        for _ in 0..40 {
            if let Ok(ack) = client
                .send_bytes(&q.encode().unwrap(), &q.header.control_id)
                .await
                && ack.code.outcome() != Delivery::RetryLater
            {
                return ack;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("query {} never answered", q.header.control_id);
    };
    let ack = send_query(&mut client, &query("QRY1", "B100001")).await;
    assert_eq!(ack.code, exam_hl7::AckCode::Accept, "{ack:?}");
    assert_eq!(ack.acked_control_id, "QRY1");
    let s = wait_for(&seen, 1, Duration::from_secs(10)).await;
    assert_eq!(s.applied.len(), 1, "{s:?}");
    assert_eq!(s.applied[0].items[0].placer_order_number, "B100001");
    assert_eq!(s.applied[0].header.control_id, "QRY1-1");
    // Again: the same content under new control ids, acknowledged, dropped.
    let ack = send_query(&mut client, &query("QRY2", "B100001")).await;
    assert_eq!(ack.code, exam_hl7::AckCode::Accept);
    let start = Instant::now();
    while !seen
        .lock()
        .unwrap()
        .received
        .contains(&"QRY2-1".to_string())
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "QRY2-1 never came"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen.lock().unwrap().applied.len(), 1, "the repeat dropped");
    // An order it never took: AE with the reason.
    let ack = send_query(&mut client, &query("QRY3", "B999999")).await;
    assert_eq!(ack.code, exam_hl7::AckCode::Error);
    let (code, why) = ack.error.unwrap();
    assert_eq!(code, "204");
    assert!(why.contains("B999999") && why.contains("unknown"), "{why}");
}
