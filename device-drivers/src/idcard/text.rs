//! The 256-byte UCS-2LE text block of an identity card, in its three
//! layouts: the resident ID card, the foreign permanent resident ID card
//! (card type 'I') and the Hong Kong / Macau / Taiwan residence permit
//! (card type 'J'). The card type sits at bytes 248..250.

use chrono::NaiveDate;
use exam_domain::{IdNumber, Sex};
use serde::{Deserialize, Serialize};

pub const TEXT_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// 居民身份证
    Resident,
    /// 外国人永久居留身份证
    ForeignPermanentResident,
    /// 港澳台居民居住证
    HkMacaoTaiwanResident,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ValidUntil {
    Date {
        date: NaiveDate,
    },
    /// 长期: valid for life.
    LongTerm,
}

/// What an identity card says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardText {
    pub kind: CardKind,
    /// Chinese name (for foreigners, the Chinese name if any, else the English one).
    pub name: String,
    pub english_name: Option<String>,
    pub sex: Sex,
    /// GB 3304 ethnicity code for residents ("01" is Han); nationality code for foreigners.
    pub ethnicity_or_nationality: String,
    pub birth_date: NaiveDate,
    pub address: Option<String>,
    /// The ID number (residents, HMT permits) or the permit number (foreigners).
    pub number: String,
    pub authority: String,
    pub valid_from: NaiveDate,
    pub valid_until: ValidUntil,
    /// HMT permits: the travel permit number and how many times issued.
    pub pass_number: Option<String>,
}

impl CardText {
    /// The number as a validated resident identity number (residents and
    /// HMT permit holders have one; foreigners do not).
    pub fn id_number(&self) -> Option<IdNumber> {
        IdNumber::parse(&self.number).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("card text must be {TEXT_LEN} bytes, got {0}")]
    Length(usize),
    #[error("card text field {field} is not valid UCS-2")]
    Encoding { field: &'static str },
    #[error("card text field {field} is malformed: {value:?}")]
    Field { field: &'static str, value: String },
    #[error("the ID number on the card is invalid: {0}")]
    IdNumber(#[from] exam_domain::IdNumberError),
}

/// UCS-2LE to a trimmed String (cards pad with spaces).
fn ucs2(bytes: &[u8], field: &'static str) -> Result<String, TextError> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let s = String::from_utf16(&units).map_err(|_| TextError::Encoding { field })?;
    Ok(
        s.trim_matches(|c: char| c == ' ' || c == '\0' || c == '\u{3000}')
            .to_string(),
    )
}

/// A card's dates are exactly eight digits, YYYYMMDD. chrono's `%Y` alone would
/// also take a sign and fewer digits ("-98　010"), which then writes back differently.
fn date(s: &str, field: &'static str) -> Result<NaiveDate, TextError> {
    let invalid = || TextError::Field {
        field,
        value: s.into(),
    };
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| invalid())
}

fn sex(s: &str) -> Result<Sex, TextError> {
    match s {
        "1" => Ok(Sex::Male),
        "2" => Ok(Sex::Female),
        other => Err(TextError::Field {
            field: "sex",
            value: other.into(),
        }),
    }
}

fn until(s: &str) -> Result<ValidUntil, TextError> {
    if s == "长期" {
        return Ok(ValidUntil::LongTerm);
    }
    date(s, "valid_until").map(|date| ValidUntil::Date { date })
}

/// Field layout: (offset, length) in bytes.
struct Cut<'a>(&'a [u8]);
impl Cut<'_> {
    fn s(&self, off: usize, len: usize, field: &'static str) -> Result<String, TextError> {
        ucs2(&self.0[off..off + len], field)
    }
}

pub fn parse(bytes: &[u8]) -> Result<CardText, TextError> {
    if bytes.len() != TEXT_LEN {
        return Err(TextError::Length(bytes.len()));
    }
    let t = Cut(bytes);
    let card_type = t.s(248, 2, "card_type")?;
    match card_type.as_str() {
        "I" => parse_foreign(&t),
        "J" => parse_resident(&t, CardKind::HkMacaoTaiwanResident),
        _ => parse_resident(&t, CardKind::Resident),
    }
}

