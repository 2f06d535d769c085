//! K17: self-service booking at the kiosk. The kiosk has read the person's
//! ID card; it asks what can be booked, books, rebooks or cancels. The
//! rules (items for the person, conflicts, slot capacity) are the front
//! desk's, applied by the server; refusals say why in words for the patient.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::catalogue::{Marital, SexRule};
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
