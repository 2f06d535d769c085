//! K3 face check-in's central side on both stores: a template arrives with
//! a check-in photo and is kept only under the person's consent to face
//! check-in; today's gallery for a kiosk holds the templates of the
//! people booked at its campus today (and no one else's); a withdrawal at
//! the desk deletes the template at once, and so does an erasure.

// An integration test: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::{Duration, Utc};
use common::{Harness, PNG};
use exam_domain::privacy::{NOTICE_VERSION, Purpose};
use exam_protocol::auth::KioskKey;
use exam_protocol::{
    BookingRecord, CheckIn, ConsentAnswer, Event, EventBody, FACE_DIMS, FaceTemplate,
    FacesResponse, PhotoRecord, PrivacyAnswers, paths,
};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_stores!(templates_follow_the_consent_and_reach_only_todays_gallery);

fn check_in(rec: &BookingRecord, consents: Vec<ConsentAnswer>) -> CheckIn {
    CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now() - Duration::seconds(60),
        offline: false,
        privacy: Some(PrivacyAnswers {
            notice_version: NOTICE_VERSION.into(),
            consents,
        }),
    }
}

fn yes(purpose: Purpose) -> ConsentAnswer {
    ConsentAnswer {
        purpose,
        granted: true,
    }
}

fn template(seed: f32) -> FaceTemplate {
    let v: Vec<f32> = (0..FACE_DIMS).map(|i| (i as f32 * seed).sin()).collect();
    FaceTemplate::new("sface_2021dec", &v)
}

fn photo(rec: &BookingRecord, face: Option<FaceTemplate>) -> PhotoRecord {
    PhotoRecord {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        outcome: "camera".into(),
        png: Some(base64::engine::general_purpose::STANDARD.encode(PNG)),
        taken_at: Utc::now() - Duration::seconds(30),
        face,
    }
}

async fn push(h: &Harness, key: &KioskKey, bodies: Vec<EventBody>) -> (u16, Value) {
    let events: Vec<Event> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| Event::new(Uuid::now_v7(), i as i64 + 1, Utc::now(), b))
        .collect();
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    h.signed(key, "POST", paths::EVENTS, &body, None).await
}

