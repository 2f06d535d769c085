//! Staff sessions (issue 17 item 7, seed 002 §(九) 1.15, 8.7.2): the live
//! page's stream does not keep a session alive, sessions end at an
//! absolute limit however busy, and every sign-in's start, end and reason
//! are kept for the login-duration report. The session clock is moved in
//! the store, so nothing waits fifteen minutes.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::Utc;
use common::Harness;
use common::login::location;
use exam_server::db::ts;

on_both_stores!(
    the_live_stream_does_not_keep_a_session_alive,
    sessions_end_at_the_absolute_limit_however_busy,
    sign_ins_are_kept_with_their_end_and_duration,
);

const PW: &str = "Ward-Round-2026!";

async fn signed_in(h: &Harness, name: &str) -> String {
    exam_server::create_staff(
        h.db(),
        name,
        exam_server::roles::Role::FrontDesk,
        Some(PW.into()),
    )
    .await
    .unwrap();
    h.sign_in_with(&h.http, name, PW).await.0
}

async fn page_status(h: &Harness, cookie: &str) -> (u16, String) {
    let r = h
        .http
        .get(format!("{}/registrations", h.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), location(&r))
}

async fn last_seen(h: &Harness) -> String {
    h.sql_text("SELECT last_seen FROM staff_sessions")
        .await
        .unwrap()
}

async fn the_live_stream_does_not_keep_a_session_alive(h: &Harness) {
    let cookie = signed_in(h, "watcher").await;
    // The user last did something ten minutes ago.
    let ten_ago = ts(Utc::now() - chrono::Duration::minutes(10));
    h.sql(&format!(
        "UPDATE staff_sessions SET last_seen = '{ten_ago}'"
    ))
    .await
    .unwrap();
    let mut stream = h
        .http
        .get(format!("{}/registrations/stream", h.url))
        .header("cookie", &cookie)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    // The stream checks the session every two seconds: three checks.
    let _ = tokio::time::timeout(Duration::from_secs(7), stream.chunk()).await;
    assert_eq!(
        last_seen(h).await,
        ten_ago,
        "the open stream did not count as use"
    );
    // Sixteen minutes idle: the stream ends by itself, the page is gone.
    let sixteen_ago = ts(Utc::now() - chrono::Duration::minutes(16));
    h.sql(&format!(
        "UPDATE staff_sessions SET last_seen = '{sixteen_ago}'"
    ))
    .await
    .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends with the session");
    assert_eq!(page_status(h, &cookie).await, (303, "/login".into()));
    let reason = h
        .sql_text("SELECT end_reason FROM staff_logins WHERE username = 'watcher'")
        .await;
    assert_eq!(reason.as_deref(), Some("idle"));
    // A page request, by contrast, is use.
    let cookie = h.sign_in_with(&h.http, "watcher", PW).await.0;
    h.sql(&format!(
        "UPDATE staff_sessions SET last_seen = '{ten_ago}'"
    ))
    .await
    .unwrap();
    assert_eq!(page_status(h, &cookie).await.0, 200);
    assert_ne!(last_seen(h).await, ten_ago, "a page request touched it");
}

async fn sessions_end_at_the_absolute_limit_however_busy(h: &Harness) {
    let cookie = signed_in(h, "busy-bee").await;
    // Signed in 11 h 59 min ago and busy since: still in.
    let almost = ts(Utc::now() - chrono::Duration::minutes(12 * 60 - 1));
    h.sql(&format!(
        "UPDATE staff_sessions SET created_at = '{almost}'"
    ))
    .await
    .unwrap();
    assert_eq!(page_status(h, &cookie).await.0, 200);
    // Twelve hours and a minute: out, whatever the last request.
    let over = ts(Utc::now() - chrono::Duration::minutes(12 * 60 + 1));
    h.sql(&format!("UPDATE staff_sessions SET created_at = '{over}'"))
        .await
        .unwrap();
    assert_eq!(page_status(h, &cookie).await, (303, "/login".into()));
    let row = h
        .sql_text("SELECT end_reason FROM staff_logins WHERE username = 'busy-bee'")
        .await;
    assert_eq!(row.as_deref(), Some("absolute"));
    let ended = h
        .sql_text("SELECT ended_at FROM staff_logins WHERE username = 'busy-bee'")
        .await
        .unwrap();
    let want = exam_server::db::parse_ts(&over).unwrap() + chrono::Duration::hours(12);
    assert_eq!(ended, ts(want), "ended when the limit passed");
}

async fn sign_ins_are_kept_with_their_end_and_duration(h: &Harness) {
    let cookie = signed_in(h, "timekeeper").await;
    // Signed out by hand.
    let html = h
        .http
        .get(format!("{}/registrations", h.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::login::field(&html, "csrf").unwrap();
    let r = h
        .http
        .post(format!("{}/logout", h.url))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
    // Signed in again and left: the pruner ends it at its idle limit.
    h.sign_in_with(&h.http, "timekeeper", PW).await;
    let idle_since = Utc::now() - chrono::Duration::minutes(40);
    h.sql(&format!(
        "UPDATE staff_sessions SET last_seen = '{}'",
        ts(idle_since)
    ))
    .await
    .unwrap();
    let limits = exam_server::policy::SessionLimits {
        idle: chrono::Duration::minutes(15),
        absolute: chrono::Duration::hours(12),
    };
    assert_eq!(
        h.db().end_stale_sessions(Utc::now(), limits).await.unwrap(),
        1
    );
    // And a third, still open.
    h.sign_in_with(&h.http, "timekeeper", PW).await;
    let now = Utc::now();
    let rows = h
        .db()
        .login_durations(
            now - chrono::Duration::hours(1),
            now + chrono::Duration::minutes(1),
            Some("timekeeper"),
            now,
            10,
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    use exam_server::policy::EndReason;
    assert_eq!(rows[0].end_reason, None, "the open one, newest first");
    assert!(rows[0].ended_at.is_none());
    assert_eq!(rows[1].end_reason, Some(EndReason::Idle));
    assert_eq!(
        rows[1].ended_at.as_deref(),
        Some(ts(idle_since + chrono::Duration::minutes(15)).as_str()),
        "ended when it went idle, not when noticed"
    );
    assert_eq!(rows[2].end_reason, Some(EndReason::Logout));
    assert!(
        rows.iter()
            .all(|r| r.source == "127.0.0.1" && r.seconds >= 0)
    );
    // The administrator's report lists them too.
    let admin = h.staff("chief", "admin").await;
    let (status, body) = admin.get("/api/admin/logins?username=timekeeper").await;
    assert_eq!(status, 200);
    assert_eq!(body["logins"].as_array().unwrap().len(), 3, "{body}");
}
