//! Reading one cell's text as a name, sex, date, mobile or marital status.

use chrono::{Datelike, NaiveDate};

use crate::{IdNumberError, Marital, Sex};

/// A cell as quoted back in an error: long ones are shortened.
pub(crate) fn preview(s: &str) -> String {
    const KEEP: usize = 40;
    let s = s.trim();
    if s.chars().count() > KEEP {
        let head: String = s.chars().take(KEEP).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

pub(crate) fn name_problem(name: &str) -> Option<String> {
    let n = name.chars().count();
    if n > super::MAX_NAME_CHARS {
        return Some(format!(
            "姓名有 {n} 个字，最多 {} 个字",
            super::MAX_NAME_CHARS
        ));
    }
    if name
        .chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
    {
        return Some("姓名里不能有数字，请检查是否与其他列错位".into());
    }
    None
}

/// Tolerates what spreadsheets do to ID numbers: spaces, full-width
/// digits, a leading `'` that forced text, a lower-case x.
pub(crate) fn normalise_id(s: &str) -> String {
    s.trim()
        .trim_start_matches(['\'', '‘', '’'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' | 'Ｘ' | 'ｘ' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// What is wrong with an ID number, in words a desk operator understands.
pub fn id_number_problem(e: &IdNumberError) -> String {
    match e {
        IdNumberError::Length(n) => format!("身份证号应为 18 位，这里是 {n} 位"),
        IdNumberError::Characters => "身份证号只能是数字，最后一位可以是 X".into(),
        IdNumberError::BirthDate => "身份证号第 7–14 位的出生日期不是有效日期".into(),
        IdNumberError::CheckDigit { expected } => {
            format!("身份证号校验位不对（按前 17 位，最后一位应为 {expected}），请核对是否抄错")
        }
    }
}

pub(crate) fn parse_sex(s: &str) -> Option<Sex> {
    match s.trim().to_lowercase().as_str() {
        "男" | "男性" | "m" | "male" | "1" => Some(Sex::Male),
        "女" | "女性" | "f" | "female" | "2" => Some(Sex::Female),
        _ => None,
    }
}

pub(crate) fn sex_zh(s: Sex) -> &'static str {
    match s {
        Sex::Male => "男",
        Sex::Female => "女",
    }
}

/// A birth date as written: a whole date, or only year and month (a
/// column named 出生年月 often has just that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Birth {
    Date(NaiveDate),
    Month { year: i32, month: u32 },
}

impl Birth {
    pub(crate) fn agrees_with(self, d: NaiveDate) -> bool {
        match self {
            Birth::Date(b) => b == d,
            Birth::Month { year, month } => d.year() == year && d.month() == month,
        }
    }
}

/// The date of an Excel serial day number (1900 date system, which counts
/// the non-existent 1900-02-29 as day 60). `None` outside Excel's range.
pub fn excel_serial_date(serial: u32) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    match serial {
        1..=59 => epoch.checked_add_days(chrono::Days::new(u64::from(serial) + 1)),
        61..=2_958_465 => epoch.checked_add_days(chrono::Days::new(u64::from(serial))),
        _ => None,
    }
}

fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

fn ymd(y: &str, m: &str, d: Option<&str>) -> Option<Birth> {
    let year = i32::try_from(digits(y, 4, 4)?).ok()?;
    let month = digits(m, 1, 2)?;
    match d {
        None => (1..=12)
            .contains(&month)
            .then_some(Birth::Month { year, month }),
        Some(d) => NaiveDate::from_ymd_opt(year, month, digits(d, 1, 2)?).map(Birth::Date),
    }
}

/// 1980-01-02, 1980/1/2, 1980.1.2, 19800102, 1980年1月2日, a time after the
/// date, year and month alone (1980-01, 198001, 1980年1月), or an Excel serial
/// day number such as 29222.
pub(crate) fn parse_birth(s: &str) -> Option<Birth> {
    let s = s.trim();
    // "1980-01-02 00:00:00", "1980-01-02T00:00:00"
    let s = s.split([' ', 'T']).next().unwrap_or(s);
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            8 => ymd(&s[..4], &s[4..6], Some(&s[6..])),
            6 => ymd(&s[..4], &s[4..], None),
            1..=7 => excel_serial_date(s.parse().ok()?).map(Birth::Date),
            _ => None,
        };
    }
    // A number as a spreadsheet may print it: "29222.0".
    if let Some(whole) = s.strip_suffix(".0")
        && !whole.is_empty()
        && whole.len() <= 7
        && whole.bytes().all(|b| b.is_ascii_digit())
    {
        return excel_serial_date(whole.parse().ok()?).map(Birth::Date);
    }
    let s = s.strip_suffix(['日', '号']).unwrap_or(s);
    let parts: Vec<&str> = s.split(['-', '/', '.', '年', '月']).collect();
    match parts.as_slice() {
        // "1980年1月" splits into ["1980", "1", ""].
        [y, m, ""] if s.ends_with('月') => ymd(y, m, None),
        [y, m, d] => ymd(y, m, Some(d)),
        [y, m] => ymd(y, m, None),
        _ => None,
    }
}

/// A mainland mobile number, normalised to its 11 digits. Spaces, dashes
/// and a +86 / 0086 / 86 prefix are allowed.
pub fn parse_mobile(s: &str) -> Option<String> {
    let digits: String = s
        .trim()
        .trim_start_matches(['\'', '+', '＋'])
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '－' | '—' | '(' | ')')))
        .collect();
    let digits = match digits.len() {
        15 => digits.strip_prefix("0086")?,
        13 => digits.strip_prefix("86")?,
        _ => &digits,
    };
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then(|| digits.to_string())
}

/// 已婚/未婚/离异/丧偶 (divorced and widowed count as married in the
/// centre's usage), also 是/否 under a 婚否 header.
pub(crate) fn parse_marital(s: &str) -> Option<Marital> {
    match s.trim().to_lowercase().as_str() {
        "已婚" | "离异" | "离婚" | "丧偶" | "再婚" | "是" | "married" | "divorced" | "widowed" => {
            Some(Marital::Married)
        }
        "未婚" | "否" | "unmarried" | "single" => Some(Marital::Unmarried),
        "未知" | "不详" | "unknown" => Some(Marital::Unknown),
        _ => None,
    }
}
