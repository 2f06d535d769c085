//! 团检名单: the checks on a group-exam roster a company sends in a
//! spreadsheet. The table arrives as rows of cell text (the reader crate
//! `exam-roster` turns .xlsx/.xls/.csv into that); here we find the header
//! row, check every data row and say, in Chinese, what is wrong where.
//!
//! Pure: no I/O, no clock. Grouping by age takes `today` from the caller.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::{IdNumber, Marital, Sex};

mod group;
mod header;
mod values;

#[cfg(test)]
mod tests;

pub use group::{GroupRule, age_on, assign_group, assign_person};
pub use header::{HEADER_SEARCH_ROWS, Header, HeaderError, recognise_header};
pub use values::{excel_serial_date, id_number_problem, parse_mobile};

/// Most data rows one roster may carry.
pub const MAX_ROWS: usize = 50_000;
/// Longest cell, in characters.
pub const MAX_CELL_CHARS: usize = 200;
/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 30;

/// A column the roster knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    IdNumber,
    Sex,
    BirthDate,
    Mobile,
    Marital,
    Department,
    EmployeeNo,
    Note,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Name,
        Field::IdNumber,
        Field::Sex,
        Field::BirthDate,
        Field::Mobile,
        Field::Marital,
        Field::Department,
        Field::EmployeeNo,
        Field::Note,
    ];

    /// Columns a roster cannot do without.
    pub const REQUIRED: [Field; 2] = [Field::Name, Field::IdNumber];

    pub fn label_zh(self) -> &'static str {
        match self {
            Field::Name => "姓名",
            Field::IdNumber => "身份证号",
            Field::Sex => "性别",
            Field::BirthDate => "出生日期",
            Field::Mobile => "手机号",
            Field::Marital => "婚姻状况",
            Field::Department => "部门",
            Field::EmployeeNo => "工号",
            Field::Note => "备注",
        }
    }
}

/// One accepted person of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// 1-based row number, as the spreadsheet shows it.
    pub line: usize,
    pub name: String,
    pub id_number: IdNumber,
    /// From the ID number (a sex column, if any, agrees with it).
    pub sex: Sex,
    /// From the ID number (a birth-date column, if any, agrees with it).
    pub birth_date: NaiveDate,
    /// 11 digits, without spaces, dashes or +86.
    pub mobile: Option<String>,
    pub marital: Marital,
    pub department: Option<String>,
    pub employee_no: Option<String>,
    pub note: Option<String>,
}

/// One problem in one row. A row may have several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based row number, as the spreadsheet shows it.
    pub line: usize,
    /// `None` for a column the roster does not know.
    pub field: Option<Field>,
    /// The cell as written (shortened if very long).
    pub value: String,
    /// What is wrong and what is expected, in Chinese.
    pub message: String,
}

/// The result of checking a whole table: rows without any error, and every
/// error of the others.
#[derive(Debug, Clone)]
pub struct CheckedRoster {
    pub header: Header,
    /// Rows without errors, in file order.
    pub rows: Vec<RosterRow>,
    /// Every problem found, in file order.
    pub errors: Vec<RowError>,
    /// Blank rows below the header, skipped.
    pub empty_rows: usize,
}

impl CheckedRoster {
    /// Number of rows that had at least one error.
    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<usize> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

/// Why a table could not be checked at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("名单有 {rows} 行数据，一次最多导入 {max} 行，请分成几个文件导入", max = MAX_ROWS)]
    TooManyRows { rows: usize },
}

/// Blank in the roster's sense: nothing but white space (incl. full-width).
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// Finds the header, then checks every row below it.
pub fn check(table: &[Vec<String>]) -> Result<CheckedRoster, CheckError> {
    let header = recognise_header(table)?;
    let body = &table[header.row + 1..];
    let data_rows = body
        .iter()
        .filter(|r| !r.iter().all(|c| is_blank(c)))
        .count();
    if data_rows > MAX_ROWS {
        return Err(CheckError::TooManyRows { rows: data_rows });
    }
    let mut out = CheckedRoster {
        rows: Vec::with_capacity(data_rows),
        errors: Vec::new(),
        empty_rows: 0,
        header,
    };
    let mut seen: HashMap<IdNumber, usize> = HashMap::with_capacity(data_rows);
    for (i, cells) in body.iter().enumerate() {
        let line = out.header.row + 2 + i;
        if cells.iter().all(|c| is_blank(c)) {
            out.empty_rows += 1;
            continue;
        }
        let before = out.errors.len();
        let row = check_row(&out.header, line, cells, &mut seen, &mut out.errors);
        if let Some(row) = row
            && out.errors.len() == before
        {
            out.rows.push(row);
        }
    }
    Ok(out)
}

