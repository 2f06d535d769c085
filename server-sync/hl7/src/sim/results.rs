//! Results the simulator makes from an order: numbers for laboratory
//! items (from a small table of analytes with Chinese reference ranges),
//! a report with an embedded PDF or a link for imaging / ECG / endoscopy /
//! pathology items. Normal values unless the patient is configured as
//! critical, whose potassium comes back HH.

use chrono::NaiveDateTime;

use super::{Rng, tiny_pdf};
use crate::charset::Charset;
use crate::header::{Coded, Header};
use crate::order::{Order, OrderControl, OrderLine};
use crate::result::{
    AbnormalFlag, EmbeddedDocument, ItemResult, Observation, ObservationValue, ReferencePointer,
    ResultMessage, ResultStatus,
};

/// How image reports come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportStyle {
    /// A small PDF in an ED observation.
    Pdf,
    /// A link (RP) to the report.
    Link,
    /// Both styles, chosen per item by the seed.
    #[default]
    Mixed,
}

impl std::str::FromStr for ReportStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pdf" => Ok(ReportStyle::Pdf),
            "link" => Ok(ReportStyle::Link),
            "mixed" => Ok(ReportStyle::Mixed),
            _ => Err(format!("report style {s:?}: pdf, link or mixed")),
        }
    }
}

/// What shapes the results.
#[derive(Debug, Clone)]
pub struct ResultRules {
    pub seed: u64,
    /// Patient ids (PID-3) whose potassium is critically high.
    pub critical_patients: Vec<String>,
    pub report_style: ReportStyle,
    /// Links are `<link_base>/<barcode>.pdf`.
    pub link_base: String,
    /// Charset of the results sent.
    pub charset: Charset,
}

