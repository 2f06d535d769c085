//! The cashier takes a walk-in's money through the payment platform in a
//! real headless Chromium: the desk page's 扫码支付 button shows the
//! platform's QR code, the patient's phone (pay-sim's test payer, on the
//! real wire) pays it, and the page says paid with every item paid; a
//! second order closed from the page is closed at the platform.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e_tests::free_addr;
use exam_payment::model::TradeState;
use fantoccini::{Client, Locator};

mod browser;
use browser::{chromedriver, click, fill, wait_text};

/// A walk-in registered through the desk page's form; its exam number.
async fn walk_in(c: &Client, id_number: &str, name: &str) -> String {
    fill(c, "id_number", id_number).await;
    fill(c, "name", name).await;
    fill(c, "mobile", "13912345678").await;
    c.find(Locator::Css("#package option[value='P-M-BASIC']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(c, "submit-visit").await;
    let msg = wait_text(c, "msg", "体检号").await;
    let exam_no = msg
        .split("体检号 ")
        .nth(1)
        .unwrap()
        .split('，')
        .next()
        .unwrap()
        .to_string();
    wait_text(c, "detail-title", &exam_no).await;
    exam_no
}

/// The order number the page shows beside the QR code.
async fn order_on_page(c: &Client) -> String {
    let line = wait_text(c, "platform-pay-state", "订单").await;
    line.split("订单 ")
        .nth(1)
        .unwrap()
        .trim_end_matches('）')
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cashier_takes_a_walk_in_s_money_through_the_platform() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("pay-sim");
    let (sim, sim_url) = e2e_tests::pay_sim(&keys, exam_payment::sim::Faults::default())
        .await
        .unwrap();
    let config = e2e_tests::with_pay_sim(
        e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 0),
        &sim_url,
        &keys,
    );
    let server = exam_server::start(config).await.unwrap();
    let url = server.url();
    let db = &server.state.db;
    exam_server::create_staff(
        db,
        "cashier",
        exam_server::roles::Role::FrontDesk,
        Some("Front-Counter-2026!".into()),
    )
    .await
    .unwrap();
    let c = browser::session(&driver).await;
    c.goto(&format!("{url}/desk")).await.unwrap();
    fill(&c, "username", "cashier").await;
    fill(&c, "password", "Front-Counter-2026!").await;
    click(&c, "login").await;
    browser::enrol_totp_if_asked(&c).await;
    c.wait()
        .for_element(Locator::Css("header.bar"))
        .await
        .unwrap();
    c.goto(&format!("{url}/desk")).await.unwrap();
    c.wait()
        .for_element(Locator::Id("visit-form"))
        .await
        .unwrap();

    let man = exam_domain::IdNumber::compose(
        "321002",
        chrono::NaiveDate::from_ymd_opt(1975, 4, 9).unwrap(),
        11,
    )
    .unwrap();
    walk_in(&c, man.as_str(), "钱付款").await;
    click(&c, "pay-platform").await;
    let no = order_on_page(&c).await;
    // The QR image loaded (the desk's screen shows it to the patient).
    let mut width = 0;
    for _ in 0..50 {
        width = c
            .execute(
                "const i = document.getElementById('platform-pay-qr'); return i && i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
        if width > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(width > 100, "the QR code shows ({width} px)");

    // The patient scans it with their phone.
    let order = exam_server::payments::store::load_one(db, &no)
        .await
        .unwrap()
        .unwrap();
    let code_url = order.order.code_url.unwrap();
    assert_eq!(
        exam_payment::sim::pay_code(&sim_url, &code_url)
            .await
            .unwrap(),
        200
    );
    wait_text(&c, "msg", "已收款").await;
    let items = wait_text(&c, "detail-items", "已缴").await;
    assert!(!items.contains("未缴"), "every item paid: {items}");
    assert_eq!(sim.stats().payments, 1);

    // Another patient will not pay this way: the cashier closes the order.
    let other = exam_domain::IdNumber::compose(
        "321002",
        chrono::NaiveDate::from_ymd_opt(1968, 10, 2).unwrap(),
        13,
    )
    .unwrap();
    walk_in(&c, other.as_str(), "孙现金").await;
    click(&c, "pay-platform").await;
    let no2 = order_on_page(&c).await;
    assert_ne!(no2, no);
    click(&c, "platform-pay-cancel").await;
    wait_text(&c, "msg", "订单已关闭").await;
    assert_eq!(sim.trade_state(&no2), Some(TradeState::Closed));
    // The page asks for each visit's published report: none yet is a 404
    // by design; anything else logged is a fault.
    let severe: Vec<String> = browser::severe_log(&c)
        .await
        .into_iter()
        .filter(|l| !(l.contains("/report - Failed to load resource") && l.contains("404")))
        .collect();
    assert!(severe.is_empty(), "{severe:?}");

    c.close().await.unwrap();
    let _ = driver.child.kill().await;
    server.stop().await;
}