/// Checks one non-blank row, pushing its errors. Returns the row if its
/// name and ID number are usable; the caller keeps it only if no error was
/// pushed. `seen` maps each valid ID number to the first line that has it.
fn check_row(
    header: &Header,
    line: usize,
    cells: &[String],
    seen: &mut HashMap<IdNumber, usize>,
    errors: &mut Vec<RowError>,
) -> Option<RosterRow> {
    let mut err = |field: Option<Field>, value: &str, message: String| {
        errors.push(RowError {
            line,
            field,
            value: values::preview(value),
            message,
        });
    };
    // Over-long cells first, in every column (known or not).
    let mut too_long = Vec::new();
    for (col, cell) in cells.iter().enumerate() {
        let n = cell.chars().count();
        if n > MAX_CELL_CHARS {
            let field = header.field_at(col);
            let what = match field {
                Some(f) => f.label_zh().to_string(),
                None => format!("第 {} 列", col + 1),
            };
            err(
                field,
                cell,
                format!("{what}内容有 {n} 个字，超过 {MAX_CELL_CHARS} 字的上限"),
            );
            too_long.push(col);
        }
    }
    let cell = |f: Field| -> Option<&str> {
        let col = header.column(f)?;
        if too_long.contains(&col) {
            return None;
        }
        cells.get(col).map(|s| s.trim()).filter(|s| !is_blank(s))
    };
    let long = |f: Field| header.column(f).is_some_and(|c| too_long.contains(&c));

    let name = match cell(Field::Name) {
        Some(v) => match values::name_problem(v) {
            None => Some(v.to_string()),
            Some(m) => {
                err(Some(Field::Name), v, m);
                None
            }
        },
        None if long(Field::Name) => None,
        None => {
            err(Some(Field::Name), "", "姓名不能为空".into());
            None
        }
    };
    let id = match cell(Field::IdNumber) {
        Some(v) => match IdNumber::parse(&values::normalise_id(v)) {
            Ok(id) => Some(id),
            Err(e) => {
                err(Some(Field::IdNumber), v, id_number_problem(&e));
                None
            }
        },
        None if long(Field::IdNumber) => None,
        None => {
            err(Some(Field::IdNumber), "", "身份证号不能为空".into());
            None
        }
    };
    if let Some(id) = &id {
        if let Some(&first) = seen.get(id) {
            err(
                Some(Field::IdNumber),
                id.as_str(),
                format!("身份证号与第 {first} 行重复，同一人只能出现一次"),
            );
        } else {
            seen.insert(id.clone(), line);
        }
    }
    if let Some(v) = cell(Field::Sex) {
        match (values::parse_sex(v), &id) {
            (None, _) => err(Some(Field::Sex), v, "性别应填“男”或“女”".into()),
            (Some(s), Some(id)) if s != id.sex() => err(
                Some(Field::Sex),
                v,
                format!(
                    "性别与身份证号不符：按身份证号应为“{}”",
                    values::sex_zh(id.sex())
                ),
            ),
            _ => {}
        }
    }
    if let Some(v) = cell(Field::BirthDate) {
        match values::parse_birth(v) {
            None => err(
                Some(Field::BirthDate),
                v,
                "出生日期看不懂，应写成 1980-01-02、1980/1/2、19800102 或 1980年1月2日".into(),
            ),
            Some(b) => {
                if let Some(id) = &id
                    && !b.agrees_with(id.birth_date())
                {
                    err(
                        Some(Field::BirthDate),
                        v,
                        format!(
                            "出生日期与身份证号不符：身份证号中的出生日期是 {}",
                            id.birth_date().format("%Y-%m-%d")
                        ),
                    );
                }
            }
        }
    }
    let mobile = cell(Field::Mobile).and_then(|v| match values::parse_mobile(v) {
        Some(m) => Some(m),
        None => {
            err(
                Some(Field::Mobile),
                v,
                "手机号应为 11 位大陆手机号（1 开头，第二位是 3–9），可不填".into(),
            );
            None
        }
    });
    let marital = match cell(Field::Marital) {
        None => Marital::Unknown,
        Some(v) => values::parse_marital(v).unwrap_or_else(|| {
            err(
                Some(Field::Marital),
                v,
                "婚姻状况应填“已婚”“未婚”“离异”或“丧偶”，不清楚可不填".into(),
            );
            Marital::Unknown
        }),
    };
    let text = |f: Field| cell(f).map(str::to_string);
    let (name, id_number) = (name?, id?);
    Some(RosterRow {
        line,
        name,
        sex: id_number.sex(),
        birth_date: id_number.birth_date(),
        id_number,
        mobile,
        marital,
        department: text(Field::Department),
        employee_no: text(Field::EmployeeNo),
        note: text(Field::Note),
    })
}

/// The errors as a CSV an operator opens in Excel: UTF-8 with a BOM,
/// columns 行号,字段,内容,问题. Cells that a spreadsheet would take for a
/// formula are prefixed with `'`.
pub fn error_report_csv(c: &CheckedRoster) -> String {
    let mut out = String::from("\u{feff}行号,字段,内容,问题\r\n");
    for e in &c.errors {
        let field = e.field.map_or("", Field::label_zh);
        let cells = [
            e.line.to_string(),
            field.to_string(),
            e.value.clone(),
            e.message.clone(),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_cell(cell));
        }
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
