//! .xls (BIFF8 in an OLE2 compound file).
//!
//! `fixtures/roster.xls` was written once by `fixtures/make_roster_xls.py`
//! (`pip install xlwt==1.3.0 && python3 make_roster_xls.py`): a title row,
//! a Chinese header, three people with a date-formatted birth-date column
//! and numeric mobiles, the third with a sex that contradicts the ID
//! number, and a second sheet that is not read.
//!
//! Hostile workbooks are built here: a Workbook stream of hand-made BIFF
//! records in a compound file written with the `cfb` crate.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use exam_domain::roster::Field;
use exam_domain::{Marital, Sex};
use exam_roster::{Format, ImportError, ReadError, import, read_table, sniff};

const FIXTURE: &[u8] = include_bytes!("fixtures/roster.xls");

#[test]
fn the_fixture_reads_like_the_spreadsheet_shows_it() {
    assert_eq!(sniff("名单.xls", FIXTURE).unwrap(), Format::Xls);
    let t = read_table("名单.xls", FIXTURE).unwrap();
    assert_eq!(t[0], ["XX公司2026年体检名单"]);
    assert_eq!(
        t[1],
        [
            "姓名",
            "身份证号",
            "性别",
            "出生日期",
            "手机号",
            "婚否",
            "部门"
        ]
    );
    assert_eq!(
        t[2],
        [
            "张三",
            "110105198001020011",
            "男",
            "1980-01-02",
            "13800138000",
            "已婚",
            "财务部"
        ]
    );
    assert_eq!(t.len(), 5);

    let c = import("名单.xls", FIXTURE).unwrap();
    assert_eq!(c.header.line(), 2);
    assert_eq!(c.rows.len(), 2);
    let r = &c.rows[1];
    assert_eq!(
        (r.line, r.name.as_str(), r.sex, r.marital),
        (4, "李四", Sex::Female, Marital::Unmarried)
    );
    assert_eq!(r.mobile.as_deref(), Some("13900139000"));
    assert_eq!(c.errors.len(), 1);
    assert_eq!((c.errors[0].line, c.errors[0].field), (5, Some(Field::Sex)));
}

#[test]
fn an_xls_named_xlsx_is_still_read() {
    assert_eq!(sniff("名单.xlsx", FIXTURE).unwrap(), Format::Xls);
    assert_eq!(import("名单.xlsx", FIXTURE).unwrap().rows.len(), 2);
}

#[test]
fn damaged_xls_files_are_errors() {
    for cut in [8, 512, FIXTURE.len() / 2, FIXTURE.len() - 1] {
        match import("a.xls", &FIXTURE[..cut]) {
            Err(ImportError::Read(ReadError::Damaged(_))) => {}
            other => panic!("{cut}: {other:?}"),
        }
    }
    // A compound file without a workbook (a .doc, say).
    let e = read_table("a.xls", &compound("WordDocument", b"hello")).unwrap_err();
    assert!(e.to_string().contains("没有工作簿"), "{e}");
    // An encrypted .xlsx is a compound file too.
    let e = read_table("a.xlsx", &compound("EncryptedPackage", &[0; 64])).unwrap_err();
    assert_eq!(e, ReadError::Encrypted);
}

fn compound(stream: &str, data: &[u8]) -> Vec<u8> {
    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    cfb.create_stream(format!("/{stream}"))
        .unwrap()
        .write_all(data)
        .unwrap();
    cfb.flush().unwrap();
    cfb.into_inner().into_inner()
}

fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((data.len() as u16).to_le_bytes());
    r.extend(data);
    r
}

const BOF: [u8; 16] = [0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A workbook stream with one sheet holding `sheet_records`.
fn workbook(sheet_records: &[Vec<u8>]) -> Vec<u8> {
    let mut globals = record(0x0809, &BOF);
    let bound_at = globals.len();
    // BoundSheet8: position (patched below), visible worksheet, name "S".
    globals.extend(record(0x0085, &[0, 0, 0, 0, 0, 0, 1, 0, b'S']));
    globals.extend(record(0x000A, &[]));
    let pos = globals.len() as u32;
    globals[bound_at + 4..bound_at + 8].copy_from_slice(&pos.to_le_bytes());
    globals.extend(record(0x0809, &BOF));
    for r in sheet_records {
        globals.extend(r);
    }
    globals.extend(record(0x000A, &[]));
    globals
}

/// A Number record (row, col, value).
fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
    let mut d = row.to_le_bytes().to_vec();
    d.extend(col.to_le_bytes());
    d.extend([0, 0]);
    d.extend(v.to_le_bytes());
    record(0x0203, &d)
}

fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
    let mut d = rf.to_le_bytes().to_vec();
    d.extend(rl.to_le_bytes());
    d.extend(cf.to_le_bytes());
    d.extend(cl.to_le_bytes());
    d.extend([0, 0]);
    record(0x0200, &d)
}

fn xls(sheet_records: &[Vec<u8>]) -> Vec<u8> {
    compound("Workbook", &workbook(sheet_records))
}

#[test]
fn hand_made_workbooks_read() {
    let t = read_table(
        "a.xls",
        &xls(&[dimensions(0, 2, 0, 2), number(0, 0, 1.0), number(1, 1, 2.5)]),
    )
    .unwrap();
    assert_eq!(
        t,
        [
            vec!["1".to_string()],
            vec![String::new(), "2.5".to_string()]
        ]
    );
}

#[test]
fn workbooks_that_would_exhaust_memory_are_refused_before_parsing() {
    // Dimensions claiming four billion rows (calamine reserves them).
    let e = read_table(
        "a.xls",
        &xls(&[dimensions(0, u32::MAX, 0, 255), number(0, 0, 1.0)]),
    )
    .unwrap_err();
    assert_eq!(e, ReadError::SheetTooLarge);
    // Dimensions whose size underflows.
    let e = read_table("a.xls", &xls(&[dimensions(9, 3, 0, 2)])).unwrap_err();
    assert!(matches!(e, ReadError::Damaged(_)), "{e:?}");
    // Two cells at opposite corners: a dense grid of 4 billion cells.
    let e = read_table(
        "a.xls",
        &xls(&[number(0, 0, 1.0), number(65_535, 65_535, 1.0)]),
    )
    .unwrap_err();
    assert_eq!(e, ReadError::SheetTooLarge);
    // Sheet upon sheet.
    let mut globals = record(0x0809, &BOF);
    for _ in 0..65 {
        globals.extend(record(0x0085, &[0, 0, 0, 0, 0, 0, 1, 0, b'S']));
    }
    globals.extend(record(0x000A, &[]));
    let e = read_table("a.xls", &compound("Workbook", &globals)).unwrap_err();
    assert_eq!(e, ReadError::TooManySheets);
    // A cell far out, but within bounds, is a table error.
    let e = read_table("a.xls", &xls(&[number(0, 0, 1.0), number(2, 60, 1.0)])).unwrap_err();
    assert_eq!(
        e,
        ReadError::TooManyColumns {
            line: 3,
            column: 61
        }
    );
}

#[test]
fn numeric_id_numbers_in_xls() {
    let e = read_table("a.xls", &xls(&[number(1, 1, 110105194912310021.0)])).unwrap_err();
    assert!(
        matches!(
            e,
            ReadError::NumericIdNumber {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{e:?}"
    );
}
