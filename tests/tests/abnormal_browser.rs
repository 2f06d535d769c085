//! The major-abnormal-results board in a real headless Chromium (issue
//! 20): a critical potassium from the laboratory appears on the board
//! with its one-hour timer; the doctor reviews it, records the phone call
//! that reached the patient, and the follow-up's outcome closes it (off
//! the open board, its steps in the history).
//! `RESULTS_SCREENSHOTS=<dir>` keeps a PNG of the board.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use e2e_tests::free_addr;
use exam_domain::abnormal::Category;
use exam_server::interfaces::abnormal::{ObservedValue, Raise, Source};
use exam_server::roles::Role;
use fantoccini::Locator;

mod browser;
use browser::{chromedriver, click, fill, wait_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_potassium_is_notified_and_closed_by_its_follow_up() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 4);
    let server = exam_server::start(config).await.unwrap();
    let url = server.url();
    let db = &server.state.db;
    let pw = "Abnormal-Browser-2026!";
    exam_server::create_staff(db, "doc", Role::Doctor, Some(pw.into()))
        .await
        .unwrap();
    let booking = db
        .changes_since("main", 0, 1)
        .await
        .unwrap()
        .records
        .remove(0)
        .booking;
    // As the laboratory listener raises it from an ORU^R01.
    let k = ObservedValue {
        code: "K".into(),
        name: "钾".into(),
        value: "6.9".into(),
        unit: "mmol/L".into(),
        reference_range: "3.5-5.3".into(),
        flag: None,
    };
    db.raise_major_abnormal(
        &Raise {
            booking_id: booking.id,
            item_code: "L-ELEC",
            inbound_id: None,
            observed: &k,
            category: Category::A,
            rule: "potassium_high".into(),
            source: Source::Interface,
            by: "system:lis",
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();

    let doc = browser::signed_in(&driver, &url, "doc", pw, "/abnormal").await;
    wait_text(&doc, "board", &booking.exam_no).await;
    let row = wait_text(&doc, "board", "钾").await;
    assert!(
        row.contains("A类") && row.contains("待审核") && row.contains("通知剩"),
        "{row}"
    );
    if let Some(out) = std::env::var_os("RESULTS_SCREENSHOTS") {
        std::fs::create_dir_all(&out).unwrap();
        let png = doc.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&out).join("abnormal-board.png"), png).unwrap();
    }
    doc.find(Locator::Css("#board tbody tr"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&doc, "case-value", "6.9 mmol/L").await;
    click(&doc, "review-ok").await;
    wait_text(&doc, "case-title", "待通知").await;
    // The call that reached the patient (whom: patient, by phone, reached).
    fill(&doc, "notify-note", "已电话告知，建议立即急诊复查血钾").await;
    click(&doc, "notify-save").await;
    wait_text(&doc, "case-title", "待随访").await;
    wait_text(&doc, "steps", "已联系到").await;
    // The follow-up's outcome closes it.
    doc.find(Locator::Css("#follow-kind option[value='outcome']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&doc, "follow-note", "急诊复查血钾 4.2，已处理").await;
    click(&doc, "follow-save").await;
    wait_text(&doc, "case-title", "已闭环").await;
    let steps = wait_text(&doc, "steps", "结局").await;
    assert!(steps.contains("急诊复查血钾 4.2"), "{steps}");
    // Closed: no more forms to act with.
    for form in ["review", "notify", "follow"] {
        let shown = doc
            .find(Locator::Id(form))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap();
        assert!(!shown, "{form} on a closed case");
    }
    if let Some(out) = std::env::var_os("RESULTS_SCREENSHOTS") {
        let png = doc.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&out).join("abnormal-case.png"), png).unwrap();
    }
    // Off the open board.
    for _ in 0..50 {
        if doc
            .find_all(Locator::Css("#board tbody tr"))
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        doc.find_all(Locator::Css("#board tbody tr"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(browser::severe_log(&doc).await.is_empty());
    doc.close().await.unwrap();
    driver.child.kill().await.unwrap();
}
