//! The kiosk sync API against a real server, on SQLite and on PostgreSQL.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::Harness;
use exam_domain::IdentityQuery;
use exam_protocol::auth::{KioskKey, MAX_SKEW_MS};
use exam_protocol::{BookingRecord, CheckIn, Event, EventBody, paths};
use exam_server::db::CountTable;
use serde_json::json;
use uuid::Uuid;

on_both_stores!(
    duplicated_and_reordered_pushes_register_once,
    one_push_judges_each_check_in_as_if_alone,
    forged_expired_and_replayed_requests_write_nothing,
    bad_input_gets_clear_4xx_and_writes_nothing,
    enrolment_secret_works_once,
    pull_follows_changes_and_lookup_finds_every_way,
    heartbeat_shows_in_metrics,
    documents_left_behind_wait_for_the_desk_once,
    staff_moves_travel_through_heartbeats_and_close_once,
    a_new_visit_reaches_the_pull_and_a_lost_stamp_is_swept,
    pushed_check_ins_reach_the_pull_each_with_a_number_of_its_own,
);

async fn bookings(h: &Harness, key: &KioskKey) -> Vec<BookingRecord> {
    let (s, v) = h
        .signed(
            key,
            "GET",
            &format!("{}?cursor=0&limit=1000", paths::CHANGES),
            b"",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value::<exam_protocol::ChangesResponse>(v)
        .unwrap()
        .records
}

fn check_in_event(rec: &BookingRecord, seq: i64) -> Event {
    let body = EventBody::CheckIn(CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now(),
        offline: true,
        privacy: None,
    });
    Event::new(Uuid::now_v7(), seq, Utc::now(), &body)
}

async fn push(h: &Harness, key: &KioskKey, events: &[&Event]) -> (u16, serde_json::Value) {
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    h.signed(key, "POST", paths::EVENTS, &body, None).await
}

fn statuses(v: &serde_json::Value) -> Vec<String> {
    v["acks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_string())
        .collect()
}

async fn counts(h: &Harness) -> (i64, i64) {
    (
        h.db().count(CountTable::Registrations).await.unwrap(),
        h.db().count(CountTable::KioskEvents).await.unwrap(),
    )
}

async fn duplicated_and_reordered_pushes_register_once(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let recs = bookings(h, &key).await;
    let ev: Vec<Event> = recs
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, r)| check_in_event(r, i as i64 + 1))
        .collect();

    let (s, v) = push(h, &key, &[&ev[2], &ev[0]]).await;
    assert_eq!(
        (s, statuses(&v)),
        (200, vec!["accepted".to_string(), "accepted".into()])
    );
    // Reordered, with repeats, including a repeat inside one batch.
    let (s, v) = push(h, &key, &[&ev[4], &ev[0], &ev[3], &ev[1], &ev[2], &ev[4]]).await;
    assert_eq!(s, 200);
    assert_eq!(
        statuses(&v),
        [
            "accepted",
            "duplicate",
            "accepted",
            "accepted",
            "duplicate",
            "duplicate"
        ]
    );
    // The same batches from several connections at once: once already
    // stored, and once never seen (first inserts racing each other).
    let fresh: Vec<Event> = recs[5..10]
        .iter()
        .enumerate()
        .map(|(i, r)| check_in_event(r, i as i64 + 10))
        .collect();
    for batch in [
        ev.iter().rev().collect::<Vec<&Event>>(),
        fresh.iter().collect(),
    ] {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (h_url, key, body) = (
                h.url.clone(),
                key.clone(),
                serde_json::to_vec(&json!({ "events": batch })).unwrap(),
            );
            tasks.push(tokio::spawn(async move {
                let hd = key.sign("POST", paths::EVENTS, &body, Utc::now().timestamp_millis());
                let mut req = reqwest::Client::new()
                    .post(format!("{h_url}{}", paths::EVENTS))
                    .body(body);
                for (k, v) in hd.pairs() {
                    req = req.header(k, v);
                }
                req.send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            accepted += statuses(&t.await.unwrap())
                .iter()
                .filter(|s| *s == "accepted")
                .count();
        }
        let new_in_batch = if std::ptr::eq(batch[0], &fresh[0]) {
            5
        } else {
            0
        };
        assert_eq!(
            accepted, new_in_batch,
            "each event accepted by exactly one of the racing pushes"
        );
    }
    assert_eq!(counts(h).await, (10, 10));
    let rows = h
        .db()
        .registrations(Utc::now() - chrono::Duration::days(1), 0, 100)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.outcome == "registered"), "{rows:?}");

    // A second event for an already checked-in booking is kept, flagged.
    let again = check_in_event(&recs[0], 6);
    let (s, v) = push(h, &key, &[&again]).await;
    assert_eq!((s, statuses(&v)), (200, vec!["accepted".to_string()]));
    let rows = h
        .db()
        .registrations(Utc::now() - chrono::Duration::days(1), 0, 100)
        .await
        .unwrap();
    assert_eq!(rows.iter().filter(|r| r.outcome == "repeat").count(), 1);
}

