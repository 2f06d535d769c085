//! E9 / K9: published exam reports over real HTTP, on SQLite and on
//! PostgreSQL. The report office publishes a visit's PDF, previews and
//! withdraws it (audited; the group desk sees nothing); a kiosk with the
//! person's ID card lists their reports and fetches only their own, and its
//! `report_printed` events reach the desk once each.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Harness, Staff, id_number};
use exam_protocol::auth::KioskKey;
use exam_protocol::{Event, EventBody, ReportPdf, ReportPrinted, ReportsResponse, paths};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_stores!(
    the_desk_publishes_previews_and_replaces_a_report,
    what_is_not_a_report_or_not_allowed_is_refused,
    a_kiosk_gets_only_its_persons_live_reports_and_prints_count_once,
    concurrent_publishes_leave_one_live_report,
);

/// A small but complete PDF (catalogue, page tree, one page per text,
/// Helvetica, a correct cross-reference table), as a report office sends.
fn pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    // Objects: 1 catalogue, 2 page tree, 3 font, then per page its page
    // object and its content stream.
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    for (i, text) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let stream = format!("BT /F1 24 Tf 72 760 Td ({text}) Tj ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A checked-in walk-in visit of a new person: (visit id, its JSON detail).
async fn visit(s: &Staff, id: &str, name: &str) -> (i64, Value) {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": "13912345678" },
                    "marital": "married", "package": "P-EMP", "add": [], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let id = r["visit"]["id"].as_i64().unwrap();
    let (st, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    assert_eq!(st, 200, "{v}");
    (id, v)
}

/// A staff call with a raw body: `content_type` when given, the CSRF token
/// when `csrf`.
async fn raw(
    s: &Staff,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    csrf: bool,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = s
        .http
        .request(method.parse().unwrap(), format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .body(body);
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    if csrf {
        req = req.header("x-csrf", &s.csrf);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn publish(s: &Staff, visit: i64, query: &str, body: Vec<u8>) -> (u16, Value) {
    raw(
        s,
        "PUT",
        &format!("/api/desk/visits/{visit}/report{query}"),
        Some("application/pdf"),
        true,
        body,
    )
    .await
}

async fn withdraw(s: &Staff, visit: i64, query: &str) -> (u16, Value) {
    raw(
        s,
        "DELETE",
        &format!("/api/desk/visits/{visit}/report{query}"),
        None,
        true,
        vec![],
    )
    .await
}

/// The kiosk's list of a person's reports.
async fn kiosk_reports(h: &Harness, key: &KioskKey, id: &str) -> ReportsResponse {
    let body = serde_json::to_vec(&json!({ "id_number": id })).unwrap();
    let (st, r) = h.signed(key, "POST", paths::REPORTS, &body, None).await;
    assert_eq!(st, 200, "{r}");
    serde_json::from_value(r).unwrap()
}

async fn kiosk_pdf(h: &Harness, key: &KioskKey, report: i64, id: &str) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({ "id": report, "id_number": id })).unwrap();
    h.signed(key, "POST", paths::REPORT_PDF, &body, None).await
}

/// Pushes one event; returns its ack status ("accepted" or "duplicate").
async fn push(h: &Harness, key: &KioskKey, ev: &Event) -> String {
    let body = serde_json::to_vec(&json!({ "events": [ev] })).unwrap();
    let (st, r) = h.signed(key, "POST", paths::EVENTS, &body, None).await;
    assert_eq!(st, 200, "{r}");
    r["acks"][0]["status"].as_str().unwrap().to_string()
}

async fn operations(h: &Harness, query: &str) -> Vec<Value> {
    let auditor = h
        .staff(&format!("auditor-{}", Uuid::now_v7().simple()), "auditor")
        .await;
    let (st, log) = auditor.get(&format!("/api/audit/operations?{query}")).await;
    assert_eq!(st, 200, "{log}");
    log["operations"].as_array().unwrap().clone()
}

async fn the_desk_publishes_previews_and_replaces_a_report(h: &Harness) {
    let desk = h.staff("report-desk", "front_desk").await;
    let (id, v) = visit(&desk, &id_number(1985, 31), "赵文博").await;
    let (st, e) = desk.get(&format!("/api/desk/visits/{id}/report")).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")), "{e}");

    let first = pdf(&["page 1", "page 2"]);
    let (st, r) = publish(&desk, id, "", first.clone()).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["pages"], 2, "{r}");
    assert_eq!(r["booking_id"], id);
    let package = v["package"].as_str().unwrap();
    assert_eq!(r["title"], format!("{package} 体检报告"), "default title");
    assert_eq!(r["published_by"], "report-desk");
    assert!(r["prints"].as_array().unwrap().is_empty());
    let first_id = r["id"].as_i64().unwrap();

    let (st, d) = desk.get(&format!("/api/desk/visits/{id}/report")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d, r, "the detail is what was published");

    // The preview: the PDF itself, never cached, and audited.
    let resp = desk
        .http
        .get(format!("{}/api/desk/visits/{id}/report/pdf", desk.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), first.as_slice());
    let ops = operations(h, "actor=report-desk").await;
    let subject = format!("booking:{id}");
    for action in ["report.publish", "report.view"] {
        assert!(
            ops.iter()
                .any(|o| o["action"] == action && o["subject"] == subject),
            "{action}: {ops:?}"
        );
    }

    // Publishing again replaces: one live report, the earlier one gone.
    let second = pdf(&["corrected 1", "corrected 2", "corrected 3"]);
    let (st, r2) = publish(
        &desk,
        id,
        "?title=%E5%A4%8D%E6%A3%80%E6%8A%A5%E5%91%8A",
        second.clone(),
    )
    .await;
    assert_eq!(st, 200, "{r2}");
    assert_eq!(
        (r2["pages"].as_i64(), r2["title"].as_str()),
        (Some(3), Some("复检报告"))
    );
    let second_id = r2["id"].as_i64().unwrap();
    assert_ne!(second_id, first_id);
    let (_, d) = desk.get(&format!("/api/desk/visits/{id}/report")).await;
    assert_eq!(d["id"], second_id, "{d}");
    let preview = desk
        .http
        .get(format!("{}/api/desk/visits/{id}/report/pdf", desk.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(preview.as_ref(), second.as_slice());
    let key = h.kiosk("K-REP-1").await;
    let person = id_number(1985, 31);
    let listed = kiosk_reports(h, &key, &person).await;
    assert_eq!(listed.name, "赵文博");
    let ids: Vec<i64> = listed.reports.iter().map(|r| r.id).collect();
    assert_eq!(ids, [second_id], "only the live report");
    assert_eq!(
        kiosk_pdf(h, &key, first_id, &person).await.0,
        404,
        "the replaced one is withdrawn"
    );
}

async fn what_is_not_a_report_or_not_allowed_is_refused(h: &Harness) {
    let desk = h.staff("report-desk2", "front_desk").await;
    let (id, _) = visit(&desk, &id_number(1990, 42), "钱丽").await;
    let good = pdf(&["page 1", "page 2"]);
    let path = format!("/api/desk/visits/{id}/report");

    let (st, e) = publish(&desk, id, "", b"hello, not a PDF".to_vec()).await;
    assert_eq!((st, e["error"].as_str()), (422, Some("pdf")), "{e}");
    let (st, e) = raw(
        &desk,
        "PUT",
        &path,
        Some("application/octet-stream"),
        true,
        good.clone(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (422, Some("content_type")),
        "{e}"
    );
    let (st, e) = raw(&desk, "PUT", &path, None, true, good.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (422, Some("content_type")),
        "{e}"
    );
    let eof = good.windows(5).position(|w| w == b"%%EOF").unwrap();
    let (st, e) = publish(&desk, id, "", good[..eof].to_vec()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (422, Some("pdf")),
        "truncated: {e}"
    );
    let (st, e) = publish(&desk, id, "", vec![]).await;
    assert_eq!((st, e["error"].as_str()), (422, Some("pdf")), "empty: {e}");
    let (st, e) = publish(&desk, 987_654_321, "", good.clone()).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")), "{e}");
    let (st, e) = raw(
        &desk,
        "PUT",
        &path,
        Some("application/pdf"),
        false,
        good.clone(),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (403, Some("csrf")), "{e}");
    let (st, e) = raw(
        &desk,
        "DELETE",
        &format!("{path}?reason=x"),
        None,
        false,
        vec![],
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (403, Some("csrf")), "{e}");
    assert_eq!(desk.get(&path).await.0, 404, "nothing was published");

    // A cancelled booking gets no report.
    let tomorrow = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let (st, b) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id_number(1991, 44), "name": "孙倩", "mobile": "" },
                    "marital": "married", "package": "P-EMP", "date": tomorrow, "slot_start": "08:00:00" }),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let booked = b["visit"]["id"].as_i64().unwrap();
    let (st, c) = desk
        .post(
            &format!("/api/desk/visits/{booked}/cancel"),
            json!({ "reason": "本人取消" }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let (st, e) = publish(&desk, booked, "", good.clone()).await;
    assert_eq!((st, e["error"].as_str()), (409, Some("wrong_state")), "{e}");

    let (st, r) = publish(&desk, id, "", good.clone()).await;
    assert_eq!(st, 200, "{r}");

    // The group desk sees no reports at all.
    let group = h.staff("report-group", "group_desk").await;
    for (method, p, ctype) in [
        ("GET", path.clone(), None),
        ("PUT", path.clone(), Some("application/pdf")),
        ("DELETE", format!("{path}?reason=x"), None),
        ("GET", format!("{path}/pdf"), None),
    ] {
        let (st, e) = raw(&group, method, &p, ctype, true, good.clone()).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (403, Some("not_allowed")),
            "{method} {p}: {e}"
        );
    }
    // Not signed in.
    for (method, p) in [
        ("GET", path.clone()),
        ("PUT", path.clone()),
        ("DELETE", format!("{path}?reason=x")),
        ("GET", format!("{path}/pdf")),
    ] {
        let r = h
            .http
            .request(method.parse().unwrap(), format!("{}{p}", h.url))
            .header("content-type", "application/pdf")
            .body(good.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{method} {p}");
    }

    // Withdrawing needs a reason.
    for q in ["", "?reason=", "?reason=%20%20"] {
        let (st, e) = withdraw(&desk, id, q).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (422, Some("reason")),
            "{q:?}: {e}"
        );
    }
    assert_eq!(desk.get(&path).await.0, 200, "still live");
    let (st, r) = withdraw(&desk, id, "?reason=%E6%8A%A5%E5%91%8A%E6%9C%89%E8%AF%AF").await;
    assert_eq!((st, r["withdrawn"].as_bool()), (200, Some(true)), "{r}");
    assert_eq!(desk.get(&path).await.0, 404);
    assert_eq!(desk.get(&format!("{path}/pdf")).await.0, 404);
    let (st, e) = withdraw(&desk, id, "?reason=again").await;
    assert_eq!(
        (st, e["error"].as_str()),
        (404, Some("not_found")),
        "nothing live: {e}"
    );
    let ops = operations(h, "actor=report-desk2").await;
    assert!(
        ops.iter().any(|o| o["action"] == "report.withdraw"
            && o["subject"] == format!("booking:{id}")
            && o["detail"] == "报告有误"),
        "{ops:?}"
    );
}

async fn a_kiosk_gets_only_its_persons_live_reports_and_prints_count_once(h: &Harness) {
    let desk = h.staff("report-desk3", "front_desk").await;
    let (person, other) = (id_number(1979, 51), id_number(1988, 62));
    let (id, v) = visit(&desk, &person, "周海").await;
    visit(&desk, &other, "吴敏").await;
    let body = pdf(&["page 1", "page 2"]);
    let (st, r) = publish(&desk, id, "", body.clone()).await;
    assert_eq!(st, 200, "{r}");
    let report = r["id"].as_i64().unwrap();

    let key = h.kiosk("K-REP").await;
    let listed = kiosk_reports(h, &key, &person).await;
    assert_eq!(listed.name, "周海");
    assert_eq!(listed.reports.len(), 1, "{listed:?}");
    let s = &listed.reports[0];
    assert_eq!((s.id, s.booking_id), (report, id));
    assert_eq!(s.booking_code, v["code"].as_str().unwrap());
    assert_eq!(s.exam_no, v["exam_no"].as_str().unwrap());
    assert_eq!(s.exam_date.to_string(), v["date"].as_str().unwrap());
    assert_eq!((s.pages, s.printed), (2, 0));
    let theirs = kiosk_reports(h, &key, &other).await;
    assert_eq!(theirs.name, "吴敏");
    assert!(theirs.reports.is_empty(), "{theirs:?}");

    // A report only to its own person.
    let (st, e) = kiosk_pdf(h, &key, report, &other).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")), "{e}");
    assert_eq!(kiosk_pdf(h, &key, report + 1, &person).await.0, 404);
    let (st, r) = kiosk_pdf(h, &key, report, &person).await;
    assert_eq!(st, 200, "{r}");
    let got: ReportPdf = serde_json::from_value(r).unwrap();
    assert_eq!(got.id, report);
    assert_eq!(got.bytes().unwrap(), body);
    let ops = operations(h, "actor=kiosk:K-REP").await;
    let fetches: Vec<&Value> = ops
        .iter()
        .filter(|o| o["action"] == "report.fetch")
        .collect();
    assert_eq!(
        fetches.len(),
        1,
        "only the fetch that gave the PDF: {ops:?}"
    );
    assert_eq!(fetches[0]["subject"], format!("booking:{id}"));

    // The print, journaled at the kiosk, reaches the centre once.
    let job = Uuid::now_v7();
    let ev = Event::new(
        Uuid::now_v7(),
        1,
        Utc::now(),
        &EventBody::ReportPrinted(ReportPrinted {
            report_id: report,
            booking_id: id,
            job_id: job,
            pages: 2,
            printed_at: Utc::now(),
        }),
    );
    assert_eq!(push(h, &key, &ev).await, "accepted");
    assert_eq!(push(h, &key, &ev).await, "duplicate");
    assert_eq!(kiosk_reports(h, &key, &person).await.reports[0].printed, 1);
    let (_, d) = desk.get(&format!("/api/desk/visits/{id}/report")).await;
    let prints = d["prints"].as_array().unwrap();
    assert_eq!(prints.len(), 1, "{d}");
    assert_eq!(prints[0]["kiosk"], "K-REP");
    assert_eq!(prints[0]["job"], job.to_string());
    assert!(prints[0]["at"].is_string(), "{d}");

    // Withdrawn: no kiosk lists it or gets its PDF.
    let (st, r) = withdraw(&desk, id, "?reason=wrong-person").await;
    assert_eq!(st, 200, "{r}");
    assert!(kiosk_reports(h, &key, &person).await.reports.is_empty());
    let (st, e) = kiosk_pdf(h, &key, report, &person).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")), "{e}");

    // Unsigned requests are refused; an unknown person has no reports.
    let r = h
        .http
        .post(format!("{}{}", h.url, paths::REPORTS))
        .json(&json!({ "id_number": person }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let nobody = kiosk_reports(h, &key, &id_number(1960, 99)).await;
    assert!(nobody.name.is_empty() && nobody.reports.is_empty());
}

/// Two report-office staff publishing the same visit at once: still one
/// live report (the desk and the kiosk agree on which).
async fn concurrent_publishes_leave_one_live_report(h: &Harness) {
    let desk = h.staff("report-desk4", "front_desk").await;
    let person = id_number(1983, 71);
    let (id, _) = visit(&desk, &person, "郑强").await;
    let body = pdf(&["page 1"]);
    // Concurrent requests (join_all polls them together; the server runs
    // each on its own task).
    let results = futures_util::future::join_all((0..6).map(|i| {
        let (desk, body) = (&desk, body.clone());
        async move { publish(desk, id, &format!("?title=v{i}"), body).await }
    }))
    .await;
    for (st, r) in &results {
        assert_eq!(*st, 200, "{r}");
    }
    let key = h.kiosk("K-REP-4").await;
    let listed = kiosk_reports(h, &key, &person).await;
    assert_eq!(
        listed.reports.len(),
        1,
        "one live report: {:?}",
        listed.reports
    );
    let (_, d) = desk.get(&format!("/api/desk/visits/{id}/report")).await;
    assert_eq!(d["id"], listed.reports[0].id);
}
