//! The exam centre's domain rules, as pure functions and plain data.
//!
//! Nothing here touches a clock, a disk or a network: callers pass `now`
//! in, so kiosk, server and tests all drive the same rules directly.

pub mod abnormal;
pub mod abnormal_case;
pub mod booking_code;
pub mod catalogue;
pub mod changes;
pub mod demo;
pub mod documents;
pub mod exam_no;
pub mod group_exam;
pub mod id_number;
pub mod mask;
pub mod model;
pub mod password;
pub mod plan;
pub mod privacy;
pub mod queue;
pub mod results;
pub mod roster;
pub mod slot;
pub mod specimen;

pub use catalogue::{Catalogue, Marital};
pub use id_number::{IdNumber, IdNumberError};
pub use model::{Booking, BookingState, IdentityQuery, Person, Sex};

/// The centre's wall-clock offset. Exam dates and slots are local times;
/// China has one time zone and no daylight saving, so a fixed offset is exact.
pub fn centre_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}