/// A push's check-ins are written set-wise (`db::events`); each is still
/// judged as if it came alone and in order: the first of a booking twice
/// registers and the second is a repeat, an unknown booking, another
/// person's card and a cancelled booking are flagged, and HIS hears of
/// each registered visit once.
async fn one_push_judges_each_check_in_as_if_alone(h: &Harness) {
    use exam_server::interfaces::MessageKind;
    let key = h.kiosk("K-1").await;
    let recs = bookings(h, &key).await;
    let cancelled = &recs[4];
    h.db()
        .cancel("test", cancelled.booking.id, "changed plans")
        .await
        .unwrap();
    let mut wrong_card = check_in_event(&recs[1], 3);
    if let Ok(EventBody::CheckIn(mut c)) = wrong_card.body() {
        c.id_number = recs[2].person.id_number.clone();
        wrong_card = Event::new(Uuid::now_v7(), 3, Utc::now(), &EventBody::CheckIn(c));
    }
    let mut unknown = check_in_event(&recs[3], 4);
    if let Ok(EventBody::CheckIn(mut c)) = unknown.body() {
        c.booking_id = 9_000_000_000_000;
        c.booking_code = "NOSUCH".into();
        unknown = Event::new(Uuid::now_v7(), 4, Utc::now(), &EventBody::CheckIn(c));
    }
    let batch = [
        check_in_event(&recs[0], 1),
        check_in_event(&recs[0], 2),
        wrong_card,
        unknown,
        check_in_event(cancelled, 5),
        check_in_event(&recs[3], 6),
    ];
    let (s, v) = push(h, &key, &batch.iter().collect::<Vec<_>>()).await;
    assert_eq!((s, statuses(&v).len()), (200, 6), "{v}");
    assert!(statuses(&v).iter().all(|s| s == "accepted"), "{v}");
    let rows = h
        .db()
        .registrations(Utc::now() - chrono::Duration::days(1), 0, 100)
        .await
        .unwrap();
    let mut outcomes: Vec<(Option<String>, String)> = rows
        .iter()
        .map(|r| (r.booking_code.clone(), r.outcome.clone()))
        .collect();
    outcomes.sort();
    let code = |i: usize| Some(recs[i].booking.code.clone());
    let mut want = vec![
        (None, "unknown_booking".to_string()),
        (code(0), "registered".into()),
        (code(0), "repeat".into()),
        (code(1), "identity_mismatch".into()),
        (code(3), "registered".into()),
        (code(4), "cancelled_booking".into()),
    ];
    want.sort();
    assert_eq!(outcomes, want);
    for (i, registered) in [(0, 1), (1, 0), (3, 1), (4, 0)] {
        let (_, messages) = h.db().interface_visit(recs[i].booking.id).await.unwrap();
        let n = messages
            .iter()
            .filter(|m| m.kind == MessageKind::Registration)
            .count();
        assert_eq!(n, registered, "HIS registrations of booking {i}");
    }
    assert_eq!(counts(h).await, (6, 6));
}

