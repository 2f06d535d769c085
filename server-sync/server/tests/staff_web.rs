//! The staff web UI over HTTP (the live update is tested in a real browser
//! in tests/): login, first-login password change, lockout, masking.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::Utc;
use common::Harness;
use exam_protocol::{CheckIn, Event, EventBody};
use exam_server::roles::Role;
use sqlx::Connection;
use uuid::Uuid;

on_both_stores!(
    first_login_forces_a_password_change_and_pages_are_masked,
    repeated_failures_lock_the_account,
    every_static_file_a_page_names_is_served,
    live_list_says_when_it_cannot_be_refreshed
);

fn cookie_of(r: &reqwest::Response) -> String {
    let c = r
        .headers()
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';').next().unwrap().to_string()
}

async fn post_form(
    h: &Harness,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = h.http.post(format!("{}{path}", h.url)).form(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

async fn get(h: &Harness, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = h.http.get(format!("{}{path}", h.url));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

fn location(r: &reqwest::Response) -> &str {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[i..i + 48].to_string()
}

async fn first_login_forces_a_password_change_and_pages_are_masked(h: &Harness) {
    let pw = h
        .server
        .admin_password
        .clone()
        .expect("first start creates admin");
    // One check-in so the page has a row.
    let key = h.kiosk("K-1").await;
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key.clone(),
    );
    let rec = client.changes(0, 1).await.unwrap().records.remove(0);
    let ev = Event::new(
        Uuid::now_v7(),
        1,
        Utc::now(),
        &EventBody::CheckIn(CheckIn {
            booking_id: rec.booking.id,
            booking_code: rec.booking.code.clone(),
            id_number: rec.person.id_number.clone(),
            identified_by: "id_card".into(),
            checked_in_at: Utc::now(),
            offline: false,
            privacy: None,
        }),
    );
    // The kiosk restarted before the patient took the sheet: it waits.
    let job = Uuid::now_v7();
    let waiting = Event::new(
        Uuid::now_v7(),
        2,
        Utc::now(),
        &EventBody::DocumentsWaiting(exam_protocol::DocumentsWaiting {
            job_id: job,
            booking_code: rec.booking.code.clone(),
            document: "guide_sheet".into(),
            since: Utc::now(),
        }),
    );
    client.push(&[ev, waiting]).await.unwrap();

    let r = get(h, "/registrations", None).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login"));
    // Through the sign-in form (its token); a wrong password and an
    // unknown name read the same (the unknown name from another address,
    // which has no failure yet and so no captcha).
    let form = h.login_form(&h.http).await;
    let r = h
        .post_login(&h.http, &form, "admin", "wrong-password", None)
        .await;
    let wrong = r.text().await.unwrap();
    assert!(wrong.contains("Wrong user name or password"));
    let other = h.client_from("127.0.0.9");
    let form = h.login_form(&other).await;
    let r = h.post_login(&other, &form, "nobody", "x", None).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Wrong user name or password"),
        "unknown users get the same answer"
    );
    // The right password (with the captcha the failure brought).
    let (cookie, to) = h.sign_in_with(&h.http, "admin", &pw).await;
    assert_eq!(to, "/password");
    let r = get(h, "/registrations", Some(&cookie)).await;
    assert_eq!(
        location(&r),
        "/password",
        "nothing else until the one-time password is changed"
    );

    let page = get(h, "/password", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = post_form(
        h,
        "/password",
        Some(&cookie),
        &[
            ("csrf", "forged"),
            ("current", &pw),
            ("new", "x"),
            ("confirm", "x"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    let weak = "adminadmin1";
    let r = post_form(
        h,
        "/password",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("current", &pw),
            ("new", weak),
            ("confirm", weak),
        ],
    )
    .await;
    assert!(r.text().await.unwrap().contains("新密码不符合要求"));
    let good = "Lobby-Kiosk-2026";
    let r = post_form(
        h,
        "/password",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("current", &pw),
            ("new", good),
            ("confirm", good),
        ],
    )
    .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/"));
    // An administrator enrols a second factor before anything else.
    assert_eq!(
        location(&get(h, "/registrations", Some(&cookie)).await),
        "/account/totp"
    );
    h.enrol_totp(&h.http, &cookie).await;

    let r = get(h, "/registrations", Some(&cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = r.text().await.unwrap();
    let masked_name = exam_domain::mask::name(&rec.person.name);
    assert!(html.contains(&masked_name), "masked name shown");
    assert!(html.contains(&exam_domain::mask::id_number(rec.person.id_number.as_str())));
    assert!(
        !html.contains(rec.person.id_number.as_str()),
        "full ID number never sent"
    );
    if rec.person.name.chars().count() > 1 {
        assert!(!html.contains(&rec.person.name), "full name never sent");
    }
    assert!(html.contains(&rec.booking.code));

    // The sheet waits for pickup, masked like the rows; the desk hands it
    // over (a forged form changes nothing).
    let csrf = csrf_of(&html);
    assert!(html.contains("待领取单据") && html.contains(&job.to_string()));
    let r = post_form(
        h,
        "/pickups/handed-over",
        Some(&cookie),
        &[
            ("csrf", "forged"),
            ("job_id", &job.to_string()),
            ("kiosk_id", "K-1"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(h.db().pickups_waiting().await.unwrap().len(), 1);
    let r = post_form(
        h,
        "/pickups/handed-over",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("job_id", &job.to_string()),
            ("kiosk_id", "K-1"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let html = get(h, "/registrations", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(&job.to_string()),
        "handed over: off the list"
    );

    // Moving a kiosk's waiting documents: a forged form and an impossible
    // move are refused with a reason, a good one shows in the fleet table.
    let path = "/kiosks/move-printing";
    let forged = [("csrf", "forged"), ("from", "K-1"), ("to", "K-2")];
    let same = [("csrf", csrf.as_str()), ("from", "K-1"), ("to", "K-1")];
    let to_k2 = [("csrf", csrf.as_str()), ("from", "K-1"), ("to", "K-2")];
    let r = post_form(h, path, Some(&cookie), &forged).await;
    assert_eq!(r.status().as_u16(), 403);
    let r = post_form(h, path, Some(&cookie), &same).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("another kiosk"));
    let k2 = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        h.kiosk("K-2").await,
    );
    let r = post_form(h, path, Some(&cookie), &to_k2).await;
    assert_eq!(r.status().as_u16(), 409, "K-2 was never heard from");
    k2.heartbeat(&common::quiet_heartbeat(0)).await.unwrap();
    let r = post_form(h, path, Some(&cookie), &to_k2).await;
    assert_eq!(r.status().as_u16(), 303);
    let html = get(h, "/registrations", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("→ K-2"),
        "the open move shows in the fleet table"
    );

    // Signing out ends the session on the server.
    post_form(h, "/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(
        location(&get(h, "/registrations", Some(&cookie)).await),
        "/login"
    );
    // The old one-time password no longer works; the new one does (with
    // the second factor).
    let form = h.login_form(&h.http).await;
    let answer = h.solve_captcha(&h.http, &form).await;
    let r = h
        .post_login(&h.http, &form, "admin", &pw, Some(&answer))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let form = h.login_form(&h.http).await;
    let answer = h.solve_captcha(&h.http, &form).await;
    let r = h
        .post_login(&h.http, &form, "admin", good, Some(&answer))
        .await;
    assert_eq!(location(&r), "/login/code", "the second factor next");
    cookie_of(&r); // HttpOnly, SameSite=Strict
    let (_, to) = h.sign_in_with(&h.http, "admin", good).await;
    assert_eq!(to, "/");
}

async fn repeated_failures_lock_the_account(h: &Harness) {
    // Five failures from one address lock that address out of the account
    // (the captcha answered each time after the first); the message stays
    // the one for a wrong password, so it tells nothing (issue 17 item 10).
    let pw = h.server.admin_password.clone().unwrap();
    for _ in 0..5 {
        let form = h.login_form(&h.http).await;
        let answer = if form.captcha {
            Some(h.solve_captcha(&h.http, &form).await)
        } else {
            None
        };
        let r = h
            .post_login(&h.http, &form, "admin", "Nope-nope-123", answer.as_deref())
            .await;
        assert!(r.text().await.unwrap().contains("Wrong user name"));
    }
    let form = h.login_form(&h.http).await;
    let answer = h.solve_captcha(&h.http, &form).await;
    let r = h
        .post_login(&h.http, &form, "admin", &pw, Some(&answer))
        .await;
    assert_eq!(
        r.status().as_u16(),
        200,
        "even the right password is refused while locked"
    );
    assert!(r.text().await.unwrap().contains("Wrong user name"));
}

/// Every `/static/...` file any template names answers 200 with its content
/// type and a cache header, and 304 to a browser that has it already.
async fn every_static_file_a_page_names_is_served(h: &Harness) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut named = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let html = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (i, _) in html.match_indices("\"/static/") {
            let rest = &html[i + 1..];
            named.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    assert!(
        named.contains("/static/admin.js") && named.contains("/static/staff.css"),
        "the scan finds what the pages load: {named:?}"
    );
    for path in &named {
        let r = get(h, path, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let want = match path.rsplit_once('.').unwrap().1 {
            "css" => "text/css",
            "svg" => "image/svg+xml",
            _ => "text/javascript",
        };
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert!(header("content-type").starts_with(want), "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        let etag = header("etag");
        assert!(!etag.is_empty(), "{path}");
        let again = h
            .http
            .get(format!("{}{path}", h.url))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }
    assert_eq!(
        get(h, "/static/nothing.js", None).await.status().as_u16(),
        404
    );
}

/// Reads the event stream until it has said `want`, under a generous deadline.
async fn read_until(stream: &mut reqwest::Response, seen: &mut String, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains(want) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream never said {want:?}; it said {seen:?}"))
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// The live list cannot read the store: the page is told (and the error
/// logged) instead of being sent nothing; once the store is back, the page
/// is told the list is current again and new check-ins arrive.
async fn live_list_says_when_it_cannot_be_refreshed(h: &Harness) {
    let pw = "Watch-The-List-2026";
    exam_server::create_staff(h.db(), "watcher", Role::FrontDesk, Some(pw.into()))
        .await
        .unwrap();
    let (cookie, _) = h.sign_in_with(&h.http, "watcher", pw).await;
    let key = h.kiosk("K-1").await;
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key,
    );
    let rec = client.changes(0, 1).await.unwrap().records.remove(0);

    // Take the registrations away from under the running service.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&h.server.state.config.database_url)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE registrations RENAME TO registrations_away")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut stream = get(h, "/registrations/stream", Some(&cookie)).await;
    assert_eq!(stream.status().as_u16(), 200);
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, "event: unavailable").await;
    assert!(seen.contains("could not be refreshed"), "{seen}");
    assert!(!seen.contains("event: rows"), "{seen}");

    sqlx::query("ALTER TABLE registrations_away RENAME TO registrations")
        .execute(&mut conn)
        .await
        .unwrap();
    read_until(&mut stream, &mut seen, "event: current").await;
    let ev = Event::new(
        Uuid::now_v7(),
        1,
        Utc::now(),
        &EventBody::CheckIn(CheckIn {
            booking_id: rec.booking.id,
            booking_code: rec.booking.code.clone(),
            id_number: rec.person.id_number.clone(),
            identified_by: "id_card".into(),
            checked_in_at: Utc::now(),
            offline: false,
            privacy: None,
        }),
    );
    client.push(&[ev]).await.unwrap();
    read_until(&mut stream, &mut seen, "event: rows").await;
    let rows = &seen[seen.find("event: rows").unwrap()..];
    assert!(rows.contains(&rec.booking.code), "{rows}");
}
