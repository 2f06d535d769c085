//! K6: the photo step of a kiosk check-in reaches the registration: the
//! picture (with consent) for the desk, audited when viewed; what a kiosk
//! never sends is refused; the event log keeps no picture.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::Utc;
use common::Harness;
use exam_protocol::{Event, EventBody, PhotoRecord, paths};
use serde_json::json;
use uuid::Uuid;

on_both_stores!(photos_reach_the_desk_with_consent_only);

/// A 1×1 grayscale PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xE5, 0x27, 0xDE, 0xFC, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

fn record(booking_id: i64, outcome: &str, png: Option<&[u8]>) -> PhotoRecord {
    PhotoRecord {
        booking_id,
        booking_code: format!("BK{booking_id}"),
        outcome: outcome.into(),
        png: png.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        taken_at: Utc::now(),
        face: None,
    }
}

async fn push(h: &Harness, key: &exam_protocol::auth::KioskKey, seq: i64, p: PhotoRecord) -> u16 {
    let ev = Event::new(Uuid::now_v7(), seq, Utc::now(), &EventBody::Photo(p));
    let body = serde_json::to_vec(&json!({ "events": [ev] })).unwrap();
    h.signed(key, "POST", paths::EVENTS, &body, None).await.0
}

async fn photos_reach_the_desk_with_consent_only(h: &Harness) {
    let key = h.kiosk("K-PHOTO").await;
    // What no kiosk sends: refused whole, nothing stored.
    for (i, bad) in [
        record(71, "camera", None),
        record(71, "declined", Some(PNG)),
        record(71, "camera", Some(b"GIF89a not a png")),
        record(71, "selfie", None),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(push(h, &key, i as i64 + 1, bad).await, 422);
    }
    assert_eq!(push(h, &key, 5, record(71, "camera", Some(PNG))).await, 200);
    assert_eq!(push(h, &key, 6, record(72, "declined", None)).await, 200);

    let desk = h.staff("desk-photo", "front_desk").await;
    let r = desk
        .http
        .get(format!("{}/api/desk/visits/71/photo", desk.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let (status, body) = desk.get("/api/desk/visits/72/photo").await;
    assert_eq!(status, 404);
    assert!(body.to_string().contains("未同意"), "{body}");
    assert_eq!(desk.get("/api/desk/visits/73/photo").await.0, 404);
    // Viewing is audited; other roles may not.
    let (_, log) = h
        .staff("auditor-photo", "auditor")
        .await
        .get("/api/audit/operations?actor=desk-photo")
        .await;
    let lines = log["operations"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["action"] == "photo.view" && l["subject"] == "booking:71"),
        "{log}"
    );
    assert!(
        !lines.iter().any(|l| l["subject"] == "booking:72"),
        "no picture, nothing viewed"
    );
    let group = h.staff("group-photo", "group_desk").await;
    assert_eq!(group.get("/api/desk/visits/71/photo").await.0, 403);
}
