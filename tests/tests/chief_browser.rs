//! The chief examination in a real headless Chromium (issue 20): a visit
//! whose results are all in is in the chief physician's list; they add a
//! conclusions from the dictionary by their pinyin initials, tick two and
//! merge them into a new one, move it up and lock the report; a reviewer,
//! in a session of their own, returns it with a reason; the physician sees
//! the reason, locks again, and the reviewer passes it: published (the
//! generated PDF on the desk's record).
//! `RESULTS_SCREENSHOTS=<dir>` keeps PNGs of the page.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e_tests::free_addr;
use exam_server::roles::Role;
use fantoccini::{Client, Locator};

mod browser;
use browser::{chromedriver, click, fill, wait_text};

/// The conclusions' names as listed (read in one go: the list is redrawn
/// after each edit).
async fn conclusions(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#conclusions li .name')).map(function (e) { return e.textContent; });",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn until_conclusions(c: &Client, want: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = conclusions(c).await;
        if want(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("conclusions now {got:?}");
}

async fn open_row(c: &Client, table: &str, exam_no: &str) {
    wait_text(c, table, exam_no).await;
    c.find(Locator::Css(&format!("#{table} tbody tr")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "r-title", exam_no).await;
}

async fn shot(c: &Client, name: &str) {
    if let Some(out) = std::env::var_os("RESULTS_SCREENSHOTS") {
        std::fs::create_dir_all(&out).unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&out).join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chief_physician_merges_conclusions_and_a_returned_report_comes_back() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 4);
    let server = exam_server::start(config).await.unwrap();
    let url = server.url();
    let st = &server.state;
    let pw = "Chief-Browser-2026!";
    for login in ["wang", "li"] {
        exam_server::create_staff(&st.db, login, Role::Doctor, Some(pw.into()))
            .await
            .unwrap();
    }
    st.db
        .set_chief_physician("test", "wang", 3, false, None)
        .await
        .unwrap();
    st.db
        .set_chief_physician("test", "li", 3, true, None)
        .await
        .unwrap();
    let booking = st
        .db
        .changes_since("main", 0, 1)
        .await
        .unwrap()
        .records
        .remove(0)
        .booking;
    st.db.register("desk", booking.id, &[]).await.unwrap();
    e2e_tests::doctors::enter_all_results(st, booking.id, 11).await;
    let ready = exam_server::chief::readiness(st, booking.id).await.unwrap();
    assert_eq!(ready, exam_domain::results::chief::Readiness::Ready);

    // The physician takes the report from the pool (nobody assigned it).
    let wang = browser::signed_in(&driver, &url, "wang", pw, "/chief").await;
    open_row(&wang, "pool", &booking.exam_no).await;
    let before = conclusions(&wang).await;
    // Two from the dictionary by pinyin initials, of those the departments
    // did not already give (jzcw: 脊柱侧弯, mxyy: 慢性咽炎, …).
    let mut added = Vec::new();
    for (q, name) in [
        ("jzcw", "脊柱侧弯"),
        ("mxyy", "慢性咽炎"),
        ("yjs", "牙结石"),
        ("fwlzd", "肺纹理增多"),
    ] {
        if before.iter().any(|x| x == name) || added.len() == 2 {
            continue;
        }
        fill(&wang, "add-q", q).await;
        wait_text(&wang, "add-hits", name).await;
        wang.find(Locator::XPath(&format!(
            "//span[@id='add-hits']/button[text()='{name}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        until_conclusions(&wang, |c| c.iter().any(|x| x == name)).await;
        added.push(name);
    }
    let list = conclusions(&wang).await;
    assert_eq!(list.len(), before.len() + 2, "{list:?}");
    // Tick the two just added and merge them into a new conclusion.
    let boxes = wang
        .find_all(Locator::Css("#conclusions li .pick-two"))
        .await
        .unwrap();
    let n = boxes.len();
    boxes[n - 2].click().await.unwrap();
    boxes[n - 1].click().await.unwrap();
    fill(&wang, "merge-name", "脊柱及咽部慢性改变").await;
    wang.find(Locator::Css("#merge button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let list = until_conclusions(&wang, |c| c.iter().any(|x| x == "脊柱及咽部慢性改变")).await;
    assert!(
        !list.iter().any(|x| added.contains(&x.as_str())),
        "{list:?}"
    );
    // Up one place (the same move as dragging it).
    if list.len() > 1 {
        let ups = wang
            .find_all(Locator::Css("#conclusions li .up"))
            .await
            .unwrap();
        ups[list.len() - 1].click().await.unwrap();
        until_conclusions(&wang, |c| {
            c.len() > 1 && c[c.len() - 2] == "脊柱及咽部慢性改变"
        })
        .await;
    }
    shot(&wang, "chief-draft.png").await;
    click(&wang, "lock").await;
    wait_text(&wang, "r-title", "已锁定").await;

    // The reviewer returns it with a reason.
    let li = browser::signed_in(&driver, &url, "li", pw, "/chief").await;
    open_row(&li, "review", &booking.exam_no).await;
    li.find(Locator::Css("#return-reason option[value='advice']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&li, "return-note", "合并后的建议请写具体目标").await;
    click(&li, "return").await;
    wait_text(&li, "r-title", "草稿").await;

    // It comes back to the physician with the reason; locked again.
    click(&wang, "refresh").await;
    open_row(&wang, "mine", &booking.exam_no).await;
    let returns = wait_text(&wang, "returns", "建议不当").await;
    assert!(
        returns.contains("合并后的建议请写具体目标") && returns.contains("li"),
        "{returns}"
    );
    click(&wang, "lock").await;
    wait_text(&wang, "r-title", "已锁定").await;

    // Passed: published, the PDF generated.
    click(&li, "refresh").await;
    open_row(&li, "review", &booking.exam_no).await;
    click(&li, "approve").await;
    wait_text(&li, "r-title", "已发布").await;
    shot(&li, "chief-published.png").await;
    let report = st.db.visit_report(booking.id).await.unwrap().unwrap();
    assert_eq!(report.published_by, "li");
    if let Some(out) = std::env::var_os("RESULTS_SCREENSHOTS") {
        let pdf = st
            .db
            .visit_report_pdf("test", booking.id)
            .await
            .unwrap()
            .unwrap();
        std::fs::write(std::path::Path::new(&out).join("chief-report.pdf"), pdf).unwrap();
    }
    assert!(report.pages >= 3, "{report:?}");
    // The statistics count the return against the physician.
    li.execute(
        "document.getElementById('stats').closest('details').open = true;",
        vec![],
    )
    .await
    .unwrap();
    let stats = wait_text(&li, "stats", "建议不当").await;
    assert!(stats.contains("wang"), "{stats}");

    for c in [&wang, &li] {
        assert!(browser::severe_log(c).await.is_empty());
    }
    wang.close().await.unwrap();
    li.close().await.unwrap();
    driver.child.kill().await.unwrap();
}
