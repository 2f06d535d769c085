//! Our SOAP and REST clients against the simulator over real HTTP: the
//! whole cycle, HIS's refusals as typed permanent errors, the price change
//! log, and faults — a retried charge is booked once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{STYLES, charge, client, key, person, visit};
use exam_his::sim::{Booking, FaultConfig, FaultKind, Sim, SimConfig};
use exam_his::{
    ChargeLookup, ChargeState, FaultCode, HisApi, HisError, HisStyle, PriceChangeKind,
    RefundRequest, Retry, post_charge_resolving, price_diff,
};

fn refused(e: &HisError) -> FaultCode {
    match e {
        HisError::Refused { code, .. } => *code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn whole_cycle_in_both_styles() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    for (n, style) in STYLES.into_iter().enumerate() {
        let his = client(&sim, style, Duration::from_secs(5));
        let who = person(100 + n as u16);
        let first = his.create_patient(&who).await.expect("建档");
        assert!(first.created, "{style:?}");
        let again = his.create_patient(&who).await.expect("found again");
        assert_eq!(
            (again.patient_id.as_str(), again.created),
            (first.patient_id.as_str(), false)
        );

        let mut wrong = who.clone();
        wrong.name.push('乙');
        let e = his.create_patient(&wrong).await.expect_err("other name");
        assert_eq!(refused(&e), FaultCode::DemographicsMismatch, "{style:?}");
        assert_eq!(e.retry(), Retry::Permanent);

        let tag = format!("cycle{n}");
        let (patient_id, registration_id) = visit(&his, &who, &tag).await;
        assert_eq!(patient_id, first.patient_id);
        let (_, reg_again) = visit(&his, &who, &tag).await;
        assert_eq!(
            reg_again, registration_id,
            "a replayed registration is the first one"
        );

        let prices = his.price_list().await.expect("price list");
        assert_eq!(prices.version, 1);
        assert!(prices.items.len() > 100, "the catalogue's items");
        let req = charge(&prices, &tag, &patient_id, &registration_id, 3);
        let receipt = his.post_charge(&req).await.expect("charged");
        assert_eq!(receipt.total_fen, req.total_fen());
        assert_eq!(receipt.state, ChargeState::Booked);
        assert_eq!(his.post_charge(&req).await.expect("replay"), receipt);
        assert_eq!(
            his.query_charge(&req.idempotency_key).await.expect("query"),
            ChargeLookup::Found(receipt.clone())
        );
        assert_eq!(
            his.query_charge(&key(format!("never-{tag}")))
                .await
                .expect("query"),
            ChargeLookup::NotFound
        );

        let mut reused = req.clone();
        reused.lines.pop();
        assert_eq!(
            refused(&his.post_charge(&reused).await.expect_err("reused")),
            FaultCode::KeyReused
        );
        let mut dear = charge(
            &prices,
            &format!("{tag}-dear"),
            &patient_id,
            &registration_id,
            1,
        );
        dear.lines[0].unit_price_fen += 1;
        let e = his.post_charge(&dear).await.expect_err("not HIS's price");
        assert_eq!(
            (refused(&e), e.is_retryable()),
            (FaultCode::PriceMismatch, false)
        );

        // A package's item: HIS's price less the centre's discount, booked
        // as such; a discount above the price is refused.
        let mut package = charge(
            &prices,
            &format!("{tag}-package"),
            &patient_id,
            &registration_id,
            1,
        );
        package.lines[0].discount_fen = package.lines[0].unit_price_fen / 3;
        let booked = his.post_charge(&package).await.expect("discounted");
        assert_eq!(booked.total_fen, package.lines[0].amount_fen());
        assert!(booked.total_fen < package.lines[0].unit_price_fen);
        let mut free = package.clone();
        free.idempotency_key = key(format!("{tag}-over"));
        free.lines[0].discount_fen = free.lines[0].unit_price_fen + 1;
        assert_eq!(
            refused(&his.post_charge(&free).await.expect_err("over")),
            FaultCode::InvalidRequest
        );

        let refund = RefundRequest {
            idempotency_key: key(format!("ref-{tag}")),
            charge_key: req.idempotency_key.clone(),
            item_codes: vec![req.lines[0].item_code.clone()],
            reason: "弃检".into(),
        };
        let r = his.refund_charge(&refund).await.expect("refund");
        assert_eq!(r.amount_fen, req.lines[0].unit_price_fen);
        assert_eq!(r.charge_state, ChargeState::PartlyRefunded);
        assert_eq!(r.charge_id, receipt.charge_id);
        assert_eq!(his.refund_charge(&refund).await.expect("replay"), r);
        let twice = RefundRequest {
            idempotency_key: key(format!("ref2-{tag}")),
            ..refund.clone()
        };
        assert_eq!(
            refused(&his.refund_charge(&twice).await.expect_err("twice")),
            FaultCode::AlreadyRefunded
        );
        let rest = RefundRequest {
            idempotency_key: key(format!("ref3-{tag}")),
            item_codes: req.lines[1..].iter().map(|l| l.item_code.clone()).collect(),
            ..refund
        };
        assert_eq!(
            his.refund_charge(&rest)
                .await
                .expect("the rest")
                .charge_state,
            ChargeState::Refunded
        );
        match his.query_charge(&req.idempotency_key).await.expect("query") {
            ChargeLookup::Found(c) => {
                assert_eq!(
                    (c.state, c.refunded_fen),
                    (ChargeState::Refunded, req.total_fen())
                )
            }
            other => panic!("{other:?}"),
        }
    }
    let charges = sim
        .bookings()
        .iter()
        .filter(|b| matches!(b, Booking::Charge { .. }))
        .count();
    assert_eq!(
        charges, 4,
        "per style one charge and one discounted package line, replays booked nothing"
    );
}

#[tokio::test]
async fn price_change_log_in_both_styles() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    let soap = client(&sim, HisStyle::Soap, Duration::from_secs(5));
    let before = soap.price_list().await.expect("v1");
    assert!(soap.price_changes(0).await.expect("log").is_empty());
    sim.change_prices_now();
    for style in STYLES {
        let his = client(&sim, style, Duration::from_secs(5));
        let after = his.price_list().await.expect("v2");
        assert_eq!(after.version, 2);
        let log = his.price_changes(1).await.expect("log");
        assert_eq!(
            log,
            price_diff(&before, &after),
            "{style:?}: HIS's log is the difference"
        );
        let kinds: Vec<_> = log.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == PriceChangeKind::Changed)
                .count(),
            3
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == PriceChangeKind::Added)
                .count(),
            1
        );
        assert!(
            log.iter()
                .all(|c| c.version == 2 && c.effective_at == after.effective_at)
        );
        assert!(
            his.price_changes(2)
                .await
                .expect("nothing newer")
                .is_empty()
        );
    }
    // Charging at the old price is refused until the centre takes HIS's.
    let who = person(300);
    let (p, r) = visit(&soap, &who, "oldprice").await;
    let old = charge(&before, "oldprice", &p, &r, 1);
    assert_eq!(
        refused(&soap.post_charge(&old).await.expect_err("old")),
        FaultCode::PriceMismatch
    );
}

