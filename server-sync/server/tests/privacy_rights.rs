//! A person's rights at the desk (PIPL art. 44–47; 002 §(九) 6.5.2) on both
//! stores: everything held about them, masked on screen, with who looked
//! at their record; their own copy in full, the export itself audited;
//! erasure as far as the medical-record retention rule (≥ 15 years)
//! allows: contact data, photos and optional consents from someone
//! examined, everything (pseudonymised, open bookings cancelled, places
//! back) from someone with bookings only.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff, id_number};
use exam_domain::privacy::MEDICAL_RECORD_YEARS;
use serde_json::{Value, json};

on_both_stores!(
    the_record_is_shown_masked_and_exported_in_full,
    an_examined_person_keeps_the_record_and_loses_contact_and_photo,
    bookings_only_are_anonymised_whole,
);

const MOBILE: &str = "13987654321";

fn today() -> chrono::NaiveDate {
    exam_server::workflow::now_local().date()
}

/// A walk-in registered now: an exam performed.
async fn walk_in(s: &Staff, id: &str, name: &str) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": MOBILE },
                    "marital": "married", "package": "P-EMP", "add": [], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

/// A booking for tomorrow: nothing performed yet.
async fn book(s: &Staff, id: &str, name: &str) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": MOBILE }, "marital": "married",
                    "package": "P-EMP", "date": (today() + chrono::Duration::days(1)).to_string(),
                    "slot_start": "09:30:00" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

