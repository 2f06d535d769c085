//! 团检名单导入: reads the roster a company sends (.xlsx, .xls or .csv) into
//! rows of cell text and checks it with [`exam_domain::roster`].
//!
//! The bytes come from outside, so nothing here may panic or run away with
//! memory: the file size is capped, spreadsheets are pre-checked before
//! `calamine` sees them (decompressed size, declared counts, cell positions;
//! see `guard`), every `calamine` call runs under `catch_unwind`, and the
//! table is capped in rows and columns.

use std::borrow::Cow;

use exam_domain::roster::{self, CheckError, CheckedRoster};

mod excel;
mod guard;
mod text;

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Rows a table may reach (data rows plus a title, a header and some
/// blank rows); the domain check refuses more than `roster::MAX_ROWS`
/// data rows with its own message.
pub const MAX_TABLE_ROWS: usize = roster::MAX_ROWS + 100;
/// Columns a table may use; a roster has a dozen.
pub const MAX_COLUMNS: usize = 50;

/// What kind of file the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML workbook (a zip).
    Xlsx,
    /// BIFF8 workbook in an OLE2 compound file (Excel 97–2003).
    Xls,
    /// Comma- (or tab-) separated text, UTF-8 or GB18030/GBK.
    Csv,
}

/// Why a file could not be read into a table. Messages are for the group
/// desk operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("文件是空的")]
    Empty,
    #[error("文件有 {} MB，超过 {} MB 的上限，请分成几个文件导入", .size / (1024 * 1024), MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge { size: usize },
    #[error("只能导入 .xlsx、.xls 或 .csv 文件，“{0}”不是这几种")]
    UnsupportedExtension(String),
    #[error(
        "文件名是 .{ext}，但内容不是 Excel 文件（可能改过扩展名，或文件已损坏）。请用 Excel 打开后另存为 .xlsx 再导入"
    )]
    NotExcel { ext: String },
    #[error(
        "文件名是 .csv，但内容不是文本（可能是其他文件改了扩展名）。请用 Excel 另存为 CSV 或 .xlsx 再导入"
    )]
    NotText,
    #[error("文件设置了打开密码，请在 Excel 里取消密码后另存，再导入")]
    Encrypted,
    #[error(
        "Excel 文件已损坏或格式不受支持，读不出来（{0}）。请用 Excel 打开后另存为 .xlsx 再导入"
    )]
    Damaged(String),
    #[error("工作簿里没有可以读取的工作表")]
    NoWorksheet,
    #[error(
        "{} 单元格是一个 {digits} 位的数字（{shown}）。Excel 只能精确保存 15 位数字，身份证号存成数字后最后几位已经不对了。请把身份证号这一列的单元格格式设为“文本”，重新填写身份证号后再导入",
        cell_name(*.line, *.column)
    )]
    NumericIdNumber {
        line: usize,
        column: usize,
        digits: usize,
        shown: String,
    },
    #[error(
        "表格超过 {} 行，一次最多导入 {} 行数据，请分成几个文件导入",
        MAX_TABLE_ROWS,
        roster::MAX_ROWS
    )]
    TooManyRows,
    #[error(
        "{} 单元格有内容，但名单最多只能用到 {} 列，请删掉多余的列",
        cell_name(*.line, *.column), column_name(MAX_COLUMNS)
    )]
    TooManyColumns { line: usize, column: usize },
    #[error("文件解压后太大（超过 {} MB），不像是一份体检名单", guard::MAX_INFLATED_BYTES / (1024 * 1024))]
    TooLargeInflated,
    #[error(
        "工作表的内容范围太大（所有工作表合计超过 {} 万个单元格），请删掉名单以外的工作表和多余的行、列后再导入",
        guard::MAX_XLS_GRID / 10_000
    )]
    SheetTooLarge,
    #[error(
        "工作簿里工作表太多（超过 {} 个），请只保留名单这一张再导入",
        guard::MAX_SHEETS
    )]
    TooManySheets,
    #[error("CSV 文件读不出来：{0}")]
    Csv(String),
}