/// Every kind of transport fault at a high rate: each charge is retried
/// with the same request (resolving unknown outcomes by asking) until HIS
/// has it; HIS's books then hold exactly one charge per key.
#[tokio::test]
async fn retried_charges_are_booked_once_under_faults() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    for (n, style) in STYLES.into_iter().enumerate() {
        let his = client(&sim, style, Duration::from_millis(300));
        let who = person(400 + n as u16);
        let (p, r) = visit(&his, &who, &format!("faults{n}")).await;
        let prices = his.price_list().await.expect("prices");
        sim.set_faults(FaultConfig {
            seed: 7 + n as u64,
            rate: 0.5,
            kinds: vec![
                FaultKind::Hang,
                FaultKind::Drop,
                FaultKind::ServerError,
                FaultKind::SoapFault,
                FaultKind::Slow,
            ],
            hang_ms: 600,
            slow_ms: 50,
            outages: Vec::new(),
        });
        let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
        for i in 0..40 {
            let req = charge(&prices, &format!("f{n}-{i}"), &p, &r, 1 + i % 3);
            let mut attempts = 0;
            let receipt = loop {
                attempts += 1;
                assert!(attempts < 60, "{style:?}: charge {i} never got through");
                match post_charge_resolving(&his, &req).await {
                    Ok(receipt) => break receipt,
                    Err(e) => {
                        assert_eq!(e.retry(), Retry::Retryable, "{style:?}: {e}");
                        let kind = match e {
                            HisError::Timeout(_) => "timeout",
                            HisError::ConnectionLost(_) => "lost",
                            HisError::Http { .. } => "5xx",
                            HisError::Refused {
                                code: FaultCode::Busy,
                                ..
                            } => "busy",
                            other => panic!("{style:?}: unexpected {other:?}"),
                        };
                        *seen.entry(kind).or_default() += 1;
                    }
                }
            };
            assert_eq!(receipt.total_fen, req.total_fen());
            assert_eq!(receipt.idempotency_key, req.idempotency_key);
        }
        sim.set_faults(FaultConfig::default());
        for kind in ["timeout", "lost", "5xx", "busy"] {
            assert!(
                seen.get(kind).is_some_and(|n| *n > 0),
                "{style:?}: no {kind} in {seen:?}"
            );
        }
    }
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for b in sim.bookings() {
        if let Booking::Charge { key, .. } = b {
            *per_key.entry(key).or_default() += 1;
        }
    }
    assert_eq!(per_key.len(), 80, "every charge booked");
    assert!(
        per_key.values().all(|n| *n == 1),
        "a key booked twice: {per_key:?}"
    );
}

