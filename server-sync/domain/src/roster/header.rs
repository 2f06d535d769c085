//! Finding the header row and mapping its columns to fields.

use super::{Field, is_blank};

/// The header is looked for in this many rows from the top (a title row
/// such as “XX公司2026年体检名单” often sits above it).
pub const HEADER_SEARCH_ROWS: usize = 10;

/// The recognised header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// 0-based index of the header row in the table (its line is `row + 1`).
    pub row: usize,
    /// Each recognised field and its 0-based column.
    pub columns: Vec<(Field, usize)>,
    /// Header texts of columns the roster does not know (kept, not checked).
    pub ignored: Vec<String>,
}

impl Header {
    /// The 0-based column of a field, if the roster has it.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| *c)
    }

    /// The field of a 0-based column, if it is a known one.
    pub fn field_at(&self, col: usize) -> Option<Field> {
        self.columns
            .iter()
            .find(|(_, c)| *c == col)
            .map(|(f, _)| *f)
    }

    /// 1-based line of the header row.
    pub fn line(&self) -> usize {
        self.row + 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("文件里没有内容")]
    Empty,
    #[error(
        "前 {HEADER_SEARCH_ROWS} 行里找不到表头（至少要有“姓名”“身份证号”两列）。看到的是：{}",
        seen_list(.seen)
    )]
    NotFound { seen: Vec<String> },
    #[error(
        "第 {line} 行的表头缺少{}列（必须有“姓名”和“身份证号”）。这一行的表头是：{}",
        missing_list(.missing), seen_list(.seen)
    )]
    MissingColumns {
        line: usize,
        missing: Vec<Field>,
        seen: Vec<String>,
    },
    #[error(
        "表头里有两列都是“{}”（第 {} 列“{}”和第 {} 列“{}”），请删掉或改名其中一列",
        .field.label_zh(), .first.0 + 1, .first.1, .second.0 + 1, .second.1
    )]
    DuplicateColumn {
        field: Field,
        first: (usize, String),
        second: (usize, String),
    },
}

fn missing_list(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| format!("“{}”", f.label_zh()))
        .collect::<Vec<_>>()
        .join("、")
}

fn seen_list(seen: &[String]) -> String {
    if seen.is_empty() {
        "（空）".into()
    } else {
        seen.iter()
            .map(|s| format!("“{s}”"))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// Header text as compared: without white space (incl. full-width),
/// `*` required markers and bracketed remarks such as “(必填)”; full-width
/// latin folded to ASCII and lower-cased; `_` and `-` dropped.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        // Full-width ASCII (U+FF01..=U+FF5E) to ASCII.
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        match c {
            '(' | '[' | '{' | '（' | '【' | '〔' | '［' | '<' | '《' => depth += 1,
            ')' | ']' | '}' | '）' | '】' | '〕' | '］' | '>' | '》' => {
                depth = depth.saturating_sub(1)
            }
            _ if depth > 0 => {}
            '*' | '＊' | '_' | '-' | '.' | ':' | '：' => {}
            c if c.is_whitespace() => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

const SYNONYMS: [(Field, &[&str]); 9] = [
    (
        Field::Name,
        &["姓名", "名字", "员工姓名", "人员姓名", "职工姓名", "name"],
    ),
    (
        Field::IdNumber,
        &[
            "身份证号",
            "身份证号码",
            "证件号码",
            "证件号",
            "身份证",
            "身份证件号码",
            "id",
            "idcard",
            "idno",
            "idnumber",
        ],
    ),
    (Field::Sex, &["性别", "sex", "gender"]),
    (
        Field::BirthDate,
        &[
            "出生日期",
            "出生年月",
            "出生年月日",
            "生日",
            "birthday",
            "birthdate",
        ],
    ),
    (
        Field::Mobile,
        &[
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话",
            "电话号码",
            "联系方式",
            "mobile",
            "phone",
        ],
    ),
    (
        Field::Marital,
        &[
            "婚否",
            "婚姻状况",
            "婚姻",
            "婚姻状态",
            "marital",
            "maritalstatus",
        ],
    ),
    (
        Field::Department,
        &["部门", "科室", "所在部门", "单位部门", "department", "dept"],
    ),
    (
        Field::EmployeeNo,
        &[
            "工号",
            "员工编号",
            "员工号",
            "职工号",
            "employeeno",
            "staffno",
        ],
    ),
    (
        Field::Note,
        &["备注", "说明", "note", "notes", "remark", "remarks"],
    ),
];

/// The field a header cell names, if any.
pub fn field_of(text: &str) -> Option<Field> {
    let n = normalise(text);
    if n.is_empty() {
        return None;
    }
    SYNONYMS
        .iter()
        .find(|(_, names)| names.contains(&n.as_str()))
        .map(|(f, _)| *f)
}

fn recognised(row: &[String]) -> usize {
    row.iter().filter(|c| field_of(c).is_some()).count()
}

fn texts(row: &[String]) -> Vec<String> {
    row.iter()
        .filter(|c| !is_blank(c))
        .map(|c| c.trim().to_string())
        .collect()
}

/// Finds the header row (the first of the top rows where at least two
/// known headers are recognised) and maps its columns.
pub fn recognise_header(table: &[Vec<String>]) -> Result<Header, HeaderError> {
    let top = &table[..table.len().min(HEADER_SEARCH_ROWS)];
    if top.iter().all(|r| r.iter().all(|c| is_blank(c))) {
        return Err(HeaderError::Empty);
    }
    let Some(row) = top.iter().position(|r| recognised(r) >= 2) else {
        // Show the most header-like row: the one with a known header, else
        // the first non-blank one (usually the title).
        let best = top
            .iter()
            .position(|r| recognised(r) == 1)
            .or_else(|| top.iter().position(|r| !r.iter().all(|c| is_blank(c))));
        let seen = best.map(|i| texts(&top[i])).unwrap_or_default();
        if let Some(i) = best
            && recognised(&top[i]) == 1
        {
            return Err(HeaderError::MissingColumns {
                line: i + 1,
                missing: missing(&top[i]),
                seen,
            });
        }
        return Err(HeaderError::NotFound { seen });
    };
    let cells = &table[row];
    let mut columns: Vec<(Field, usize)> = Vec::new();
    let mut ignored = Vec::new();
    for (col, text) in cells.iter().enumerate() {
        match field_of(text) {
            Some(f) => {
                if let Some(&(_, first)) = columns.iter().find(|(g, _)| *g == f) {
                    return Err(HeaderError::DuplicateColumn {
                        field: f,
                        first: (first, cells[first].trim().to_string()),
                        second: (col, text.trim().to_string()),
                    });
                }
                columns.push((f, col));
            }
            None if !is_blank(text) => ignored.push(text.trim().to_string()),
            None => {}
        }
    }
    let missing = missing(cells);
    if !missing.is_empty() {
        return Err(HeaderError::MissingColumns {
            line: row + 1,
            missing,
            seen: texts(cells),
        });
    }
    Ok(Header {
        row,
        columns,
        ignored,
    })
}

fn missing(row: &[String]) -> Vec<Field> {
    let have: Vec<Field> = row.iter().filter_map(|c| field_of(c)).collect();
    Field::REQUIRED
        .into_iter()
        .filter(|f| !have.contains(f))
        .collect()
}
