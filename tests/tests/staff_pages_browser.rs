//! Every staff page, as every staff role, in a real headless Chromium: a
//! page the role may see loads where it was asked for, with no console
//! error, no uncaught exception, no refused script and no failed request
//! (each script, stylesheet and image it names is fetched again and must
//! answer 200, and every request its scripts made must have succeeded); a
//! page the role may not see is refused. This is the test `/admin` lacked
//! when its script was not served.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use e2e_tests::{free_addr, start_server};
use exam_server::roles::{Capability, Role};
use fantoccini::{Client, Locator};

mod browser;
use browser::{chromedriver, severe_log};

/// A staff page, who may open it, and where it lands.
struct Page {
    path: String,
    /// None: every signed-in staff member.
    needs: Option<Capability>,
    /// Where the browser ends up ("/" is the registrations page).
    lands: String,
}

/// The pages as `role` sees them (`/` lands on the role's own first page).
fn pages(visit: i64, role: Role) -> Vec<Page> {
    let page = |path: &str, needs, lands: &str| Page {
        path: path.to_string(),
        needs,
        lands: lands.to_string(),
    };
    let print = format!("/desk/visits/{visit}/print");
    let privacy = format!("/desk/visits/{visit}/privacy");
    vec![
        page("/", None, role.home()),
        page(
            "/registrations",
            Some(Capability::ViewRegistrations),
            "/registrations",
        ),
        page("/password", None, "/password"),
        page("/account/totp", None, "/account/totp"),
        page("/account/notice", None, "/account/notice"),
        page(
            "/admin/accounts",
            Some(Capability::ManageAccounts),
            "/admin/accounts",
        ),
        page("/desk", Some(Capability::UseDeskPage), "/desk"),
        page("/groups", Some(Capability::UseGroupPage), "/groups"),
        page("/admin", Some(Capability::UseAdminPage), "/admin"),
        page("/audit", Some(Capability::ViewAudit), "/audit"),
        // The hospital interfaces' health and the payments' reconciliation.
        page(
            "/interfaces",
            Some(Capability::ManageInterfaces),
            "/interfaces",
        ),
        page(
            "/payments",
            Some(Capability::ReconcilePayments),
            "/payments",
        ),
        // E14: each campus's day figures and the group's total.
        page("/figures", Some(Capability::ReconcilePayments), "/figures"),
        // I5: the SMS page (sent, delivered, failed, waiting per kind).
        page("/sms", Some(Capability::ManageInterfaces), "/sms"),
        // E15: emergency mode's state, switch and episodes' reports.
        page("/emergency", Some(Capability::ViewEmergency), "/emergency"),
        // Q2, Q3: the guide desk and the doctor station.
        page("/guide", Some(Capability::GuideQueue), "/guide"),
        page("/station", Some(Capability::CallPatients), "/station"),
        // E5–E7: specimens, department results, major abnormal results.
        page(
            "/specimens",
            Some(Capability::CollectSpecimens),
            "/specimens",
        ),
        page("/dept", Some(Capability::EnterResults), "/dept"),
        page("/abnormal", Some(Capability::ManageAbnormal), "/abnormal"),
        // E8: the chief examination.
        page("/chief", Some(Capability::ChiefExamine), "/chief"),
        // An individual visit's documents: not the group desk's.
        page(&print, Some(Capability::PrintDocuments), &print),
        // PIPL: the person's rights at the desk, and the public notice.
        page(&privacy, Some(Capability::ServeDataRights), &privacy),
        page("/privacy", None, "/privacy"),
    ]
}