fn parse_resident(t: &Cut<'_>, kind: CardKind) -> Result<CardText, TextError> {
    let number = t.s(122, 36, "id_number")?;
    let id = IdNumber::parse(&number)?;
    let birth_date = date(&t.s(36, 16, "birth_date")?, "birth_date")?;
    if birth_date != id.birth_date() {
        return Err(TextError::Field {
            field: "birth_date",
            value: "does not match the ID number".into(),
        });
    }
    let hmt = kind == CardKind::HkMacaoTaiwanResident;
    Ok(CardText {
        kind,
        name: t.s(0, 30, "name")?,
        english_name: None,
        sex: sex(&t.s(30, 2, "sex")?)?,
        ethnicity_or_nationality: if hmt {
            String::new()
        } else {
            t.s(32, 4, "ethnicity")?
        },
        birth_date,
        address: Some(t.s(52, 70, "address")?),
        number: id.as_str().to_string(),
        authority: t.s(158, 30, "authority")?,
        valid_from: date(&t.s(188, 16, "valid_from")?, "valid_from")?,
        valid_until: until(&t.s(204, 16, "valid_until")?)?,
        pass_number: if hmt {
            Some(t.s(220, 18, "pass_number")?)
        } else {
            None
        },
    })
}

fn parse_foreign(t: &Cut<'_>) -> Result<CardText, TextError> {
    let english = t.s(0, 120, "english_name")?;
    let chinese = t.s(158, 30, "chinese_name")?;
    let number = t.s(122, 30, "permit_number")?;
    if number.len() != 15 || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TextError::Field {
            field: "permit_number",
            value: number,
        });
    }
    Ok(CardText {
        kind: CardKind::ForeignPermanentResident,
        name: if chinese.is_empty() {
            english.clone()
        } else {
            chinese
        },
        english_name: Some(english),
        sex: sex(&t.s(120, 2, "sex")?)?,
        ethnicity_or_nationality: t.s(152, 6, "nationality")?,
        birth_date: date(&t.s(220, 16, "birth_date")?, "birth_date")?,
        address: None,
        number,
        authority: t.s(240, 8, "authority")?,
        valid_from: date(&t.s(188, 16, "valid_from")?, "valid_from")?,
        valid_until: until(&t.s(204, 16, "valid_until")?)?,
        pass_number: None,
    })
}

