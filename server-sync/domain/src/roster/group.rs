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
        self.fits(row.sex, row.birth_date, row.marital, today)
    }

    /// Does a person of this sex, birth date and marital status fit?
    pub fn fits(
        &self,
        sex: Sex,
        birth_date: NaiveDate,
        marital: Marital,
        today: NaiveDate,
    ) -> bool {
        let age = age_on(birth_date, today);
        self.sex.is_none_or(|s| s == sex)
            && self.min_age.is_none_or(|min| age >= min)
            && self.max_age.is_none_or(|max| age <= max)
            && self.marital.is_none_or(|m| m == marital)
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

/// Index of the first rule that fits a stored member (regrouping).
pub fn assign_person(
    rules: &[GroupRule],
    p: &crate::Person,
    marital: Marital,
    today: NaiveDate,
) -> Option<usize> {
    rules
        .iter()
        .position(|r| r.fits(p.sex, p.birth_date, marital, today))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::IdNumber;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn person(birth: NaiveDate, sex: Sex, marital: Marital) -> RosterRow {
        let seq = if sex == Sex::Male { 1 } else { 2 };
        let id_number = IdNumber::compose("110105", birth, seq).unwrap();
        RosterRow {
            line: 2,
            name: "张三".into(),
            sex: id_number.sex(),
            birth_date: id_number.birth_date(),
            id_number,
            mobile: None,
            marital,
            department: None,
            employee_no: None,
            note: None,
        }
    }

    #[test]
    fn age_counts_whole_years() {
        let b = d(1980, 6, 15);
        assert_eq!(age_on(b, d(2020, 6, 14)), 39);
        assert_eq!(age_on(b, d(2020, 6, 15)), 40);
        assert_eq!(age_on(b, d(2020, 12, 31)), 40);
        assert_eq!(age_on(b, b), 0);
        assert_eq!(age_on(b, d(1970, 1, 1)), 0);
        let leap = d(2000, 2, 29);
        assert_eq!(age_on(leap, d(2001, 2, 28)), 0);
        assert_eq!(age_on(leap, d(2001, 3, 1)), 1);
        assert_eq!(age_on(leap, d(2004, 2, 29)), 4);
    }

    #[test]
    fn grouping_takes_the_first_fitting_rule_with_inclusive_ages() {
        let today = d(2026, 3, 1);
        let rules = [
            GroupRule {
                sex: Some(Sex::Female),
                marital: Some(Marital::Married),
                ..Default::default()
            },
            GroupRule {
                sex: Some(Sex::Female),
                marital: Some(Marital::Unmarried),
                ..Default::default()
            },
            GroupRule {
                min_age: Some(40),
                max_age: Some(49),
                ..Default::default()
            },
            GroupRule {
                min_age: Some(50),
                ..Default::default()
            },
            GroupRule {
                max_age: Some(39),
                sex: Some(Sex::Male),
                ..Default::default()
            },
        ];
        let g = |birth, sex, m| assign_group(&rules, &person(birth, sex, m), today);
        assert_eq!(g(d(1990, 1, 1), Sex::Female, Marital::Married), Some(0));
        assert_eq!(g(d(1990, 1, 1), Sex::Female, Marital::Unmarried), Some(1));
        // Unknown marital status skips both marital rules.
        assert_eq!(g(d(1980, 1, 1), Sex::Female, Marital::Unknown), Some(2));
        assert_eq!(g(d(1990, 1, 1), Sex::Female, Marital::Unknown), None);
        // Exactly 40 today, and one day short of 40.
        assert_eq!(g(d(1986, 3, 1), Sex::Male, Marital::Married), Some(2));
        assert_eq!(g(d(1986, 3, 2), Sex::Male, Marital::Married), Some(4));
        // Exactly 49 is in, 50 today moves on.
        assert_eq!(g(d(1976, 3, 2), Sex::Male, Marital::Unknown), Some(2));
        assert_eq!(g(d(1976, 3, 1), Sex::Male, Marital::Unknown), Some(3));
        // A stored member is grouped as their roster row would be.
        let row = person(d(1986, 3, 1), Sex::Male, Marital::Married);
        let member = crate::Person {
            id_number: row.id_number.clone(),
            name: row.name.clone(),
            sex: row.sex,
            birth_date: row.birth_date,
            mobile: String::new(),
        };
        assert_eq!(
            assign_person(&rules, &member, Marital::Married, today),
            Some(2)
        );
        assert_eq!(
            assign_person(&rules, &member, Marital::Unknown, today),
            assign_group(
                &rules,
                &person(d(1986, 3, 1), Sex::Male, Marital::Unknown),
                today
            )
        );
        assert_eq!(
            assign_group(
                &[],
                &person(d(1990, 1, 1), Sex::Male, Marital::Unknown),
                today
            ),
            None
        );
        // A rule for unknown status takes only those.
        let unknown = [GroupRule {
            marital: Some(Marital::Unknown),
            ..Default::default()
        }];
        assert_eq!(
            assign_group(
                &unknown,
                &person(d(1990, 1, 1), Sex::Male, Marital::Unknown),
                today
            ),
            Some(0)
        );
        assert_eq!(
            assign_group(
                &unknown,
                &person(d(1990, 1, 1), Sex::Male, Marital::Married),
                today
            ),
            None
        );
    }
}
