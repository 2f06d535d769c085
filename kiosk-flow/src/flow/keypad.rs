//! The on-screen keypad (K4): an ID number and a mobile number typed by the
//! patient, checked before anything is looked up.

use exam_domain::{IdNumber, IdNumberError, IdentityQuery};

/// Which field the keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    IdNumber,
    Mobile,
}

/// Why the typed numbers cannot be looked up, shown under the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeypadError {
    IdNumber(IdNumberError),
    /// A mainland mobile number: 11 digits starting with 1.
    Mobile,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub id_number: String,
    pub mobile: String,
    pub field: Field,
    pub error: Option<KeypadError>,
}

/// A key of the keypad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Digit(u8),
    /// The check character X, only as an ID number's 18th character.
    X,
    Back,
}

impl Entry {
    pub fn press(&mut self, key: Key) {
        self.error = None;
        let (text, max) = match self.field {
            Field::IdNumber => (&mut self.id_number, 18),
            Field::Mobile => (&mut self.mobile, 11),
        };
        match key {
            // Deleting past the start of the mobile number goes back.
            Key::Back if text.pop().is_none() && self.field == Field::Mobile => {
                self.field = Field::IdNumber;
            }
            Key::Back => {}
            Key::Digit(d) if d <= 9 && text.len() < max => text.push(char::from(b'0' + d)),
            Key::X if self.field == Field::IdNumber && text.len() == 17 => text.push('X'),
            _ => {}
        }
        // A complete ID number moves on to the mobile number by itself.
        if self.field == Field::IdNumber && self.id_number.len() == 18 && key != Key::Back {
            self.field = Field::Mobile;
        }
    }

    /// The query to look up, or why not (kept in `error` for the screen).
    pub fn submit(&mut self) -> Option<IdentityQuery> {
        let id_number = match IdNumber::parse(&self.id_number) {
            Ok(id) => id,
            Err(e) => {
                self.error = Some(KeypadError::IdNumber(e));
                self.field = Field::IdNumber;
                return None;
            }
        };
        let m = self.mobile.as_bytes();
        if m.len() != 11 || m[0] != b'1' || !m.iter().all(u8::is_ascii_digit) {
            self.error = Some(KeypadError::Mobile);
            self.field = Field::Mobile;
            return None;
        }
        Some(IdentityQuery::IdNumberAndMobile {
            id_number,
            mobile: self.mobile.clone(),
        })
    }
}
