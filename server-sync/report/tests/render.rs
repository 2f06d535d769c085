//! The reports as a reader gets them: the PDF checked with poppler and
//! qpdf (installed by `scripts/test`; a missing tool fails the test).

use std::process::{Command, Stdio};

use exam_report::model::ExamKind;
use exam_report::{Fonts, sample};

fn fonts() -> Fonts {
    Fonts::noto_sans_sc(None).expect("fonts-noto-cjk is installed")
}

/// Runs `tool args… <file>` on `pdf` and returns its standard output.
fn run(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(&path);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils / qpdf) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn in_order(text: &str, wanted: &[&str]) {
    let mut at = 0;
    for w in wanted {
        let found = text[at..]
            .find(w)
            .unwrap_or_else(|| panic!("{w:?} not found after byte {at}"));
        at += found + w.len();
    }
}

#[test]
fn a_personal_report_is_valid_searchable_and_embeds_its_fonts() {
    let r = sample::personal(ExamKind::Health);
    let pdf = exam_report::personal(&fonts(), &r).unwrap();
    assert!(run("qpdf", &["--check"], &pdf).contains("No syntax or stream encoding errors"));
    let text = run("pdftotext", &["-layout"], &pdf);
    // The name on the cover, what is abnormal before the conclusions, the
    // conclusions in the chief physician's order, then the departments.
    let mut wanted = vec![
        "张伟",
        "重要异常结果提示",
        "异常结果汇总",
        "总检结论与健康建议",
    ];
    let names: Vec<String> = r.conclusions.iter().map(|c| c.name.clone()).collect();
    wanted.extend(names.iter().map(String::as_str));
    wanted.extend(["一般检查", "血常规", "主要指标历年趋势"]);
    in_order(&text, &wanted);
    let pages = run("pdfinfo", &[], &pdf);
    assert!(pages.contains("Pages:           12"), "{pages}");
    assert!(text.contains("第 12 页 共 12 页"));
    let fonts = run("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        // name type encoding emb sub uni
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "embedded, subset, ToUnicode: {row}"
        );
    }
    assert!(fonts.contains("NotoSansCJK"), "{fonts}");
}

#[test]
fn each_exam_kind_has_its_title_and_closing_section() {
    let f = fonts();
    for (kind, title, section) in [
        (ExamKind::Health, "健康体检报告", None),
        (
            ExamKind::Occupational,
            "职业健康检查报告",
            Some("职业健康检查结论"),
        ),
        (ExamKind::Entry, "入职体检报告", Some("入职体检结论")),
    ] {
        let pages = exam_report::personal_pages(&f, &sample::personal(kind));
        assert!(pages[0].text().contains(title));
        let all: String = pages.iter().map(|p| p.text()).collect();
        match section {
            Some(s) => assert!(all.contains(s), "{kind:?}"),
            None => assert!(!all.contains("职业健康检查结论") && !all.contains("入职体检结论")),
        }
    }
}

#[test]
fn nothing_is_drawn_outside_the_page_and_tables_repeat_their_header() {
    let f = fonts();
    let book = sample::group_book(300);
    let pages = exam_report::group_pages(&f, &book);
    for (i, p) in pages.iter().enumerate() {
        for op in &p.ops {
            if let exam_report::Op::Text { x, y, .. } = op {
                assert!(
                    (0.0..=595.0).contains(x) && (0.0..=842.0).contains(y),
                    "page {i}: {op:?}"
                );
            }
        }
    }
    // The roster runs over many pages; each starts with the header row.
    let roster: Vec<_> = pages
        .iter()
        .filter(|p| p.text().contains("TJ2026001"))
        .collect();
    assert!(roster.len() > 5);
    for p in roster {
        assert!(p.text().contains("主要结论"));
    }
    // Every member is listed once in the roster (and again if on the
    // list of major abnormal results).
    let all: String = pages.iter().map(|p| p.text()).collect();
    assert!(!book.majors.is_empty());
    for m in &book.members {
        let majors = book
            .majors
            .iter()
            .filter(|x| x.exam_no == m.exam_no)
            .count();
        assert_eq!(all.matches(&m.exam_no).count(), 1 + majors, "{}", m.exam_no);
    }
}