async fn forged_expired_and_replayed_requests_write_nothing(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let recs = bookings(h, &key).await;
    let before = counts(h).await;
    let body = serde_json::to_vec(&json!({ "events": [check_in_event(&recs[0], 1)] })).unwrap();
    let now = Utc::now().timestamp_millis();

    // Signed by another key claiming to be K-1.
    let forger = KioskKey::generate("K-1");
    let (s, v) = h.signed(&forger, "POST", paths::EVENTS, &body, None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("bad_signature")),
        "{v}"
    );
    // Body changed after signing.
    let hd = key.sign("POST", paths::EVENTS, &body, now);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let (s, v) = h.send_with("POST", paths::EVENTS, &tampered, &hd).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("bad_signature")));
    // Signed for another path.
    let hd_other = key.sign("POST", paths::LOOKUP, &body, now);
    let (s, _) = h.send_with("POST", paths::EVENTS, &body, &hd_other).await;
    assert_eq!(s, 401);
    // Too old and too far ahead.
    for skew in [-(MAX_SKEW_MS + 1000), MAX_SKEW_MS + 1000] {
        let (s, v) = h
            .signed(&key, "POST", paths::EVENTS, &body, Some(now + skew))
            .await;
        assert_eq!((s, v["error"].as_str()), (401, Some("expired")), "{v}");
        assert!(v["message"].as_str().unwrap().contains("expired"));
    }
    // Unknown kiosk, and no signature at all.
    let (s, v) = h
        .signed(
            &KioskKey::generate("K-404"),
            "POST",
            paths::EVENTS,
            &body,
            None,
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unknown_kiosk")));
    let r = h
        .http
        .post(format!("{}{}", h.url, paths::EVENTS))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(counts(h).await, before, "refused requests wrote nothing");

    // A genuine request goes through once; its replay is refused.
    let hd = key.sign("POST", paths::EVENTS, &body, Utc::now().timestamp_millis());
    let (s, _) = h.send_with("POST", paths::EVENTS, &body, &hd).await;
    assert_eq!(s, 200);
    let after_one = counts(h).await;
    assert_eq!(after_one, (before.0 + 1, before.1 + 1));
    let (s, v) = h.send_with("POST", paths::EVENTS, &body, &hd).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("replayed")), "{v}");
    assert_eq!(counts(h).await, after_one);
}

async fn bad_input_gets_clear_4xx_and_writes_nothing(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let recs = bookings(h, &key).await;
    let before = counts(h).await;

    let (s, v) = h
        .signed(&key, "POST", paths::EVENTS, b"{\"events\": [", None)
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_json")), "{v}");
    let (s, v) = h
        .signed(&key, "POST", paths::EVENTS, b"{\"evnts\": []}", None)
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_json")), "{v}");

    let many: Vec<Event> = (0..501).map(|i| check_in_event(&recs[0], i)).collect();
    let (s, v) = push(h, &key, &many.iter().collect::<Vec<_>>()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (413, Some("batch_too_large")),
        "{v}"
    );

    let huge = vec![b' '; exam_protocol::MAX_BODY_BYTES + 10];
    let (s, v) = h.signed(&key, "POST", paths::EVENTS, &huge, None).await;
    assert_eq!((s, v["error"].as_str()), (413, Some("too_large")), "{v}");

    let good = check_in_event(&recs[0], 1);
    let mut unknown = check_in_event(&recs[1], 2);
    unknown.kind = "teleport".into();
    let (s, v) = push(h, &key, &[&good, &unknown]).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("unknown_event_kind")),
        "{v}"
    );
    assert_eq!(v["event_ids"], json!([unknown.id]));
    assert!(v["message"].as_str().unwrap().contains("teleport"));

    let mut bad_payload = check_in_event(&recs[1], 3);
    bad_payload.payload = json!({ "booking_id": "seven" });
    let (s, v) = push(h, &key, &[&bad_payload]).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("bad_event")), "{v}");

    let r = h
        .http
        .post(format!("{}{}", h.url, paths::EVENTS))
        .header("x-protocol-version", "99")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        counts(h).await,
        before,
        "a refused batch writes none of its events"
    );
}

async fn enrolment_secret_works_once(h: &Harness) {
    h.db()
        .add_kiosk("K-9", "main", "pickup", "the-one-time-secret-123456")
        .await
        .unwrap();
    let wrong = sync_client::SyncClient::enrol(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        "K-9",
        "guess",
        "t",
    )
    .await
    .unwrap_err();
    assert!(wrong.to_string().contains("enrolment_refused"), "{wrong}");
    let (key, resp) = sync_client::SyncClient::enrol(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        "K-9",
        "the-one-time-secret-123456",
        "t",
    )
    .await
    .unwrap();
    assert_eq!(
        (resp.campus.as_str(), resp.zone.as_str()),
        ("main", "pickup")
    );
    let again = sync_client::SyncClient::enrol(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        "K-9",
        "the-one-time-secret-123456",
        "t",
    )
    .await
    .unwrap_err();
    assert!(!again.is_transient());
    let r = h
        .http
        .post(format!("{}{}", h.url, paths::ENROL))
        .body("{\"kiosk_id\": \"../x\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // The answer was lost: the same key may enrol again with the same secret.
    sync_client::SyncClient::enrol_key(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        &key,
        "the-one-time-secret-123456",
        "t",
    )
    .await
    .unwrap();
    // Re-issuing the enrolment (kiosk replaced or stolen) revokes the old key at once.
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key,
    );
    client.changes(0, 1).await.unwrap();
    h.db()
        .add_kiosk("K-9", "main", "pickup", "a-new-secret-for-the-new-kiosk")
        .await
        .unwrap();
    let e = client.changes(0, 1).await.unwrap_err();
    assert!(e.to_string().contains("unknown_kiosk"), "{e}");
}