/// Waits until the page has loaded and its scripts' requests have settled
/// (no new resource for a while), under a generous deadline.
async fn settle(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = (String::new(), -1);
    let mut quiet_since = Instant::now();
    loop {
        let now = c
            .execute(
                "return [document.readyState, performance.getEntriesByType('resource').length];",
                vec![],
            )
            .await
            .unwrap();
        let now = (
            now[0].as_str().unwrap_or("").to_string(),
            now[1].as_i64().unwrap_or(-1),
        );
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if last.0 == "complete" && quiet_since.elapsed() > Duration::from_millis(800) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page never settled: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What went wrong on the loaded page: its own status, each script,
/// stylesheet and image it names fetched again, and every request it made.
const CHECK_PAGE: &str = r#"
const done = arguments[arguments.length - 1];
const bad = [];
const nav = performance.getEntriesByType('navigation')[0];
if (nav && nav.responseStatus !== 200) bad.push('the page itself: ' + nav.responseStatus);
for (const r of performance.getEntriesByType('resource')) {
  // 0 is a request that never got an answer (refused, blocked, cut).
  if (r.responseStatus === 0 || r.responseStatus >= 400) bad.push(r.name + ' answered ' + r.responseStatus);
}
const urls = [...document.querySelectorAll('script[src], link[href], img[src]')]
  .map(e => e.src || e.href);
Promise.all(urls.map(u => fetch(u, { credentials: 'same-origin', cache: 'no-store' })
    .then(r => { if (r.status !== 200) bad.push(u + ' answered ' + r.status); })
    .catch(e => bad.push(u + ' failed: ' + e))))
  .then(() => done({ bad, urls }));
"#;

async fn check_page(c: &Client, url: &str, role: Role, page: &Page) -> Vec<String> {
    c.goto(&format!("{url}{}", page.path)).await.unwrap();
    settle(c).await;
    let mut problems = Vec::new();
    let at = c.current_url().await.unwrap();
    if at.path() != page.lands {
        problems.push(format!("landed on {} instead of {}", at.path(), page.lands));
    }
    let out = c.execute_async(CHECK_PAGE, vec![]).await.unwrap();
    let urls = out["urls"].as_array().unwrap();
    if urls.is_empty() {
        problems.push("names no script or stylesheet: not a staff page".into());
    }
    problems.extend(
        out["bad"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().to_string()),
    );
    problems.extend(severe_log(c).await);
    // The header links only to pages this role may open.
    let links = c
        .execute(
            "return Array.from(document.querySelectorAll('header.bar nav a')).map(a => a.getAttribute('href'));",
            vec![],
        )
        .await
        .unwrap();
    for link in links
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str())
    {
        match pages(0, role).iter().find(|p| p.path == link) {
            Some(p) if p.needs.is_none_or(|c| role.may(c)) => {}
            Some(_) => problems.push(format!("the header links to {link}, which it may not open")),
            None => problems.push(format!(
                "the header links to {link}, which is not a known page"
            )),
        }
    }
    problems
        .into_iter()
        .map(|p| format!("{role} {}: {p}", page.path))
        .collect()
}

/// A page the role may not see answers 403 (asked from the browser, so
/// with the role's session).
async fn check_refused(c: &Client, url: &str, role: Role, page: &Page) -> Vec<String> {
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin', redirect: 'manual' })
               .then(r => done(r.status), e => done(String(e)));",
            vec![serde_json::json!(format!("{url}{}", page.path))],
        )
        .await
        .unwrap();
    // The refusal is itself a failed load in the log: expected, drained.
    let _ = severe_log(c).await;
    if status == serde_json::json!(403) {
        vec![]
    } else {
        vec![format!(
            "{role} {}: may not see it, yet it answered {status}",
            page.path
        )]
    }
}

async fn sign_in(c: &Client, url: &str, user: &str, password: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{url}/login")).await.unwrap();
    for (id, text) in [("username", user), ("password", password)] {
        let el = c.find(Locator::Id(id)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Administrators enrol a second factor before anything else.
    browser::enrol_totp_if_asked(c).await;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("header.bar"))
        .await
        .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_staff_page_loads_cleanly_for_every_role_that_may_see_it() {
    let mut driver = chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 5)
        .await
        .unwrap();
    let url = server.url();
    let db = &server.state.db;
    let visit = db
        .changes_since(&server.state.config.demo_campus, 0, 1)
        .await
        .unwrap()
        .records[0]
        .booking
        .id;
    let c = browser::session(&driver).await;

    // The sign-in page itself, before anyone signs in.
    let mut problems = Vec::new();
    c.goto(&format!("{url}/login")).await.unwrap();
    settle(&c).await;
    problems.extend(
        severe_log(&c)
            .await
            .into_iter()
            .map(|p| format!("/login: {p}")),
    );

    let mut opened = 0;
    for role in Role::ALL {
        let user = format!("staff_{role}");
        let password = "Every-Page-2026!";
        exam_server::create_staff(db, &user, role, Some(password.into()))
            .await
            .unwrap();
        sign_in(&c, &url, &user, password).await;
        let _ = severe_log(&c).await; // the sign-in page was checked above
        for page in pages(visit, role) {
            if page.needs.is_none_or(|cap| role.may(cap)) {
                problems.extend(check_page(&c, &url, role, &page).await);
                opened += 1;
            } else {
                problems.extend(check_refused(&c, &url, role, &page).await);
            }
        }
    }
    assert!(
        opened >= 3 * Role::ALL.len(),
        "only {opened} pages were opened"
    );
    assert!(
        problems.is_empty(),
        "staff pages with problems:\n{}",
        problems.join("\n")
    );

    c.close().await.unwrap();
    let _ = driver.child.kill().await;
    server.stop().await;
}
