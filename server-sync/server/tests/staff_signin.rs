//! Sign-in hardening (issue 17 items 8 and 10, seed 002 §(九) 1.4, 1.10):
//! the form's token, one message for every refusal, the captcha after a
//! failure, the lock per account and address, the rate per address, the
//! bound on password hashes, refused enrolments, unknown names audited.

#![allow(clippy::unwrap_used)]

mod common;

use common::Harness;
use common::login::location;

on_both_stores!(
    the_sign_in_form_needs_its_token,
    one_message_for_unknown_names_wrong_passwords_and_locks,
    the_captcha_comes_after_a_failure_and_answers_once,
    a_lock_is_per_address_so_the_administrator_keeps_their_desk,
    an_address_is_throttled,
    refused_enrolments_are_limited_and_audited_within_a_budget,
    the_role_column_has_no_default_and_only_known_roles,
);

const PW: &str = "Ward-Round-2026!";

async fn account(h: &Harness, name: &str, role: exam_server::roles::Role) {
    exam_server::create_staff(h.db(), name, role, Some(PW.into()))
        .await
        .unwrap();
}

/// The error line of a sign-in page.
async fn error_of(r: reqwest::Response) -> String {
    let html = r.text().await.unwrap();
    let i = html.find("role=\"alert\">").map(|i| i + 13).unwrap_or(0);
    html[i..].split('<').next().unwrap().to_string()
}

async fn audit_count(h: &Harness, action: &str) -> i64 {
    h.sql_text(&format!(
        "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE action = '{action}'"
    ))
    .await
    .unwrap()
    .parse()
    .unwrap()
}

