//! The queue in a real headless Chromium (issue 19): a doctor presses
//! 呼叫下一位 on the station page and the room's screen (opened from the
//! guide desk's link) shows the masked name within a second and loads the
//! announcement's audio; the guide desk evacuates a room and its waiting
//! people appear in other rooms' lists; the phone page (its link from the
//! guide desk) follows a call live.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use e2e_tests::free_addr;
use exam_domain::queue::Where;
use exam_server::roles::Role;
use fantoccini::{Client, Locator};

mod browser;
use browser::{chromedriver, click, fill, wait_text};

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Polls `script` until it returns true, up to `limit`.
async fn until(c: &Client, script: &str, limit: Duration) -> Duration {
    let t = Instant::now();
    while t.elapsed() < limit {
        if js(c, script).await == serde_json::Value::Bool(true) {
            return t.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {limit:?}: {script}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctors_call_screens_speak_the_guide_desk_evacuates_and_phones_follow() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 12);
    let server = exam_server::start(config).await.unwrap();
    let url = server.url();
    let st = &server.state;
    let db = &st.db;
    let pw = "Queue-Browser-2026!";
    for (u, r) in [("doc", Role::Doctor), ("guide", Role::Guide)] {
        exam_server::create_staff(db, u, r, Some(pw.into()))
            .await
            .unwrap();
    }
    // Today's demo bookings get their packages' items and are checked in:
    // they join the queue by themselves.
    db.demo_items(&st.catalogue.get()).await.unwrap();
    let booked = exam_server::queue::store::booked(db, "main", exam_server::queue::today())
        .await
        .unwrap();
    assert!(booked.len() >= 6, "{booked:?}");
    for id in &booked {
        db.register("desk", *id, &[]).await.unwrap();
    }
    exam_server::queue::sync_joins(st).await.unwrap();
    // The busiest ordinary room (fasting rooms first: the blood draw).
    let room = st
        .queue
        .read(st, "main", |e| {
            e.rooms()
                .into_iter()
                .filter(|r| !r.spec.prequeue)
                .max_by_key(|r| r.waiting.len())
                .unwrap()
        })
        .await
        .unwrap();
    assert!(room.waiting.len() >= 2, "{room:?}");
    let code = room.spec.code.clone();

    let guide = browser::signed_in(&driver, &url, "guide", pw, "/guide").await;
    let doc = browser::signed_in(&driver, &url, "doc", pw, "/station").await;
    // The screen's link, from the guide desk's button.
    wait_text(&guide, "rooms", &room_name(st, &code)).await;
    guide
        .find(Locator::Css(&format!(
            "#rooms tr[data-room='{code}'] button:last-child"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let msg = wait_text(&guide, "find-msg", "/screen/").await;
    let screen_url = msg.split("显示屏：").nth(1).unwrap().trim().to_string();
    let screen = browser::session(&driver).await;
    screen.goto(&screen_url).await.unwrap();
    wait_text(&screen, "room-name", &room_name(st, &code)).await;
    // Sound on (a TV is tapped once when installed).
    screen
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The doctor calls: on the screen within a second, with its voice.
    js(
        &doc,
        &format!("var s = document.getElementById('room'); s.value = '{code}'; s.dispatchEvent(new Event('change')); return true;"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    click(&doc, "call-next").await;
    let shown = until(
        &screen,
        "return document.getElementById('now-name').textContent.indexOf('*') > 0;",
        Duration::from_secs(5),
    )
    .await;
    println!("the screen showed the call {shown:?} after 呼叫 was pressed");
    assert!(shown <= Duration::from_secs(1), "shown after {shown:?}");
    until(
        &screen,
        "return !!document.body.getAttribute('data-voice-loaded');",
        Duration::from_secs(10),
    )
    .await;

    // The phone page of someone still waiting there, from the guide desk.
    let next = st.queue.read(st, "main", |e| e.queue(&code)).await.unwrap()[0];
    fill(&guide, "find-q", &next.to_string()).await;
    guide
        .find(Locator::Css("#find button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&guide, "p-at", "等候中").await;
    click(&guide, "p-phone").await;
    let phone_url = wait_text(&guide, "p-link", "/m/").await;
    let phone = browser::session(&driver).await;
    phone.goto(phone_url.trim()).await.unwrap();
    wait_text(&phone, "now", "等候").await;
    // Called at the station: the phone says where to go, live.
    doc.find(Locator::Css(&format!(
        "#waiting tr[data-id='{next}'] button"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_text(&phone, "now", "检查").await;
    // ... and prompts it (item 27): a banner that stays until tapped.
    wait_text(&phone, "alert-text", "请到").await;
    click(&phone, "alert-ok").await;
    assert_eq!(
        js(&phone, "return document.getElementById('alert').hidden;").await,
        serde_json::Value::Bool(true)
    );

    // The guide desk evacuates the room: its queue appears elsewhere.
    let before: Vec<i64> = st.queue.read(st, "main", |e| e.queue(&code)).await.unwrap();
    assert!(!before.is_empty());
    guide
        .find(Locator::Css(&format!(
            "#rooms tr[data-room='{code}'] button[data-op='evacuate']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    guide.accept_alert().await.unwrap();
    let ids = before
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    until(
        &guide,
        &format!(
            "var here = document.querySelector(\"#rooms tr[data-room='{code}'] td.waiting\").getAttribute('data-ids');
             if (here !== '') return false;
             var all = Array.from(document.querySelectorAll('#rooms td.waiting')).map(function (t) {{ return t.getAttribute('data-ids'); }}).join(',').split(',');
             return '{ids}'.split(',').every(function (p) {{ return all.indexOf(p) >= 0; }});"
        ),
        Duration::from_secs(5),
    )
    .await;
    for p in &before {
        let at = st
            .queue
            .read(st, "main", |e| e.at(*p).cloned())
            .await
            .unwrap();
        assert!(
            matches!(&at, Some(Where::Waiting(r)) if *r != code),
            "{p}: {at:?}"
        );
    }
    // `QUEUE_SCREENSHOTS=<dir>`: the four pages as PNG, to look at.
    if let Some(dir) = std::env::var_os("QUEUE_SCREENSHOTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (c, name) in [
            (&guide, "queue-guide"),
            (&doc, "queue-station"),
            (&screen, "queue-screen"),
            (&phone, "queue-phone"),
        ] {
            std::fs::write(
                dir.join(format!("{name}.png")),
                c.screenshot().await.unwrap(),
            )
            .unwrap();
        }
    }
    for c in [&guide, &doc, &screen, &phone] {
        let log = browser::severe_log(c).await;
        assert!(log.is_empty(), "{log:?}");
    }
    for c in [guide, doc, screen, phone] {
        c.close().await.unwrap();
    }
    server.stop().await;
    driver.child.kill().await.unwrap();
}

fn room_name(st: &exam_server::AppState, code: &str) -> String {
    st.catalogue.get().room("main", code).unwrap().name.clone()
}
