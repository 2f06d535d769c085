//! 智能分组: putting each person of a roster into the first group whose
//! rule fits (sex, age on the exam day, marital status).

use chrono::{Datelike, NaiveDate};

use super::RosterRow;
use crate::{Marital, Sex};

/// One group's rule; `None` means “any”. Ages are whole years on `today`,
/// both bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupRule {
    pub sex: Option<Sex>,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// `Some(Married)` takes only people known to be married (incl.
    /// divorced, widowed), `Some(Unmarried)` only people known to be
    /// unmarried; people whose status is unknown fall to rules with `None`
    /// (or to an explicit `Some(Unknown)` rule).
    pub marital: Option<Marital>,
}

impl GroupRule {
    pub fn matches(&self, row: &RosterRow, today: NaiveDate) -> bool {
        let age = age_on(row.birth_date, today);
        self.sex.is_none_or(|s| s == row.sex)
            && self.min_age.is_none_or(|min| age >= min)
            && self.max_age.is_none_or(|max| age <= max)
            && self.marital.is_none_or(|m| m == row.marital)
    }
}

/// Age in whole years on `today` (0 before birth). Someone born on 29
/// February turns a year older on 1 March in common years.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    if today <= birth {
        return 0;
    }
    let years = today.year() - birth.year();
    let before_birthday = (today.month(), today.day()) < (birth.month(), birth.day());
    u32::try_from(years - i32::from(before_birthday)).unwrap_or(0)
}

/// Index of the first rule that fits the row, if any.
pub fn assign_group(rules: &[GroupRule], row: &RosterRow, today: NaiveDate) -> Option<usize> {
    rules.iter().position(|r| r.matches(row, today))
}
