use super::*;
use crate::header::Sex;
use chrono::NaiveDate;

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 5)
        .unwrap()
        .and_hms_opt(10, 15, 0)
        .unwrap()
}

fn sample(charset: Charset) -> ResultMessage {
    let obs = |code: &str, name: &str, value: ObservationValue| Observation {
        identifier: Coded::new(code, name),
        value,
        units: String::new(),
        reference_range: String::new(),
        abnormal: None,
        status: ResultStatus::Final,
        observed_at: Some(at()),
    };
    ResultMessage {
        header: Header {
            sending_application: "LIS".into(),
            sending_facility: "LAB".into(),
            receiving_application: "EXAM".into(),
            receiving_facility: "CENTER".into(),
            timestamp: at(),
            control_id: "R0001".into(),
            processing: Default::default(),
            charset,
        },
        patient: Patient {
            id: "P0001".into(),
            name: "张三".into(),
            sex: Sex::Male,
            birth_date: NaiveDate::from_ymd_opt(1980, 1, 1),
        },
        visit_number: "2612050001".into(),
        items: vec![
            ItemResult {
                placer_order_number: "B123456".into(),
                filler_order_number: "L99".into(),
                item: Coded::new("L-ELEC", "电解质"),
                observed_at: Some(at()),
                status: ResultStatus::Final,
                observations: vec![
                    Observation {
                        units: "mmol/L".into(),
                        reference_range: "3.5-5.3".into(),
                        abnormal: Some(AbnormalFlag::CriticalHigh),
                        ..obs("K", "钾", ObservationValue::Numeric("6.8".into()))
                    },
                    Observation {
                        units: "mmol/L".into(),
                        reference_range: "137-147".into(),
                        abnormal: Some(AbnormalFlag::Normal),
                        ..obs("NA", "钠", ObservationValue::Numeric("140".into()))
                    },
                ],
            },
            ItemResult {
                placer_order_number: "R778".into(),
                filler_order_number: "US12".into(),
                item: Coded::new("US-ABD", "腹部彩超"),
                observed_at: Some(at()),
                status: ResultStatus::Preliminary,
                observations: vec![
                    obs(
                        "FIND",
                        "所见",
                        ObservationValue::Text("肝脏大小形态正常。\n胆囊壁光滑|无结石".into()),
                    ),
                    obs(
                        "PDF",
                        "报告",
                        ObservationValue::Document(EmbeddedDocument {
                            type_of_data: "AP".into(),
                            subtype: "PDF".into(),
                            data: b"%PDF-1.4 tiny\n%%EOF".to_vec(),
                        }),
                    ),
                    obs(
                        "URL",
                        "报告链接",
                        ObservationValue::Link(ReferencePointer {
                            pointer: "http://pacs.example/r?id=1&fmt=pdf".into(),
                            application: "PACS".into(),
                            type_of_data: "AP".into(),
                            subtype: "PDF".into(),
                        }),
                    ),
                    obs(
                        "CONC",
                        "结论",
                        ObservationValue::Coded(Coded::new("NEG", "阴性")),
                    ),
                ],
            },
        ],
    }
}

#[test]
fn oru_round_trips_in_utf8_and_gbk() {
    for cs in [Charset::Utf8, Charset::Gbk] {
        let r = sample(cs);
        let bytes = r.encode().unwrap();
        let (m, read) = crate::decode(&bytes, cs).unwrap();
        assert_eq!(ResultMessage::from_message(&m, read).unwrap(), r);
    }
}

#[test]
fn flags_and_values() {
    let r = sample(Charset::Utf8);
    assert!(r.items[0].has_critical());
    assert!(!r.items[1].has_critical());
    assert_eq!(r.items[0].observations[0].value.as_f64(), Some(6.8));
    for code in ["N", "L", "H", "LL", "HH", "<", ">", "A", "AA", "W"] {
        assert_eq!(AbnormalFlag::from_code(code).unwrap().code(), code);
    }
    assert!(AbnormalFlag::from_code("LL").unwrap().is_critical());
    assert!(AbnormalFlag::from_code("H").unwrap().is_abnormal());
    assert!(!AbnormalFlag::from_code("H").unwrap().is_critical());
    assert_eq!(AbnormalFlag::from_code(""), None);
    let text = r.to_message().encode();
    assert!(text.contains("OBX|1|NM|K^钾^L||6.8|mmol/L|3.5-5.3|HH|||F|||20261205101500\r"));
    assert!(
        text.contains("|RP|URL^报告链接^L||http://pacs.example/r?id=1\\T\\fmt=pdf^PACS^AP^PDF|")
    );
    assert!(text.contains("|ED|PDF^报告^L||^AP^PDF^Base64^JVBERi0xLjQgdGlueQolJUVPRg==|"));
    assert!(text.contains("||肝脏大小形态正常。~胆囊壁光滑\\F\\无结石|"));
}

#[test]
fn a_peer_message_with_other_types_and_errors() {
    let base =
        "MSH|^~\\&|LIS|LAB|EXAM|C|20261205101500||ORU^R01|X1|P|2.4\rPID|||P9||李四||19900101|F\r";
    let ok = format!("{base}OBR|1|B1||L-X^x|||20261205\rOBX|1|SN|Q^q||^>^10|||A|||C\r");
    let m = Message::parse(&ok, Charset::Utf8).unwrap();
    let r = ResultMessage::from_message(&m, Charset::Utf8).unwrap();
    let o = &r.items[0].observations[0];
    assert_eq!(o.status, ResultStatus::Corrected);
    assert_eq!(o.abnormal, Some(AbnormalFlag::Abnormal));
    assert!(matches!(&o.value, ObservationValue::Other { value_type, .. } if value_type == "SN"));
    assert_eq!(r.items[0].status, ResultStatus::Other(String::new()));
    let bad = |tail: &str| {
        let m = Message::parse(&format!("{base}{tail}"), Charset::Utf8).unwrap();
        ResultMessage::from_message(&m, Charset::Utf8)
    };
    assert!(matches!(
        bad("OBX|1|NM|K||1\r"),
        Err(MessageError::MissingSegment("OBR"))
    ));
    assert!(matches!(bad(""), Err(MessageError::MissingSegment("OBR"))));
    assert!(matches!(
        bad("OBR|1||||\r"),
        Err(MessageError::MissingField {
            segment: "OBR",
            field: 2,
            ..
        })
    ));
    assert!(matches!(
        bad("OBR|1|B1||L-X\rOBX|1|ED|PDF||^AP^PDF^Base64^***\r"),
        Err(MessageError::BadValue {
            segment: "OBX",
            field: 5,
            ..
        })
    ));
    assert!(matches!(
        bad("OBR|1|B1||L-X\rOBX|1||K||1\r"),
        Err(MessageError::MissingField {
            segment: "OBX",
            field: 2,
            ..
        })
    ));
}
