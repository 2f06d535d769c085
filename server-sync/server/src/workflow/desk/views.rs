//! The front desk's answers as types: what `static/desk.js` and the tests
//! read, field for field. Names and ID numbers are masked here, on the way
//! out; the full values never leave the server.

use chrono::NaiveDate;
use exam_domain::catalogue::{Campus, Department, ExamItem, ExamType, Marital, Package};
use exam_domain::changes::{self, ItemStatus};
use exam_domain::documents::{self, DocItem, Documents};
use exam_domain::plan::{Excluded, Plan};
use exam_domain::{BookingState, Catalogue, Sex, mask};
use serde::Serialize;

use crate::db::{Created, Hit, OpLine, SlotRow, Visit, VisitKind};

/// The dictionaries the desk's selects are filled from.
#[derive(Debug, Serialize)]
pub(super) struct CatalogueView {
    pub campuses: Vec<Campus>,
    pub packages: Vec<Package>,
    pub items: Vec<ExamItem>,
    pub departments: Vec<Department>,
    pub exam_types: Vec<ExamType>,
}

impl CatalogueView {
    pub fn new(cat: &Catalogue) -> Self {
        Self {
            campuses: cat.campuses.clone(),
            packages: cat.packages.clone(),
            items: cat.items.clone(),
            departments: cat.departments.clone(),
            exam_types: cat.exam_types.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct SlotsView {
    pub campus: String,
    pub date: NaiveDate,
    pub slots: Vec<SlotRow>,
}

/// One search result, masked.
#[derive(Debug, Serialize)]
pub(super) struct SearchHit {
    pub id: i64,
    pub exam_no: String,
    pub code: String,
    pub name: String,
    pub sex: Sex,
    pub id_number: String,
    pub mobile: String,
    pub date: NaiveDate,
    pub slot: String,
    pub package: String,
    pub state: BookingState,
    pub kind: String,
    pub flags: String,
}

impl From<&Hit> for SearchHit {
    fn from(h: &Hit) -> Self {
        let (b, p) = (&h.record.booking, &h.record.person);
        Self {
            id: b.id,
            exam_no: b.exam_no.clone(),
            code: b.code.clone(),
            name: p.name.clone(),
            sex: p.sex,
            id_number: mask::id_number(p.id_number.as_str()),
            mobile: mask::mobile(&p.mobile),
            date: b.exam_date,
            slot: b.slot_start.format("%H:%M").to_string(),
            package: b.package.clone(),
            state: b.state,
            kind: h.kind.clone(),
            flags: h.flags.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Hits {
    pub hits: Vec<SearchHit>,
}

/// A visit booked or registered, with the plan it was priced by.
#[derive(Debug, Serialize)]
pub(super) struct CreatedView {
    pub visit: Created,
    pub plan: Plan,
}

#[derive(Debug, Serialize)]
pub(super) struct ItemView {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub from_package: bool,
    pub paid: bool,
    pub status: ItemStatus,
    pub status_zh: &'static str,
    pub signed: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct PersonView {
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub id_number: String,
    pub mobile: String,
}

/// A visit as the desk shows it: booking, items, the person (masked) and
/// the documents it would print.
#[derive(Debug, Serialize)]
pub(super) struct VisitView {
    pub id: i64,
    pub code: String,
    pub exam_no: String,
    pub campus: String,
    pub package: String,
    pub package_code: Option<String>,
    pub date: NaiveDate,
    pub slot_start: String,
    pub slot_end: String,
    pub state: BookingState,
    pub state_reason: Option<String>,
    pub amount_due_fen: i64,
    pub kind: VisitKind,
    pub marital: Marital,
    pub flags: Vec<String>,
    /// As stored (fixed-width RFC 3339, UTC).
    pub registered_at: Option<String>,
    pub excluded: Vec<Excluded>,
    pub items: Vec<ItemView>,
    pub summary_blocked: bool,
    pub person: PersonView,
    pub documents: Documents,
}

impl VisitView {
    pub fn new(cat: &Catalogue, v: &Visit) -> Self {
        let (b, p) = (&v.record.booking, &v.record.person);
        let printed: Vec<DocItem> = v
            .items
            .iter()
            .filter(|i| !matches!(i.status, ItemStatus::Refunded | ItemStatus::Waived))
            .map(|i| DocItem {
                code: i.code.clone(),
                price_fen: i.price_fen,
                paid: i.paid,
            })
            .collect();
        let statuses: Vec<ItemStatus> = v.items.iter().map(|i| i.status).collect();
        Self {
            id: b.id,
            code: b.code.clone(),
            exam_no: b.exam_no.clone(),
            campus: b.campus.clone(),
            package: b.package.clone(),
            package_code: v.package_code.clone(),
            date: b.exam_date,
            slot_start: b.slot_start.format("%H:%M").to_string(),
            slot_end: b.slot_end.format("%H:%M").to_string(),
            state: b.state,
            state_reason: v.state_reason.clone(),
            amount_due_fen: b.amount_due_fen,
            kind: v.kind,
            marital: v.marital,
            flags: v.flags.clone(),
            registered_at: v.registered_at.map(crate::db::ts),
            excluded: v.excluded.clone(),
            items: v
                .items
                .iter()
                .map(|i| ItemView {
                    code: i.code.clone(),
                    name: cat
                        .item(&i.code)
                        .map_or_else(|| i.code.clone(), |it| it.name.clone()),
                    price_fen: i.price_fen,
                    from_package: i.from_package,
                    paid: i.paid,
                    status: i.status,
                    status_zh: i.status.label_zh(),
                    signed: i.signed,
                })
                .collect(),
            summary_blocked: changes::summary_blocked(&statuses),
            person: PersonView {
                name: p.name.clone(),
                sex: p.sex,
                birth_date: p.birth_date,
                id_number: mask::id_number(p.id_number.as_str()),
                mobile: mask::mobile(&p.mobile),
            },
            documents: documents::documents(cat, &b.campus, &b.exam_no, &printed),
        }
    }
}

/// An earlier visit of the same person.
#[derive(Debug, Serialize)]
pub(super) struct HistoryRow {
    pub id: i64,
    pub exam_no: String,
    pub date: NaiveDate,
    pub package: String,
    pub state: BookingState,
}

impl From<&Hit> for HistoryRow {
    fn from(h: &Hit) -> Self {
        let b = &h.record.booking;
        Self {
            id: b.id,
            exam_no: b.exam_no.clone(),
            date: b.exam_date,
            package: b.package.clone(),
            state: b.state,
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct VisitDetail {
    #[serde(flatten)]
    pub visit: VisitView,
    pub history: Vec<HistoryRow>,
}

#[derive(Debug, Serialize)]
pub(super) struct ItemChanged {
    #[serde(flatten)]
    pub visit: VisitView,
    pub refund_fen: i64,
}

#[derive(Debug, Serialize)]
pub(super) struct Paid {
    #[serde(flatten)]
    pub visit: VisitView,
    pub paid_fen: i64,
    /// E15: the episode and emergency receipt number of a charge taken in
    /// emergency mode (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency: Option<crate::emergency::Stamp>,
}

/// Lines of the operation log.
#[derive(Debug, Serialize)]
pub(crate) struct Operations {
    pub operations: Vec<OpLine>,
}
