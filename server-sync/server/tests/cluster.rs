//! Issue 21 on both stores: two instances of the service on one store are
//! one service. A price edited on one is the other's within a poll. A desk registration on one wakes the other's live pages
//! through the change log; the queue is one (a visit registered on A is
//! called from B, and A's room screen shows B's call); each instance holds
//! its own id node; a background job runs on one instance at a time and
//! moves to the other when its holder stops; a wrong password on one asks
//! for the captcha on the other, and a captcha drawn by one is answered
//! on the other.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::login::{field, next_loopback, set_cookie};
use common::{Harness, Staff};
use interfaces::walk_in;
use serde_json::{Value, json};

on_both_stores!(
    two_instances_are_one_service,
    a_job_runs_once_across_instances,
    sign_in_limits_and_captchas_are_shared,
);

/// The same signed-in staff member, talking to another instance.
fn at(s: &Staff, url: &str) -> Staff {
    Staff {
        cookie: s.cookie.clone(),
        csrf: s.csrf.clone(),
        url: url.to_string(),
        http: s.http.clone(),
    }
}

async fn joined(s: &Staff, id: i64) -> Value {
    for _ in 0..100 {
        let (st, v) = s.get(&format!("/api/queue/visits/{id}")).await;
        assert_eq!(st, 200, "{v}");
        if !v["at"].is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("visit {id} never joined the queue");
}

async fn two_instances_are_one_service(h: &Harness) {
    let b = h.second().await;
    let b_url = b.url();

    // Each holds its own id node, so their ids never collide.
    let now = chrono::Utc::now();
    let a_name = h.server.state.instance.name.to_string();
    let b_name = b.state.instance.name.to_string();
    let mut holders = Vec::new();
    for n in 0..4 {
        holders.push(
            h.db()
                .lease_holder(&format!("node.{n}"), now)
                .await
                .unwrap(),
        );
    }
    assert!(holders.contains(&Some(a_name.clone())), "{holders:?}");
    assert!(holders.contains(&Some(b_name.clone())), "{holders:?}");

    // A registration at A's desk wakes B's live pages: the only way B's
    // channel hears of it is the change log.
    let mut woken = b.state.changed.subscribe();
    let desk = h.staff("c-desk", "front_desk").await;
    let visit = walk_in(&desk, 710).await;
    tokio::time::timeout(Duration::from_secs(3), woken.recv())
        .await
        .expect("B woken within 3 s of A's registration")
        .unwrap();

    // One queue: the visit registered on A waits in a room as B sees it;
    // B's doctor calls it; A's room screen shows the call.
    let guide_b = at(&h.staff("c-guide", "guide").await, &b_url);
    let doctor_b = at(&h.staff("c-doc", "doctor").await, &b_url);
    let v = joined(&guide_b, visit).await;
    assert_eq!(v["at"]["at"], "waiting", "{v}");
    let room = v["at"]["room"].as_str().unwrap().to_string();
    let mut queue_woken = h.server.state.queue.changed.subscribe();
    let (st, called) = doctor_b
        .post(&format!("/api/queue/rooms/{room}/call-next"), json!({}))
        .await;
    assert_eq!(st, 200, "{called}");
    assert_eq!(called["decisions"][0]["person"], visit, "{called}");
    tokio::time::timeout(Duration::from_secs(3), queue_woken.recv())
        .await
        .expect("A's queue pages woken by B's call")
        .unwrap();
    let (st, link) = guide_b
        .post(&format!("/api/queue/rooms/{room}/screen-link"), json!({}))
        .await;
    assert_eq!(st, 200, "{link}");
    let token = link["url"].as_str().unwrap().trim_start_matches("/screen/");
    let screen: Value = h
        .http
        .get(format!("{}/api/screen/{token}", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = screen["announcements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["call"] == true && a["person"] == visit)
        .unwrap_or_else(|| panic!("A's screen shows B's call: {screen}"))
        .clone();
    assert!(call["name"].as_str().unwrap().contains('*'), "{call}");
    // A's own view of the room: serving the person B called (A's engine
    // read on from the log).
    let doctor_a = at(&doctor_b, &h.url);
    let (st, r) = doctor_a.get(&format!("/api/queue/rooms/{room}")).await;
    assert_eq!(st, 200, "{r}");
    assert!(
        r["room"]["serving"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == visit),
        "{r}"
    );
    // A finishes the person B called: one log, one order.
    let (st, done) = doctor_a
        .post(&format!("/api/queue/visits/{visit}/finish"), json!({}))
        .await;
    assert_eq!(st, 200, "{done}");
    // B sees it within a second or so (its feed reads the log every 200 ms).
    let mut v = Value::Null;
    for _ in 0..20 {
        v = guide_b.get(&format!("/api/queue/visits/{visit}")).await.1;
        if v["at"]["room"] != room.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v["at"]["at"], "waiting", "moved on from {room}: {v}");
    assert_ne!(v["at"]["room"], room.as_str(), "moved on from {room}: {v}");

    // A price changed on A is B's price within a poll or two.
    let code = "L-CBC";
    assert!(h.db().set_item_price("c-admin", code, 4321).await.unwrap());
    exam_server::workflow::reload_catalogue(&h.server.state)
        .await
        .unwrap();
    let mut price = None;
    for _ in 0..30 {
        price = b.state.catalogue.get().item(code).map(|i| i.price_fen);
        if price == Some(4321) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(price, Some(4321), "B's catalogue follows A's edit");

    b.stop().await;
}

async fn a_job_runs_once_across_instances(h: &Harness) {
    let b = h.second().await;
    let (on_a, on_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let every = Duration::from_millis(50);
    // B first, so B holds the lease.
    let count = |n: &Arc<AtomicUsize>| {
        let n = Arc::clone(n);
        move |_| {
            let n = Arc::clone(&n);
            async move {
                n.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    let tb =
        exam_server::cluster::lease::Job::new("cluster_test", every).spawn(&b.state, count(&on_b));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ta = exam_server::cluster::lease::Job::new("cluster_test", every)
        .spawn(&h.server.state, count(&on_a));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (a1, b1) = (on_a.load(Ordering::SeqCst), on_b.load(Ordering::SeqCst));
    assert_eq!(a1, 0, "A never ran while B held the lease");
    assert!(b1 >= 5, "B ran every 50 ms: {b1}");
    // B stops (its leases given up): A takes over at once.
    tb.abort();
    b.stop().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(on_a.load(Ordering::SeqCst) >= 3, "A took over");
    assert_eq!(on_b.load(Ordering::SeqCst), b1, "B ran no more");
    ta.abort();
}

async fn sign_in_limits_and_captchas_are_shared(h: &Harness) {
    let b = h.second().await;
    let b_url = b.url();
    let pw = "Shared-Limits-2026";
    exam_server::create_staff(
        h.db(),
        "c-nurse",
        exam_server::roles::Role::FrontDesk,
        Some(pw.into()),
    )
    .await
    .unwrap();
    let client = h.client_from(&next_loopback());
    // A wrong password on A.
    let form = h.login_form(&client).await;
    assert!(!form.captcha, "the first attempt needs no captcha");
    let r = h
        .post_login(&client, &form, "c-nurse", "wrong-one", None)
        .await;
    assert_eq!(r.status(), 200);
    // B's sign-in page asks this address for the captcha (within a poll or two).
    let mut asks = false;
    let mut b_form = (String::new(), String::new());
    for _ in 0..30 {
        let r = client.get(format!("{b_url}/login")).send().await.unwrap();
        let cookie = set_cookie(&r, "exam_login").unwrap();
        let html = r.text().await.unwrap();
        b_form = (field(&html, "form").unwrap(), cookie);
        if html.contains("id=\"captcha\"") {
            asks = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(asks, "B asks for the captcha after A's failure");
    // The picture comes from A; the answer goes to B.
    let r = client
        .get(format!("{}/login/captcha", h.url))
        .header("cookie", &b_form.1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer = h
        .server
        .state
        .login
        .captcha_answer_for_tests(&b_form.0)
        .unwrap();
    let mut signed_in = false;
    for _ in 0..30 {
        // Until B has A's captcha, B answers with the form again (200).
        if b.state.login.captcha_answer_for_tests(&b_form.0).is_some() {
            let r = client
                .post(format!("{b_url}/login"))
                .header("cookie", &b_form.1)
                .form(&[
                    ("username", "c-nurse"),
                    ("password", pw),
                    ("form", b_form.0.as_str()),
                    ("captcha", answer.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
            signed_in = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(signed_in, "A's captcha reached B");
    // Used on B: gone on A too.
    for _ in 0..30 {
        if h.server
            .state
            .login
            .captcha_answer_for_tests(&b_form.0)
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        h.server
            .state
            .login
            .captcha_answer_for_tests(&b_form.0)
            .is_none()
    );
    b.stop().await;
}
