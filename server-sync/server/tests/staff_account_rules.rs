//! Account rules (seed 002 §(九) 1.7–1.9, 1.17–1.20; issue 17 item 10): the
//! password change checks the current password with failures counted and
//! ends the other sessions; weak, expired and reused passwords; validity
//! and hours; the administrators' second factor; bulk state changes and
//! the reports.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::Harness;
use common::login::{field, location};
use exam_server::db::ts;
use exam_server::roles::Role;

on_both_stores!(
    a_password_change_counts_failures_and_ends_other_sessions,
    weak_and_expired_passwords_are_changed_at_sign_in,
    accounts_stop_at_their_validity_and_outside_their_hours,
    administrators_enrol_a_second_factor_first_and_use_it,
    accounts_are_queried_stopped_in_bulk_and_reported,
);

const PW: &str = "Ward-Round-2026!";

async fn get(h: &Harness, c: &reqwest::Client, path: &str, cookie: &str) -> reqwest::Response {
    c.get(format!("{}{path}", h.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn change(
    h: &Harness,
    c: &reqwest::Client,
    cookie: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    let html = get(h, c, "/password", cookie).await.text().await.unwrap();
    let csrf = field(&html, "csrf").unwrap();
    c.post(format!("{}/password", h.url))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", current),
            ("new", new),
            ("confirm", new),
        ])
        .send()
        .await
        .unwrap()
}

async fn a_password_change_counts_failures_and_ends_other_sessions(h: &Harness) {
    exam_server::create_staff(h.db(), "sister", Role::FrontDesk, Some(PW.into()))
        .await
        .unwrap();
    let (a, b) = (h.client_from("127.0.0.71"), h.client_from("127.0.0.72"));
    let (ca, _) = h.sign_in_with(&a, "sister", PW).await;
    let (cb, _) = h.sign_in_with(&b, "sister", PW).await;
    // The new password is checked: weak (naming the rule), then reused.
    let r = change(h, &a, &ca, PW, "Password123!").await;
    assert!(r.text().await.unwrap().contains("弱密码库"));
    let r = change(h, &a, &ca, PW, PW).await;
    assert!(r.text().await.unwrap().contains("最近 5 次"));
    // A right change ends B's session, keeps A's.
    let r = change(h, &a, &ca, PW, "Night-Shift-2027?").await;
    assert_eq!(location(&r), "/");
    assert_eq!(
        get(h, &b, "/registrations", &cb).await.status().as_u16(),
        303
    );
    assert_eq!(
        get(h, &a, "/registrations", &ca).await.status().as_u16(),
        200
    );
    let reason = h
        .sql_text("SELECT end_reason FROM staff_logins WHERE source = '127.0.0.72'")
        .await;
    assert_eq!(reason.as_deref(), Some("password_changed"));
    // The old password cannot come back.
    let r = change(h, &a, &ca, "Night-Shift-2027?", PW).await;
    assert!(r.text().await.unwrap().contains("最近 5 次"));
    // Wrong current passwords count: the fifth locks the address out and
    // ends the session.
    for i in 1..=4 {
        let r = change(h, &a, &ca, "Not-Mine-123!", "Other-Thing-2028#").await;
        assert!(
            r.text().await.unwrap().contains("当前密码错误"),
            "attempt {i}"
        );
    }
    let r = change(h, &a, &ca, "Not-Mine-123!", "Other-Thing-2028#").await;
    assert_eq!(location(&r), "/login");
    assert_eq!(
        get(h, &a, "/registrations", &ca).await.status().as_u16(),
        303
    );
    let failures = h
        .sql_text("SELECT CAST(failed_logins AS TEXT) FROM staff_users WHERE username = 'sister'")
        .await;
    assert_eq!(failures.as_deref(), Some("5"));
}

async fn weak_and_expired_passwords_are_changed_at_sign_in(h: &Harness) {
    // 1.8: a weak password set before the rules (or by a script).
    exam_server::create_staff(
        h.db(),
        "oldtimer",
        Role::FrontDesk,
        Some("Password123!".into()),
    )
    .await
    .unwrap();
    let (cookie, to) = h.sign_in_with(&h.http, "oldtimer", "Password123!").await;
    assert_eq!(to, "/password");
    let page = get(h, &h.http, "/password", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("弱口令"), "the reason is given");
    assert_eq!(
        get(h, &h.http, "/registrations", &cookie)
            .await
            .status()
            .as_u16(),
        303
    );
    // 1.9: past the period (90 days) the password must be changed...
    exam_server::create_staff(h.db(), "veteran", Role::FrontDesk, Some(PW.into()))
        .await
        .unwrap();
    let old = ts(Utc::now() - chrono::Duration::days(91));
    h.sql(&format!(
        "UPDATE staff_users SET password_changed_at = '{old}' WHERE username = 'veteran'"
    ))
    .await
    .unwrap();
    let (cookie, to) = h.sign_in_with(&h.http, "veteran", PW).await;
    assert_eq!(to, "/password");
    assert!(
        get(h, &h.http, "/password", &cookie)
            .await
            .text()
            .await
            .unwrap()
            .contains("密码已到期")
    );
    // ...and a week ahead its owner is told when.
    exam_server::create_staff(h.db(), "almost", Role::FrontDesk, Some(PW.into()))
        .await
        .unwrap();
    let soon = ts(Utc::now() - chrono::Duration::days(85));
    h.sql(&format!(
        "UPDATE staff_users SET password_changed_at = '{soon}' WHERE username = 'almost'"
    ))
    .await
    .unwrap();
    let (cookie, to) = h.sign_in_with(&h.http, "almost", PW).await;
    assert_eq!(to, "/account/notice");
    let notice = get(h, &h.http, "/account/notice", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("id=\"password-due\""), "{notice}");
}

async fn accounts_stop_at_their_validity_and_outside_their_hours(h: &Harness) {
    let admin = h.staff("keeper", "admin").await;
    exam_server::create_staff(h.db(), "temp", Role::FrontDesk, Some(PW.into()))
        .await
        .unwrap();
    // Valid through a day within the month: signed in, and told.
    let in_20_days = (Utc::now() + chrono::Duration::days(20)).date_naive();
    let (s, _) = admin
        .post(
            "/api/admin/accounts/temp/limits",
            serde_json::json!({ "valid_until": in_20_days }),
        )
        .await;
    assert_eq!(s, 200);
    let (cookie, to) = h.sign_in_with(&h.http, "temp", PW).await;
    assert_eq!(to, "/account/notice");
    assert!(
        get(h, &h.http, "/account/notice", &cookie)
            .await
            .text()
            .await
            .unwrap()
            .contains("id=\"account-ends\"")
    );
    // Past its validity: the session ends, sign-in is refused (saying why:
    // the password was right).
    let past = ts(Utc::now() - chrono::Duration::minutes(1));
    h.sql(&format!(
        "UPDATE staff_users SET valid_until = '{past}' WHERE username = 'temp'"
    ))
    .await
    .unwrap();
    assert_eq!(
        location(&get(h, &h.http, "/registrations", &cookie).await),
        "/login"
    );
    let f = h.login_form(&h.http).await;
    let r = h.post_login(&h.http, &f, "temp", PW, None).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("有效期"));
    // Hours that exclude now.
    let now = Utc::now().with_timezone(&exam_domain::centre_offset());
    let from = (now + chrono::Duration::hours(2)).format("%H:%M");
    let to = (now + chrono::Duration::hours(3)).format("%H:%M");
    let (s, _) = admin
        .post(
            "/api/admin/accounts/temp/limits",
            serde_json::json!({ "access_hours": format!("{from}-{to}") }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = admin
        .post(
            "/api/admin/accounts/temp/limits",
            serde_json::json!({ "access_hours": "8 to 6" }),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let f = h.login_form(&h.http).await;
    let answer = if f.captcha {
        Some(h.solve_captcha(&h.http, &f).await)
    } else {
        None
    };
    let r = h
        .post_login(&h.http, &f, "temp", PW, answer.as_deref())
        .await;
    assert!(r.text().await.unwrap().contains("当前时段不允许登录"));
}

async fn administrators_enrol_a_second_factor_first_and_use_it(h: &Harness) {
    exam_server::create_staff(h.db(), "director", Role::Admin, Some(PW.into()))
        .await
        .unwrap();
    let c = &h.http;
    let (cookie, to) = h.sign_in_with(c, "director", PW).await;
    assert_eq!(to, "/account/totp", "an administrator enrols first");
    assert_eq!(
        location(&get(h, c, "/admin", &cookie).await),
        "/account/totp"
    );
    let r = get(h, c, "/api/admin/accounts/search", &cookie).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "second_factor_required"
    );
    // The page shows the QR code and the key; a wrong code is refused.
    let html = get(h, c, "/account/totp", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("otpauth://totp/"));
    let qr = get(h, c, "/account/totp/qr", &cookie).await;
    assert_eq!(qr.headers()["content-type"], "image/png");
    let secret = h.enrol_totp(c, &cookie).await;
    let stored = h
        .sql_text("SELECT totp_secret FROM staff_users WHERE username = 'director'")
        .await
        .unwrap();
    assert!(
        !stored.contains(&secret),
        "the secret is sealed at rest: {stored}"
    );
    assert_eq!(get(h, c, "/admin", &cookie).await.status().as_u16(), 200);
    // Signing in now asks for the code: a wrong one is refused, the right
    // one signs in with a new session token.
    let f = h.login_form(c).await;
    let r = h.post_login(c, &f, "director", PW, None).await;
    assert_eq!(location(&r), "/login/code");
    let waiting = common::login::set_cookie(&r, "exam_sid").unwrap();
    assert_eq!(
        location(&get(h, c, "/admin", &waiting).await),
        "/login",
        "a waiting sign-in opens nothing"
    );
    let post_code = |code: String| {
        let (waiting, form) = (waiting.clone(), f.clone());
        async move {
            c.post(format!("{}/login/code", h.url))
                .header("cookie", format!("{waiting}; {}", form.cookie))
                .form(&[("code", code.as_str()), ("form", form.token.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post_code("000000".into()).await;
    assert!(r.text().await.unwrap().contains("动态口令错误"));
    let u = h.db().user_by_name("director").await.unwrap().unwrap();
    let code = common::login::totp_code(&secret, u.totp_last_step);
    let r = post_code(code.clone()).await;
    assert_eq!(r.status().as_u16(), 303);
    let signed = common::login::set_cookie(&r, "exam_sid").unwrap();
    assert_ne!(signed, waiting, "a new token after the second factor");
    assert_eq!(get(h, c, "/admin", &signed).await.status().as_u16(), 200);
    // The same code does not sign in twice.
    let f = h.login_form(c).await;
    let r = h.post_login(c, &f, "director", PW, None).await;
    let again = common::login::set_cookie(&r, "exam_sid").unwrap();
    let r = c
        .post(format!("{}/login/code", h.url))
        .header("cookie", format!("{again}; {}", f.cookie))
        .form(&[("code", code.as_str()), ("form", f.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "a used code is refused");
    // Recovery: another administrator resets it (audited), never one's own.
    let other = h.staff("deputy", "admin").await;
    let (s, _) = other
        .post(
            "/api/admin/accounts/deputy/reset-totp",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = other
        .post(
            "/api/admin/accounts/director/reset-totp",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        location(&get(h, c, "/admin", &signed).await),
        "/login",
        "its sessions ended"
    );
    let (_, to) = h.sign_in_with(c, "director", PW).await;
    assert_eq!(to, "/account/totp", "enrols again");
    let audited = h
        .sql_text("SELECT actor FROM audit_log WHERE action = 'totp.reset'")
        .await;
    assert_eq!(audited.as_deref(), Some("deputy"));
    // Others may sign in without a second factor.
    exam_server::create_staff(h.db(), "clerk", Role::FrontDesk, Some(PW.into()))
        .await
        .unwrap();
    assert_eq!(h.sign_in_with(c, "clerk", PW).await.1, "/");
}

async fn accounts_are_queried_stopped_in_bulk_and_reported(h: &Harness) {
    let admin = h.staff("registrar", "admin").await;
    for name in ["desk-a", "desk-b", "group-c"] {
        let role = if name.starts_with("group") {
            Role::GroupDesk
        } else {
            Role::FrontDesk
        };
        exam_server::create_staff(h.db(), name, role, Some(PW.into()))
            .await
            .unwrap();
    }
    let (cookie_b, _) = h.sign_in_with(&h.http, "desk-b", PW).await;
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, found) = admin.get("/api/admin/accounts/search?name=DESK").await;
    assert_eq!(names(&found), ["desk-a", "desk-b"]);
    let (_, found) = admin
        .get("/api/admin/accounts/search?min_logins=1&name=desk")
        .await;
    assert_eq!(names(&found), ["desk-b"]);
    let today = Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let (_, found) = admin
        .get(&format!(
            "/api/admin/accounts/search?last_login_from={today}"
        ))
        .await;
    assert_eq!(names(&found), ["desk-b", "registrar"]);
    // Bulk 停用: the sessions end; one's own account is refused.
    let (s, out) = admin
        .post(
            "/api/admin/accounts/state",
            serde_json::json!({ "usernames": ["desk-a", "desk-b", "registrar"], "state": "disabled" }),
        )
        .await;
    assert_eq!(s, 200);
    let changed: Vec<bool> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["changed"].as_bool().unwrap())
        .collect();
    assert_eq!(changed, [true, true, false], "{out}");
    assert_eq!(
        location(&get(h, &h.http, "/registrations", &cookie_b).await),
        "/login"
    );
    let f = h.login_form(&h.http).await;
    let r = h.post_login(&h.http, &f, "desk-b", PW, None).await;
    assert!(r.text().await.unwrap().contains("账号已停用"));
    let (_, found) = admin.get("/api/admin/accounts/search?state=disabled").await;
    assert_eq!(names(&found), ["desk-a", "desk-b"]);
    // 启用 one, 注销 the other (closed stays closed).
    admin
        .post(
            "/api/admin/accounts/state",
            serde_json::json!({ "usernames": ["desk-a"], "state": "active" }),
        )
        .await;
    admin
        .post(
            "/api/admin/accounts/state",
            serde_json::json!({ "usernames": ["desk-b"], "state": "closed" }),
        )
        .await;
    let (_, out) = admin
        .post(
            "/api/admin/accounts/state",
            serde_json::json!({ "usernames": ["desk-b"], "state": "active" }),
        )
        .await;
    assert_eq!(out[0]["changed"], false);
    // 1.19: the stopped accounts, and each account's rights.
    let (_, stopped) = admin.get("/api/admin/accounts/report/stopped").await;
    assert_eq!(names(&stopped), ["desk-b"]);
    assert_eq!(stopped["accounts"][0]["state_changed_by"], "registrar");
    let (_, rights) = admin.get("/api/admin/accounts/report/rights").await;
    let group = rights["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "group-c")
        .unwrap();
    let caps: Vec<&str> = group["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"UseGroupPage") && !caps.contains(&"ManageAccounts"),
        "{caps:?}"
    );
    // The page itself.
    let r = admin
        .http
        .get(format!("{}/admin/accounts", h.url))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Only an administrator may.
    let desk = h.staff("desk-d", "front_desk").await;
    assert_eq!(desk.get("/api/admin/accounts/search").await.0, 403);
}