/// Writes a card's text block (used by the simulator and tests): the
/// inverse of [`parse`].
pub fn encode(c: &CardText) -> Vec<u8> {
    let mut b = vec![0u8; TEXT_LEN];
    let mut put = |off: usize, len: usize, s: &str| {
        let mut units: Vec<u16> = s.encode_utf16().take(len / 2).collect();
        units.resize(len / 2, u16::from(b' '));
        for (i, u) in units.iter().enumerate() {
            b[off + 2 * i..off + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
    };
    let sex = if c.sex == Sex::Male { "1" } else { "2" };
    let until = match &c.valid_until {
        ValidUntil::LongTerm => "长期".to_string(),
        ValidUntil::Date { date } => date.format("%Y%m%d").to_string(),
    };
    let from = c.valid_from.format("%Y%m%d").to_string();
    let birth = c.birth_date.format("%Y%m%d").to_string();
    match c.kind {
        CardKind::Resident | CardKind::HkMacaoTaiwanResident => {
            put(0, 30, &c.name);
            put(30, 2, sex);
            put(32, 4, &c.ethnicity_or_nationality);
            put(36, 16, &birth);
            put(52, 70, c.address.as_deref().unwrap_or(""));
            put(122, 36, &c.number);
            put(158, 30, &c.authority);
            put(188, 16, &from);
            put(204, 16, &until);
            put(220, 28, c.pass_number.as_deref().unwrap_or(""));
            put(
                248,
                2,
                if c.kind == CardKind::Resident {
                    " "
                } else {
                    "J"
                },
            );
            put(250, 6, "");
        }
        CardKind::ForeignPermanentResident => {
            put(0, 120, c.english_name.as_deref().unwrap_or(&c.name));
            put(120, 2, sex);
            put(122, 30, &c.number);
            put(152, 6, &c.ethnicity_or_nationality);
            put(
                158,
                30,
                if c.english_name.as_deref() == Some(c.name.as_str()) {
                    ""
                } else {
                    &c.name
                },
            );
            put(188, 16, &from);
            put(204, 16, &until);
            put(220, 16, &birth);
            put(236, 4, "01");
            put(240, 8, &c.authority);
            put(248, 2, "I");
            put(250, 6, "");
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn resident() -> CardText {
        CardText {
            kind: CardKind::Resident,
            name: "张三明".into(),
            english_name: None,
            sex: Sex::Female,
            ethnicity_or_nationality: "01".into(),
            birth_date: NaiveDate::from_ymd_opt(1949, 12, 31).unwrap(),
            address: Some("江苏省扬州市广陵区文昌中路100号".into()),
            number: "11010519491231002X".into(),
            authority: "扬州市公安局广陵分局".into(),
            valid_from: NaiveDate::from_ymd_opt(2015, 3, 1).unwrap(),
            valid_until: ValidUntil::LongTerm,
            pass_number: None,
        }
    }

    #[test]
    fn resident_round_trip_and_long_term_validity() {
        let c = resident();
        let b = encode(&c);
        assert_eq!(b.len(), TEXT_LEN);
        assert_eq!(parse(&b).unwrap(), c);
        assert_eq!(c.id_number().unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn hmt_permit_and_foreign_card() {
        let mut h = resident();
        h.kind = CardKind::HkMacaoTaiwanResident;
        h.ethnicity_or_nationality = String::new();
        h.number = crate::idcard::text::tests::hmt_number();
        h.birth_date = NaiveDate::from_ymd_opt(1990, 5, 6).unwrap();
        h.pass_number = Some("H12345678".into());
        h.valid_until = ValidUntil::Date {
            date: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        };
        assert_eq!(parse(&encode(&h)).unwrap(), h);

        let f = CardText {
            kind: CardKind::ForeignPermanentResident,
            name: "史密斯".into(),
            english_name: Some("SMITH, JOHN".into()),
            sex: Sex::Male,
            ethnicity_or_nationality: "USA".into(),
            birth_date: NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(),
            address: None,
            number: "USA310080010238".into(),
            authority: "1500".into(),
            valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            valid_until: ValidUntil::Date {
                date: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            },
            pass_number: None,
        };
        let back = parse(&encode(&f)).unwrap();
        assert_eq!(back, f);
        assert!(back.id_number().is_none());
    }

    pub(crate) fn hmt_number() -> String {
        // HMT permit numbers start 810000 (HK), 820000 (Macao), 830000 (Taiwan).
        IdNumber::compose("810000", NaiveDate::from_ymd_opt(1990, 5, 6).unwrap(), 123)
            .unwrap()
            .to_string()
    }

    #[test]
    fn refuses_malformed_text() {
        assert_eq!(parse(&[0; 10]), Err(TextError::Length(10)));
        let mut c = resident();
        c.number = "110105194912310021".into();
        assert!(matches!(parse(&encode(&c)), Err(TextError::IdNumber(_))));
        let mut c = resident();
        c.birth_date = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        assert!(matches!(
            parse(&encode(&c)),
            Err(TextError::Field {
                field: "birth_date",
                ..
            })
        ));
        let mut b = encode(&resident());
        b[30] = b'9';
        assert!(matches!(
            parse(&b),
            Err(TextError::Field { field: "sex", .. })
        ));
        // A signed, short year that chrono's `%Y` would take (found by the fuzzer).
        let mut b = encode(&resident());
        for (i, u) in "-98\u{3000}010 ".encode_utf16().enumerate() {
            b[36 + 2 * i..38 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        assert!(matches!(
            parse(&b),
            Err(TextError::Field {
                field: "birth_date",
                ..
            })
        ));
        let mut b = encode(&resident());
        b[0..2].copy_from_slice(&0xD800u16.to_le_bytes()); // lone surrogate
        assert_eq!(parse(&b), Err(TextError::Encoding { field: "name" }));
    }
}
