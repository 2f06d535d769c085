//! Resident identity numbers (GB 11643-1999): 17 digits and a check character.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::model::Sex;

/// A validated 18-character resident identity number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters, this one has {0}")]
    Length(usize),
    #[error("an ID number has digits only, with an optional X at the end")]
    Characters,
    #[error("the birth date in the ID number is not a real date")]
    BirthDate,
    #[error("the ID number's check character is wrong (expected {expected})")]
    CheckDigit { expected: char },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl IdNumber {
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdNumberError::Length(n));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::Characters);
        }
        let first17: &[u8; 17] = b[..17].try_into().expect("17 bytes");
        Self::birth_date_of(&s).ok_or(IdNumberError::BirthDate)?;
        let expected = check_char(first17);
        if expected != char::from(b[17]) {
            return Err(IdNumberError::CheckDigit { expected });
        }
        Ok(Self(s))
    }

    /// Builds a valid number from an area code, a birth date and a 3-digit sequence.
    pub fn compose(area: &str, birth: NaiveDate, seq: u16) -> Result<Self, IdNumberError> {
        let first17 = format!("{area:0>6.6}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
        let bytes: &[u8; 17] = first17
            .as_bytes()
            .try_into()
            .map_err(|_| IdNumberError::Length(first17.len() + 1))?;
        let c = check_char(bytes);
        Self::parse(&format!("{first17}{c}"))
    }

    fn birth_date_of(s: &str) -> Option<NaiveDate> {
        let d = NaiveDate::parse_from_str(s.get(6..14)?, "%Y%m%d").ok()?;
        // Nobody alive was born before 1890; a date in the future is a typo.
        (d.year_ce().1 >= 1890).then_some(d)
    }

    pub fn birth_date(&self) -> NaiveDate {
        Self::birth_date_of(&self.0).expect("validated at parse")
    }

    /// The 17th digit is odd for men and even for women.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

use chrono::Datelike;

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output is masked: ID numbers must not reach logs in full.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", crate::mask::id_number(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_standard_example() {
        // The worked example of GB 11643-1999.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(IdNumber::parse("11010519491231002x").is_ok());
    }

    #[test]
    fn refuses_bad_numbers_with_reasons() {
        assert_eq!(IdNumber::parse("123"), Err(IdNumberError::Length(3)));
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit { expected: 'X' })
        );
        assert_eq!(
            IdNumber::parse("11010519490231002X"),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100AX"),
            Err(IdNumberError::Characters)
        );
        assert_eq!(
            IdNumber::parse("１１０１０５１９４９１２３１００２X").unwrap_err(),
            IdNumberError::Characters
        );
    }

    #[test]
    fn compose_round_trips() {
        let d = NaiveDate::from_ymd_opt(1980, 2, 29).unwrap();
        let id = IdNumber::compose("321002", d, 17).unwrap();
        assert_eq!(id.birth_date(), d);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(&id.as_str()[..6], "321002");
        assert!(format!("{id:?}").contains("****"));
    }
}
