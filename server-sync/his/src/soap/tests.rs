//! Every body written by the codec reads back as the same value, also with
//! markup and odd characters in the strings; a fault keeps its code.

use chrono::{DateTime, NaiveDate};

use super::*;
use crate::model::*;

fn k(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap_or_else(|_| panic!("key {s}"))
}

fn at(secs: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

const NASTY: &str = "王<五>&\"'</h:name>]]>";

fn requests() -> Vec<SoapRequest> {
    let date = NaiveDate::from_ymd_opt(1990, 2, 28).unwrap_or_default();
    vec![
        SoapRequest::CreatePatient(Demographics {
            id_number: "450103199002280011".into(),
            name: NASTY.into(),
            sex: Sex::Female,
            birth_date: date,
            phone: None,
        }),
        SoapRequest::RegisterVisit(RegistrationRequest {
            idempotency_key: k("reg:1"),
            patient_id: "P1".into(),
            exam_no: "E&1".into(),
            department: NASTY.into(),
            visit_date: date,
        }),
        SoapRequest::PostCharge(ChargeRequest {
            idempotency_key: k("chg.1"),
            patient_id: "P1".into(),
            registration_id: "R1".into(),
            payment_method: PaymentMethod::MedicalInsurance,
            payment_ref: Some("<ref>".into()),
            lines: vec![
                ChargeLine {
                    item_code: "A".into(),
                    quantity: 2,
                    unit_price_fen: -5,
                    discount_fen: 3,
                },
                ChargeLine {
                    item_code: "B".into(),
                    quantity: 1,
                    unit_price_fen: i64::MAX,
                    discount_fen: 0,
                },
            ],
        }),
        SoapRequest::QueryCharge(k("chg.1")),
        SoapRequest::RefundCharge(RefundRequest {
            idempotency_key: k("ref-1"),
            charge_key: k("chg.1"),
            item_codes: vec!["A".into(), "B".into()],
            reason: NASTY.into(),
        }),
        SoapRequest::GetPriceList,
        SoapRequest::GetPriceChanges { since_version: 7 },
    ]
}

fn receipt() -> ChargeReceipt {
    ChargeReceipt {
        charge_id: "C&1".into(),
        idempotency_key: k("chg.1"),
        state: ChargeState::PartlyRefunded,
        total_fen: 12_345,
        refunded_fen: 345,
        price_list_version: 3,
        booked_at: at(1_800_000_000),
        lines: vec![ChargeLine {
            item_code: "A&B".into(),
            quantity: 3,
            unit_price_fen: 4_115,
            discount_fen: 0,
        }],
    }
}

fn responses() -> Vec<SoapResponse> {
    vec![
        SoapResponse::CreatePatient(PatientRecord {
            patient_id: "P<1>".into(),
            created: true,
        }),
        SoapResponse::RegisterVisit(Registration {
            registration_id: "R1".into(),
            patient_id: "P1".into(),
            exam_no: NASTY.into(),
            registered_at: at(1_800_000_001),
        }),
        SoapResponse::PostCharge(receipt()),
        SoapResponse::QueryCharge(ChargeLookup::Found(receipt())),
        SoapResponse::QueryCharge(ChargeLookup::NotFound),
        SoapResponse::RefundCharge(RefundReceipt {
            refund_id: "F1".into(),
            charge_id: "C1".into(),
            amount_fen: 345,
            charge_state: ChargeState::Refunded,
            refunded_at: at(1_800_000_002),
        }),
        SoapResponse::GetPriceList(PriceList {
            version: 2,
            effective_at: at(1_800_000_003),
            items: vec![PriceItem {
                code: "GEN".into(),
                name: NASTY.into(),
                unit_price_fen: 1_100,
            }],
        }),
        SoapResponse::GetPriceList(PriceList {
            version: 1,
            effective_at: at(0),
            items: vec![],
        }),
        SoapResponse::GetPriceChanges(vec![
            PriceChange {
                version: 2,
                effective_at: at(1_800_000_003),
                item_code: "GEN".into(),
                kind: PriceChangeKind::Changed,
                old_price_fen: Some(1_000),
                new_price_fen: Some(1_100),
            },
            PriceChange {
                version: 2,
                effective_at: at(1_800_000_003),
                item_code: "OLD".into(),
                kind: PriceChangeKind::Removed,
                old_price_fen: Some(500),
                new_price_fen: None,
            },
        ]),
    ]
}

fn op_of(r: &SoapResponse) -> Operation {
    match r {
        SoapResponse::CreatePatient(_) => Operation::CreatePatient,
        SoapResponse::RegisterVisit(_) => Operation::RegisterVisit,
        SoapResponse::PostCharge(_) => Operation::PostCharge,
        SoapResponse::QueryCharge(_) => Operation::QueryCharge,
        SoapResponse::RefundCharge(_) => Operation::RefundCharge,
        SoapResponse::GetPriceList(_) => Operation::GetPriceList,
        SoapResponse::GetPriceChanges(_) => Operation::GetPriceChanges,
    }
}

#[test]
fn requests_read_back_as_written() {
    for req in requests() {
        let xml = encode_request(&req);
        assert_eq!(decode_request(xml.as_bytes()), Ok(req.clone()), "{xml}");
    }
}

#[test]
fn responses_read_back_as_written() {
    for resp in responses() {
        let xml = encode_response(&resp);
        let back = decode_response(op_of(&resp), xml.as_bytes());
        assert_eq!(back, Ok(Ok(resp.clone())), "{xml}");
        // The answer to another operation is not taken for this one.
        let other = if op_of(&resp) == Operation::GetPriceList {
            Operation::PostCharge
        } else {
            Operation::GetPriceList
        };
        assert!(decode_response(other, xml.as_bytes()).is_err());
    }
}

#[test]
fn faults_keep_their_code_and_side() {
    for code in crate::error::FaultCode::ALL {
        let xml = encode_fault(&SoapFault {
            code,
            message: NASTY.into(),
        });
        let side = if code.is_client_fault() {
            "soap:Client"
        } else {
            "soap:Server"
        };
        assert!(xml.contains(side));
        let fault = decode_response(Operation::PostCharge, xml.as_bytes());
        assert_eq!(
            fault,
            Ok(Err(SoapFault {
                code,
                message: NASTY.into()
            }))
        );
    }
}
