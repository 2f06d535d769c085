//! Shared by the client tests: people with valid ID numbers, the clients of
//! both styles for a simulator, and a visit set up in HIS.

#![allow(dead_code)]

use std::time::Duration;

use chrono::NaiveDate;
use exam_domain::id_number::IdNumber;
use exam_his::sim::Sim;
use exam_his::{
    ChargeLine, ChargeRequest, Demographics, HisApi, HisClient, HisConfig, HisStyle,
    IdempotencyKey, PaymentMethod, PriceList, RegistrationRequest, Sex,
};

pub const STYLES: [HisStyle; 2] = [HisStyle::Soap, HisStyle::Rest];

pub fn person(seq: u16) -> Demographics {
    let birth = NaiveDate::from_ymd_opt(1980 + i32::from(seq % 30), 1 + u32::from(seq % 12), 5)
        .expect("a date");
    let id = IdNumber::compose("450103", birth, seq).expect("an ID number");
    Demographics {
        id_number: id.as_str().to_owned(),
        name: format!("测试{seq}"),
        sex: if seq % 2 == 1 { Sex::Male } else { Sex::Female },
        birth_date: birth,
        phone: Some("13800000000".into()),
    }
}

pub fn client(sim: &Sim, style: HisStyle, timeout: Duration) -> HisClient {
    let endpoint = match style {
        HisStyle::Soap => sim.soap_endpoint(),
        HisStyle::Rest => sim.rest_base(),
    };
    HisClient::new(&HisConfig {
        style,
        endpoint,
        timeout_ms: timeout.as_millis() as u64,
    })
    .expect("a client")
}

pub fn key(s: impl Into<String>) -> IdempotencyKey {
    IdempotencyKey::new(s).expect("a valid key")
}

/// A patient and a registration in HIS; returns (patient id, registration id).
pub async fn visit(his: &HisClient, who: &Demographics, tag: &str) -> (String, String) {
    let patient = his.create_patient(who).await.expect("建档");
    let reg = his
        .register_visit(&RegistrationRequest {
            idempotency_key: key(format!("reg-{tag}")),
            patient_id: patient.patient_id.clone(),
            exam_no: format!("E{tag}"),
            department: "体检中心".into(),
            visit_date: NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date"),
        })
        .await
        .expect("挂号");
    (patient.patient_id, reg.registration_id)
}

/// A charge of the first `n` items of the price list at its prices.
pub fn charge(
    prices: &PriceList,
    tag: &str,
    patient_id: &str,
    registration_id: &str,
    n: usize,
) -> ChargeRequest {
    ChargeRequest {
        idempotency_key: key(format!("chg-{tag}")),
        patient_id: patient_id.to_owned(),
        registration_id: registration_id.to_owned(),
        payment_method: PaymentMethod::WechatPay,
        payment_ref: Some(format!("4200000{tag}")),
        lines: prices
            .items
            .iter()
            .take(n)
            .map(|i| ChargeLine {
                item_code: i.code.clone(),
                quantity: 1,
                unit_price_fen: i.unit_price_fen,
                discount_fen: 0,
            })
            .collect(),
    }
}