/// One analyte: code, Chinese name, units, reference low and high,
/// decimals.
type Analyte = (&'static str, &'static str, &'static str, f64, f64, usize);

const POTASSIUM: Analyte = ("K", "钾", "mmol/L", 3.5, 5.3, 2);

/// The analytes of the centre's lab items (codes from the seeded
/// catalogue); any other lab item gets one analyte named after it.
fn analytes(item_code: &str) -> Vec<Analyte> {
    match item_code {
        "L-ELEC" => vec![
            POTASSIUM,
            ("NA", "钠", "mmol/L", 137.0, 147.0, 1),
            ("CL", "氯", "mmol/L", 99.0, 110.0, 1),
        ],
        "L-K" => vec![POTASSIUM],
        "L-GLU" => vec![("GLU", "葡萄糖", "mmol/L", 3.9, 6.1, 2)],
        "L-CBC" => vec![
            ("WBC", "白细胞计数", "10^9/L", 3.5, 9.5, 2),
            ("RBC", "红细胞计数", "10^12/L", 4.3, 5.8, 2),
            ("HGB", "血红蛋白", "g/L", 130.0, 175.0, 0),
            ("PLT", "血小板计数", "10^9/L", 125.0, 350.0, 0),
        ],
        "L-ALT" => vec![("ALT", "谷丙转氨酶", "U/L", 9.0, 50.0, 0)],
        "L-AST" => vec![("AST", "谷草转氨酶", "U/L", 15.0, 40.0, 0)],
        "L-CREA" => vec![("CREA", "肌酐", "μmol/L", 57.0, 111.0, 0)],
        "L-UA" => vec![("UA", "尿酸", "μmol/L", 208.0, 428.0, 0)],
        "L-LIPID4" => vec![
            ("TC", "总胆固醇", "mmol/L", 2.8, 5.2, 2),
            ("TG", "甘油三酯", "mmol/L", 0.56, 1.7, 2),
            ("HDL", "高密度脂蛋白胆固醇", "mmol/L", 1.04, 1.55, 2),
            ("LDL", "低密度脂蛋白胆固醇", "mmol/L", 1.5, 3.37, 2),
        ],
        _ => vec![],
    }
}

/// One `ORU^R01` per new order line (cancelled lines get none), control
/// ids `<prefix>-<n>`.
pub fn results_for(
    order: &Order,
    rules: &ResultRules,
    now: NaiveDateTime,
    control_prefix: &str,
) -> Vec<ResultMessage> {
    order
        .lines
        .iter()
        .filter(|l| l.control == OrderControl::New)
        .enumerate()
        .map(|(i, line)| ResultMessage {
            header: Header {
                sending_application: order.header.receiving_application.clone(),
                sending_facility: order.header.receiving_facility.clone(),
                receiving_application: order.header.sending_application.clone(),
                receiving_facility: order.header.sending_facility.clone(),
                timestamp: now,
                control_id: format!("{control_prefix}-{}", i + 1),
                processing: order.header.processing,
                charset: rules.charset,
            },
            patient: order.patient.clone(),
            visit_number: order.visit_number.clone(),
            items: vec![item_result(order, line, rules, now)],
        })
        .collect()
}

fn item_result(
    order: &Order,
    line: &OrderLine,
    rules: &ResultRules,
    now: NaiveDateTime,
) -> ItemResult {
    let mut rng = Rng::keyed(
        rules.seed,
        &["result", &line.placer_order_number, &line.item.code],
    );
    let critical = rules.critical_patients.contains(&order.patient.id);
    let obs = |code: &str, name: &str, value: ObservationValue| Observation {
        identifier: Coded::new(code, name),
        value,
        units: String::new(),
        reference_range: String::new(),
        abnormal: None,
        status: ResultStatus::Final,
        observed_at: Some(now),
    };
    let observations = if order.target.is_imaging() {
        let finding = format!("{}：未见明显异常。", line.item.text);
        let mut v = vec![
            obs("FIND", "检查所见", ObservationValue::Text(finding)),
            obs(
                "IMP",
                "诊断意见",
                ObservationValue::Text("未见明显异常".into()),
            ),
        ];
        let pdf = match rules.report_style {
            ReportStyle::Pdf => true,
            ReportStyle::Link => false,
            ReportStyle::Mixed => rng.chance(0.5),
        };
        v.push(if pdf {
            let text = format!("Report {} {}", line.placer_order_number, line.item.code);
            obs(
                "PDF",
                "报告",
                ObservationValue::Document(EmbeddedDocument {
                    type_of_data: "AP".into(),
                    subtype: "PDF".into(),
                    data: tiny_pdf(&[&text, &format!("Patient {}", order.patient.id)]),
                }),
            )
        } else {
            obs(
                "URL",
                "报告链接",
                ObservationValue::Link(ReferencePointer {
                    pointer: format!(
                        "{}/{}.pdf",
                        rules.link_base.trim_end_matches('/'),
                        line.placer_order_number
                    ),
                    application: order.header.receiving_application.clone(),
                    type_of_data: "AP".into(),
                    subtype: "PDF".into(),
                }),
            )
        });
        v
    } else {
        let mut list = analytes(&line.item.code);
        if list.is_empty() {
            list.push(("VAL", "结果", "", 0.0, 10.0, 2));
        }
        list.iter()
            .map(|&(code, name, units, low, high, decimals)| {
                let (value, flag) = if critical && code == "K" {
                    (6.8, AbnormalFlag::CriticalHigh)
                } else {
                    (
                        low + (high - low) * (0.2 + 0.6 * rng.unit()),
                        AbnormalFlag::Normal,
                    )
                };
                let (code, name) = if code == "VAL" {
                    (line.item.code.as_str(), line.item.text.as_str())
                } else {
                    (code, name)
                };
                Observation {
                    units: units.into(),
                    reference_range: format!("{low}-{high}"),
                    abnormal: Some(flag),
                    ..obs(
                        code,
                        name,
                        ObservationValue::Numeric(format!("{value:.decimals$}")),
                    )
                }
            })
            .collect()
    };
    ItemResult {
        placer_order_number: line.placer_order_number.clone(),
        filler_order_number: format!("F{}", rng.next_u64() % 1_000_000),
        item: line.item.clone(),
        observed_at: Some(now),
        status: ResultStatus::Final,
        observations,
    }
}

/// A malformed copy of an encoded message (which of three faults is the
/// seed's choice): a lower-case segment id, a broken hex escape, or MSH-2
/// cut short. Each one makes a strict reader refuse the message. The edits
/// are on bytes, so a GBK message stays GBK (a CR never occurs inside a
/// GBK character, so `\rPID|` cannot be half of one).
pub fn malform(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let (from, to): (&[u8], &[u8]) = match rng.next_u64() % 3 {
        0 => (b"\rPID|", b"\rpid|"),
        1 => (b"\rOBX|1|", b"\rOBX|1|\\XZZ\\"),
        _ => (b"MSH|^~\\&|", b"MSH|^~|"),
    };
    match bytes.windows(from.len()).position(|w| w == from) {
        Some(p) => [&bytes[..p], to, &bytes[p + from.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{MessageKind, Patient, Sex};
    use crate::order::TargetSystem;
    use chrono::NaiveDate;

    fn order(target: TargetSystem, patient: &str, item: &str) -> Order {
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        Order {
            kind: MessageKind::OrmO01,
            header: Header {
                sending_application: "EXAM".into(),
                sending_facility: "CENTER".into(),
                receiving_application: "LIS".into(),
                receiving_facility: "LAB".into(),
                timestamp: now,
                control_id: "O1".into(),
                processing: Default::default(),
                charset: Charset::Utf8,
            },
            patient: Patient {
                id: patient.into(),
                name: "王五".into(),
                sex: Sex::Female,
                birth_date: None,
            },
            visit_number: "V1".into(),
            department: Coded::new("TJK", "体检科"),
            target,
            lines: vec![
                OrderLine {
                    control: OrderControl::New,
                    placer_order_number: "B1".into(),
                    item: Coded::new(item, "项目"),
                    requested_at: None,
                    specimen: None,
                },
                OrderLine {
                    control: OrderControl::Cancel,
                    placer_order_number: "B2".into(),
                    item: Coded::new(item, "项目"),
                    requested_at: None,
                    specimen: None,
                },
            ],
        }
    }

    fn rules(style: ReportStyle) -> ResultRules {
        ResultRules {
            seed: 3,
            critical_patients: vec!["PCRIT".into()],
            report_style: style,
            link_base: "http://pacs.sim/reports/".into(),
            charset: Charset::Utf8,
        }
    }

    #[test]
    fn potassium_is_critical_only_for_the_configured_patient() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let r = results_for(
            &order(TargetSystem::Lis, "PCRIT", "L-ELEC"),
            &rules(ReportStyle::Pdf),
            now,
            "R",
        );
        assert_eq!(r.len(), 1, "the cancelled line gets no result");
        let k = &r[0].items[0].observations[0];
        assert_eq!(k.identifier.code, "K");
        assert_eq!(k.value, ObservationValue::Numeric("6.80".into()));
        assert_eq!(k.abnormal, Some(AbnormalFlag::CriticalHigh));
        assert_eq!(r[0].header.receiving_application, "EXAM");
        let n = results_for(
            &order(TargetSystem::Lis, "P2", "L-ELEC"),
            &rules(ReportStyle::Pdf),
            now,
            "R",
        );
        for o in &n[0].items[0].observations {
            assert_eq!(o.abnormal, Some(AbnormalFlag::Normal));
            let v = o.value.as_f64().unwrap();
            let (lo, hi) = o.reference_range.split_once('-').unwrap();
            assert!(v >= lo.parse().unwrap() && v <= hi.parse().unwrap());
        }
        // Deterministic.
        assert_eq!(
            n,
            results_for(
                &order(TargetSystem::Lis, "P2", "L-ELEC"),
                &rules(ReportStyle::Pdf),
                now,
                "R"
            )
        );
    }

    #[test]
    fn image_reports_as_pdf_or_link() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let pdf = results_for(
            &order(TargetSystem::Ultrasound, "P2", "US-ABD"),
            &rules(ReportStyle::Pdf),
            now,
            "R",
        );
        let last = pdf[0].items[0].observations.last().unwrap();
        assert!(
            matches!(&last.value, ObservationValue::Document(d) if d.data.starts_with(b"%PDF"))
        );
        let link = results_for(
            &order(TargetSystem::Ecg, "P2", "ECG-12"),
            &rules(ReportStyle::Link),
            now,
            "R",
        );
        let last = link[0].items[0].observations.last().unwrap();
        assert!(
            matches!(&last.value, ObservationValue::Link(r) if r.pointer == "http://pacs.sim/reports/B1.pdf")
        );
    }

    #[test]
    fn malformed_copies_are_refused() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let r = results_for(
            &order(TargetSystem::Lis, "P2", "L-GLU"),
            &rules(ReportStyle::Pdf),
            now,
            "R",
        );
        let good = r[0].encode().unwrap();
        let mut rng = Rng::keyed(1, &["m"]);
        for _ in 0..6 {
            let bad = malform(&good, &mut rng);
            assert!(crate::decode(&bad, Charset::Utf8).is_err());
        }
    }
}