async fn the_sign_in_form_needs_its_token(h: &Harness) {
    account(h, "nurse", exam_server::roles::Role::FrontDesk).await;
    let c = h.client_from("127.0.0.11");
    // No token, no cookie: refused before the password is looked at.
    let r = c
        .post(format!("{}/login", h.url))
        .form(&[("username", "nurse"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| !v.to_str().unwrap().starts_with("exam_sid="))
    );
    // The field of one form with the cookie of another: refused too.
    let (a, b) = (h.login_form(&c).await, h.login_form(&c).await);
    let mut crossed = a.clone();
    crossed.token = b.token.clone();
    let r = h.post_login(&c, &crossed, "nurse", PW, None).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(error_of(r).await.contains("登录页已过期"));
    // The real form signs in.
    let r = h.post_login(&c, &a, "nurse", PW, None).await;
    assert_eq!(r.status().as_u16(), 303, "{}", error_of(r).await);
    assert!(audit_count(h, "login.csrf_failed").await >= 2);
}

async fn one_message_for_unknown_names_wrong_passwords_and_locks(h: &Harness) {
    account(h, "chief-nurse", exam_server::roles::Role::FrontDesk).await;
    let wrong = {
        let c = h.client_from("127.0.0.21");
        let f = h.login_form(&c).await;
        error_of(
            h.post_login(&c, &f, "chief-nurse", "Not-The-One-9", None)
                .await,
        )
        .await
    };
    let unknown = {
        let c = h.client_from("127.0.0.22");
        let f = h.login_form(&c).await;
        error_of(
            h.post_login(&c, &f, "Mr.Nobody", "Not-The-One-9", None)
                .await,
        )
        .await
    };
    // Five failures lock 127.0.0.23 out of the account: the sixth, with
    // the right password, reads the same. (The name failed already, so
    // every attempt answers the captcha.)
    let c = h.client_from("127.0.0.23");
    for _ in 0..5 {
        let f = h.login_form(&c).await;
        let answer = h.solve_captcha(&c, &f).await;
        let r = h
            .post_login(&c, &f, "chief-nurse", "Not-The-One-9", Some(&answer))
            .await;
        assert_eq!(error_of(r).await, wrong);
    }
    let f = h.login_form(&c).await;
    let answer = h.solve_captcha(&c, &f).await;
    let locked = error_of(h.post_login(&c, &f, "chief-nurse", PW, Some(&answer)).await).await;
    assert!(wrong.contains("用户名或密码错误"), "{wrong}");
    assert_eq!(
        wrong, unknown,
        "an unknown name reads like a wrong password"
    );
    assert_eq!(wrong, locked, "a lock reads like a wrong password");
    // The unknown name's failure is audited, the name masked.
    let detail = h
        .sql_text(
            "SELECT detail FROM audit_log WHERE actor = 'anonymous' AND action = 'login.failed'",
        )
        .await
        .expect("the unknown name's failure is audited");
    assert!(
        detail.contains("Mr***(9)") && !detail.contains("Nobody"),
        "{detail}"
    );
    assert!(audit_count(h, "login.locked").await >= 1);
}

async fn the_captcha_comes_after_a_failure_and_answers_once(h: &Harness) {
    account(h, "cashier", exam_server::roles::Role::FrontDesk).await;
    let c = h.client_from("127.0.0.31");
    let f = h.login_form(&c).await;
    assert!(!f.captcha, "the first attempt has no captcha");
    let r = h.post_login(&c, &f, "cashier", "Not-The-One-9", None).await;
    assert!(
        r.text().await.unwrap().contains("id=\"captcha\""),
        "a failure brings it"
    );
    let f = h.login_form(&c).await;
    assert!(f.captcha, "and it stays for the address");
    // The right password without the captcha is not even checked.
    let r = h.post_login(&c, &f, "cashier", PW, None).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(error_of(r).await.contains("请输入图中的验证码"));
    // A wrong answer, then the answer of a captcha already answered.
    let answer = h.solve_captcha(&c, &f).await;
    let r = h.post_login(&c, &f, "cashier", PW, Some("WRONG")).await;
    assert!(error_of(r).await.contains("验证码错误"));
    let r = h.post_login(&c, &f, "cashier", PW, Some(&answer)).await;
    assert!(
        error_of(r).await.contains("验证码错误"),
        "one answer per captcha"
    );
    // Another form's captcha does not answer this one's.
    let other = h.login_form(&c).await;
    let other_answer = h.solve_captcha(&c, &other).await;
    let _ = h.solve_captcha(&c, &f).await;
    let r = h
        .post_login(&c, &f, "cashier", PW, Some(&other_answer))
        .await;
    assert_eq!(r.status().as_u16(), 200, "bound to its form");
    // A fresh captcha, answered: signed in.
    let answer = h.solve_captcha(&c, &f).await;
    let r = h
        .post_login(&c, &f, "cashier", PW, Some(&answer.to_lowercase()))
        .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/".into()));
    // The name failed: from another address the captcha is asked too.
    let c2 = h.client_from("127.0.0.32");
    let f2 = h.login_form(&c2).await;
    assert!(!f2.captcha, "the page cannot know the name yet");
    let r = h.post_login(&c2, &f2, "cashier", PW, None).await;
    assert!(error_of(r).await.contains("请输入图中的验证码"));
}

async fn a_lock_is_per_address_so_the_administrator_keeps_their_desk(h: &Harness) {
    account(h, "boss", exam_server::roles::Role::FrontDesk).await;
    let attacker = h.client_from("127.0.0.41");
    for _ in 0..5 {
        let f = h.login_form(&attacker).await;
        let answer = if f.captcha {
            Some(h.solve_captcha(&attacker, &f).await)
        } else {
            None
        };
        h.post_login(&attacker, &f, "boss", "Guess-Guess-123", answer.as_deref())
            .await;
    }
    // Locked out: even the right password fails from there.
    let f = h.login_form(&attacker).await;
    let answer = h.solve_captcha(&attacker, &f).await;
    let r = h.post_login(&attacker, &f, "boss", PW, Some(&answer)).await;
    assert_eq!(r.status().as_u16(), 200, "refused");
    // The owner's own desk signs in (with the captcha the failures brought).
    let desk = h.client_from("127.0.0.42");
    let (_, to) = h.sign_in_with(&desk, "boss", PW).await;
    assert_eq!(to, "/");
    // An administrator lifts the lock (解冻): the address may try again.
    let admin = h.staff("locksmith", "admin").await;
    let (status, _) = admin
        .post("/api/admin/accounts/boss/unlock", serde_json::json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, to) = h.sign_in_with(&attacker, "boss", PW).await;
    assert_eq!(to, "/");
    assert_eq!(audit_count(h, "user.unlock").await, 1);
}

async fn an_address_is_throttled(h: &Harness) {
    let c = h.client_from("127.0.0.51");
    let f = h.login_form(&c).await;
    let mut statuses = Vec::new();
    for i in 0..21 {
        let r = h
            .post_login(&c, &f, &format!("nobody{i}"), "x", Some("x"))
            .await;
        statuses.push(r.status().as_u16());
        if r.status().as_u16() == 429 {
            assert!(r.headers().contains_key("retry-after"));
        }
    }
    // The page load counted as an attempt too.
    assert!(!statuses[..19].contains(&429), "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
    // Another address is not throttled.
    let other = h.client_from("127.0.0.52");
    let f = h.login_form(&other).await;
    let r = h.post_login(&other, &f, "nobody", "x", None).await;
    assert_eq!(r.status().as_u16(), 200);
}

async fn refused_enrolments_are_limited_and_audited_within_a_budget(h: &Harness) {
    let c = h.client_from("127.0.0.61");
    let body = serde_json::json!({
        "kiosk_id": "K-FAKE",
        "enrolment_secret": "guessing-guessing-guessing",
        "public_key": "AAAA",
        "app_version": "x",
    });
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let r = c
            .post(format!("{}{}", h.url, exam_protocol::paths::ENROL))
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429; 5], "{statuses:?}");
    assert_eq!(
        audit_count(h, "kiosk.enrol_refused").await,
        5,
        "no row once refused"
    );
}

async fn the_role_column_has_no_default_and_only_known_roles(h: &Harness) {
    let now = exam_server::db::ts(chrono::Utc::now());
    let insert = |id: i64, role: Option<&str>| {
        let (col, val) = role.map_or((String::new(), String::new()), |r| {
            (", role".into(), format!(", '{r}'"))
        });
        format!(
            "INSERT INTO staff_users(id, username, password_hash, must_change, created_at, password_changed_at, updated_at{col})
             VALUES ({id}, 'u{id}', 'x', 0, '{now}', '{now}', '{now}'{val})"
        )
    };
    assert!(
        h.sql(&insert(900_001, None)).await.is_err(),
        "no role: refused, not an administrator"
    );
    assert!(
        h.sql(&insert(900_002, Some("root"))).await.is_err(),
        "an unknown role"
    );
    assert_eq!(
        h.sql(&insert(900_003, Some("front_desk"))).await.unwrap(),
        1
    );
    let state = h
        .sql_text("SELECT state FROM staff_users WHERE id = 900003")
        .await;
    assert_eq!(state.as_deref(), Some("active"));
}