/// Why an import failed as a whole (row-level problems are not failures:
/// they are in [`CheckedRoster::errors`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// Spreadsheet column letters of a 1-based column: 1 → A, 27 → AA.
pub fn column_name(column: usize) -> String {
    let mut n = column;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(char::from(b'A' + r as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// A cell as a spreadsheet names it: line 3, column 2 → B3.
fn cell_name(line: usize, column: usize) -> String {
    format!("{}{line}", column_name(column))
}

fn extension(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (_, ext) = base.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// What the bytes are, and for CSV the decoded text.
enum Detected<'a> {
    Xlsx,
    Xls,
    Csv(Cow<'a, str>),
}

fn detect<'a>(file_name: &str, bytes: &'a [u8]) -> Result<Detected<'a>, ReadError> {
    let ext = extension(file_name).unwrap_or_default();
    if !matches!(ext.as_str(), "xlsx" | "xls" | "csv") {
        return Err(ReadError::UnsupportedExtension(file_name.to_string()));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge { size: bytes.len() });
    }
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    // Content decides between the two Excel formats: people rename files.
    if bytes.starts_with(ZIP_MAGIC) {
        return Ok(Detected::Xlsx);
    }
    if bytes.starts_with(OLE2_MAGIC) {
        return Ok(Detected::Xls);
    }
    if ext != "csv" {
        return Err(ReadError::NotExcel { ext });
    }
    text::decode(bytes).map(Detected::Csv)
}

/// The file's format, by its content; the name only has to end in .xlsx,
/// .xls or .csv, and text is taken only from a .csv.
pub fn sniff(file_name: &str, bytes: &[u8]) -> Result<Format, ReadError> {
    Ok(match detect(file_name, bytes)? {
        Detected::Xlsx => Format::Xlsx,
        Detected::Xls => Format::Xls,
        Detected::Csv(_) => Format::Csv,
    })
}

/// The first visible worksheet (or the CSV) as rows of cell text, row `i`
/// being the spreadsheet's line `i + 1`. Numbers print as a spreadsheet
/// shows them (whole numbers without `.0`), dates as YYYY-MM-DD, error
/// cells as empty text; trailing empty cells are dropped.
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    match detect(file_name, bytes)? {
        Detected::Xlsx => excel::read_xlsx(bytes),
        Detected::Xls => excel::read_xls(bytes),
        Detected::Csv(text) => text::read_csv(&text),
    }
}

/// Reads and checks a roster file.
pub fn import(file_name: &str, bytes: &[u8]) -> Result<CheckedRoster, ImportError> {
    let table = read_table(file_name, bytes)?;
    Ok(roster::check(&table)?)
}

/// Collects cells into a table within the row and column limits.
#[derive(Default)]
pub(crate) struct TableBuilder {
    rows: Vec<Vec<String>>,
}

impl TableBuilder {
    /// `row` and `col` are 0-based. Blank text is not stored.
    pub(crate) fn put(&mut self, row: usize, col: usize, text: String) -> Result<(), ReadError> {
        if text.trim().is_empty() {
            return Ok(());
        }
        if row >= MAX_TABLE_ROWS {
            return Err(ReadError::TooManyRows);
        }
        if col >= MAX_COLUMNS {
            return Err(ReadError::TooManyColumns {
                line: row + 1,
                column: col + 1,
            });
        }
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let r = &mut self.rows[row];
        if r.len() <= col {
            r.resize_with(col + 1, String::new);
        }
        r[col] = text;
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<Vec<String>> {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(1), "A");
        assert_eq!(column_name(26), "Z");
        assert_eq!(column_name(27), "AA");
        assert_eq!(column_name(50), "AX");
        assert_eq!(cell_name(3, 2), "B3");
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("名单.XLSX").as_deref(), Some("xlsx"));
        assert_eq!(extension("C:\\下载\\a.b.Csv").as_deref(), Some("csv"));
        assert_eq!(extension("xlsx"), None);
        assert_eq!(extension("dir.xlsx/名单"), None);
    }

    #[test]
    fn table_builder_limits() {
        let mut t = TableBuilder::default();
        t.put(2, 1, "x".into()).unwrap();
        t.put(0, 0, " ".into()).unwrap();
        t.put(MAX_TABLE_ROWS + 5, MAX_COLUMNS + 5, "".into())
            .unwrap();
        assert_eq!(
            t.put(MAX_TABLE_ROWS, 0, "x".into()),
            Err(ReadError::TooManyRows)
        );
        let e = t.put(4, MAX_COLUMNS, "x".into()).unwrap_err();
        assert_eq!(
            e,
            ReadError::TooManyColumns {
                line: 5,
                column: 51
            }
        );
        assert!(
            e.to_string().contains("AY5") && e.to_string().contains("AX 列"),
            "{e}"
        );
        assert_eq!(
            t.finish(),
            vec![vec![], vec![], vec![String::new(), "x".into()]]
        );
    }
}
