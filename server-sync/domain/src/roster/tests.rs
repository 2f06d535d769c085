use chrono::NaiveDate;

use super::*;
use crate::{IdNumber, Marital, Sex};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A valid ID number; odd `seq` is a man, even a woman.
fn id(y: i32, m: u32, day: u32, seq: u16) -> String {
    IdNumber::compose("110105", d(y, m, day), seq)
        .unwrap()
        .to_string()
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| row(r)).collect()
}

const FULL_HEADER: &[&str] = &[
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "手机号",
    "婚否",
    "部门",
    "工号",
    "备注",
];

/// Errors of a one-data-row roster with the full header.
fn errors_of(cells: &[&str]) -> Vec<RowError> {
    let c = check(&table(&[FULL_HEADER, cells])).unwrap();
    assert!(c.rows.is_empty() || c.errors.is_empty());
    c.errors
}

fn only_error(cells: &[&str]) -> RowError {
    let e = errors_of(cells);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap()
}

#[test]
fn header_synonyms_markers_brackets_and_case() {
    let t = table(&[&[
        "*姓名(必填)",
        "身份证号码（必填）",
        "性 别",
        "出生年月",
        "联系电话",
        "婚姻状况",
        "所在部门",
        "员工编号",
        "备注",
        "体检套餐",
    ]]);
    let h = recognise_header(&t).unwrap();
    assert_eq!(h.row, 0);
    let want: Vec<(Field, usize)> = Field::ALL.iter().copied().zip(0..).collect();
    assert_eq!(h.columns, want);
    assert_eq!(h.ignored, vec!["体检套餐".to_string()]);

    let t = table(&[&[
        "",
        "Name",
        "ＩＤ",
        "GENDER",
        "Mobile",
        "Employee No",
        "Birthday",
        "Marital",
    ]]);
    let h = recognise_header(&t).unwrap();
    assert_eq!(h.column(Field::Name), Some(1));
    assert_eq!(h.column(Field::IdNumber), Some(2));
    assert_eq!(h.column(Field::Sex), Some(3));
    assert_eq!(h.column(Field::Mobile), Some(4));
    assert_eq!(h.column(Field::EmployeeNo), Some(5));
    assert_eq!(h.column(Field::BirthDate), Some(6));
    assert_eq!(h.column(Field::Marital), Some(7));
    for (text, f) in [
        ("名字", Field::Name),
        ("员工姓名", Field::Name),
        ("人员姓名", Field::Name),
        ("证件号码", Field::IdNumber),
        ("证件号", Field::IdNumber),
        ("身份证", Field::IdNumber),
        ("idcard", Field::IdNumber),
        ("sex", Field::Sex),
        ("生日", Field::BirthDate),
        ("手机", Field::Mobile),
        ("手机号码", Field::Mobile),
        ("电话", Field::Mobile),
        ("phone", Field::Mobile),
        ("婚否", Field::Marital),
        ("婚姻", Field::Marital),
        ("科室", Field::Department),
        ("department", Field::Department),
        ("工号", Field::EmployeeNo),
        ("note", Field::Note),
        ("\u{3000}姓\u{3000}名＊【必填】", Field::Name),
    ] {
        assert_eq!(header::field_of(text), Some(f), "{text}");
    }
    assert_eq!(header::field_of("体检套餐"), None);
    assert_eq!(header::field_of(""), None);
}

#[test]
fn header_below_a_title_row() {
    let t = table(&[
        &["XX公司2026年体检名单"],
        &[],
        &["序号", "姓名", "身份证号"],
        &["1", "张三", &id(1980, 1, 2, 11)],
    ]);
    let c = check(&t).unwrap();
    assert_eq!(c.header.row, 2);
    assert_eq!(c.header.line(), 3);
    assert_eq!(c.header.ignored, vec!["序号".to_string()]);
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].line, 4);
    assert_eq!(c.rows[0].name, "张三");
}