async fn pull_follows_changes_and_lookup_finds_every_way(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key.clone(),
    );
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = client.changes(cursor, 7).await.unwrap();
        assert!(page.records.len() <= 7);
        seen.extend(page.records);
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert!(seen.len() > 30, "30 demo people have at least 30 bookings");
    let first = seen[0].clone();
    let (s, _) = push(h, &key, &[&check_in_event(&first, 1)]).await;
    assert_eq!(s, 200);
    let page = client.changes(cursor, 100).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].booking.id, first.booking.id);
    assert_eq!(
        page.records[0].booking.state,
        exam_domain::BookingState::CheckedIn
    );
    assert!(page.next_cursor > cursor);

    let t = std::time::Duration::from_secs(5);
    let p = &first.person;
    for q in [
        IdentityQuery::IdNumber {
            id_number: p.id_number.clone(),
        },
        IdentityQuery::BookingCode {
            code: first.booking.code.clone(),
        },
        IdentityQuery::ExamNo {
            exam_no: first.booking.exam_no.clone(),
        },
        IdentityQuery::IdNumberAndMobile {
            id_number: p.id_number.clone(),
            mobile: p.mobile.clone(),
        },
    ] {
        let r = client.lookup(&q, t).await.unwrap();
        assert!(
            r.records.iter().any(|r| r.booking.id == first.booking.id),
            "{q:?}"
        );
    }
    let wrong = IdentityQuery::IdNumberAndMobile {
        id_number: p.id_number.clone(),
        mobile: "19900000000".into(),
    };
    assert!(client.lookup(&wrong, t).await.unwrap().records.is_empty());
}

