//! K17: self-service booking at the kiosk. The kiosk has read the person's
//! ID card; it asks what can be booked, books, rebooks or cancels. The
//! rules (items for the person, conflicts, slot capacity) are the front
//! desk's, applied by the server; refusals say why in words for the patient.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::catalogue::{Catalogue, Marital, SexRule};
use exam_domain::plan::{Plan, PlanRequest};
use exam_domain::{Booking, IdNumber};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOptionsRequest {
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageOption {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub sex: SexRule,
    /// Item codes in the package, so the kiosk can say at once which add-on
    /// conflicts with what the package holds.
    #[serde(default)]
    pub items: Vec<String>,
}

/// An item a patient may add on at the kiosk, with every item it may not
/// be booked with (from either side of the catalogue's conflict list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonOption {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub sex: SexRule,
    /// Where to ask when a conflict keeps the patient from booking it here.
    pub department: String,
    #[serde(default)]
    pub conflicts: Vec<AddonConflict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonConflict {
    pub with: String,
    pub with_name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOption {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// Places left; 0 means full.
    pub left: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOptions {
    pub date: NaiveDate,
    pub packages: Vec<PackageOption>,
    pub slots: Vec<SlotOption>,
    #[serde(default)]
    pub addons: Vec<AddonOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfBookRequest {
    pub id_number: IdNumber,
    pub name: String,
    #[serde(default)]
    pub mobile: String,
    pub marital: Marital,
    pub plan: PlanRequest,
    pub date: NaiveDate,
    pub slot_start: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfBooked {
    pub booking: Booking,
    /// What the person gets and pays, with what was left out and why.
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfRebookRequest {
    /// The booking code, and the ID number it must belong to.
    pub code: String,
    pub id_number: IdNumber,
    pub date: NaiveDate,
    pub slot_start: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCancelRequest {
    pub code: String,
    pub id_number: IdNumber,
    pub reason: String,
}

impl BookingOptions {
    /// The options of a day: the catalogue's packages and self-service
    /// add-ons, and the day's bookable slots.
    pub fn new(cat: &Catalogue, date: NaiveDate, slots: Vec<SlotOption>) -> Self {
        let packages = cat
            .packages
            .iter()
            .map(|p| PackageOption {
                code: p.code.clone(),
                name: p.name.clone(),
                price_fen: p.price_fen,
                sex: p.sex,
                items: p.items.clone(),
            })
            .collect();
        Self {
            date,
            packages,
            slots,
            addons: addons(cat),
        }
    }
}

/// The self-service add-ons with every conflict that involves them: the
/// catalogue lists a pair once, on either item.
fn addons(cat: &Catalogue) -> Vec<AddonOption> {
    exam_domain::catalogue::seed::SELF_SERVICE_ADDONS
        .iter()
        .filter_map(|code| cat.item(code))
        .map(|item| {
            let conflicts = cat
                .items
                .iter()
                .filter(|o| o.code != item.code)
                .filter_map(|o| {
                    exam_domain::plan::conflict(item, o).map(|reason| AddonConflict {
                        with: o.code.clone(),
                        with_name: o.name.clone(),
                        reason: reason.into(),
                    })
                })
                .collect();
            let department = cat
                .departments
                .iter()
                .find(|d| d.code == item.department)
                .map_or_else(|| item.department.clone(), |d| d.name.clone());
            AddonOption {
                code: item.code.clone(),
                name: item.name.clone(),
                price_fen: item.price_fen,
                sex: item.sex,
                department,
                conflicts,
            }
        })
        .collect()
}
