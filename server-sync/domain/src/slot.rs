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

/// The bookable slots of a day (the same at every campus unless configured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotTemplate {
    pub first: chrono::NaiveTime,
    pub last: chrono::NaiveTime,
    pub minutes: u32,
    pub capacity: u32,
}

impl Default for SlotTemplate {
    fn default() -> Self {
        Self {
            first: chrono::NaiveTime::from_hms_opt(7, 30, 0).expect("valid"),
            last: chrono::NaiveTime::from_hms_opt(10, 30, 0).expect("valid"),
            minutes: 30,
            capacity: 40,
        }
    }
}

impl SlotTemplate {
    /// (start, end) of each slot, in order.
    pub fn times(&self) -> Vec<(chrono::NaiveTime, chrono::NaiveTime)> {
        let step = Duration::minutes(i64::from(self.minutes.max(5)));
        let mut out = Vec::new();
        let mut t = self.first;
        while t <= self.last {
            let end = t + step;
            out.push((t, end));
            if end <= t {
                break; // wrapped past midnight
            }
            t = end;
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error("不能预约已经过去的时段")]
    Past,
    #[error("最多可预约 {0} 天内的时段")]
    TooFar(i64),
    #[error("该日没有这个时段")]
    NoSuchSlot,
}

/// How far ahead bookings open.
pub const BOOKING_HORIZON_DAYS: i64 = 60;

/// May a slot starting at `start` on `date` be booked at `now_local`?
pub fn bookable(
    template: &SlotTemplate,
    date: chrono::NaiveDate,
    start: chrono::NaiveTime,
    now_local: NaiveDateTime,
) -> Result<chrono::NaiveTime, BookError> {
    let (_, end) = template
        .times()
        .into_iter()
        .find(|(s, _)| *s == start)
        .ok_or(BookError::NoSuchSlot)?;
    if date.and_time(end) <= now_local {
        return Err(BookError::Past);
    }
    if (date - now_local.date()).num_days() > BOOKING_HORIZON_DAYS {
        return Err(BookError::TooFar(BOOKING_HORIZON_DAYS));
    }
    Ok(end)
}

/// Has a booked, unattended slot been given up (released for others)?
pub fn is_no_show(booking: &Booking, now_local: NaiveDateTime, grace: Duration) -> bool {
    booking.state == BookingState::Booked
        && booking.exam_date.and_time(booking.slot_end) + grace <= now_local
}

#[cfg(test)]
mod template_tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn template_slots_and_bookability() {
        let tpl = SlotTemplate::default();
        let times = tpl.times();
        assert_eq!(times.len(), 7);
        assert_eq!(times[0], (t(7, 30), t(8, 0)));
        assert_eq!(times[6], (t(10, 30), t(11, 0)));
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let now = day.and_time(t(8, 10));
        assert_eq!(bookable(&tpl, day, t(7, 30), now), Err(BookError::Past));
        assert_eq!(
            bookable(&tpl, day, t(8, 0), now),
            Ok(t(8, 30)),
            "still running"
        );
        assert_eq!(
            bookable(&tpl, day, t(8, 15), now),
            Err(BookError::NoSuchSlot)
        );
        let far = day + Duration::days(61);
        assert_eq!(
            bookable(&tpl, far, t(8, 0), now),
            Err(BookError::TooFar(60))
        );
    }
}