async fn heartbeat_shows_in_metrics(h: &Harness) {
    let key = h.kiosk("K-7").await;
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key,
    );
    client
        .heartbeat(&exam_protocol::Heartbeat {
            app_version: "1.2.3".into(),
            devices: vec![exam_protocol::DeviceStatus {
                name: "receipt".into(),
                state: exam_protocol::DeviceState::PaperOut,
            }],
            backlog: 3,
            oldest_unacked: None,
            rejected: 2,
            print_waiting: 4,
            oldest_print_waiting: Some(chrono::Utc::now()),
            prints: vec![exam_protocol::PrinterKind::Receipt],
            alert: Some(exam_protocol::Alert::CallStaff),
        })
        .await
        .unwrap();
    let m = h
        .http
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("exam_kiosk_backlog{kiosk=\"K-7\"} 3"), "{m}");
    assert!(m.contains("exam_heartbeats_total 1"));
    // The writer's pool as it stands (one connection on SQLite, more on
    // PostgreSQL), opened by the writes above.
    let open = m
        .lines()
        .find_map(|l| l.strip_prefix("exam_store_connections{pool=\"writer\",state=\"open\"} "))
        .and_then(|v| v.parse::<u32>().ok());
    assert!(open.is_some_and(|n| n >= 1), "{m}");
    assert_eq!(
        h.db().kiosk("K-7").await.unwrap().unwrap().rejected,
        Some(2),
        "set-aside events reach the fleet view"
    );
    // The devices and the staff alert, as the fleet view shows them.
    let kept = h.db().kiosk("K-7").await.unwrap().unwrap().devices.unwrap();
    assert_eq!(
        exam_protocol::KioskCondition::from_stored(&kept)
            .unwrap()
            .summary(),
        "receipt paper_out, alert call_staff"
    );
    let health = h
        .http
        .get(format!("{}/healthz", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

async fn documents_left_behind_wait_for_the_desk_once(h: &Harness) {
    let key = h.kiosk("K-8").await;
    let recs = bookings(h, &key).await;
    let check_in = check_in_event(&recs[0], 1);
    let job = Uuid::now_v7();
    let waiting = Event::new(
        Uuid::now_v7(),
        2,
        Utc::now(),
        &EventBody::DocumentsWaiting(exam_protocol::DocumentsWaiting {
            job_id: job,
            booking_code: recs[0].booking.code.clone(),
            document: "guide_sheet".into(),
            since: Utc::now(),
        }),
    );
    let (s, v) = push(h, &key, &[&check_in, &waiting, &waiting]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(statuses(&v), ["accepted", "accepted", "duplicate"]);
    let list = h.db().pickups_waiting().await.unwrap();
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(
        (p.job_id.as_str(), p.kiosk_id.as_str()),
        (job.to_string().as_str(), "K-8")
    );
    assert_eq!(p.name.as_deref(), Some(recs[0].person.name.as_str()));
    // Handed over once; the second click changes nothing.
    let db = h.db();
    assert!(
        db.hand_over(&job.to_string(), "K-8", "desk1", Utc::now())
            .await
            .unwrap()
    );
    assert!(
        !db.hand_over(&job.to_string(), "K-8", "desk1", Utc::now())
            .await
            .unwrap()
    );
    assert!(db.pickups_waiting().await.unwrap().is_empty());
}

async fn staff_moves_travel_through_heartbeats_and_close_once(h: &Harness) {
    use exam_protocol::{MoveOrder, MovedJob, MovedPart, PrintAccepted, PrintReleased};
    let (ka, kb) = (h.kiosk("K-MA").await, h.kiosk("K-MB").await);
    let db = h.db();
    let hb = common::quiet_heartbeat(1);
    // Never heard from: not a target.
    assert!(matches!(
        db.request_move("K-MA", "K-MB", "desk1", Utc::now()).await,
        Err(exam_server::db::MoveError::TargetAway(_))
    ));
    let (ca, cb) = (
        sync_client::SyncClient::new(
            &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
            ka.clone(),
        ),
        sync_client::SyncClient::new(
            &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
            kb.clone(),
        ),
    );
    // The target says what it prints; the order carries it to the source.
    let prints: Vec<exam_protocol::PrinterKind> = ["receipt", "label:zpl", "report"]
        .map(|p| p.parse().unwrap())
        .into();
    let hb_target = exam_protocol::Heartbeat {
        prints: prints.clone(),
        ..hb.clone()
    };
    cb.heartbeat(&hb_target).await.unwrap();
    let id = db
        .request_move("K-MA", "K-MB", "desk1", Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        db.request_move("K-MA", "K-MB", "desk1", Utc::now()).await,
        Err(exam_server::db::MoveError::AlreadyMoving(_))
    ));
    let order = ca.heartbeat(&hb).await.unwrap().release_printing;
    assert_eq!(
        order,
        Some(MoveOrder {
            move_id: id,
            to_kiosk: "K-MB".into(),
            accepts: prints,
        })
    );
    assert!(
        cb.heartbeat(&hb)
            .await
            .unwrap()
            .incoming_printing
            .is_empty()
    );
    let job = MovedJob {
        job_id: Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: "BK1".into(),
        parts: vec![MovedPart::new(
            0,
            exam_protocol::PrinterKind::Receipt,
            b"\x1b@sheet",
            true,
        )],
    };
    let released = EventBody::PrintReleased(PrintReleased {
        move_id: id,
        to_kiosk: "K-MB".into(),
        jobs: vec![job.clone()],
    });
    // Only the source kiosk can release its move.
    let forged = Event::new(Uuid::now_v7(), 1, Utc::now(), &released);
    assert_eq!(push(h, &kb, &[&forged]).await.0, 200);
    assert!(
        cb.heartbeat(&hb)
            .await
            .unwrap()
            .incoming_printing
            .is_empty()
    );
    let ev = Event::new(Uuid::now_v7(), 1, Utc::now(), &released);
    assert_eq!(push(h, &ka, &[&ev]).await.0, 200);
    let incoming = cb.heartbeat(&hb).await.unwrap().incoming_printing;
    assert_eq!(incoming.len(), 1);
    assert_eq!(
        (incoming[0].move_id, incoming[0].jobs.clone()),
        (id, vec![job])
    );
    assert_eq!(incoming[0].jobs[0].parts[0].bytes().unwrap(), b"\x1b@sheet");
    assert!(ca.heartbeat(&hb).await.unwrap().release_printing.is_none());
    let accepted = EventBody::PrintAccepted(PrintAccepted { move_id: id });
    let ev = Event::new(Uuid::now_v7(), 2, Utc::now(), &accepted);
    assert_eq!(push(h, &kb, &[&ev]).await.0, 200);
    assert!(
        cb.heartbeat(&hb)
            .await
            .unwrap()
            .incoming_printing
            .is_empty()
    );
    assert!(db.open_moves().await.unwrap().is_empty());
}

/// A walk-in registered at the desk is in the kiosks' pull at once (on
/// PostgreSQL its change number is taken just after its commit); one whose
/// stamp was lost between its commit and the stamp (a crash: change number
/// 0, which no cursor follows) is stamped by the prune job's sweep and then
/// reaches a kiosk that had read past everything before.
async fn a_new_visit_reaches_the_pull_and_a_lost_stamp_is_swept(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key.clone(),
    );
    let mut cursor = 0;
    loop {
        let page = client.changes(cursor, 500).await.unwrap();
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    let desk = h.staff("stamp-desk", "front_desk").await;
    let walk_in = |seq: u16| {
        let desk = &desk;
        async move {
            let (st, r) = desk
                .post(
                    "/api/desk/visits",
                    json!({ "person": { "id_number": common::id_number(1985, seq), "name": "游标测试", "mobile": "" },
                            "marital": "married", "package": "P-EMP", "walk_in": true }),
                )
                .await;
            assert_eq!(st, 200, "{r}");
            r["visit"]["id"].as_i64().unwrap()
        }
    };
    let first = walk_in(1).await;
    let page = client.changes(cursor, 100).await.unwrap();
    let ids: Vec<i64> = page.records.iter().map(|r| r.booking.id).collect();
    assert_eq!(
        ids,
        vec![first],
        "the new visit, stamped by the time it was answered"
    );
    let cursor = page.next_cursor;
    assert_eq!(h.db().stamp_unstamped(&["main".into()]).await.unwrap(), 0);

    let lost = walk_in(3).await;
    // Its stamp lost: as after a crash between its commit and the stamp.
    h.sql(&format!(
        "UPDATE bookings SET change_seq = 0 WHERE id = {lost}"
    ))
    .await
    .unwrap();
    let later = walk_in(5).await;
    let page = client.changes(cursor, 100).await.unwrap();
    let ids: Vec<i64> = page.records.iter().map(|r| r.booking.id).collect();
    assert_eq!(ids, vec![later], "an unstamped visit is not in the pull");
    let cursor = page.next_cursor;
    assert_eq!(h.db().stamp_unstamped(&["main".into()]).await.unwrap(), 1);
    let page = client.changes(cursor, 100).await.unwrap();
    let ids: Vec<i64> = page.records.iter().map(|r| r.booking.id).collect();
    assert_eq!(
        ids,
        vec![lost],
        "swept, it reaches the kiosk past its cursor"
    );
    assert_eq!(h.db().stamp_unstamped(&["main".into()]).await.unwrap(), 0);
}

/// A push's check-ins move their visits' change numbers (on PostgreSQL
/// just after the push's commit, issue 21): by the time the push is
/// answered every one of them is in the pull past the cursor, each with a
/// number of its own, and nothing is left for the sweep.
async fn pushed_check_ins_reach_the_pull_each_with_a_number_of_its_own(h: &Harness) {
    let key = h.kiosk("K-1").await;
    let recs = bookings(h, &key).await;
    let before: std::collections::BTreeMap<i64, i64> =
        recs.iter().map(|r| (r.booking.id, r.change_seq)).collect();
    let top = before.values().copied().max().unwrap();
    let client = sync_client::SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key.clone(),
    );
    // One alone, then three in one push.
    let one = check_in_event(&recs[0], 1);
    let (s, v) = push(h, &key, &[&one]).await;
    assert_eq!(s, 200, "{v}");
    let three = [
        check_in_event(&recs[1], 2),
        check_in_event(&recs[2], 3),
        check_in_event(&recs[3], 4),
    ];
    let (s, v) = push(h, &key, &three.iter().collect::<Vec<_>>()).await;
    assert_eq!(s, 200, "{v}");
    let page = client.changes(top, 100).await.unwrap();
    let mut got: Vec<(i64, i64)> = page
        .records
        .iter()
        .map(|r| (r.booking.id, r.change_seq))
        .collect();
    got.sort_unstable();
    let mut want: Vec<i64> = recs[..4].iter().map(|r| r.booking.id).collect();
    want.sort_unstable();
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        want,
        "every check-in in the pull past the cursor: {got:?}"
    );
    let mut numbers: Vec<i64> = got.iter().map(|g| g.1).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 4, "a number each: {got:?}");
    assert!(numbers.iter().all(|n| *n > top), "{got:?}");
    for r in &page.records {
        assert_eq!(r.booking.state, exam_domain::BookingState::CheckedIn);
    }
    assert_eq!(h.db().stamp_unstamped(&["main".into()]).await.unwrap(), 0);
}
