//! PIPL consents (S6; 002 §(九) 6.5.1, 6.5.3) on both stores: the kiosk's
//! consent step arrives with its check-in and is recorded per purpose with
//! the notice version, the kiosk and the time (an older kiosk's check-in
//! still syncs and records nothing; an identity mismatch records nothing);
//! the desk records answers and withdrawals, and a withdrawal stops what
//! it covers: the photo is deleted and a late kiosk photo stays out, the
//! employer no longer gets the report. Only the roles that serve a person's
//! rights may.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::{Duration, Utc};
use common::{Harness, PNG};
use exam_domain::privacy::{NOTICE_VERSION, Purpose};
use exam_protocol::auth::KioskKey;
use exam_protocol::{
    BookingRecord, CheckIn, ConsentAnswer, Event, EventBody, PhotoRecord, PrivacyAnswers, paths,
};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_stores!(
    kiosk_answers_are_recorded_with_the_notice_version,
    withdrawing_photo_consent_deletes_the_photo_and_keeps_late_ones_out,
    desk_answers_and_what_a_withdrawal_stops,
);

fn answers(granted: bool) -> PrivacyAnswers {
    PrivacyAnswers {
        notice_version: NOTICE_VERSION.into(),
        consents: vec![ConsentAnswer {
            purpose: Purpose::PhotoIdentity,
            granted,
        }],
    }
}

fn check_in(rec: &BookingRecord, privacy: Option<PrivacyAnswers>) -> CheckIn {
    CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now(),
        offline: false,
        privacy,
    }
}

fn photo(rec: &BookingRecord, taken_at: chrono::DateTime<Utc>) -> PhotoRecord {
    PhotoRecord {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        outcome: "camera".into(),
        png: Some(base64::engine::general_purpose::STANDARD.encode(PNG)),
        taken_at,
        face: None,
    }
}

