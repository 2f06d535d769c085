//! Issue 17, items 9 and 6: personal data at rest, and identity fields.
//!
//! - A known ID number, name and mobile go through booking, a roster
//!   import, a kiosk check-in with a photo, a waiver signature and a
//!   published report; then the raw SQLite file and its WAL (or a
//!   `pg_dump` of the PostgreSQL database) hold none of them, the audit
//!   trail included, while every lookup still finds the person: by ID
//!   number, by ID number and mobile, by name prefix, the kiosks' feed.
//! - A booking, a kiosk self-booking or an import with another name or
//!   mobile changes neither; only a named correction does, audited with
//!   masked values.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::Utc;
use common::{Harness, Staff, id_number};
use exam_domain::{IdNumber, IdentityQuery};
use exam_protocol::{Event, LookupResponse, paths};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_stores!(
    no_personal_datum_in_clear_at_rest,
    identity_changes_only_by_a_named_correction,
);

const NAME: &str = "司马青鸾";
const MOBILE: &str = "13571113171";
/// What a roster and a second booking say about the same person.
const OTHER_NAME: &str = "司马青凤";
const OTHER_MOBILE: &str = "13571113999";
/// A mistyped ID number in a roster: its error report quotes it.
const BAD_ID: &str = "32100219830315000";

/// A small grayscale PNG, as a signature pad or a camera sends one.
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 8, 8);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&[0x80; 64]).unwrap();
    w.finish().unwrap();
    out
}

/// A minimal complete PDF whose only text is `text`.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A walk-in visit: its id and exam number.
async fn walk_in(s: &Staff, id: &str, name: &str, mobile: &str) -> (i64, String, Value) {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": mobile },
                    "marital": "married", "package": "P-EMP", "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    (
        r["visit"]["id"].as_i64().unwrap(),
        r["visit"]["exam_no"].as_str().unwrap().to_string(),
        r,
    )
}

