//! S7, 等保 §(九) 8.2: the auditor's own page. Only the auditor opens it;
//! it shows the chain's state (verified up to row N, or broken at row M
//! after an edit behind the service's back), the trail by time, operator,
//! category, outcome and text, sign-in durations, lockouts and permission
//! changes; looking and exporting are themselves audited, and the CSV
//! export is masked and defused for spreadsheets.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff, id_number};
use exam_server::audit::{AuditEvent, Category};
use exam_server::db::{AuditQuery, Backend};
use sqlx::Connection;

on_both_stores!(the_auditor_reviews_the_trail, a_tampered_chain_shows_broken);

async fn page(s: &Staff, query: &str) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}/audit{query}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The part of the page from the element with `id` to the next `<h2`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap();
    let rest = &html[start..];
    let end = rest[1..].find("<h2").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

async fn count(h: &Harness, action: &str, actor: &str) -> usize {
    h.db()
        .audit_rows(
            &AuditQuery {
                actions: vec![action.into()],
                actor: Some(actor.into()),
                ..Default::default()
            },
            1000,
        )
        .await
        .unwrap()
        .len()
}

async fn the_auditor_reviews_the_trail(h: &Harness) {
    let desk = h.staff("desk1", "front_desk").await;
    let admin = h.staff("boss", "admin").await;
    let auditor = h.staff("aud1", "auditor").await;
    // Something to find: a denied attempt, a lockout, a row with an ID
    // number and a formula in its text.
    assert_eq!(desk.get("/api/admin/accounts").await.0, 403);
    let id = id_number(1970, 11);
    h.db()
        .audit_event(
            &AuditEvent::new(Category::Security, "desk1", "login.locked")
                .detail("5 failed sign-ins in 15 min"),
        )
        .await
        .unwrap();
    h.db()
        .audit_event(
            &AuditEvent::new(Category::Operation, "desk1", "visit.note")
                .subject(h.db().subject_of(&id))
                .detail(format!("=HYPERLINK(\"x\") for {id}")),
        )
        .await
        .unwrap();

    // Only the auditor: the administrator, whose changes it records, is
    // refused (and that is recorded too).
    assert_eq!(page(&admin, "").await.0, 403);
    assert_eq!(page(&desk, "").await.0, 403);
    assert!(count(h, "access.denied", "boss").await >= 1);

    let views = count(h, "audit.view", "aud1").await;
    let (st, html) = page(&auditor, "").await;
    assert_eq!(st, 200);
    assert!(html.contains("哈希链校验通过"), "{html}");
    assert!(html.contains("Chain verified up to row"));
    assert!(html.contains("aud1 · "), "the watermark names the viewer");
    // ID numbers masked on the page.
    assert!(!html.contains(&id));
    assert!(html.contains(&exam_domain::mask::id_number(&id)));
    // Sign-ins and their length, lockouts, permission changes.
    let durations = section(&html, "durations");
    for who in ["desk1", "boss", "aud1"] {
        assert!(
            durations.contains(&format!("<td>{who}</td>")),
            "{durations}"
        );
    }
    assert!(section(&html, "lockouts").contains("5 failed sign-ins in 15 min"));
    let perms = section(&html, "permissions");
    assert!(perms.contains("user.create"), "{perms}");
    assert!(perms.contains("aud1"), "{perms}");
    assert!(!perms.contains("login.locked"));
    // Looking is itself in the trail.
    assert_eq!(count(h, "audit.view", "aud1").await, views + 1);

    // Filters: category and outcome.
    let (_, html) = page(&auditor, "?category=security&outcome=denied").await;
    let table = section(&html, "audit-rows");
    assert!(table.contains("access.denied"), "{table}");
    assert!(!table.contains("user.create"));
    assert!(!table.contains("login.ok"));
    // By operator and text.
    let (_, html) = page(&auditor, "?actor=desk1&text=HYPERLINK").await;
    let table = section(&html, "audit-rows");
    assert!(table.contains("visit.note") && !table.contains("access.denied"));
    // By subject: the full ID number typed finds the row.
    let (_, html) = page(&auditor, &format!("?subject={id}")).await;
    assert!(section(&html, "audit-rows").contains("visit.note"));

    // The export: CSV of the filtered range, masked, formulas defused.
    let r = auditor
        .http
        .get(format!("{}/audit/export.csv?actor=desk1", h.url))
        .header("cookie", &auditor.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with(
        "\u{FEFF}seq,time,category,actor,source,action,subject,outcome,detail,hash\r\n"
    ));
    assert!(!csv.contains(&id));
    assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")"), "{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",\"desk1\",")),
        "{csv}"
    );
    assert_eq!(count(h, "export.audit", "aud1").await, 1);
    // (Its limits, rows per export and per day, are every export's:
    // `workflow::exports`, tested with them.)

    // 完整校验: with the page's token, and not without.
    let form = |csrf: &str| {
        auditor
            .http
            .post(format!("{}/audit/verify", h.url))
            .header("cookie", &auditor.cookie)
            .form(&[("csrf", csrf)])
            .send()
    };
    assert_eq!(form("forged").await.unwrap().status().as_u16(), 403);
    assert_eq!(count(h, "csrf.refused", "aud1").await, 1);
    let r = form(&auditor.csrf).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(count(h, "audit.verify", "aud1").await, 1);
}

/// Someone with the rights to drop the guard edits a row behind the
/// service's back: the page says where the chain breaks.
async fn a_tampered_chain_shows_broken(h: &Harness) {
    let auditor = h.staff("aud1", "auditor").await;
    for i in 0..3 {
        h.db()
            .audit_event(
                &AuditEvent::new(Category::Operation, "desk1", "visit.note")
                    .detail(format!("note {i}")),
            )
            .await
            .unwrap();
    }
    let (_, html) = page(&auditor, "").await;
    assert!(html.contains("哈希链校验通过"));
    let target = h
        .db()
        .audit_rows(
            &AuditQuery {
                text: Some("note 1".into()),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap()
        .remove(0);
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&h.server.state.config.database_url)
        .await
        .unwrap();
    let sql: &[&'static str] = match h.db().backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "UPDATE audit_log SET detail = 'note 9' WHERE detail = 'note 1'",
        ],
        Backend::Postgres => &[
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "UPDATE audit_log SET detail = 'note 9' WHERE detail = 'note 1'",
            "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
        ],
    };
    for s in sql {
        sqlx::query(*s).execute(&mut c).await.unwrap();
    }
    c.close().await.unwrap();
    // The page checks from its last intact row on: the edit is before it,
    // so the full check is what finds it.
    let r = auditor
        .http
        .post(format!("{}/audit/verify", h.url))
        .header("cookie", &auditor.cookie)
        .form(&[("csrf", auditor.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = page(&auditor, "").await;
    assert!(
        html.contains(&format!("哈希链断裂：第 {} 行起不可信", target.seq)),
        "{}",
        section(&html, "chain")
    );
    assert!(html.contains(&format!("Chain broken at row {}", target.seq)));
    // The break is in the trail as a security event.
    let broken = h
        .db()
        .audit_rows(
            &AuditQuery {
                actions: vec!["audit.chain_broken".into()],
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].category, "security");
}
