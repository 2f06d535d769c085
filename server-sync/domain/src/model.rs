//! The data both kiosk and server reason about.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::IdNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// A person as the centre knows them. Full data: mask before display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id_number: IdNumber,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub mobile: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    Booked,
    CheckedIn,
    Cancelled,
}

impl BookingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::CheckedIn => "checked_in",
            BookingState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "booked" => Some(Self::Booked),
            "checked_in" => Some(Self::CheckedIn),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// One booked exam visit. Times are the centre's local wall clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: i64,
    /// The code in the booking QR (what the patient shows on a phone).
    pub code: String,
    /// 体检号, printed as a barcode.
    pub exam_no: String,
    pub id_number: IdNumber,
    pub campus: String,
    pub package: String,
    pub exam_date: NaiveDate,
    pub slot_start: NaiveTime,
    pub slot_end: NaiveTime,
    /// Unpaid amount in fen (分); 0 when paid or prepaid by the employer.
    pub amount_due_fen: i64,
    pub state: BookingState,
}

/// The ways a patient identifies at a kiosk (K1, K2, K4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum IdentityQuery {
    IdNumber { id_number: IdNumber },
    BookingCode { code: String },
    ExamNo { exam_no: String },
    IdNumberAndMobile { id_number: IdNumber, mobile: String },
}

impl IdentityQuery {
    /// Which way of identifying this is, for the journal and the staff page.
    pub fn method(&self) -> &'static str {
        match self {
            IdentityQuery::IdNumber { .. } => "id_card",
            IdentityQuery::BookingCode { .. } => "booking_qr",
            IdentityQuery::ExamNo { .. } => "exam_no",
            IdentityQuery::IdNumberAndMobile { .. } => "id_and_mobile",
        }
    }

    /// Does this booking (of this person) answer the query?
    pub fn matches(&self, booking: &Booking, person: Option<&Person>) -> bool {
        match self {
            IdentityQuery::IdNumber { id_number } => &booking.id_number == id_number,
            IdentityQuery::BookingCode { code } => booking.code == *code,
            IdentityQuery::ExamNo { exam_no } => booking.exam_no == *exam_no,
            IdentityQuery::IdNumberAndMobile { id_number, mobile } => {
                &booking.id_number == id_number && person.is_some_and(|p| p.mobile == *mobile)
            }
        }
    }
}