#[tokio::test]
async fn outage_unreachable_and_wrong_demographics() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    for (n, style) in STYLES.into_iter().enumerate() {
        let his = client(&sim, style, Duration::from_secs(2));
        sim.set_outage(true);
        let e = his.price_list().await.expect_err("HIS down");
        assert!(e.is_retryable(), "{style:?}: {e}");
        sim.set_outage(false);
        assert_eq!(his.price_list().await.expect("back").version, 1);

        // HIS holds the ID number under a misspelt name: a person must act.
        sim.set_faults(FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::WrongDemographics],
            ..FaultConfig::default()
        });
        let e = his
            .create_patient(&person(500 + n as u16))
            .await
            .expect_err("mismatch");
        assert_eq!(
            (refused(&e), e.retry()),
            (FaultCode::DemographicsMismatch, Retry::Permanent)
        );
        sim.set_faults(FaultConfig::default());
    }
    // Nothing listening: not sent, so certainly not applied.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let his = exam_his::rest::RestClient::new(
        &format!("http://{addr}/his/api/v1"),
        Duration::from_secs(2),
    )
    .expect("client");
    let e = his.price_list().await.expect_err("nobody there");
    assert!(matches!(e, HisError::Unreachable(_)), "{e:?}");
    assert!(e.is_retryable() && !e.may_have_applied());
}

#[tokio::test]
async fn the_wsdl_is_served_with_its_address() {
    let sim = Sim::start_local(SimConfig::default()).await.expect("sim");
    let wsdl = reqwest::get(sim.wsdl_url())
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(wsdl.contains(&format!("location=\"{}\"", sim.soap_endpoint())));
    let parsed = exam_his::xml::parse(wsdl.as_bytes()).expect("well-formed");
    assert!(parsed.is("http://schemas.xmlsoap.org/wsdl/", "definitions"));
    // A body that is no SOAP gets a soap:Client fault.
    let resp = reqwest::Client::new()
        .post(sim.soap_endpoint())
        .header("Content-Type", "text/xml")
        .body("<x/>")
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status().as_u16(), 500);
    let body = resp.bytes().await.expect("body");
    let fault = exam_his::soap::decode_response(exam_his::soap::Operation::GetPriceList, &body)
        .expect("a SOAP envelope")
        .expect_err("a fault");
    assert_eq!(fault.code, FaultCode::InvalidRequest);
}
