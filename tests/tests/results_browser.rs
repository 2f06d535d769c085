//! Department results in a real headless Chromium (issue 20): a doctor in
//! the internal-medicine room scans a guide sheet (the scanner types the
//! exam number and Enter), presses 全部正常 and 保存: a normal exam is
//! entered with no typing, and the summary reads 未见明显异常. Ticking a
//! positive finding writes the summary and its conclusion live. The
//! medical history and the room's questionnaire are taken and saved.
//! `RESULTS_SCREENSHOTS=<dir>` keeps a PNG of the page.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e_tests::free_addr;
use exam_server::roles::Role;
use fantoccini::Locator;

mod browser;
use browser::{chromedriver, click, fill, wait_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_exam_is_entered_with_no_typing() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 6);
    let server = exam_server::start(config).await.unwrap();
    let url = server.url();
    let st = &server.state;
    let db = &st.db;
    let pw = "Results-Browser-2026!";
    exam_server::create_staff(db, "doc", Role::Doctor, Some(pw.into()))
        .await
        .unwrap();
    db.demo_items(&st.catalogue.get()).await.unwrap();
    // A demo visit with the internal-medicine examination.
    let mut exam_no = None;
    for r in db.changes_since("main", 0, 50).await.unwrap().records {
        let v = db.visit(r.booking.id).await.unwrap();
        if v.items.iter().any(|i| i.code == "INT-EXAM") {
            exam_no = Some(r.booking.exam_no.clone());
            break;
        }
    }
    let exam_no = exam_no.expect("a demo visit with INT-EXAM");

    let doc = browser::signed_in(&driver, &url, "doc", pw, "/dept?room=int").await;
    // The scanner types the number and Enter.
    fill(&doc, "scan", &format!("{exam_no}\n")).await;
    doc.wait()
        .for_element(Locator::Css("fieldset[data-item='INT-EXAM']"))
        .await
        .unwrap();
    click(&doc, "all-normal").await;
    click(&doc, "save").await;
    wait_text(&doc, "saved", "已保存").await;
    let summary = doc
        .execute("return document.getElementById('summary').value;", vec![])
        .await
        .unwrap();
    assert_eq!(summary, serde_json::json!("未见明显异常"));

    // Ticking a positive finding writes the summary and the conclusion.
    doc.find(Locator::Css(
        "input[data-field='f-INT-EXAM-heart'][value='arrhythmia']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_text(&doc, "conclusions", "心律不齐").await;
    let mut text = serde_json::Value::Null;
    for _ in 0..50 {
        text = doc
            .execute("return document.getElementById('summary').value;", vec![])
            .await
            .unwrap();
        if text.as_str().is_some_and(|t| t.contains("心律不齐")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text, serde_json::json!("1. 心律不齐"));
    click(&doc, "save").await;
    wait_text(&doc, "saved", "已保存").await;
    // The medical history, once per visit, and the room's questionnaire.
    doc.execute(
        "document.getElementById('history-box').open = true;",
        vec![],
    )
    .await
    .unwrap();
    fill(&doc, "h-past", "高血压 3 年").await;
    fill(&doc, "h-allergies", "青霉素过敏").await;
    click(&doc, "history-save").await;
    wait_text(&doc, "history-msg", "已保存").await;
    wait_text(&doc, "history-state", "doc").await;
    doc.find(Locator::Css("#asked input[data-q='breath']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&doc, "asked-save").await;
    wait_text(&doc, "asked-msg", "活动后有无气短").await;
    if let Some(out) = std::env::var_os("RESULTS_SCREENSHOTS") {
        std::fs::create_dir_all(&out).unwrap();
        let png = doc.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&out).join("dept-entry.png"), png).unwrap();
    }
    assert!(browser::severe_log(&doc).await.is_empty());
    doc.close().await.unwrap();
    driver.child.kill().await.unwrap();
}
