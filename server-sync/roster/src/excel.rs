//! .xlsx and .xls through `calamine`, after the checks in `guard`, every
//! call under `catch_unwind`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{
    Data, DataRef, ExcelDateTime, Reader, Sheet, SheetType, SheetVisible, Xls, XlsError, Xlsx,
    XlsxError,
};

use crate::guard::{self, damaged};
use crate::{ReadError, TableBuilder};

/// Runs a reader, turning a panic inside it into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(damaged("文件结构异常，读取时出错")))
}

pub(crate) fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    guarded(|| {
        guard::check_xlsx(bytes)?;
        let mut book = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
        let name = first_sheet(book.sheets_metadata())?;
        let mut cells = book.worksheet_cells_reader(&name).map_err(xlsx_error)?;
        let mut table = TableBuilder::default();
        while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
            let (row, col) = cell.get_position();
            let text = text_of_ref(cell.get_value(), row, col)?;
            table.put(row as usize, col as usize, text)?;
        }
        Ok(table.finish())
    })
}

pub(crate) fn read_xls(bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    guarded(|| {
        let clean = guard::clean_xls(bytes)?;
        let mut book = Xls::new(Cursor::new(clean)).map_err(xls_error)?;
        let name = first_sheet(book.sheets_metadata())?;
        let range = book.worksheet_range(&name).map_err(xls_error)?;
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let mut table = TableBuilder::default();
        for (r, c, value) in range.used_cells() {
            let (row, col) = (row0 + r as u32, col0 + c as u32);
            table.put(row as usize, col as usize, text_of(value, row, col)?)?;
        }
        Ok(table.finish())
    })
}

/// The first visible worksheet, else the first worksheet.
fn first_sheet(sheets: &[Sheet]) -> Result<String, ReadError> {
    let work = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    work()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| work().next())
        .map(|s| s.name.clone())
        .ok_or(ReadError::NoWorksheet)
}

fn xlsx_error(e: XlsxError) -> ReadError {
    match e {
        XlsxError::Password => ReadError::Encrypted,
        e => damaged(e),
    }
}

fn xls_error(e: XlsError) -> ReadError {
    match e {
        XlsError::Password => ReadError::Encrypted,
        e => damaged(e),
    }
}

fn text_of(v: &Data, row: u32, col: u32) -> Result<String, ReadError> {
    Ok(match v {
        Data::Int(i) => int(*i, row, col)?,
        Data::Float(f) => float(*f, row, col)?,
        Data::String(s) => s.clone(),
        Data::Bool(b) => bool_text(*b),
        Data::DateTime(d) => date_time(d),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    })
}

fn text_of_ref(v: &DataRef<'_>, row: u32, col: u32) -> Result<String, ReadError> {
    Ok(match v {
        DataRef::Int(i) => int(*i, row, col)?,
        DataRef::Float(f) => float(*f, row, col)?,
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => bool_text(*b),
        DataRef::DateTime(d) => date_time(d),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    })
}

/// Beyond 15 significant digits a spreadsheet number is not exact: an ID
/// number typed into a number cell has lost its last digits.
const EXACT_LIMIT: f64 = 1e15;

fn lost_digits(shown: String, row: u32, col: u32) -> ReadError {
    ReadError::NumericIdNumber {
        line: row as usize + 1,
        column: col as usize + 1,
        digits: shown.trim_start_matches('-').len(),
        shown,
    }
}

fn int(i: i64, row: u32, col: u32) -> Result<String, ReadError> {
    if i.unsigned_abs() >= EXACT_LIMIT as u64 {
        return Err(lost_digits(i.to_string(), row, col));
    }
    Ok(i.to_string())
}

/// Whole numbers without “.0”, others in their shortest form.
fn float(f: f64, row: u32, col: u32) -> Result<String, ReadError> {
    if !f.is_finite() {
        return Ok(String::new());
    }
    if f.abs() >= EXACT_LIMIT {
        return Err(lost_digits(format!("{f:.0}"), row, col));
    }
    if f.fract() == 0.0 {
        // |f| < 1e15, so the cast is exact.
        Ok((f as i64).to_string())
    } else {
        Ok(f.to_string())
    }
}

fn bool_text(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// Dates as YYYY-MM-DD; durations as their number of days.
fn date_time(d: &ExcelDateTime) -> String {
    if d.is_duration() {
        let f = d.as_f64();
        return if f.is_finite() {
            f.to_string()
        } else {
            String::new()
        };
    }
    let (y, m, day, ..) = d.to_ymd_hms_milli();
    format!("{y:04}-{m:02}-{day:02}")
}

/// "1980-01-02T00:00:00" → "1980-01-02"; anything else as it is.
fn iso_date(s: &str) -> String {
    let b = s.as_bytes();
    let dated = b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..10]
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if dated {
        s[..10].to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    #[test]
    fn numbers_print_as_a_spreadsheet_shows_them() {
        assert_eq!(float(13800138000.0, 0, 0).unwrap(), "13800138000");
        assert_eq!(float(29222.0, 0, 0).unwrap(), "29222");
        assert_eq!(float(-0.0, 0, 0).unwrap(), "0");
        assert_eq!(float(1.5, 0, 0).unwrap(), "1.5");
        assert_eq!(float(0.1, 0, 0).unwrap(), "0.1");
        assert_eq!(float(f64::NAN, 0, 0).unwrap(), "");
        assert_eq!(
            float(999_999_999_999_999.0, 0, 0).unwrap(),
            "999999999999999"
        );
        let e = float(110105194912310021.0, 2, 1).unwrap_err();
        assert_eq!(
            e,
            ReadError::NumericIdNumber {
                line: 3,
                column: 2,
                digits: 18,
                shown: "110105194912310016".into()
            }
        );
        assert!(
            e.to_string().starts_with("B3 单元格是一个 18 位的数字"),
            "{e}"
        );
        assert!(e.to_string().contains("“文本”"));
        assert!(matches!(
            int(-1_000_000_000_000_000, 0, 0),
            Err(ReadError::NumericIdNumber { digits: 16, .. })
        ));
        assert_eq!(int(42, 0, 0).unwrap(), "42");
    }

    #[test]
    fn dates_and_odd_cells() {
        let d = ExcelDateTime::new(29222.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_time(&d), "1980-01-02");
        let d = ExcelDateTime::new(27760.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(date_time(&d), "1980-01-02");
        let d = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(date_time(&d), "1.5");
        assert_eq!(iso_date("1980-01-02T08:00:00"), "1980-01-02");
        assert_eq!(iso_date("PT8H"), "PT8H");
        assert_eq!(iso_date("1980-01-0二"), "1980-01-0二");
        assert_eq!(text_of(&Data::Bool(true), 0, 0).unwrap(), "TRUE");
        assert_eq!(
            text_of(&Data::Error(calamine::CellErrorType::NA), 0, 0).unwrap(),
            ""
        );
    }
}
