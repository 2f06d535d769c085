//! K8: time-slot bookings. Documents print from shortly before the slot
//! until the end of the exam day; never before, never on another day.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::{Booking, BookingState};

/// How early before the slot a patient may print.
pub const EARLY_WINDOW: Duration = Duration::minutes(30);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Eligibility {
    Ready,
    /// Too early: printing opens at `opens_at` (local time).
    TooEarly {
        opens_at: NaiveDateTime,
    },
    NotToday,
    /// Booked at another campus: the patient must go there.
    OtherCampus {
        campus: String,
    },
    AlreadyCheckedIn,
    Cancelled,
}

/// Decides whether this booking may be checked in and printed now.
pub fn eligibility(booking: &Booking, kiosk_campus: &str, now_local: NaiveDateTime) -> Eligibility {
    match booking.state {
        BookingState::Cancelled => return Eligibility::Cancelled,
        BookingState::CheckedIn => return Eligibility::AlreadyCheckedIn,
        BookingState::Booked => {}
    }
    if booking.campus != kiosk_campus {
        return Eligibility::OtherCampus {
            campus: booking.campus.clone(),
        };
    }
    if booking.exam_date != now_local.date() {
        return Eligibility::NotToday;
    }
    let opens_at = booking.exam_date.and_time(booking.slot_start) - EARLY_WINDOW;
    if now_local < opens_at {
        return Eligibility::TooEarly { opens_at };
    }
    Eligibility::Ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdNumber;
    use chrono::{NaiveDate, NaiveTime};

    fn booking(state: BookingState) -> Booking {
        Booking {
            id: 1,
            code: "B1".into(),
            exam_no: "E1".into(),
            id_number: IdNumber::parse("11010519491231002X").unwrap(),
            campus: "main".into(),
            package: "basic".into(),
            exam_date: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            slot_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            slot_end: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            amount_due_fen: 0,
            state,
        }
    }

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn slot_rules() {
        let b = booking(BookingState::Booked);
        assert_eq!(
            eligibility(&b, "main", at(8, 29)),
            Eligibility::TooEarly {
                opens_at: at(8, 30)
            }
        );
        assert_eq!(eligibility(&b, "main", at(8, 30)), Eligibility::Ready);
        assert_eq!(
            eligibility(&b, "east", at(9, 0)),
            Eligibility::OtherCampus {
                campus: "main".into()
            }
        );
        assert_eq!(eligibility(&b, "main", at(16, 0)), Eligibility::Ready);
        assert_eq!(
            eligibility(&b, "main", at(8, 30) + Duration::days(1)),
            Eligibility::NotToday
        );
        assert_eq!(
            eligibility(&booking(BookingState::CheckedIn), "main", at(9, 0)),
            Eligibility::AlreadyCheckedIn
        );
        assert_eq!(
            eligibility(&booking(BookingState::Cancelled), "main", at(9, 0)),
            Eligibility::Cancelled
        );
    }
}