/// Imports a roster naming `id` as `name` / `mobile` (good rows only), plus
/// one bad row that quotes the known name: its error report is stored.
async fn import(h: &Harness, id: &str, name: &str, mobile: &str) -> (i64, i64) {
    let g = h
        .staff(&format!("group-{}", &mobile[7..]), "group_desk")
        .await;
    let (st, c) = g
        .post(
            "/api/group/companies",
            json!({ "name": format!("青鸾科技{}", &mobile[7..]), "contact": "人事部" }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let company = c["id"].as_i64().unwrap();
    let csv = format!(
        "员工体检名单\n序号,姓名,证件号码,性别,手机号码,婚否,部门\n\
         1,{name},{id},男,{mobile},已婚,研发部\n\
         2,{NAME},{BAD_ID},男,{MOBILE},已婚,研发部\n"
    );
    let (st, r) = g
        .post_bytes(
            &format!(
                "/api/group/companies/{company}/roster?file_name=roster.csv&token=t{}&partial=true",
                &mobile[7..]
            ),
            csv.into_bytes(),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"].as_i64(), Some(1), "{r}");
    (company, r["import_id"].as_i64().unwrap_or(0))
}

async fn lookup(h: &Harness, key: &exam_protocol::auth::KioskKey, q: IdentityQuery) -> Value {
    let body = serde_json::to_vec(&json!({ "query": q })).unwrap();
    let (st, r) = h.signed(key, "POST", paths::LOOKUP, &body, None).await;
    assert_eq!(st, 200, "{r}");
    r
}

fn events(list: Vec<(&str, Value)>) -> Vec<u8> {
    let events: Vec<Event> = list
        .into_iter()
        .enumerate()
        .map(|(i, (kind, payload))| Event {
            id: Uuid::now_v7(),
            seq: i as i64 + 1,
            kind: kind.into(),
            created_at: Utc::now(),
            payload,
        })
        .collect();
    serde_json::to_vec(&json!({ "events": events })).unwrap()
}

/// How often `needle` occurs in `hay`.
fn hits(hay: &[u8], needle: &str) -> usize {
    let n = needle.as_bytes();
    hay.windows(n.len()).filter(|w| *w == n).count()
}

/// The store's bytes as they lie on disk: the SQLite file and its WAL, or a
/// `pg_dump` of the PostgreSQL database.
fn raw_store(h: &Harness) -> Vec<(String, Vec<u8>)> {
    match h.pg_url() {
        None => {
            let db = h.dir.as_ref().unwrap().path().join("exam.db");
            let wal = db.with_extension("db-wal");
            let mut out = vec![("exam.db".to_string(), std::fs::read(&db).unwrap())];
            // The newest writes are still in the WAL (the server runs).
            out.push((
                "exam.db-wal".into(),
                std::fs::read(&wal).unwrap_or_default(),
            ));
            out
        }
        Some(url) => {
            let dump = std::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg("--dbname")
                .arg(url)
                .output()
                .expect("pg_dump runs (the postgresql package installs it)");
            assert!(
                dump.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&dump.stderr)
            );
            vec![("pg_dump".into(), dump.stdout)]
        }
    }
}

async fn no_personal_datum_in_clear_at_rest(h: &Harness) {
    let id = id_number(1983, 577);
    let desk = h.staff("desk-rest", "front_desk").await;
    let pic = png();
    // Booked and registered at the desk, with a waived item (its signature).
    let (visit, exam_no, _) = walk_in(&desk, &id, NAME, MOBILE).await;
    let (_, v) = desk.get(&format!("/api/desk/visits/{visit}")).await;
    let item = v["items"][0]["code"].as_str().unwrap().to_string();
    let (st, r) = desk
        .post(
            &format!("/api/desk/visits/{visit}/items/{item}"),
            json!({ "change": "waive", "signature_png": format!("data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&pic)) }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    // A roster with the same person (and a bad row quoting the name).
    let (company, import_id) = import(h, &id, OTHER_NAME, OTHER_MOBILE).await;
    // Checked in at a kiosk, with a photo.
    let key = h.kiosk("K-REST").await;
    let body = events(vec![
        (
            "check_in",
            json!({ "booking_id": visit, "booking_code": v["code"], "id_number": id,
                    "identified_by": "id_card", "checked_in_at": Utc::now(), "offline": false }),
        ),
        (
            "photo",
            json!({ "booking_id": visit, "booking_code": v["code"], "outcome": "camera",
                    "png": base64::engine::general_purpose::STANDARD.encode(&pic), "taken_at": Utc::now() }),
        ),
    ]);
    let (st, r) = h.signed(&key, "POST", paths::EVENTS, &body, None).await;
    assert_eq!(st, 200, "{r}");
    // A published report.
    let report = pdf("exam report");
    let r = desk
        .http
        .put(format!("{}/api/desk/visits/{visit}/report", desk.url))
        .header("cookie", &desk.cookie)
        .header("x-csrf", &desk.csrf)
        .header("content-type", "application/pdf")
        .body(report.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Every lookup still works.
    let idn = IdNumber::parse(&id).unwrap();
    let found = lookup(
        h,
        &key,
        IdentityQuery::IdNumber {
            id_number: idn.clone(),
        },
    )
    .await;
    let recs: LookupResponse = serde_json::from_value(found).unwrap();
    assert!(
        recs.records
            .iter()
            .any(|r| r.booking.id == visit && r.person.name == NAME && r.person.mobile == MOBILE),
        "by ID number: {recs:?}"
    );
    let k4 = lookup(
        h,
        &key,
        IdentityQuery::IdNumberAndMobile {
            id_number: idn.clone(),
            mobile: MOBILE.into(),
        },
    )
    .await;
    assert_eq!(k4["records"].as_array().unwrap().len(), 1, "K4: {k4}");
    for q in ["司马", "司马青", NAME, MOBILE, id.as_str(), "smql"] {
        let (_, r) = desk
            .get(&format!("/api/desk/search?q={}", urlencode(q)))
            .await;
        assert!(
            r["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["exam_no"] == exam_no.as_str()),
            "search {q}: {r}"
        );
    }
    let mut feed = vec![];
    let mut cursor = 0;
    loop {
        let (st, page) = h
            .signed(
                &key,
                "GET",
                &format!("{}?cursor={cursor}&limit=500", paths::CHANGES),
                b"",
                None,
            )
            .await;
        assert_eq!(st, 200, "{page}");
        feed.extend(page["records"].as_array().unwrap().clone());
        cursor = page["next_cursor"].as_i64().unwrap();
        if page["more"] != true {
            break;
        }
    }
    assert!(
        feed.iter()
            .any(|r| r["booking"]["id"] == visit && r["person"]["name"] == NAME),
        "the kiosks' feed carries the person"
    );
    // Photo, signature, report and roster report open again.
    let get_bytes = |path: String| {
        let (http, cookie) = (desk.http.clone(), desk.cookie.clone());
        async move {
            let r = http
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.bytes().await.unwrap().to_vec()
        }
    };
    assert_eq!(
        get_bytes(format!("{}/api/desk/visits/{visit}/photo", desk.url)).await,
        pic
    );
    assert_eq!(
        get_bytes(format!(
            "{}/api/desk/visits/{visit}/items/{item}/signature",
            desk.url
        ))
        .await,
        pic
    );
    assert_eq!(
        get_bytes(format!("{}/api/desk/visits/{visit}/report/pdf", desk.url)).await,
        report
    );
    if import_id != 0 {
        let g = h.staff("group-rest-read", "group_desk").await;
        let r = g
            .http
            .get(format!(
                "{}/api/group/companies/{company}/imports/{import_id}/errors.csv",
                g.url
            ))
            .header("cookie", &g.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().await.unwrap().contains(BAD_ID), "the report opens");
    }
    // The operation log finds the person's lines by the typed ID number
    // and shows no identity in clear.
    let lines = h
        .db()
        .operations(
            &exam_server::db::OpQuery {
                subject: Some(id.clone()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(
        lines.iter().any(|l| l.action == "visit.register"),
        "{lines:?}"
    );
    for l in &lines {
        let text = format!("{} {}", l.subject, l.detail);
        for secret in [id.as_str(), NAME, MOBILE] {
            assert!(!text.contains(secret), "log line {l:?} shows {secret}");
        }
    }

    // The raw store: none of them, anywhere.
    for (what, bytes) in raw_store(h) {
        if what != "exam.db-wal" {
            assert!(
                hits(&bytes, &exam_no) > 0,
                "{what}: the exam number is there in clear (the right bytes are read)"
            );
        }
        for secret in [id.as_str(), NAME, MOBILE, OTHER_NAME, OTHER_MOBILE, BAD_ID] {
            assert_eq!(hits(&bytes, secret), 0, "{what} holds {secret:?} in clear");
        }
        // Nor the base64 forms the wire carried.
        let b64 = base64::engine::general_purpose::STANDARD.encode(&report);
        assert_eq!(hits(&bytes, &b64[..40]), 0, "{what} holds the report PDF");
        assert_eq!(hits(&bytes, "%PDF-1.4"), 0, "{what} holds the report PDF");
    }
}

async fn identity_changes_only_by_a_named_correction(h: &Harness) {
    let id = id_number(1984, 601);
    let idn = IdNumber::parse(&id).unwrap();
    let desk = h.staff("desk-ident", "front_desk").await;
    let (visit, _, _) = walk_in(&desk, &id, NAME, MOBILE).await;
    let name_of = |v: &Value| v["person"]["name"].as_str().unwrap().to_string();

    // A second booking with another name and mobile: booked, nothing rewritten.
    // The centre's tomorrow (its day, not UTC's: the walk-in is today there).
    let tomorrow = Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive()
        + chrono::Duration::days(1);
    let (st, r) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": OTHER_NAME, "mobile": OTHER_MOBILE },
                    "marital": "married", "package": "P-EMP", "date": tomorrow, "slot_start": "08:00:00" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["visit"]["identity_kept"], true, "{r}");
    // A kiosk self-booking (no mobile) and a roster with other values.
    let key = h.kiosk("K-IDENT").await;
    let body = serde_json::to_vec(&json!({
        "id_number": id, "name": OTHER_NAME, "mobile": "", "marital": "married",
        "plan": { "package": "P-EMP", "add": [], "remove": [] },
        "date": tomorrow + chrono::Duration::days(1), "slot_start": "08:30:00" }))
    .unwrap();
    let (st, r) = h.signed(&key, "POST", paths::BOOK, &body, None).await;
    assert_eq!(st, 200, "{r}");
    import(h, &id, OTHER_NAME, OTHER_MOBILE).await;

    let (_, v) = desk.get(&format!("/api/desk/visits/{visit}")).await;
    assert_eq!(name_of(&v), NAME, "{v}");
    let k4 = |mobile: &'static str| {
        lookup(
            h,
            &key,
            IdentityQuery::IdNumberAndMobile {
                id_number: idn.clone(),
                mobile: mobile.into(),
            },
        )
    };
    assert_eq!(k4(MOBILE).await["records"].as_array().unwrap().len(), 3);
    assert!(
        k4(OTHER_MOBILE).await["records"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The group desk may not correct; the front desk may, with a reason.
    let group = h.staff("group-ident", "group_desk").await;
    let fix =
        json!({ "field": "name", "value": OTHER_NAME, "reason": "身份证上为青凤，登记时写错" });
    let path = format!("/api/desk/visits/{visit}/identity");
    assert_eq!(group.post(&path, fix.clone()).await.0, 403);
    let (st, e) = desk
        .post(
            &path,
            json!({ "field": "name", "value": OTHER_NAME, "reason": " " }),
        )
        .await;
    assert_eq!(st, 422, "a reason is required: {e}");
    let (st, c) = desk.post(&path, fix).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(
        (c["old_masked"].as_str(), c["new_masked"].as_str()),
        (Some("司**鸾"), Some("司**凤"))
    );
    let (st, c) = desk
        .post(
            &path,
            json!({ "field": "mobile", "value": OTHER_MOBILE, "reason": "换了号码" }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let (_, v) = desk.get(&format!("/api/desk/visits/{visit}")).await;
    assert_eq!(name_of(&v), OTHER_NAME);
    assert!(k4(MOBILE).await["records"].as_array().unwrap().is_empty());
    assert_eq!(
        k4(OTHER_MOBILE).await["records"].as_array().unwrap().len(),
        3
    );
    // The name search follows the correction.
    let found = |q: &'static str| {
        let desk = &desk;
        async move {
            let (_, r) = desk
                .get(&format!("/api/desk/search?q={}", urlencode(q)))
                .await;
            r["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == visit)
        }
    };
    assert!(found("司马青凤").await);
    assert!(!found("司马青鸾").await);
    // Audited: who, which field, masked values and the reason; no value in clear.
    let lines = h
        .db()
        .operations(
            &exam_server::db::OpQuery {
                subject: Some(id.clone()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    let fixes: Vec<_> = lines
        .iter()
        .filter(|l| l.action == "person.correct")
        .collect();
    assert_eq!(fixes.len(), 2, "{lines:?}");
    assert!(fixes.iter().all(|l| l.actor == "desk-ident"));
    assert!(
        fixes.iter().any(|l| l.detail.contains("field=name")
            && l.detail.contains("old=司**鸾")
            && l.detail.contains("new=司**凤")
            && l.detail.contains("登记时写错")),
        "{fixes:?}"
    );
    for l in &lines {
        for secret in [id.as_str(), NAME, OTHER_NAME, MOBILE, OTHER_MOBILE] {
            assert!(!l.detail.contains(secret), "{l:?} shows {secret}");
        }
    }
}
