//! The HIS adapter against `his-sim` in both styles: the queue's messages
//! as `facts` writes them, sent again and again through faults, each booked
//! once; refusals that need a person are dead letters.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use exam_domain::id_number::IdNumber;
use exam_his::HisStyle;
use exam_his::sim::{Booking, FaultConfig, FaultKind, Sim, SimConfig};

use super::*;
use crate::interfaces::Counterpart;
use crate::interfaces::payload::{Line, PatientData, Payload, VisitRef};

fn adapter(sim: &Sim, style: HisStyle) -> HisAdapter {
    let endpoint = match style {
        HisStyle::Soap => sim.soap_endpoint(),
        HisStyle::Rest => sim.rest_base(),
    };
    let mut options = BTreeMap::new();
    options.insert("endpoint".to_string(), serde_json::json!(endpoint));
    options.insert("timeout_seconds".to_string(), serde_json::json!(1));
    HisAdapter::from_spec(
        style,
        &AdapterSpec {
            adapter: "his".into(),
            options,
        },
    )
    .expect("adapter")
}

fn patient(seq: u16) -> PatientData {
    let birth = NaiveDate::from_ymd_opt(1975, 6, 1).expect("date");
    PatientData {
        id_number: IdNumber::compose("450102", birth, seq)
            .expect("id")
            .as_str()
            .to_string(),
        name: format!("患者{seq}"),
        sex: exam_domain::Sex::Female,
        birth_date: birth,
        mobile: "13900000000".into(),
    }
}

fn msg(key: &str, booking_id: i64, his_patient_id: Option<&str>, payload: Payload) -> Outgoing {
    Outgoing {
        id: 1,
        seq: 1,
        counterpart: Counterpart::His,
        kind: payload.kind(),
        key: key.into(),
        booking_id: Some(booking_id),
        item_code: None,
        attempt: 1,
        payload,
        his_patient_id: his_patient_id.map(String::from),
    }
}

/// Sends until HIS takes it; every failure on the way must be one the queue
/// retries.
async fn deliver(a: &HisAdapter, m: &Outgoing) -> Delivered {
    for _ in 0..80 {
        match a.send(m).await {
            Ok(d) => return d,
            Err(SendError::Permanent(e)) => panic!("{:?} refused for good: {e}", m.kind),
            Err(_) => {}
        }
    }
    panic!("{:?} never delivered", m.kind)
}

