//! The data the flow works on: who the patient is (the holder of the ID
//! card on the reader), where the answer about their bookings came from,
//! and each booking with what may be done with it now. The check-in core
//! produces these; the flow only reads them.

use exam_domain::slot::Eligibility;
use exam_domain::{IdNumber, Person};
use exam_protocol::BookingRecord;

/// Where the answer about a person's bookings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Online,
    /// The server did not answer in time; the offline cache did.
    OfflineCache,
}

/// A booking with what may be done with it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub record: BookingRecord,
    pub eligibility: Eligibility,
}

/// The answer to a lookup: the person and their bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub source: Source,
    pub person: Option<Person>,
    pub candidates: Vec<Candidate>,
}

impl Identified {
    pub fn ready(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.eligibility == Eligibility::Ready)
    }
}

/// The holder of the ID card on the reader. (The card's photo stays at
/// the edge that prints it and compares it: the flow never needs the
/// picture, only whether there is one.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id_number: IdNumber,
    pub name: String,
    /// The reader's vendor library decoded the card's photo (人证核验 can
    /// compare it with the holder's face).
    pub photo: bool,
}