async fn gallery(h: &Harness, key: &KioskKey) -> FacesResponse {
    let (s, v) = h.signed(key, "GET", paths::FACES, b"", None).await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

/// A second booking of the person today, not yet checked in (the visit
/// the gallery is for).
async fn book_again_today(h: &Harness, rec: &BookingRecord, n: i64) {
    let mut b = rec.booking.clone();
    b.id = 900_000 + n;
    b.code = format!("BKFACE{n:04}");
    b.exam_no = format!("9{n:07}");
    b.state = exam_domain::BookingState::Booked;
    h.db()
        .insert_bookings(std::slice::from_ref(&rec.person), &[b])
        .await
        .unwrap();
}

async fn templates_follow_the_consent_and_reach_only_todays_gallery(h: &Harness) {
    let key = h.kiosk("K-FACE").await;
    let elsewhere = h.kiosk_at("K-FACE-EAST", "east", "lobby").await;
    let recs = common::one_booking_per_person(h, &key).await;
    let (agreed, photo_only) = (&recs[0], &recs[1]);
    // Nothing enrolled yet.
    assert!(gallery(h, &key).await.faces.is_empty());

    // One agreed to face check-in; the other only to the photo: their
    // kiosk sent a template all the same (it must not be kept).
    let (s, v) = push(
        h,
        &key,
        vec![
            EventBody::CheckIn(check_in(
                agreed,
                vec![yes(Purpose::PhotoIdentity), yes(Purpose::FaceRecognition)],
            )),
            EventBody::Photo(photo(agreed, Some(template(0.7)))),
            EventBody::CheckIn(check_in(photo_only, vec![yes(Purpose::PhotoIdentity)])),
            EventBody::Photo(photo(photo_only, Some(template(0.3)))),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(h.db().has_face_template(agreed.booking.id).await.unwrap());
    assert!(
        !h.db()
            .has_face_template(photo_only.booking.id)
            .await
            .unwrap(),
        "no consent, no template"
    );

    // Both checked in: nobody is waiting to be recognised today.
    assert!(gallery(h, &key).await.faces.is_empty());
    // Both booked again for today: only the one who agreed is in the
    // gallery, with the very numbers the kiosk sent; not at another campus.
    book_again_today(h, agreed, 1).await;
    book_again_today(h, photo_only, 2).await;
    let g = gallery(h, &key).await;
    assert_eq!(g.model, "sface_2021dec");
    assert_eq!(g.faces.len(), 1, "{g:?}");
    assert_eq!(g.faces[0].id_number, agreed.person.id_number);
    assert_eq!(g.faces[0].embedding(), template(0.7).numbers());
    assert!(gallery(h, &elsewhere).await.faces.is_empty());

    // The person's record at the desk says a template is held.
    let desk = h.staff("desk-face", "front_desk").await;
    let record = format!("/api/desk/visits/{}/privacy", agreed.booking.id);
    let (_, v) = desk.get(&record).await;
    assert_eq!(v["face"]["kiosk_id"], "K-FACE", "{v}");

    // Withdrawn at the desk: deleted at once, out of the gallery.
    let (s, w) = desk
        .post(
            &format!("/api/desk/visits/{}/privacy/withdraw", agreed.booking.id),
            json!({ "purpose": "face_recognition" }),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["stopped"], json!(["delete_face_templates"]));
    assert_eq!(w["removed"], 1);
    assert!(!h.db().has_face_template(agreed.booking.id).await.unwrap());
    assert!(gallery(h, &key).await.faces.is_empty());
    let (_, v) = desk.get(&record).await;
    assert!(v["face"].is_null(), "{v}");

    // Enrolled again at today's second visit, then the person asks the
    // desk to erase their contact data and photo: the template goes too.
    let mut again = agreed.clone();
    again.booking.id = 900_001;
    again.booking.code = "BKFACE0001".into();
    let (s, v) = push(
        h,
        &key,
        vec![
            EventBody::CheckIn(check_in(&again, vec![yes(Purpose::FaceRecognition)])),
            EventBody::Photo(photo(&again, Some(template(0.7)))),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(h.db().has_face_template(again.booking.id).await.unwrap());
    let (s, e) = desk
        .post(
            &format!("/api/desk/visits/{}/privacy/erase", again.booking.id),
            json!({ "erasure": "contact_and_photo" }),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert!(!h.db().has_face_template(again.booking.id).await.unwrap());

    // A template of another shape is refused with the push (bad payload).
    let mut bad = photo(agreed, Some(template(0.7)));
    bad.face.as_mut().unwrap().embedding = "AAAA".into();
    let (s, _) = push(h, &key, vec![EventBody::Photo(bad)]).await;
    assert_eq!(s, 422);
}

/// The centre's policy (`[face]`): kiosks read it with the gallery; where it
/// keeps no templates the service stores none, whatever a kiosk sends,
/// and where it does not identify by face no template goes to a kiosk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_centres_policy_reaches_kiosks_and_is_enforced_here() {
    let policy = exam_protocol::FacePolicy {
        identify: false,
        verify_card: true,
        keep_templates: false,
    };
    let h = Harness::start_with(common::Backend::Sqlite, |c| c.face = policy).await;
    let key = h.kiosk("K-POLICY").await;
    let recs = common::one_booking_per_person(&h, &key).await;
    let rec = &recs[0];
    let (s, v) = push(
        &h,
        &key,
        vec![
            EventBody::CheckIn(check_in(
                rec,
                vec![yes(Purpose::PhotoIdentity), yes(Purpose::FaceRecognition)],
            )),
            EventBody::Photo(photo(rec, Some(template(0.7)))),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        !h.db().has_face_template(rec.booking.id).await.unwrap(),
        "the policy keeps no templates"
    );
    let kept = h.db().visit_photo(rec.booking.id, "test").await.unwrap();
    assert!(
        kept.and_then(|p| p.png).is_some(),
        "the photo itself is kept as before"
    );
    let g = gallery(&h, &key).await;
    assert_eq!(g.policy, policy);
    assert!(g.faces.is_empty());
    h.stop().await;

    // The default: today's behaviour.
    let h = Harness::start(common::Backend::Sqlite).await;
    let key = h.kiosk("K-POLICY").await;
    assert_eq!(
        gallery(&h, &key).await.policy,
        exam_protocol::FacePolicy::default()
    );
    h.stop().await;
}
