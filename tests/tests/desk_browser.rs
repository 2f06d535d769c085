//! The front desk and the group desk in a real headless Chromium: register
//! a walk-in (with the plan preview showing what the rules left out), then
//! import a roster with an error, see it refused, import the good rows and
//! find the members grouped.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use e2e_tests::{free_addr, start_server};
use fantoccini::Locator;

mod browser;
use browser::{chromedriver, click, fill, text_of, wait_text};

fn id_number(year: i32, seq: u16) -> String {
    exam_domain::IdNumber::compose(
        "321002",
        chrono::NaiveDate::from_ymd_opt(year, 6, 1).unwrap(),
        seq,
    )
    .unwrap()
    .as_str()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_desk_registers_a_walk_in_and_group_desk_imports_a_roster() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 5)
        .await
        .unwrap();
    let url = server.url();
    exam_server::create_staff(
        &server.state.db,
        "desk",
        exam_server::roles::Role::Admin,
        Some("Front-Counter-2026!".into()),
    )
    .await
    .unwrap();
    let c = browser::session(&driver).await;

    c.goto(&format!("{url}/desk")).await.unwrap();
    fill(&c, "username", "desk").await;
    fill(&c, "password", "Front-Counter-2026!").await;
    click(&c, "login").await;
    browser::enrol_totp_if_asked(&c).await;
    if let Err(e) = c.wait().for_element(Locator::Css("header.bar")).await {
        let at = c.current_url().await.unwrap();
        let html = c.source().await.unwrap();
        panic!("signed in, yet no page with a header ({e}) at {at}: {html}");
    }
    c.goto(&format!("{url}/desk")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("visit-form"))
        .await
        .unwrap();

    // A married-women package for an unmarried woman, plus one added item.
    let woman = id_number(1999, 2);
    fill(&c, "id_number", &woman).await;
    fill(&c, "name", "林晓雨").await;
    fill(&c, "mobile", "13912345678").await;
    c.find(Locator::Css("#marital option[value='unmarried']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#package option[value='P-F-BASIC-M']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&c, "item-filter", "同型半胱氨酸").await;
    c.wait()
        .for_element(Locator::Css("#items input[value='L-HCY']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "preview").await;
    let plan = wait_text(&c, "plan", "合计").await;
    assert!(plan.contains("未含") && plan.contains("未婚"), "{plan}");
    assert!(plan.contains("同型半胱氨酸"), "{plan}");
    click(&c, "submit-visit").await;
    let msg = wait_text(&c, "msg", "体检号").await;
    let exam_no = msg
        .split("体检号 ")
        .nth(1)
        .unwrap()
        .split('，')
        .next()
        .unwrap()
        .to_string();
    assert!(!exam_no.contains('4') && exam_no.len() == 9, "{msg}");
    let title = wait_text(&c, "detail-title", &exam_no).await;
    assert!(title.contains("林晓雨"), "{title}");
    assert_eq!(text_of(&c, "detail-state").await, "已登记");
    let items = text_of(&c, "detail-items").await;
    assert!(
        items.contains("经腹部子宫附件彩超") && !items.contains("经阴道"),
        "{items}"
    );

    // Found again by pinyin initials.
    fill(&c, "q", "lxy").await;
    click(&c, "search").await;
    wait_text(&c, "hits", &exam_no).await;

    // Group desk: a company, a group, a roster with one bad row.
    c.goto(&format!("{url}/groups")).await.unwrap();
    fill(&c, "company-name", "扬州某某机械有限公司").await;
    fill(&c, "company-contact", "人事部").await;
    click(&c, "create-company").await;
    wait_text(&c, "company-title", "扬州某某机械").await;
    fill(&c, "g-name", "全员").await;
    c.find(Locator::Css("#g-package option[value='P-GRP-A']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "create-group").await;
    wait_text(&c, "groups", "全员").await;

    let mut csv = String::from("姓名,身份证号,手机号,婚否\n");
    for i in 0..40u16 {
        let cn: String = i
            .to_string()
            .chars()
            .map(|d| {
                "零一二三四五六七八九"
                    .chars()
                    .nth(d as usize - '0' as usize)
                    .unwrap()
            })
            .collect();
        csv.push_str(&format!(
            "员工{cn},{},139{:08},已婚\n",
            id_number(1980 + i32::from(i % 20), 300 + i),
            i
        ));
    }
    csv.push_str("坏行,123,139,已婚\n");
    let path = dir.path().join("名单.csv");
    std::fs::write(&path, csv).unwrap();
    c.find(Locator::Id("roster-file"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    click(&c, "import").await;
    let summary = wait_text(&c, "import-summary", "已导入 0 人").await;
    assert!(
        summary.contains("未导入") && summary.contains("40 行有效，2 处错误"),
        "{summary}"
    );
    let errors = text_of(&c, "import-errors").await;
    assert!(
        errors.contains("第 42 行") && errors.contains("身份证"),
        "{errors}"
    );
    assert!(
        c.find(Locator::Id("error-report")).await.is_ok(),
        "report link"
    );

    click(&c, "partial").await;
    click(&c, "import").await;
    let summary = wait_text(&c, "import-summary", "自动分组").await;
    let errors = c.find(Locator::Id("import-errors")).await.map(|_| ()).ok();
    if !summary.contains("已导入 40 人") {
        panic!(
            "{summary} / {errors:?} / {}",
            text_of(&c, "import-errors").await
        );
    }
    assert_eq!(text_of(&c, "import-stage").await, "完成");
    wait_text(&c, "member-count", "40 人").await;
    let members = text_of(&c, "members").await;
    assert!(
        members.contains("员工七") && members.contains("全员"),
        "grouped: {members}"
    );
    assert!(
        !members.contains(&id_number(1987, 307)),
        "ID numbers masked"
    );

    if let Some(out) = std::env::var_os("SCREENSHOT_DIR") {
        std::fs::write(
            std::path::Path::new(&out).join("group-desk.png"),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    c.close().await.unwrap();
    let _ = driver.child.kill().await;
    server.stop().await;
}
