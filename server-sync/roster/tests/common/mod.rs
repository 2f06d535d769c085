//! Helpers shared by the roster tests: valid ID numbers and real .xlsx
//! files written with rust_xlsxwriter.

// Support shared by integration tests, outside #[test] fns where clippy.toml's
// allow-unwrap-in-tests does not reach; a panic here fails the calling test.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use chrono::NaiveDate;
use exam_domain::IdNumber;
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A valid ID number; odd `seq` is a man, even a woman.
pub fn id(y: i32, m: u32, d: u32, seq: u16) -> String {
    IdNumber::compose("110105", date(y, m, d), seq)
        .unwrap()
        .to_string()
}

/// An .xlsx whose first sheet `fill` writes.
pub fn xlsx(fill: impl FnOnce(&mut Worksheet) -> Result<(), XlsxError>) -> Vec<u8> {
    let mut book = Workbook::new();
    fill(book.add_worksheet()).unwrap();
    book.save_to_buffer().unwrap()
}

/// Writes rows of text from `first_row` (0-based); empty strings are left
/// unwritten, as a person leaves a cell empty.
pub fn write_rows(
    ws: &mut Worksheet,
    first_row: u32,
    rows: &[Vec<String>],
) -> Result<(), XlsxError> {
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                ws.write_string(first_row + r as u32, c as u16, text)?;
            }
        }
    }
    Ok(())
}

pub fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

/// An .xlsx of a header row and text rows.
pub fn text_xlsx(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    xlsx(|ws| {
        write_rows(ws, 0, &[strings(header)])?;
        write_rows(ws, 1, rows)
    })
}

/// Deterministic pseudo-random numbers (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