#[test]
fn header_errors_say_what_is_missing_and_what_was_seen() {
    assert_eq!(recognise_header(&[]), Err(HeaderError::Empty));
    assert_eq!(
        recognise_header(&table(&[&["", " "], &[]])),
        Err(HeaderError::Empty)
    );

    let e = recognise_header(&table(&[&["标题"], &["姓名", "性别", "手机"]])).unwrap_err();
    assert_eq!(
        e,
        HeaderError::MissingColumns {
            line: 2,
            missing: vec![Field::IdNumber],
            seen: vec!["姓名".into(), "性别".into(), "手机".into()],
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("第 2 行") && msg.contains("“身份证号”") && msg.contains("“手机”"),
        "{msg}"
    );

    // Only one known header anywhere: still says which.
    let e = recognise_header(&table(&[&["编号", "证件号码", "单位"]])).unwrap_err();
    assert!(matches!(&e, HeaderError::MissingColumns { missing, .. } if missing == &[Field::Name]));

    let e = recognise_header(&table(&[&["公司体检名单"], &["a", "b"]])).unwrap_err();
    assert_eq!(
        e,
        HeaderError::NotFound {
            seen: vec!["公司体检名单".into()]
        }
    );
    assert!(e.to_string().contains("找不到表头"));

    // The header must be within the first 10 rows.
    let mut t = vec![row(&["请如实填写"]); HEADER_SEARCH_ROWS];
    t.push(row(&["姓名", "身份证号"]));
    assert!(matches!(
        recognise_header(&t),
        Err(HeaderError::NotFound { .. })
    ));
    t.remove(0);
    assert_eq!(recognise_header(&t).unwrap().row, HEADER_SEARCH_ROWS - 1);
}

#[test]
fn duplicate_header_columns_are_refused() {
    let e = recognise_header(&table(&[&["姓名", "身份证号", "手机", "证件号码"]])).unwrap_err();
    assert_eq!(
        e,
        HeaderError::DuplicateColumn {
            field: Field::IdNumber,
            first: (1, "身份证号".into()),
            second: (3, "证件号码".into()),
        }
    );
    assert!(
        e.to_string()
            .contains("第 2 列“身份证号”和第 4 列“证件号码”"),
        "{e}"
    );
}

#[test]
fn a_good_row_with_every_column() {
    let man = id(1980, 1, 2, 11);
    let c = check(&table(&[
        FULL_HEADER,
        &[
            " 张三 ",
            &man,
            "男",
            "1980-01-02",
            "+86 138-0013-8000",
            "离异",
            "财务部",
            "A001",
            "VIP",
        ],
        &["李四", &id(1990, 5, 6, 22), "", "", "", "", "", "", ""],
    ]))
    .unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let r = &c.rows[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.name, "张三");
    assert_eq!(r.id_number.as_str(), man);
    assert_eq!((r.sex, r.birth_date), (Sex::Male, d(1980, 1, 2)));
    assert_eq!(r.mobile.as_deref(), Some("13800138000"));
    assert_eq!(r.marital, Marital::Married);
    assert_eq!(r.department.as_deref(), Some("财务部"));
    assert_eq!(r.employee_no.as_deref(), Some("A001"));
    assert_eq!(r.note.as_deref(), Some("VIP"));
    let r = &c.rows[1];
    assert_eq!(
        (r.sex, r.marital, r.mobile.as_deref()),
        (Sex::Female, Marital::Unknown, None)
    );
    assert_eq!(r.department, None);
}

#[test]
fn only_name_and_id_columns_are_enough() {
    let c = check(&table(&[
        &["身份证号", "姓名"],
        &[&id(1975, 12, 31, 2), "王五"],
    ]))
    .unwrap();
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].sex, Sex::Female);
}

#[test]
fn name_errors() {
    let good = id(1980, 1, 2, 11);
    let e = only_error(&["", &good]);
    assert_eq!(
        (e.line, e.field, e.message.as_str()),
        (2, Some(Field::Name), "姓名不能为空")
    );
    let e = only_error(&["张3", &good]);
    assert!(e.message.contains("数字"), "{e:?}");
    assert!(only_error(&["张３", &good]).message.contains("数字"));
    let long = "阿".repeat(31);
    let e = only_error(&[&long, &good]);
    assert!(e.message.contains("最多 30 个字"), "{e:?}");
    assert!(errors_of(&[&"阿".repeat(30), &good]).is_empty());
    assert!(errors_of(&["阿卜杜拉·买买提", &good]).is_empty());
}

#[test]
fn id_number_errors_in_chinese() {
    let e = only_error(&["张三", ""]);
    assert_eq!(
        (e.field, e.message.as_str()),
        (Some(Field::IdNumber), "身份证号不能为空")
    );
    let e = only_error(&["张三", "11010519800102"]);
    assert_eq!(e.message, "身份证号应为 18 位，这里是 14 位");
    assert_eq!(e.value, "11010519800102");
    let e = only_error(&["张三", "1101051980010200AX"]);
    assert!(e.message.contains("只能是数字"));
    let e = only_error(&["张三", "110105198002300011"]);
    assert!(e.message.contains("不是有效日期"), "{e:?}");
    let e = only_error(&["张三", "110105194912310021"]);
    assert!(
        e.message.contains("校验位不对") && e.message.contains("应为 X"),
        "{e:?}"
    );
    // What spreadsheets do to numbers that are fine.
    for ok in [
        "11010519491231002x",
        "'11010519491231002X",
        "110105 19491231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ] {
        assert!(errors_of(&["张三", ok]).is_empty(), "{ok}");
    }
}