#[test]
fn the_group_books_contents_name_the_pages_its_sections_start_on() {
    let book = sample::group_book(200);
    let pdf = exam_report::group_book(&fonts(), &book).unwrap();
    assert!(run("qpdf", &["--check"], &pdf).contains("No syntax or stream encoding errors"));
    let text = run("pdftotext", &["-layout"], &pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let contents = pages[1];
    for title in [
        "一、体检概况",
        "三、主要异常结果统计",
        "六、人员体检结论一览",
    ] {
        let line = contents.lines().find(|l| l.contains(title)).unwrap();
        let n: usize = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(pages[n - 1].contains(title), "{title} is not on page {n}");
    }
    in_order(
        &text,
        &[
            "团体健康体检报告",
            "示例科技有限公司",
            "目",
            "重要异常结果人员名单",
        ],
    );
}

#[test]
fn the_reviewers_signature_image_is_drawn() {
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, 60, 20);
        enc.set_color(png::ColorType::Grayscale);
        let mut w = enc.write_header().unwrap();
        let pixels: Vec<u8> = (0..60 * 20)
            .map(|i| if i % 7 == 0 { 0 } else { 255 })
            .collect();
        w.write_image_data(&pixels).unwrap();
    }
    let mut r = sample::personal(ExamKind::Health);
    r.signature = Some(png);
    let pdf = exam_report::personal(&fonts(), &r).unwrap();
    let images = run("pdfimages", &["-list"], &pdf);
    assert!(
        images
            .lines()
            .any(|l| l.contains(" 60 ") && l.contains(" 20 ")),
        "{images}"
    );
    // Not a PNG: a clear error, not a broken page.
    r.signature = Some(b"not a picture".to_vec());
    let err = exam_report::personal(&fonts(), &r).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn published_reports_merge_into_one_file_page_for_page() {
    let f = fonts();
    let a = exam_report::personal(&f, &sample::personal(ExamKind::Health)).unwrap();
    let mut other = sample::personal(ExamKind::Entry);
    other.name = "李娜".into();
    let b = exam_report::personal(&f, &other).unwrap();
    let both = exam_report::merge(&[a.clone(), b.clone()]).unwrap();
    assert!(run("qpdf", &["--check"], &both).contains("No syntax or stream encoding errors"));
    let pages = |pdf: &[u8]| -> usize {
        let info = run("pdfinfo", &[], pdf);
        info.lines()
            .find(|l| l.starts_with("Pages:"))
            .unwrap()
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(pages(&both), pages(&a) + pages(&b));
    in_order(
        &run("pdftotext", &[], &both),
        &["张伟", "健康体检报告", "李娜", "入职体检报告"],
    );
    // Something that is not a PDF: a clear error naming which.
    let err = exam_report::merge(&[a, b"%PDF-1.4 broken".to_vec()]).unwrap_err();
    assert!(err.to_string().contains("document 2"), "{err}");
}

#[test]
fn a_pickup_slip_lists_every_report_with_a_line_to_sign() {
    use exam_report::model::{PickupLine, PickupSlip};
    let book = sample::group_book(60);
    let slip = PickupSlip {
        centre: book.centre.clone(),
        company: book.company.clone(),
        date: "2026-12-05".into(),
        lines: book
            .members
            .iter()
            .map(|m| PickupLine {
                exam_no: m.exam_no.clone(),
                name: m.name.clone(),
                sex: m.sex.clone(),
                department: "研发部".into(),
                pages: 12,
            })
            .collect(),
    };
    let pdf = exam_report::pickup_slip(&fonts(), &slip).unwrap();
    let text = run("pdftotext", &["-layout"], &pdf);
    assert!(
        text.contains("体检报告领取单")
            && text.contains("领取人签字")
            && text.contains("单位经办人")
    );
    for m in &book.members {
        assert!(text.contains(&m.exam_no), "{}", m.exam_no);
    }
}