async fn status(desk: &common::Staff, url: String) -> u16 {
    desk.http
        .get(format!("{}{url}", desk.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn push(h: &Harness, key: &KioskKey, seq: &mut i64, bodies: Vec<EventBody>) -> (u16, Value) {
    let events: Vec<Event> = bodies
        .iter()
        .map(|b| {
            *seq += 1;
            Event::new(Uuid::now_v7(), *seq, Utc::now(), b)
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    h.signed(key, "POST", paths::EVENTS, &body, None).await
}

async fn kiosk_answers_are_recorded_with_the_notice_version(h: &Harness) {
    let key = h.kiosk("K-PIPL").await;
    let recs = common::one_booking_per_person(h, &key).await;
    let (yes, no, old, other) = (&recs[0], &recs[1], &recs[2], &recs[3]);
    let mut seq = 0;
    // What no kiosk sends is refused whole: two answers to one purpose.
    let mut twice = answers(true);
    twice.consents.push(twice.consents[0]);
    let (s, _) = push(
        h,
        &key,
        &mut seq,
        vec![EventBody::CheckIn(check_in(yes, Some(twice)))],
    )
    .await;
    assert_eq!(s, 422);
    // A kiosk with a consent step, one without (older), and a check-in whose
    // ID number is not the booking's person's.
    let mut mismatch = check_in(other, Some(answers(true)));
    mismatch.id_number = yes.person.id_number.clone();
    let (s, v) = push(
        h,
        &key,
        &mut seq,
        vec![
            EventBody::CheckIn(check_in(yes, Some(answers(true)))),
            EventBody::CheckIn(check_in(no, Some(answers(false)))),
            EventBody::CheckIn(check_in(old, None)),
            EventBody::CheckIn(mismatch),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");

    let desk = h.staff("desk-pipl", "front_desk").await;
    let view = |id: i64| {
        let desk = &desk;
        async move {
            let (s, v) = desk.get(&format!("/api/desk/visits/{id}/privacy")).await;
            assert_eq!(s, 200, "{v}");
            v
        }
    };
    let v = view(yes.booking.id).await;
    let c = v["consents"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{v}");
    assert_eq!(c[0]["purpose"], "photo_identity");
    assert_eq!(c[0]["granted"], true);
    assert_eq!(c[0]["channel"], "kiosk");
    assert_eq!(c[0]["notice_version"], NOTICE_VERSION);
    assert_eq!(c[0]["recorded_by"], "kiosk:K-PIPL");
    assert_eq!(c[0]["booking_id"], yes.booking.id);
    let photo_state = |v: &Value| {
        v["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purpose"] == "photo_identity")
            .unwrap()["in_force"]
            .as_bool()
            .unwrap()
    };
    assert!(photo_state(&v));
    let v = view(no.booking.id).await;
    assert_eq!(v["consents"][0]["granted"], false, "{v}");
    assert!(!photo_state(&v));
    // The old kiosk's check-in registered and recorded no answer; nor did
    // the mismatched one, for the booking's person or anyone.
    for r in [old, other] {
        let v = view(r.booking.id).await;
        assert_eq!(v["consents"].as_array().unwrap().len(), 0, "{v}");
    }
    assert_eq!(
        desk.get(&format!("/api/desk/visits/{}", old.booking.id))
            .await
            .1["state"],
        "checked_in"
    );
    assert_eq!(
        h.db().consents(yes.booking.id).await.unwrap().len(),
        1,
        "the mismatch added nothing to the card holder either"
    );
}

async fn withdrawing_photo_consent_deletes_the_photo_and_keeps_late_ones_out(h: &Harness) {
    let key = h.kiosk("K-PHOTO-PIPL").await;
    let rec = common::one_booking_per_person(h, &key).await.remove(0);
    let mut seq = 0;
    let taken = Utc::now() - Duration::seconds(30);
    let (s, _) = push(
        h,
        &key,
        &mut seq,
        vec![
            EventBody::CheckIn(check_in(&rec, Some(answers(true)))),
            EventBody::Photo(photo(&rec, taken)),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let desk = h.staff("desk-photo-pipl", "front_desk").await;
    let photo_url = format!("/api/desk/visits/{}/photo", rec.booking.id);
    assert_eq!(status(&desk, photo_url.clone()).await, 200);

    let base = format!("/api/desk/visits/{}/privacy", rec.booking.id);
    let (s, w) = desk
        .post(
            &format!("{base}/withdraw"),
            json!({ "purpose": "photo_identity" }),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["stopped"], json!(["delete_photos"]));
    assert_eq!(w["removed"], 1);
    assert_eq!(
        status(&desk, photo_url.clone()).await,
        404,
        "the photo is gone"
    );
    let (_, why) = desk.get(&photo_url).await;
    assert!(why["message"].as_str().unwrap().contains("撤回"), "{why}");
    let (_, v) = desk.get(&base).await;
    assert_eq!(v["photos"][0]["held"], false, "{v}");
    assert!(v["consents"][0]["withdrawn_at"].is_string(), "{v}");

    // A kiosk that synced late brings a photo taken before the withdrawal
    // (a second camera frame): it is not kept.
    let (s, _) = push(
        h,
        &key,
        &mut seq,
        vec![EventBody::Photo(photo(&rec, taken + Duration::seconds(5)))],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(status(&desk, photo_url.clone()).await, 404);

    // Asked again at a kiosk, the person agrees: a new photo is kept.
    let (s, _) = push(
        h,
        &key,
        &mut seq,
        vec![
            EventBody::CheckIn(check_in(&rec, Some(answers(true)))),
            EventBody::Photo(photo(&rec, Utc::now())),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(status(&desk, photo_url).await, 200);
}

async fn desk_answers_and_what_a_withdrawal_stops(h: &Harness) {
    let key = h.kiosk("K-DESK-PIPL").await;
    let rec = common::one_booking_per_person(h, &key).await.remove(0);
    let visit = rec.booking.id;
    let base = format!("/api/desk/visits/{visit}/privacy");
    let desk = h.staff("desk-consent", "front_desk").await;
    assert!(
        !h.db()
            .consent_allows(visit, Purpose::EmployerReport)
            .await
            .unwrap(),
        "no answer is no"
    );
    let (s, c) = desk
        .post(
            &format!("{base}/consents"),
            json!({ "purpose": "employer_report", "granted": true }),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["channel"], "desk");
    assert_eq!(c["notice_version"], NOTICE_VERSION);
    assert_eq!(c["recorded_by"], "desk-consent");
    assert!(
        h.db()
            .consent_allows(visit, Purpose::EmployerReport)
            .await
            .unwrap()
    );
    // Withdrawn: the report no longer goes to the employer.
    let (s, w) = desk
        .post(
            &format!("{base}/withdraw"),
            json!({ "purpose": "employer_report" }),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["stopped"], json!(["stop_employer_report"]));
    assert!(
        !h.db()
            .consent_allows(visit, Purpose::EmployerReport)
            .await
            .unwrap()
    );
    // Nothing left to withdraw; the service itself is not withdrawable.
    let (s, e) = desk
        .post(
            &format!("{base}/withdraw"),
            json!({ "purpose": "employer_report" }),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("not_withdrawable")));
    let (s, _) = desk
        .post(
            &format!("{base}/withdraw"),
            json!({ "purpose": "exam_service" }),
        )
        .await;
    assert_eq!(s, 409);
    // The kiosk's answers come with its check-ins only; unknown purposes
    // and visits are refused.
    let (s, _) = desk
        .post(
            &format!("{base}/consents"),
            json!({ "purpose": "sms_notifications", "granted": true, "channel": "kiosk" }),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = desk
        .post(
            &format!("{base}/consents"),
            json!({ "purpose": "marketing", "granted": true }),
        )
        .await;
    assert!(s == 400 || s == 422, "{s}");
    assert_eq!(desk.get("/api/desk/visits/999999999/privacy").await.0, 404);
    // Every answer and withdrawal is in the audit trail.
    let (_, log) = h
        .staff("auditor-consent", "auditor")
        .await
        .get("/api/audit/operations?actor=desk-consent")
        .await;
    let actions: Vec<&str> = log["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"privacy.consent"), "{actions:?}");
    assert!(actions.contains(&"privacy.withdraw"), "{actions:?}");
    // Only the roles that serve a person's rights.
    for role in ["group_desk", "auditor"] {
        let s = h.staff(&format!("{role}-refused"), role).await;
        assert_eq!(s.get(&base).await.0, 403, "{role}");
        assert_eq!(
            s.post(
                &format!("{base}/consents"),
                json!({ "purpose": "research", "granted": true })
            )
            .await
            .0,
            403,
            "{role}"
        );
    }
    let r = h.http.get(format!("{}{base}", h.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