#[test]
fn sex_must_agree_with_the_id_number() {
    let man = id(1980, 1, 2, 11);
    let woman = id(1980, 1, 2, 12);
    for s in ["男", "M", "m", "male", "Male", "1", "男性"] {
        assert!(errors_of(&["张三", &man, s]).is_empty(), "{s}");
    }
    for s in ["女", "F", "female", "2"] {
        assert!(errors_of(&["李四", &woman, s]).is_empty(), "{s}");
    }
    let e = only_error(&["张三", &man, "女"]);
    assert_eq!(e.field, Some(Field::Sex));
    assert!(
        e.message.contains("与身份证号不符") && e.message.contains("“男”"),
        "{e:?}"
    );
    let e = only_error(&["张三", &man, "未知"]);
    assert!(e.message.contains("应填“男”或“女”"));
    // A sex that cannot be read is reported even when the ID number is bad.
    assert_eq!(errors_of(&["张三", "123", "x"]).len(), 2);
}

#[test]
fn birth_date_forms_and_excel_serials() {
    let man = id(1980, 1, 2, 11);
    for b in [
        "1980-01-02",
        "1980/1/2",
        "1980.1.2",
        "19800102",
        "1980年1月2日",
        "1980年01月02日",
        "29222",
        "29222.0",
        "1980-01-02 00:00:00",
        "1980-01",
        "1980年1月",
        "198001",
    ] {
        assert!(errors_of(&["张三", &man, "", b]).is_empty(), "{b}");
    }
    let e = only_error(&["张三", &man, "", "1980-01-03"]);
    assert_eq!(e.field, Some(Field::BirthDate));
    assert!(
        e.message.contains("与身份证号不符") && e.message.contains("1980-01-02"),
        "{e:?}"
    );
    assert!(
        only_error(&["张三", &man, "", "29223"])
            .message
            .contains("不符")
    );
    assert!(
        only_error(&["张三", &man, "", "1980-02"])
            .message
            .contains("不符")
    );
    for bad in [
        "1980-13-01",
        "1980-02-30",
        "明年",
        "80-1-2",
        "0",
        "1980年13月",
    ] {
        let e = only_error(&["张三", &man, "", bad]);
        assert!(e.message.contains("看不懂"), "{bad}: {e:?}");
    }
    assert_eq!(excel_serial_date(1), Some(d(1900, 1, 1)));
    assert_eq!(excel_serial_date(59), Some(d(1900, 2, 28)));
    assert_eq!(excel_serial_date(60), None); // Excel's 1900-02-29
    assert_eq!(excel_serial_date(61), Some(d(1900, 3, 1)));
    assert_eq!(excel_serial_date(29221), Some(d(1980, 1, 1)));
    assert_eq!(excel_serial_date(45658), Some(d(2025, 1, 1)));
    assert_eq!(excel_serial_date(2_958_465), Some(d(9999, 12, 31)));
    assert_eq!(excel_serial_date(0), None);
    assert_eq!(excel_serial_date(2_958_466), None);
}

#[test]
fn mobile_and_marital() {
    let man = id(1980, 1, 2, 11);
    for m in [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+8613800138000",
        "0086 138 0013 8000",
        "19912345678",
    ] {
        let c = check(&table(&[FULL_HEADER, &["张三", &man, "", "", m]])).unwrap();
        assert_eq!(
            c.rows[0].mobile.as_deref().map(|s| s.len()),
            Some(11),
            "{m}"
        );
    }
    for bad in [
        "1380013800",
        "12800138000",
        "010-12345678",
        "138001380001",
        "abc",
    ] {
        let e = only_error(&["张三", &man, "", "", bad]);
        assert_eq!(e.field, Some(Field::Mobile), "{bad}");
        assert!(e.message.contains("11 位"));
    }
    for (text, m) in [
        ("已婚", Marital::Married),
        ("离异", Marital::Married),
        ("丧偶", Marital::Married),
        ("未婚", Marital::Unmarried),
        ("是", Marital::Married),
        ("否", Marital::Unmarried),
        ("", Marital::Unknown),
    ] {
        let c = check(&table(&[FULL_HEADER, &["张三", &man, "", "", "", text]])).unwrap();
        assert_eq!(c.rows[0].marital, m, "{text}");
    }
    let e = only_error(&["张三", &man, "", "", "", "保密"]);
    assert_eq!(e.field, Some(Field::Marital));
    assert!(e.message.contains("已婚"));
}