#[tokio::test]
async fn queue_messages_reach_his_once_in_both_styles() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    let prices = sim.with_state(|s| s.price_list().clone());
    let line = |i: usize| Line {
        code: prices.items[i].code.clone(),
        name: prices.items[i].name.clone(),
        price_fen: prices.items[i].unit_price_fen,
        list_price_fen: None,
    };
    for (n, style) in [HisStyle::Soap, HisStyle::Rest].into_iter().enumerate() {
        let a = adapter(&sim, style);
        assert!(a.describe().starts_with("HIS "));
        let booking = 1000 + n as i64;
        let who = patient(200 + n as u16);
        let visit = VisitRef {
            booking_id: booking,
            exam_no: format!("T{booking}"),
            campus: "main".into(),
            exam_date: NaiveDate::from_ymd_opt(2026, 12, 5).expect("date"),
        };
        let record = msg(
            "his.patient:abc",
            booking,
            None,
            Payload::PatientRecord {
                patient: who.clone(),
            },
        );
        let pid = deliver(&a, &record)
            .await
            .remote_ref
            .expect("HIS patient id");

        let register = |pid: Option<&str>| {
            msg(
                &registration_key(booking),
                booking,
                pid,
                Payload::Registration {
                    visit: visit.clone(),
                    patient: who.clone(),
                    package: "PKG".into(),
                },
            )
        };
        assert!(matches!(
            a.send(&register(None)).await,
            Err(SendError::Retryable(_))
        ));
        let reg_id = deliver(&a, &register(Some(&pid))).await.remote_ref;

        sim.set_faults(FaultConfig {
            seed: 11 + n as u64,
            rate: 0.4,
            kinds: vec![
                FaultKind::Hang,
                FaultKind::Drop,
                FaultKind::ServerError,
                FaultKind::SoapFault,
            ],
            hang_ms: 1_500,
            ..FaultConfig::default()
        });
        let charge = |k: u32, lines: Vec<Line>| {
            let total_fen = lines.iter().map(|l| l.price_fen).sum();
            msg(
                &charge_key(booking, k),
                booking,
                Some(&pid),
                Payload::Charge {
                    visit: visit.clone(),
                    lines,
                    total_fen,
                },
            )
        };
        let c1 = deliver(&a, &charge(1, vec![line(0), line(1)])).await;
        let c2 = deliver(&a, &charge(2, vec![line(2)])).await;
        assert_ne!(c1.remote_ref, c2.remote_ref);
        // Sent again (an answer the queue lost): the same charge.
        assert_eq!(deliver(&a, &charge(1, vec![line(0), line(1)])).await, c1);

        let refund = msg(
            &format!("his.refund:{booking}:1"),
            booking,
            Some(&pid),
            Payload::Refund {
                visit: visit.clone(),
                lines: vec![line(1), line(2)],
                total_fen: line(1).price_fen + line(2).price_fen,
            },
        );
        let r = deliver(&a, &refund).await;
        assert_eq!(
            r.remote_ref.as_deref().map(|s| s.split(',').count()),
            Some(2)
        );
        assert_eq!(
            deliver(&a, &refund).await,
            r,
            "a repeat refunds nothing more"
        );
        sim.set_faults(FaultConfig::default());

        // What needs a person is a dead letter.
        let unknown = msg(
            &format!("his.refund:{booking}:2"),
            booking,
            Some(&pid),
            Payload::Refund {
                visit: visit.clone(),
                lines: vec![line(5)],
                total_fen: 0,
            },
        );
        assert!(matches!(
            a.send(&unknown).await,
            Err(SendError::Permanent(_))
        ));
        let mut dear = line(3);
        dear.price_fen += 100;
        assert!(matches!(
            a.send(&charge(3, vec![dear])).await,
            Err(SendError::Permanent(_))
        ));
        let mut wrong = who.clone();
        wrong.name.push('丙');
        let m = msg(
            "his.patient:abc",
            booking,
            None,
            Payload::PatientRecord { patient: wrong },
        );
        assert!(matches!(a.send(&m).await, Err(SendError::Permanent(_))));
        assert!(reg_id.is_some());
    }
    let mut charges: BTreeMap<String, usize> = BTreeMap::new();
    let mut refunds = 0;
    for b in sim.bookings() {
        match b {
            Booking::Charge { key, .. } => *charges.entry(key).or_default() += 1,
            Booking::Refund { .. } => refunds += 1,
            _ => {}
        }
    }
    assert_eq!(charges.len(), 4, "{charges:?}");
    assert!(charges.values().all(|n| *n == 1));
    assert_eq!(refunds, 4, "two HIS refunds per style, none repeated");
}

#[test]
fn settings_are_checked() {
    let spec = |pairs: &[(&str, &str)]| AdapterSpec {
        adapter: "his_soap".into(),
        options: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect(),
    };
    assert!(HisAdapter::from_spec(HisStyle::Soap, &spec(&[])).is_err());
    assert!(HisAdapter::from_spec(HisStyle::Soap, &spec(&[("endpoint", "ftp://x")])).is_err());
    assert!(
        HisAdapter::from_spec(
            HisStyle::Rest,
            &spec(&[("endpoint", "http://h/api"), ("colour", "x")])
        )
        .is_err()
    );
    assert!(
        HisAdapter::from_spec(
            HisStyle::Rest,
            &spec(&[("endpoint", "http://h/api"), ("payment_method", "BITCOIN")])
        )
        .is_err()
    );
    assert!(
        HisAdapter::from_spec(
            HisStyle::Soap,
            &spec(&[
                ("endpoint", "http://h/soap"),
                ("payment_method", "WECHAT_PAY")
            ])
        )
        .is_ok()
    );
}