async fn export(s: &Staff, visit: i64) -> (reqwest::header::HeaderMap, Value) {
    let r = s
        .http
        .get(format!("{}/api/desk/visits/{visit}/privacy/export", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let headers = r.headers().clone();
    (headers, r.json().await.unwrap())
}

async fn actions_by(h: &Harness, actor: &str) -> Vec<String> {
    let (_, log) = h
        .staff(&format!("aud-{actor}"), "auditor")
        .await
        .get(&format!("/api/audit/operations?actor={actor}"))
        .await;
    log["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap().to_string())
        .collect()
}

async fn the_record_is_shown_masked_and_exported_in_full(h: &Harness) {
    let s = h.staff("desk-rights", "front_desk").await;
    let id = id_number(1980, 17);
    let visit = walk_in(&s, &id, "周建国").await;
    let later = book(&s, &id, "周建国").await;
    let base = format!("/api/desk/visits/{visit}/privacy");

    let (st, v) = s.get(&base).await;
    assert_eq!(st, 200, "{v}");
    let text = v.to_string();
    // Masked on screen: neither the ID number, the mobile nor the name.
    for full in [id.as_str(), MOBILE, "周建国"] {
        assert!(!text.contains(full), "{full} in {text}");
    }
    assert_eq!(v["person"]["id_number"], exam_domain::mask::id_number(&id));
    assert_eq!(v["person"]["has_mobile"], true);
    // Both visits, whichever one named the person.
    let visits: Vec<i64> = v["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(visits.len(), 2, "{v}");
    assert!(visits.contains(&visit) && visits.contains(&later));
    assert!(!v["visits"][0]["items"].as_array().unwrap().is_empty());
    assert_eq!(v["retention"]["medical_record"], true);
    assert_eq!(v["retention"]["may_anonymise"], false);
    assert_eq!(
        v["retention"]["keep_until"],
        today()
            .with_year(today().year() + MEDICAL_RECORD_YEARS)
            .map(|d| d.to_string())
            .unwrap_or_default()
    );
    // Who accessed the record: the registration, and now this very view.
    let accesses = |v: &Value| -> Vec<String> {
        v["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a["actor"].as_str().unwrap(),
                    a["action"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert!(
        accesses(&v)
            .iter()
            .any(|a| a.starts_with("desk-rights visit.")),
        "{:?}",
        accesses(&v)
    );
    let (_, again) = s.get(&format!("/api/desk/visits/{later}/privacy")).await;
    assert!(
        accesses(&again).contains(&"desk-rights read.person_record".to_string()),
        "{:?}",
        accesses(&again)
    );

    // The page shows the same, masked too.
    let page = s
        .http
        .get(format!("{}/desk/visits/{visit}/privacy", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&exam_domain::mask::id_number(&id)));
    assert!(!html.contains(&id) && !html.contains(MOBILE));
    assert!(html.contains("/privacy/export") && html.contains("更正身份信息"));

    // The export is the person's own copy: in full.
    let (headers, file) = export(&s, visit).await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{headers:?}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(file["person"]["id_number"], id.as_str());
    assert_eq!(file["person"]["mobile"], MOBILE);
    assert_eq!(file["person"]["name"], "周建国");
    assert_eq!(file["visits"].as_array().unwrap().len(), 2);
    assert!(file["retention"]["rule"].as_str().unwrap().contains("15"));
    let actions = actions_by(h, "desk-rights").await;
    assert!(
        actions.iter().any(|a| a == "export.person_record"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "read.person_record"),
        "{actions:?}"
    );

    // Not for the group desk, nor without a session.
    let g = h.staff("group-rights", "group_desk").await;
    assert_eq!(g.get(&base).await.0, 403);
    assert_eq!(
        g.post(
            &format!("{base}/erase"),
            json!({ "erasure": "contact_and_photo" })
        )
        .await
        .0,
        403
    );
    let r = h
        .http
        .get(format!("{}{base}/export", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

async fn an_examined_person_keeps_the_record_and_loses_contact_and_photo(h: &Harness) {
    let s = h.staff("desk-erase", "front_desk").await;
    let id = id_number(1975, 31);
    let visit = walk_in(&s, &id, "钱德明").await;
    let base = format!("/api/desk/visits/{visit}/privacy");
    let (st, _) = s
        .post(
            &format!("{base}/consents"),
            json!({ "purpose": "sms_notifications", "granted": true }),
        )
        .await;
    assert_eq!(st, 200);
    // The exam was performed: anonymising it whole is refused, and says why.
    let (st, e) = s
        .post(&format!("{base}/erase"), json!({ "erasure": "anonymise" }))
        .await;
    assert_eq!((st, e["error"].as_str()), (409, Some("retention")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("病历"), "{e}");
    let (st, done) = s
        .post(
            &format!("{base}/erase"),
            json!({ "erasure": "contact_and_photo" }),
        )
        .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["consents_withdrawn"], 1);
    assert_eq!(done["plan"]["anonymise"], false);
    // The mobile is gone, the record stays.
    let (_, file) = export(&s, visit).await;
    assert_eq!(file["person"]["mobile"], "");
    assert_eq!(file["person"]["id_number"], id.as_str());
    assert_eq!(file["visits"].as_array().unwrap().len(), 1);
    assert!(file["consents"][0]["withdrawn_at"].is_string(), "{file}");
    let (_, hits) = s.get(&format!("/api/desk/search?q={MOBILE}")).await;
    assert!(
        !hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == visit),
        "not found by the erased mobile any more: {hits}"
    );
    let (_, hits) = s.get(&format!("/api/desk/search?q={id}")).await;
    assert_eq!(hits["hits"][0]["id"], visit, "still found by ID number");
    assert!(
        actions_by(h, "desk-erase")
            .await
            .contains(&"privacy.erase".to_string())
    );
}

async fn bookings_only_are_anonymised_whole(h: &Harness) {
    let s = h.staff("desk-anon", "front_desk").await;
    let id = id_number(1990, 44);
    let tomorrow = (today() + chrono::Duration::days(1)).to_string();
    let booked = |slots: &Value| {
        slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["start"] == "09:30:00")
            .unwrap()["booked"]
            .as_i64()
            .unwrap()
    };
    let (_, before) = s.get(&format!("/api/desk/slots?date={tomorrow}")).await;
    let visit = book(&s, &id, "孙丽华").await;
    let (_, during) = s.get(&format!("/api/desk/slots?date={tomorrow}")).await;
    assert_eq!(booked(&during), booked(&before) + 1);
    let base = format!("/api/desk/visits/{visit}/privacy");
    let (_, v) = s.get(&base).await;
    assert_eq!(v["retention"]["may_anonymise"], true, "{v}");

    let (st, done) = s
        .post(&format!("{base}/erase"), json!({ "erasure": "anonymise" }))
        .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["plan"]["anonymise"], true);
    assert_eq!(done["bookings_cancelled"], 1);
    // Nobody finds the person any more: not by ID number, name or mobile.
    for q in [id.as_str(), MOBILE] {
        let (_, hits) = s.get(&format!("/api/desk/search?q={q}")).await;
        assert!(
            !hits["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == visit),
            "{q}: {hits}"
        );
    }
    // The booking stays for the centre's counts, cancelled, under a
    // pseudonym no real person has; its place went back to the slot.
    let (_, after) = s.get(&format!("/api/desk/visits/{visit}")).await;
    assert_eq!(after["state"], "cancelled", "{after}");
    let (_, file) = export(&s, visit).await;
    let pseudo = file["person"]["id_number"].as_str().unwrap();
    assert!(pseudo.starts_with("000000"), "{pseudo}");
    assert_eq!(file["person"]["name"], "已匿名");
    assert_eq!(file["person"]["mobile"], "");
    assert_eq!(&pseudo[6..10], "1990", "birth year kept for counts");
    assert_eq!(file["consents"].as_array().unwrap().len(), 0);
    let (_, slots) = s.get(&format!("/api/desk/slots?date={tomorrow}")).await;
    assert_eq!(booked(&slots), booked(&before));
    assert!(
        actions_by(h, "desk-anon")
            .await
            .contains(&"privacy.anonymise".to_string())
    );
    // Kiosks' caches follow: the change feed carries the pseudonym.
    let key = h.kiosk("K-ANON").await;
    let (st, changes) = h
        .signed(
            &key,
            "GET",
            &format!("{}?cursor=0&limit=1000", exam_protocol::paths::CHANGES),
            b"",
            None,
        )
        .await;
    assert_eq!(st, 200);
    let text = changes.to_string();
    assert!(!text.contains(&id), "the real ID number is not in the feed");
}

use chrono::Datelike;
