//! Real .xlsx rosters, written with rust_xlsxwriter, read and checked.

mod common;

use std::time::Instant;

use common::{date, id, strings, text_xlsx, write_rows, xlsx};
use exam_domain::roster::{CheckError, Field, HeaderError};
use exam_domain::{Marital, Sex};
use exam_roster::{Format, ImportError, ReadError, import, read_table, sniff};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat};

fn read_error(name: &str, bytes: &[u8]) -> ReadError {
    match import(name, bytes) {
        Err(ImportError::Read(e)) => e,
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn a_good_roster_with_a_title_row_dates_and_numbers() {
    let date_format = CellFormat::new().set_num_format("yyyy-mm-dd");
    let bytes = xlsx(|ws| {
        ws.write_string(0, 0, "XX公司2026年体检名单")?;
        ws.merge_range(0, 1, 0, 6, "", &CellFormat::new())?;
        let header = strings(&[
            "*姓名",
            "身份证号（必填）",
            "性别",
            "出生日期",
            "手机号码",
            "婚否",
            "部门",
        ]);
        write_rows(ws, 1, &[header])?;
        write_rows(
            ws,
            2,
            &[strings(&[
                "张三",
                &id(1980, 1, 2, 11),
                "男",
                "",
                "",
                "已婚",
                "财务部",
            ])],
        )?;
        ws.write_date_with_format(2, 3, ExcelDateTime::from_ymd(1980, 1, 2)?, &date_format)?;
        ws.write_number(2, 4, 13800138000.0)?;
        write_rows(
            ws,
            3,
            &[strings(&[
                "李四",
                &id(1990, 5, 6, 22),
                "女",
                "",
                "139 0013 9000",
                "未婚",
            ])],
        )?;
        // A date typed into a plain number cell: Excel's serial day number.
        ws.write_number(3, 3, 32999.0)?;
        write_rows(
            ws,
            4,
            &[strings(&["王五", &id(1975, 12, 31, 33), "", "1975/12/31"])],
        )?;
        Ok(())
    });
    assert_eq!(sniff("名单.xlsx", &bytes).unwrap(), Format::Xlsx);
    let table = read_table("名单.xlsx", &bytes).unwrap();
    assert_eq!(table[0][0], "XX公司2026年体检名单");
    assert_eq!(table[2][3], "1980-01-02");
    assert_eq!(table[2][4], "13800138000");
    assert_eq!(table[3][3], "32999");

    let c = import("名单.XLSX", &bytes).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.header.line(), 2);
    assert_eq!(c.rows.len(), 3);
    let lines: Vec<usize> = c.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    let r = &c.rows[0];
    assert_eq!(
        (r.name.as_str(), r.sex, r.birth_date),
        ("张三", Sex::Male, date(1980, 1, 2))
    );
    assert_eq!(
        (r.mobile.as_deref(), r.marital),
        (Some("13800138000"), Marital::Married)
    );
    assert_eq!(r.department.as_deref(), Some("财务部"));
    assert_eq!(c.rows[1].birth_date, date(1990, 5, 6));
    assert_eq!(c.rows[1].mobile.as_deref(), Some("13900139000"));
    assert_eq!(c.rows[2].marital, Marital::Unknown);
}

#[test]
fn wrong_headers_are_refused_with_what_was_seen() {
    let bytes = text_xlsx(&["员工", "号码", "年龄"], &[strings(&["张三", "1", "30"])]);
    match import("a.xlsx", &bytes) {
        Err(ImportError::Check(CheckError::Header(HeaderError::NotFound { seen }))) => {
            assert_eq!(seen, ["员工", "号码", "年龄"]);
        }
        other => panic!("{other:?}"),
    }
    let bytes = text_xlsx(&["姓名", "性别", "手机"], &[strings(&["张三", "男", ""])]);
    let e = import("a.xlsx", &bytes).unwrap_err();
    assert!(matches!(
        &e,
        ImportError::Check(CheckError::Header(HeaderError::MissingColumns { missing, .. }))
            if missing == &[Field::IdNumber]
    ));
    assert!(e.to_string().contains("缺少“身份证号”列"), "{e}");
}

#[test]
fn bad_id_numbers_are_reported_per_row_and_good_rows_kept() {
    let rows = [
        strings(&["张三", &id(1980, 1, 2, 11)]),
        strings(&["李四", "11010519491231002"]),
        strings(&["王五", "110105194912310021"]),
        strings(&["赵六", "11010519491331002X"]),
        strings(&["钱七", &id(1985, 7, 8, 44)]),
    ];
    let c = import("a.xlsx", &text_xlsx(&["姓名", "身份证号"], &rows)).unwrap();
    assert_eq!(c.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 6]);
    let errors: Vec<(usize, &str)> = c
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors[0], (3, "身份证号应为 18 位，这里是 17 位"));
    assert_eq!(errors[1].0, 4);
    assert!(errors[1].1.contains("校验位不对"));
    assert_eq!(errors[2].0, 5);
    assert!(errors[2].1.contains("不是有效日期"));
    assert_eq!(errors.len(), 3);
}

