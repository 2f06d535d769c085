//! The simulator's answer to a staff re-fetch (`QRY^R02`): the results it
//! made for that placer order number, again, under new control ids (the
//! same content, as a real LIS re-sends), or a reason for an AE.

use crate::query::ResultQuery;
use crate::result::ResultMessage;

/// Why a query is answered AE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefusal {
    #[error("placer order number {0} unknown: no such order taken")]
    UnknownOrder(String),
    #[error("order {0} was cancelled: no results")]
    Cancelled(String),
    #[error("order {placer} was placed for another patient (not {asked})")]
    OtherPatient { placer: String, asked: String },
}

/// What the LIS holds for one placer order number: the patient it was
/// ordered for, whether it was cancelled, the results it made.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub patient_id: String,
    pub cancelled: bool,
    pub results: Vec<ResultMessage>,
}

/// The results to send again for `q`, control ids `<query id>-<n>`: a
/// retried query (same MSH-10) makes the same ids, which the receiver
/// drops as repeats.
pub fn answer_query(
    held: Option<&Held>,
    q: &ResultQuery,
) -> Result<Vec<ResultMessage>, QueryRefusal> {
    let placer = &q.placer_order_number;
    let held = held.ok_or_else(|| QueryRefusal::UnknownOrder(placer.clone()))?;
    if held.patient_id != q.patient_id {
        return Err(QueryRefusal::OtherPatient {
            placer: placer.clone(),
            asked: q.patient_id.clone(),
        });
    }
    if held.cancelled {
        return Err(QueryRefusal::Cancelled(placer.clone()));
    }
    Ok(held
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut again = r.clone();
            again.header.control_id = format!("{}-{}", q.header.control_id, i + 1);
            again
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::Charset;
    use crate::header::{Coded, Header, MessageKind, Patient};
    use crate::order::{Order, OrderControl, OrderLine, TargetSystem};
    use crate::sim::{ResultRules, results_for};

    fn order() -> Order {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
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
                timestamp: at,
                control_id: "O1".into(),
                processing: Default::default(),
                charset: Charset::Utf8,
            },
            patient: Patient {
                id: "P1".into(),
                name: "王五".into(),
                ..Patient::default()
            },
            visit_number: "V1".into(),
            department: Coded::new("TJK", "体检科"),
            target: TargetSystem::Lis,
            lines: vec![OrderLine {
                control: OrderControl::New,
                placer_order_number: "B1".into(),
                item: Coded::new("L-ELEC", "电解质"),
                requested_at: None,
                specimen: None,
            }],
        }
    }

    #[test]
    fn same_content_new_ids_or_a_reason() {
        let order = order();
        let rules = ResultRules {
            seed: 3,
            critical_patients: vec![],
            report_style: Default::default(),
            link_base: "http://x".into(),
            charset: Charset::Utf8,
        };
        let placer = order.lines[0].placer_order_number.clone();
        let results: Vec<ResultMessage> = results_for(&order, &rules, order.header.timestamp, "R")
            .into_iter()
            .filter(|r| r.items[0].placer_order_number == placer)
            .collect();
        assert!(!results.is_empty());
        let held = Held {
            patient_id: order.patient.id.clone(),
            cancelled: false,
            results: results.clone(),
        };
        let q = ResultQuery {
            header: Header {
                control_id: "Q9".into(),
                ..order.header.clone()
            },
            queried_at: order.header.timestamp,
            query_id: "Q9".into(),
            patient_id: order.patient.id.clone(),
            placer_order_number: placer.clone(),
            where_subject: "LIS".into(),
        };
        let again = answer_query(Some(&held), &q).unwrap();
        assert_eq!(again.len(), results.len());
        assert_eq!(again[0].header.control_id, "Q9-1");
        assert_eq!(again[0].items, results[0].items);
        assert_ne!(again[0].header.control_id, results[0].header.control_id);
        assert_eq!(
            answer_query(None, &q),
            Err(QueryRefusal::UnknownOrder(placer.clone()))
        );
        let other = ResultQuery {
            patient_id: "P-OTHER".into(),
            ..q.clone()
        };
        assert!(matches!(
            answer_query(Some(&held), &other),
            Err(QueryRefusal::OtherPatient { .. })
        ));
        let cancelled = Held {
            cancelled: true,
            ..held
        };
        assert_eq!(
            answer_query(Some(&cancelled), &q),
            Err(QueryRefusal::Cancelled(placer))
        );
    }
}
