//! CSV rosters: UTF-8 with a BOM (Excel's “CSV UTF-8”), GBK (what Chinese
//! Excel writes for plain “CSV”), quoted cells.

mod common;

use common::id;
use exam_domain::roster::Field;
use exam_roster::{Format, ImportError, ReadError, import, read_table, sniff};

fn roster_text() -> String {
    format!(
        "XX公司2026年体检名单,,,\r\n姓名,身份证号,性别,出生日期\r\n张三,{},男,1980-01-02\r\n李四,{},女,32999\r\n",
        id(1980, 1, 2, 11),
        id(1990, 5, 6, 22)
    )
}

#[test]
fn utf8_with_bom() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(roster_text().as_bytes());
    assert_eq!(sniff("名单.csv", &bytes).unwrap(), Format::Csv);
    let c = import("名单.CSV", &bytes).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.header.line(), 2);
    assert_eq!(c.rows.len(), 2);
    assert_eq!((c.rows[0].line, c.rows[0].name.as_str()), (3, "张三"));
    // Without a BOM, too.
    assert_eq!(
        import("名单.csv", roster_text().as_bytes())
            .unwrap()
            .rows
            .len(),
        2
    );
}

#[test]
fn gbk_encoded() {
    let text = roster_text();
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let c = import("名单.csv", &bytes).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["张三", "李四"]);
    assert_eq!(c.header.ignored, Vec::<String>::new());
}

#[test]
fn quoted_cells_with_commas_quotes_and_line_breaks() {
    let text = format!(
        "姓名,身份证号,备注,部门\n\"张三\",\"{}\",\"早上空腹，\"\"不吃早饭\"\"\n第二行\",\"研发部,一组\"\n\n李四,{},,\n",
        id(1980, 1, 2, 11),
        id(1990, 5, 6, 22)
    );
    let c = import("a.csv", text.as_bytes()).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(
        c.rows[0].note.as_deref(),
        Some("早上空腹，\"不吃早饭\"\n第二行")
    );
    assert_eq!(c.rows[0].department.as_deref(), Some("研发部,一组"));
    // The line break inside a cell does not shift rows; the blank line does.
    assert_eq!((c.rows[1].line, c.empty_rows), (4, 1));
}

#[test]
fn row_errors_from_a_csv() {
    let text = format!(
        "姓名,身份证号,手机\n张三,{},12345\n,{},\n",
        id(1980, 1, 2, 11),
        id(1990, 5, 6, 22)
    );
    let c = import("a.csv", text.as_bytes()).unwrap();
    let got: Vec<(usize, Option<Field>)> = c.errors.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(got, [(2, Some(Field::Mobile)), (3, Some(Field::Name))]);
    let report = exam_domain::roster::error_report_csv(&c);
    assert!(
        report.starts_with("\u{feff}行号,字段,内容,问题\r\n2,手机号,12345,"),
        "{report}"
    );
}

#[test]
fn csv_that_is_not_text_or_not_a_roster() {
    let e = read_table("a.csv", b"\x00\x01\x02binary").unwrap_err();
    assert_eq!(e, ReadError::NotText);
    assert!(e.to_string().contains("不是文本"));
    let e = read_table("a.csv", &[0xFF, 0xFF, 0xFF, 0x30]).unwrap_err();
    assert_eq!(e, ReadError::NotText);
    match import("a.csv", "hello,world\n1,2\n".as_bytes()) {
        Err(ImportError::Check(e)) => assert!(e.to_string().contains("找不到表头"), "{e}"),
        other => panic!("{other:?}"),
    }
    let wide = format!("姓名,身份证号{}x\n", ",".repeat(60));
    assert!(matches!(
        read_table("a.csv", wide.as_bytes()),
        Err(ReadError::TooManyColumns {
            line: 1,
            column: 62
        })
    ));
    // Excel's “Unicode text” is UTF-16 with tabs.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("姓名\t身份证号\r\n张三\t{}\r\n", id(1980, 1, 2, 11))
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    assert_eq!(import("a.csv", &utf16).unwrap().rows.len(), 1);
}
