//! What a message carries, as the queue keeps it (sealed JSON): our facts,
//! not a counterpart's wire format. The adapter writes the wire format when
//! it sends, so a corrected name reaches a message sent again by hand, and
//! a counterpart's format can change without touching the queue.

use chrono::NaiveDate;
use exam_domain::Sex;
use exam_domain::catalogue::SampleType;
use serde::{Deserialize, Serialize};

/// The patient as HIS and the departments' systems need them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientData {
    pub id_number: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub mobile: String,
}

/// Masked: a payload may end up in a log line.
impl std::fmt::Debug for PatientData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientData")
            .field("id_number", &exam_domain::mask::id_number(&self.id_number))
            .field("name", &exam_domain::mask::name(&self.name))
            .field("sex", &self.sex)
            .finish_non_exhaustive()
    }
}

impl PatientData {
    pub fn of(p: &exam_domain::Person) -> Self {
        Self {
            id_number: p.id_number.as_str().to_string(),
            name: p.name.clone(),
            sex: p.sex,
            birth_date: p.birth_date,
            mobile: p.mobile.clone(),
        }
    }
}

/// The visit a message is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRef {
    pub booking_id: i64,
    /// 体检号: what the departments' systems file the visit under.
    pub exam_no: String,
    pub campus: String,
    pub exam_date: NaiveDate,
}

/// One charged or refunded item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub code: String,
    pub name: String,
    /// What the visit pays for it.
    pub price_fen: i64,
    /// The item's list price (the catalogue's, which HIS's price list
    /// sets), when the visit pays less (a package, a company's discount):
    /// HIS books the list price with the difference as a discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price_fen: Option<i64>,
}

/// One item's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Placer order number: `<exam no>-<item>-<generation>`, unique.
    pub order_no: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub sample: Option<SampleType>,
    /// The tube's barcode for laboratory items (what the label printed).
    pub barcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    PatientRecord {
        patient: PatientData,
    },
    Registration {
        visit: VisitRef,
        patient: PatientData,
        package: String,
    },
    Charge {
        visit: VisitRef,
        lines: Vec<Line>,
        total_fen: i64,
    },
    Refund {
        visit: VisitRef,
        lines: Vec<Line>,
        total_fen: i64,
    },
    Order {
        visit: VisitRef,
        patient: PatientData,
        order: OrderLine,
    },
    OrderCancel {
        visit: VisitRef,
        order: OrderLine,
    },
    ResultQuery {
        visit: VisitRef,
        order: OrderLine,
    },
    /// One SMS (I5): the number and what to say, sealed like the rest.
    Sms(crate::sms::SmsPayload),
}

impl Payload {
    pub fn kind(&self) -> super::MessageKind {
        use super::MessageKind as K;
        match self {
            Payload::PatientRecord { .. } => K::PatientRecord,
            Payload::Registration { .. } => K::Registration,
            Payload::Charge { .. } => K::Charge,
            Payload::Refund { .. } => K::Refund,
            Payload::Order { .. } => K::Order,
            Payload::OrderCancel { .. } => K::OrderCancel,
            Payload::ResultQuery { .. } => K::ResultQuery,
            Payload::Sms(_) => K::Sms,
        }
    }

    /// What the staff page says of it (no personal data).
    pub fn summary(&self) -> String {
        match self {
            Payload::PatientRecord { .. } => "患者建档".into(),
            Payload::Registration { visit, .. } => format!("体检号 {}", visit.exam_no),
            Payload::Charge {
                visit,
                lines,
                total_fen,
            }
            | Payload::Refund {
                visit,
                lines,
                total_fen,
            } => format!(
                "体检号 {} · {} 项 · ¥{}.{:02}",
                visit.exam_no,
                lines.len(),
                total_fen / 100,
                total_fen % 100
            ),
            Payload::Order { order, .. }
            | Payload::OrderCancel { order, .. }
            | Payload::ResultQuery { order, .. } => {
                format!("{} {}", order.order_no, order.item_name)
            }
            Payload::Sms(s) => format!(
                "{} · {}",
                s.facts.kind().label_zh(),
                exam_sms::model::mask_phone(&s.phone)
            ),
        }
    }
}