#[test]
fn sex_and_birth_date_must_agree_with_the_id_number() {
    let rows = [
        strings(&["张三", &id(1980, 1, 2, 11), "女", "1980-01-02"]),
        strings(&["李四", &id(1990, 5, 6, 22), "女", "1990-05-07"]),
        strings(&["王五", &id(1975, 12, 31, 33), "男", "19751231"]),
    ];
    let c = import(
        "a.xlsx",
        &text_xlsx(&["姓名", "身份证号", "性别", "出生日期"], &rows),
    )
    .unwrap();
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.errors.len(), 2);
    assert_eq!((c.errors[0].line, c.errors[0].field), (2, Some(Field::Sex)));
    assert_eq!(
        (c.errors[1].line, c.errors[1].field),
        (3, Some(Field::BirthDate))
    );
    assert!(c.errors[1].message.contains("1990-05-06"));
}

#[test]
fn empty_rows_are_skipped_and_lines_stay_true() {
    let bytes = xlsx(|ws| {
        write_rows(ws, 0, &[strings(&["姓名", "身份证号"])])?;
        write_rows(ws, 2, &[strings(&["张三", &id(1980, 1, 2, 11)])])?;
        ws.write_string(3, 0, "   ")?; // spaces only
        write_rows(ws, 5, &[strings(&["李四", &id(1990, 5, 6, 22)])])?;
        ws.write_blank(8, 0, &CellFormat::new().set_bold())?; // formatted, empty
        Ok(())
    });
    let c = import("a.xlsx", &bytes).unwrap();
    assert_eq!(c.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 6]);
    assert_eq!(c.empty_rows, 3);
    assert!(c.errors.is_empty());
}

#[test]
fn ten_thousand_rows() {
    let rows: Vec<Vec<String>> = (0..10_000u32)
        .map(|i| {
            let birth = date(1960, 1, 1) + chrono::Days::new(u64::from(i / 7));
            let id =
                exam_domain::IdNumber::compose("320102", birth, (i % 7) as u16 * 100 + 1).unwrap();
            vec![
                format!("员工{}", char::from_u32(0x4E00 + i % 20_000).unwrap()),
                id.to_string(),
                format!("部门{}", i % 12),
            ]
        })
        .collect();
    let bytes = text_xlsx(&["姓名", "身份证号", "部门"], &rows);
    let started = Instant::now();
    let c = import("big.xlsx", &bytes).unwrap();
    eprintln!(
        "10 000 rows ({} KB): {:?}",
        bytes.len() / 1024,
        started.elapsed()
    );
    assert!(
        c.errors.is_empty(),
        "{:?}",
        &c.errors[..c.errors.len().min(3)]
    );
    assert_eq!(c.rows.len(), 10_000);
    assert_eq!(c.rows[9_999].line, 10_001);
}