#[test]
fn over_long_cells_in_known_and_unknown_columns() {
    let man = id(1980, 1, 2, 11);
    let long = "很".repeat(MAX_CELL_CHARS + 1);
    let e = only_error(&["张三", &man, "", "", "", "", &long]);
    assert_eq!(e.field, Some(Field::Department));
    assert!(
        e.message.contains("201 个字") && e.value.ends_with('…'),
        "{e:?}"
    );
    let c = check(&table(&[
        &["姓名", "身份证号", "其他"],
        &["张三", &man, &long],
    ]))
    .unwrap();
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].field, None);
    assert!(c.errors[0].message.contains("第 3 列"));
    // An over-long name is one error, not two.
    let e = only_error(&[&long, &man]);
    assert_eq!(e.field, Some(Field::Name));
    assert!(errors_of(&["张三", &man, "", "", "", "", &"很".repeat(MAX_CELL_CHARS)]).is_empty());
}

#[test]
fn several_errors_in_one_row_and_other_rows_still_checked() {
    let c = check(&table(&[
        FULL_HEADER,
        &["张3", "123", "妖", "明天", "110", "保密"],
        &["李四", &id(1990, 5, 6, 22)],
    ]))
    .unwrap();
    let fields: Vec<_> = c.errors.iter().map(|e| e.field.unwrap()).collect();
    assert_eq!(
        fields,
        [
            Field::Name,
            Field::IdNumber,
            Field::Sex,
            Field::BirthDate,
            Field::Mobile,
            Field::Marital
        ]
    );
    assert!(c.errors.iter().all(|e| e.line == 2));
    assert_eq!(c.rejected_rows(), 1);
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].line, 3);
}

#[test]
fn duplicate_id_numbers_name_the_earlier_line() {
    let a = id(1980, 1, 2, 11);
    let c = check(&table(&[
        &["姓名", "身份证号"],
        &["张三", &a],
        &["李四", &id(1990, 5, 6, 22)],
        &["张三", &a.to_lowercase()],
        &["张三丰", &a],
    ]))
    .unwrap();
    assert_eq!(c.rows.len(), 2);
    let dup: Vec<_> = c
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        dup,
        [
            (4, "身份证号与第 2 行重复，同一人只能出现一次"),
            (5, "身份证号与第 2 行重复，同一人只能出现一次")
        ]
    );
    // A first occurrence with another error still counts for later rows.
    let c = check(&table(&[&["姓名", "身份证号"], &["9", &a], &["张三", &a]])).unwrap();
    assert_eq!(c.errors.len(), 2);
    assert!(c.errors[1].message.contains("第 2 行"));
    assert!(c.rows.is_empty());
}

#[test]
fn blank_rows_are_skipped_and_counted() {
    let c = check(&table(&[
        &["姓名", "身份证号"],
        &[],
        &["张三", &id(1980, 1, 2, 11)],
        &["", " ", "\u{3000}"],
        &["\t"],
    ]))
    .unwrap();
    assert_eq!(c.empty_rows, 3);
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].line, 3);
    assert!(c.errors.is_empty());
}

#[test]
fn too_many_rows_are_refused_before_checking() {
    let r = row(&["张三", "1"]);
    let mut t = vec![row(&["姓名", "身份证号"])];
    t.extend(std::iter::repeat_n(r, MAX_ROWS));
    t.push(row(&[]));
    assert!(check(&t).is_ok());
    t.push(row(&["李四", "2"]));
    let e = check(&t).unwrap_err();
    assert_eq!(e, CheckError::TooManyRows { rows: MAX_ROWS + 1 });
    assert!(e.to_string().contains("最多导入 50000 行"));
}

#[test]
fn error_report_is_excel_friendly_and_defuses_formulas() {
    let man = id(1980, 1, 2, 11);
    let c = check(&table(&[
        FULL_HEADER,
        &["=SUM(1)", &man],
        &["张三", "+1,2"],
        &["李四", &id(1990, 5, 6, 22), "", "", "-1", "@x"],
    ]))
    .unwrap();
    let csv = error_report_csv(&c);
    assert!(csv.starts_with("\u{feff}行号,字段,内容,问题\r\n"));
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines[1],
        "2,姓名,'=SUM(1),姓名里不能有数字，请检查是否与其他列错位"
    );
    assert!(
        error_report_csv(&check(&table(&[FULL_HEADER, &["1\"2", &man]])).unwrap())
            .contains("2,姓名,\"1\"\"2\",")
    );
    assert!(
        lines[2].starts_with("3,身份证号,\"'+1,2\",身份证号应为 18 位"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("4,手机号,'-1,"), "{}", lines[3]);
    assert!(lines[4].starts_with("4,婚姻状况,'@x,"), "{}", lines[4]);
    assert_eq!(lines.len(), 6); // and a final empty piece after the last CRLF
}
