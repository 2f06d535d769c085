//! The privacy notice as a public page for phones (PIPL; 002 §(九) 6.5.4),
//! and the watermark on every page that shows many people (S5; 6.2.6): the
//! signed-in user and the time, drawn per request, within a
//! Content-Security-Policy that still allows nothing but the service's own
//! styles, scripts and images.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff};
use exam_domain::privacy::{NOTICE, NOTICE_VERSION};

on_both_stores!(
    the_notice_is_public_and_the_kiosks_version,
    pages_of_many_people_carry_the_users_watermark,
);

async fn the_notice_is_public_and_the_kiosks_version(h: &Harness) {
    // No session, no cookie: a phone opens it.
    let r = h
        .http
        .get(format!("{}/privacy", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains(NOTICE_VERSION), "the version shown");
    assert!(html.contains("name=\"viewport\""), "for phones");
    // Every section in both languages, the same words as the kiosk's.
    for s in NOTICE {
        assert!(
            html.contains(s.title_zh) && html.contains(s.title_en),
            "{}",
            s.title_en
        );
        for p in s.body_zh {
            assert!(html.contains(p), "{p}");
        }
    }
    assert!(html.contains("15 年"));
    // The policy is the service's ordinary one.
    assert!(csp.contains("default-src 'self'"), "{csp}");
}

/// A page's HTML for `s`.
async fn page(s: &Staff, path: &str) -> (String, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    (r.text().await.unwrap(), csp)
}

fn assert_watermark(html: &str, user: &str, path: &str) {
    let now = chrono::Utc::now().with_timezone(&exam_domain::centre_offset());
    let i = html
        .find("<svg class=\"watermark\"")
        .unwrap_or_else(|| panic!("{path}: no watermark"));
    let svg = &html[i..i + html[i..].find("</svg>").unwrap()];
    // The user and the time of this view (the minute may just have turned).
    let stamps = [now, now - chrono::Duration::minutes(1)]
        .map(|t| format!("{user} · {}", t.format("%Y-%m-%d %H:%M")));
    assert!(
        stamps.iter().any(|s| svg.contains(s.as_str())),
        "{path}: {svg}"
    );
    assert!(
        svg.contains("<pattern") && svg.contains("rotate("),
        "{path}: repeated, diagonal"
    );
    assert!(!svg.contains("style="), "{path}: no inline style");
}

fn assert_strict(csp: &str, path: &str) {
    assert!(csp.contains("style-src 'self'"), "{path}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("data:"),
        "{path}: {csp}"
    );
}

async fn pages_of_many_people_carry_the_users_watermark(h: &Harness) {
    let desk = h.staff("desk-wm", "front_desk").await;
    for path in ["/desk", "/registrations"] {
        let (html, csp) = page(&desk, path).await;
        assert_watermark(&html, "desk-wm", path);
        assert_strict(&csp, path);
    }
    let group = h.staff("group-wm", "group_desk").await;
    let (html, csp) = page(&group, "/groups").await;
    assert_watermark(&html, "group-wm", "/groups");
    assert_strict(&csp, "/groups");
    let auditor = h.staff("auditor-wm", "auditor").await;
    let (html, csp) = page(&auditor, "/audit").await;
    assert_watermark(&html, "auditor-wm", "/audit");
    assert_strict(&csp, "/audit");
    // Each view draws its own: another user sees their own name.
    let other = h.staff("desk-wm2", "front_desk").await;
    let (html, _) = page(&other, "/desk").await;
    assert_watermark(&html, "desk-wm2", "/desk");
    assert!(!html.contains("desk-wm ·"));
    // The overlay lets every click through (staff.css).
    let css = h
        .http
        .get(format!("{}/static/staff.css", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rule = css
        .lines()
        .find(|l| l.starts_with(".watermark"))
        .expect("the watermark's rule");
    assert!(
        rule.contains("pointer-events: none") && rule.contains("position: fixed"),
        "{rule}"
    );
}