#[test]
fn id_numbers_stored_as_numbers_are_refused_with_advice() {
    let bytes = xlsx(|ws| {
        write_rows(ws, 0, &[strings(&["姓名", "身份证号"]), strings(&["张三"])])?;
        ws.write_number(1, 1, 110105194912310021.0)?;
        Ok(())
    });
    let e = read_error("a.xlsx", &bytes);
    assert!(
        matches!(
            e,
            ReadError::NumericIdNumber {
                line: 2,
                column: 2,
                digits: 18,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("B2 单元格是一个 18 位的数字") && msg.contains("设为“文本”"),
        "{msg}"
    );
    // 15 digits are still exact, and whatever they are, the check says so.
    let bytes = xlsx(|ws| {
        write_rows(ws, 0, &[strings(&["姓名", "身份证号"]), strings(&["张三"])])?;
        ws.write_number(1, 1, 110105491231002.0)?;
        Ok(())
    });
    let c = import("a.xlsx", &bytes).unwrap();
    assert_eq!(c.errors[0].message, "身份证号应为 18 位，这里是 15 位");
}

#[test]
fn files_that_are_not_what_their_name_says() {
    let e = read_error("名单.xlsx", "姓名,身份证号\n张三,1\n".as_bytes());
    assert_eq!(e, ReadError::NotExcel { ext: "xlsx".into() });
    assert!(
        e.to_string()
            .starts_with("文件名是 .xlsx，但内容不是 Excel 文件"),
        "{e}"
    );
    let mut rng = common::Rng(7);
    let noise: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    assert!(matches!(
        read_error("a.xls", &noise),
        ReadError::NotExcel { .. }
    ));
    assert_eq!(read_error("a.xlsx", &[]), ReadError::Empty);

    // Cut short in transfer.
    let good = text_xlsx(
        &["姓名", "身份证号"],
        &[strings(&["张三", &id(1980, 1, 2, 11)])],
    );
    for cut in [10, good.len() / 2, good.len() - 30] {
        let e = read_error("a.xlsx", &good[..cut]);
        assert!(matches!(e, ReadError::Damaged(_)), "{cut}: {e:?}");
        assert!(e.to_string().contains("另存为 .xlsx"));
    }

    // A zip that holds no workbook (a .docx, say).
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, b"<w:document/>").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let e = read_error("a.xlsx", &bytes);
    assert!(e.to_string().contains("没有 Excel 工作簿"), "{e}");

    // Named .xls, but an xlsx: content decides.
    assert_eq!(sniff("a.xls", &good).unwrap(), Format::Xlsx);
    assert_eq!(import("a.xls", &good).unwrap().rows.len(), 1);

    assert!(matches!(
        read_error("名单.pdf", &good),
        ReadError::UnsupportedExtension(_)
    ));
    assert!(matches!(
        read_error("名单", &good),
        ReadError::UnsupportedExtension(_)
    ));
    let huge = vec![0u8; exam_roster::MAX_FILE_BYTES + 1];
    assert!(
        read_error("a.xlsx", &huge)
            .to_string()
            .contains("超过 20 MB")
    );
}

#[test]
fn only_the_first_visible_worksheet_is_read() -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet()
        .set_hidden(true)
        .write_string(0, 0, "隐藏")?;
    let ws = book.add_worksheet().set_active(true);
    write_rows(
        ws,
        0,
        &[
            strings(&["姓名", "身份证号"]),
            strings(&["张三", &id(1980, 1, 2, 11)]),
        ],
    )?;
    book.add_worksheet().write_string(0, 0, "说明")?;
    let c = import("a.xlsx", &book.save_to_buffer()?).unwrap();
    assert_eq!(c.rows.len(), 1);
    Ok(())
}

#[test]
fn tables_are_bounded_in_rows_and_columns() {
    let bytes = xlsx(|ws| {
        write_rows(ws, 0, &[strings(&["姓名", "身份证号"])])?;
        ws.write_string(3, 60, "x")?;
        Ok(())
    });
    assert_eq!(
        read_error("a.xlsx", &bytes),
        ReadError::TooManyColumns {
            line: 4,
            column: 61
        }
    );
    let bytes = xlsx(|ws| {
        write_rows(ws, 0, &[strings(&["姓名", "身份证号"])])?;
        ws.write_string(1_000_000, 0, "x")?;
        Ok(())
    });
    assert_eq!(read_error("a.xlsx", &bytes), ReadError::TooManyRows);
    let e = import("a.xlsx", &xlsx(|_| Ok(()))).unwrap_err();
    assert_eq!(
        e,
        ImportError::Check(CheckError::Header(HeaderError::Empty))
    );
    assert_eq!(e.to_string(), "文件里没有内容");
}
