//! E3: exam numbers (体检号) by configurable rules; no number ever contains
//! the digit 4 (四 sounds like 死).
//!
//! Every rule is "a prefix, then the n-th number without a 4": the store
//! keeps one counter per rule scope (global, per day, per campus and day)
//! and hands out n = 1, 2, 3…; `format` turns n into the printed number.
//! Dates cannot be printed as dates (2026-11-24 has a 4), so the date part
//! is the day's number since 2020-01-01 written without 4s: short, sortable
//! within a width, and decodable by `day_of`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The n-th natural number (from 0) whose decimal digits contain no 4: n
/// written in base 9 with the digits 4..=8 shifted up by one.
pub fn nth_number_without_four(mut n: u64) -> u64 {
    let (mut out, mut place) = (0u64, 1u64);
    loop {
        let d = n % 9;
        out += if d >= 4 { d + 1 } else { d } * place;
        n /= 9;
        place *= 10;
        if n == 0 {
            return out;
        }
    }
}

/// The inverse of `nth_number_without_four`; None if `v` contains a 4.
pub fn index_of_number_without_four(mut v: u64) -> Option<u64> {
    let (mut out, mut place) = (0u64, 1u64);
    loop {
        let d = v % 10;
        if d == 4 {
            return None;
        }
        out += if d > 4 { d - 1 } else { d } * place;
        v /= 10;
        place *= 9;
        if v == 0 {
            return Some(out);
        }
    }
}

/// The first day of the date part.
pub fn day_zero() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid date")
}

const DAY_WIDTH: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ExamNoRule {
    /// One running serial for the whole centre, `width` digits.
    Serial { width: usize },
    /// Day part (5 digits) + a serial restarting each day.
    DateSerial { width: usize },
    /// Campus prefix + day part + a serial per campus and day.
    CampusDateSerial { width: usize },
}

impl Default for ExamNoRule {
    fn default() -> Self {
        ExamNoRule::DateSerial { width: 4 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExamNoError {
    #[error("serial {0} does not fit the rule's width; widen the rule")]
    Overflow(u64),
    #[error("campus prefix {0:?} must be digits without a 4")]
    BadPrefix(String),
    #[error("width must be between 3 and 12 digits")]
    BadWidth,
}

impl ExamNoRule {
    fn width(&self) -> usize {
        match *self {
            ExamNoRule::Serial { width }
            | ExamNoRule::DateSerial { width }
            | ExamNoRule::CampusDateSerial { width } => width,
        }
    }

    /// The counter a number under this rule is drawn from.
    pub fn scope(&self, campus: &str, day: NaiveDate) -> String {
        match self {
            ExamNoRule::Serial { .. } => "exam_no".into(),
            ExamNoRule::DateSerial { .. } => format!("exam_no:{day}"),
            ExamNoRule::CampusDateSerial { .. } => format!("exam_no:{campus}:{day}"),
        }
    }

    /// The `n`-th number (n ≥ 1) of the scope.
    pub fn format(
        &self,
        campus_prefix: &str,
        day: NaiveDate,
        n: u64,
    ) -> Result<String, ExamNoError> {
        let width = self.width();
        if !(3..=12).contains(&width) {
            return Err(ExamNoError::BadWidth);
        }
        let serial = nth_number_without_four(n);
        if serial.to_string().len() > width {
            return Err(ExamNoError::Overflow(n));
        }
        let day_part = || {
            let d = (day - day_zero()).num_days().max(0) as u64;
            format!("{:0DAY_WIDTH$}", nth_number_without_four(d))
        };
        Ok(match self {
            ExamNoRule::Serial { .. } => format!("{serial:0width$}"),
            ExamNoRule::DateSerial { .. } => format!("{}{serial:0width$}", day_part()),
            ExamNoRule::CampusDateSerial { .. } => {
                if campus_prefix.is_empty()
                    || !campus_prefix
                        .bytes()
                        .all(|b| b.is_ascii_digit() && b != b'4')
                {
                    return Err(ExamNoError::BadPrefix(campus_prefix.into()));
                }
                format!("{campus_prefix}{}{serial:0width$}", day_part())
            }
        })
    }
}

/// The exam day encoded in a date-rule number's day part.
pub fn day_of(day_part: &str) -> Option<NaiveDate> {
    let v: u64 = day_part.parse().ok()?;
    let d = index_of_number_without_four(v)?;
    day_zero().checked_add_days(chrono::Days::new(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_million_numbers_without_a_four_all_distinct_and_increasing() {
        let mut prev = None;
        for n in 0..1_000_000u64 {
            let v = nth_number_without_four(n);
            assert!(!v.to_string().contains('4'), "{n} -> {v}");
            assert!(prev.is_none_or(|p| p < v), "increasing at {n}");
            assert_eq!(index_of_number_without_four(v), Some(n));
            prev = Some(v);
        }
        // Nothing is skipped: every number below the last one without a 4 is hit.
        let last = prev.unwrap();
        let count = (0..=last).filter(|v| !v.to_string().contains('4')).count();
        assert_eq!(count, 1_000_000);
    }

    #[test]
    fn every_rule_over_a_million_serials_has_no_four() {
        let rules = [
            ExamNoRule::Serial { width: 8 },
            ExamNoRule::DateSerial { width: 7 },
            ExamNoRule::CampusDateSerial { width: 7 },
        ];
        // 2024-04-14 is full of 4s; its day part must not be.
        let d = day(2024, 4, 14);
        for rule in &rules {
            for n in (1..=1_000_000u64).step_by(7) {
                let s = rule.format("12", d, n).unwrap();
                assert!(!s.contains('4'), "{rule:?} {n} -> {s}");
            }
        }
    }

    #[test]
    fn the_day_part_round_trips_and_stays_five_digits_for_decades() {
        let mut d = day_zero();
        while d < day(2060, 1, 1) {
            let s = ExamNoRule::DateSerial { width: 4 }
                .format("", d, 1)
                .unwrap();
            assert_eq!(s.len(), 9, "{d} -> {s}");
            assert_eq!(day_of(&s[..5]), Some(d));
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn rules_format_as_documented() {
        let d = day(2026, 11, 22);
        assert_eq!(
            ExamNoRule::Serial { width: 6 }.format("", d, 4).unwrap(),
            "000005"
        );
        let s = ExamNoRule::CampusDateSerial { width: 4 }
            .format("2", d, 1)
            .unwrap();
        assert!(
            s.starts_with('2') && s.ends_with("0001") && s.len() == 10,
            "{s}"
        );
        assert_eq!(day_of(&s[1..6]), Some(d));
        assert_eq!(
            ExamNoRule::Serial { width: 3 }.format("", d, 729),
            Err(ExamNoError::Overflow(729)),
            "729 is 1000 in base 9: four digits"
        );
        assert!(ExamNoRule::Serial { width: 3 }.format("", d, 728).is_ok());
        assert_eq!(
            ExamNoRule::CampusDateSerial { width: 4 }.format("14", d, 1),
            Err(ExamNoError::BadPrefix("14".into()))
        );
        assert_eq!(
            ExamNoRule::Serial { width: 2 }.format("", d, 1),
            Err(ExamNoError::BadWidth)
        );
    }
}
