//! Issue 19 over HTTP on both stores: visits registered at the desk join
//! the queue by themselves (fasting rooms first); the doctor station calls,
//! recalls, marks a no-show and finishes; the room screen's link shows the
//! call and serves its Mandarin announcement as WAV (espeak-ng); the phone
//! page follows and takes one rating per room; the guide desk sends,
//! jumps, evacuates (the waiting appear in other rooms), locks, sets VIP,
//! moves a person to another day; the log replays into the same queues;
//! who may do what, and links that are forged or for another purpose.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::time::Duration;

use common::{Backend, Harness, Staff};
use interfaces::walk_in;
use serde_json::{Value, json};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        })*
    };
}

both!(
    a_day_at_the_centre_through_the_queue,
    a_kiosk_lookup_gives_the_first_station_and_the_phone_link,
);

/// Waits until the visit is in the queue; returns its view.
async fn joined(g: &Staff, id: i64) -> Value {
    for _ in 0..100 {
        let (st, v) = g.get(&format!("/api/queue/visits/{id}")).await;
        assert_eq!(st, 200, "{v}");
        if !v["at"].is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("visit {id} never joined the queue");
}

fn waiting_room(v: &Value) -> String {
    assert_eq!(v["at"]["at"], "waiting", "{v}");
    v["at"]["room"].as_str().unwrap().to_string()
}

async fn board(g: &Staff) -> Value {
    let (st, b) = g.get("/api/queue/board").await;
    assert_eq!(st, 200, "{b}");
    b
}

fn room<'a>(b: &'a Value, code: &str) -> &'a Value {
    b["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

async fn a_day_at_the_centre_through_the_queue(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("q-desk", "front_desk").await;
    let guide = h.staff("q-guide", "guide").await;
    let doctor = h.staff("q-doc", "doctor").await;
    let cat = exam_domain::catalogue::seed::catalogue();

    // Registered at the desk: in the queue by itself, at a fasting room
    // first (the package has blood tests and an abdominal ultrasound).
    let mut visits = Vec::new();
    for seq in 1..=4 {
        visits.push(walk_in(&desk, 600 + seq).await);
    }
    let mut first = Vec::new();
    for id in &visits {
        let v = joined(&guide, *id).await;
        let r = waiting_room(&v);
        let fasting_here = cat.items.iter().any(|i| i.room == r && i.fasting);
        assert!(fasting_here, "first room {r} has no fasting item: {v}");
        // The ultrasound is a pre-queue room: everyone holds a number.
        assert!(
            v["places"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["room"] == "us1" && p["prequeue"] == true),
            "{v}"
        );
        first.push(r);
    }
    let b = board(&guide).await;
    assert_eq!(b["joined_today"], 4, "{b}");
    // The desk's printed guide sheet names the room the queue gave them.
    let html = desk
        .http
        .get(format!("{}/desk/visits/{}/print", desk.url, visits[0]))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = cat.room("main", &first[0]).unwrap();
    let station = exam_domain::documents::FirstStation {
        room: r.code.clone(),
        room_name: r.name.clone(),
        floor: r.floor,
    };
    assert!(
        html.contains(&format!("请先到 {}", station.label())),
        "{html}"
    );
    assert_eq!(room(&b, "us1")["waiting"].as_array().unwrap().len(), 4);

    // The doctor calls in the first visitor's room.
    let (a, r0) = (visits[0], first[0].clone());
    let (st, called) = doctor
        .post(&format!("/api/queue/rooms/{r0}/call-next"), json!({}))
        .await;
    assert_eq!(st, 200, "{called}");
    let who = called["decisions"][0]["person"].as_i64().unwrap();
    assert_eq!(called["decisions"][0]["decision"], "called");
    let (st, rv) = doctor.get(&format!("/api/queue/rooms/{r0}")).await;
    assert_eq!(st, 200);
    assert_eq!(ids(&rv["room"]["serving"]), vec![who]);
    // Names on the station are masked.
    let name = rv["room"]["serving"][0]["name"].as_str().unwrap();
    assert!(name.contains('*'), "{name}");

    // The room's screen, by its signed link: the call, and its voice.
    let (st, link) = guide
        .post(&format!("/api/queue/rooms/{r0}/screen-link"), json!({}))
        .await;
    assert_eq!(st, 200, "{link}");
    let token = link["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/screen/")
        .to_string();
    let page = h
        .http
        .get(format!("{}/screen/{token}", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let s: Value = h
        .http
        .get(format!("{}/api/screen/{token}", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&s["serving"]), vec![who]);
    assert_eq!(s["serving"][0]["exam_no"], "", "no exam numbers on a TV");
    let call = s["announcements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["call"] == true && a["person"] == who)
        .unwrap()
        .clone();
    let text = call["text"].as_str().unwrap();
    assert!(
        text.starts_with("请 ") && text.ends_with(" 检查") && text.contains('*'),
        "{text}"
    );
    let wav = h
        .http
        .get(format!(
            "{}/api/screen/{token}/voice/{}.wav",
            h.url, call["seq"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    assert_eq!(wav.headers()["content-type"], "audio/wav");
    let bytes = wav.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");

    // Recall repeats the call; a no-show goes back into the queue.
    let (st, _) = doctor
        .post(&format!("/api/queue/visits/{who}/recall"), json!({}))
        .await;
    assert_eq!(st, 200);
    let (st, ns) = doctor
        .post(&format!("/api/queue/visits/{who}/no-show"), json!({}))
        .await;
    assert_eq!(st, 200, "{ns}");
    assert_eq!(ns["decisions"][0]["decision"], "queued");
    // Called by name this time, then finished: routed on, and the screen
    // tells them where next.
    let (st, _) = doctor
        .post(&format!("/api/queue/rooms/{r0}/call/{who}"), json!({}))
        .await;
    assert_eq!(st, 200);
    let (st, fin) = doctor
        .post(&format!("/api/queue/visits/{who}/finish"), json!({}))
        .await;
    assert_eq!(st, 200, "{fin}");
    assert_eq!(fin["decisions"][0]["decision"], "queued", "{fin}");
    let s: Value = h
        .http
        .get(format!("{}/api/screen/{token}", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        s["announcements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["call"] == false
                && a["person"] == who
                && a["text"].as_str().unwrap().contains("请到")),
        "{s}"
    );
    let (_, rv) = doctor.get(&format!("/api/queue/rooms/{r0}")).await;
    assert!(
        rv["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == who && h["state"] == "done"),
        "{rv}"
    );
    assert!(
        rv["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == who && h["state"] == "no_show"),
        "{rv}"
    );

    // The phone page: done and pending rooms, one rating per room.
    let (st, l) = guide
        .post(&format!("/api/queue/visits/{who}/phone-link"), json!({}))
        .await;
    assert_eq!(st, 200);
    let t = l["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/m/")
        .to_string();
    let m: Value = h
        .http
        .get(format!("{}/api/m/{t}", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["person"]["done"][0]["room"], r0.as_str(), "{m}");
    assert_eq!(m["to_rate"], json!([r0]), "{m}");
    assert!(m["person"]["entries"].as_array().unwrap().is_empty());
    let rate = |stars: u8| {
        h.http
            .post(format!("{}/api/m/{t}/rating", h.url))
            .json(&json!({ "room": r0, "stars": stars, "remark": "很耐心" }))
            .send()
    };
    assert_eq!(rate(5).await.unwrap().status(), 200);
    assert_eq!(rate(4).await.unwrap().status(), 409, "once per room");
    // A screen link does not open a phone page, nor a forged one anything.
    for bad in [token.clone(), t.replacen('v', "w", 1), format!("{t}x")] {
        let r = h
            .http
            .get(format!("{}/api/m/{bad}", h.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{bad}");
    }

    // The guide desk: VIP to the head of a queue, 指定科室, evacuation.
    let b = board(&guide).await;
    let crowded = b["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prequeue"] == false && r["waiting"].as_array().unwrap().len() >= 2)
        .cloned();
    if let Some(r) = crowded {
        let code = r["code"].as_str().unwrap();
        let last = *ids(&r["waiting"]).last().unwrap();
        let (st, _) = guide
            .post(
                &format!("/api/queue/visits/{last}/priority"),
                json!({ "level": 2, "vip": true }),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(ids(&room(&board(&guide).await, code)["waiting"])[0], last);
        let waiting = ids(&room(&board(&guide).await, code)["waiting"]);
        let (st, ev) = guide
            .post(&format!("/api/queue/rooms/{code}/evacuate"), json!({}))
            .await;
        assert_eq!(st, 200, "{ev}");
        let b = board(&guide).await;
        assert!(room(&b, code)["waiting"].as_array().unwrap().is_empty());
        // Each evacuated person waits in another room (or for their
        // ultrasound number, fasting rooms first) or is flagged.
        for p in waiting {
            let elsewhere = b["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["code"] != code)
                .any(|r| ids(&r["waiting"]).contains(&p))
                || ids(&b["unroutable"]).contains(&p);
            assert!(elsewhere, "{p} lost by the evacuation: {b}");
        }
    }
    // Locked: nobody new is routed there.
    let (st, _) = guide
        .post("/api/queue/rooms/us1/state", json!({ "state": "locked" }))
        .await;
    assert_eq!(st, 200);
    assert_eq!(room(&board(&guide).await, "us1")["state"], "locked");
    // 改日检: out of today's queue.
    let gone = visits[3];
    let (st, _) = guide
        .post(&format!("/api/queue/visits/{gone}/leave"), json!({}))
        .await;
    assert_eq!(st, 200);
    let (_, v) = guide.get(&format!("/api/queue/visits/{gone}")).await;
    assert_eq!(v["at"]["at"], "left", "{v}");
    assert!(v["places"].as_array().unwrap().is_empty());

    // The log replays into the same queues (settings saved: the engine is
    // rebuilt from the store).
    let before = board(&guide).await;
    let admin = h.staff("q-admin", "admin").await;
    let (st, s) = admin.get("/api/queue/settings").await;
    assert_eq!(st, 200, "{s}");
    let (st, s2) = admin.post("/api/queue/settings", s.clone()).await;
    assert_eq!(st, 200, "{s2}");
    let after = board(&guide).await;
    let queues = |b: &Value| {
        b["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["code"].clone(),
                    ids(&r["waiting"]),
                    ids(&r["serving"]),
                    r["state"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(queues(&before), queues(&after));

    // Who may do what.
    let (st, _) = doctor
        .post(
            &format!("/api/queue/visits/{a}/send"),
            json!({ "room": "us1" }),
        )
        .await;
    assert_eq!(st, 403, "a doctor does not move people between rooms");
    let (st, _) = guide
        .post(&format!("/api/queue/rooms/{r0}/call-next"), json!({}))
        .await;
    assert_eq!(st, 403, "the guide desk does not call into rooms");
    let (st, _) = guide.post("/api/queue/settings", s).await;
    assert_eq!(st, 403);
    let (st, bad) = guide
        .post(
            &format!("/api/queue/visits/{a}/priority"),
            json!({ "level": 0, "vip": false }),
        )
        .await;
    assert_eq!(st, 422, "{bad}");
    h.stop().await;
}

/// Q1 and Q6 at the kiosk: the lookup's guide sheet names where the queue
/// sends the person first and carries the phone page's link (its QR) under
/// the centre's public address; the desk's printed sheet has the same QR.
async fn a_kiosk_lookup_gives_the_first_station_and_the_phone_link(backend: Backend) {
    let h = Harness::start_with(backend, |c| {
        c.public_url = Some("https://tj.example.cn".into());
    })
    .await;
    let kiosk = h.kiosk("K-Q").await;
    // The demo bookings with their packages' items (what the queue routes by).
    h.db()
        .demo_items(&exam_domain::catalogue::seed::catalogue())
        .await
        .unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let rec = h
        .db()
        .changes_since("main", 0, 100)
        .await
        .unwrap()
        .records
        .into_iter()
        .find(|r| {
            r.booking.state == exam_domain::BookingState::Booked && r.booking.exam_date == today
        })
        .expect("a demo booking for today");
    let body = serde_json::to_vec(&exam_protocol::LookupRequest {
        query: exam_domain::IdentityQuery::IdNumberAndMobile {
            id_number: rec.person.id_number.clone(),
            mobile: rec.person.mobile.clone(),
        },
    })
    .unwrap();
    let (st, found) = h
        .signed(&kiosk, "POST", exam_protocol::paths::LOOKUP, &body, None)
        .await;
    assert_eq!(st, 200, "{found}");
    let guide = &found["records"][0]["documents"]["guide"];
    assert!(guide["first"]["room"].is_string(), "{guide}");
    let link = guide["phone"].as_str().unwrap();
    let path = link
        .strip_prefix("https://tj.example.cn")
        .expect("under the public address");
    assert!(path.starts_with("/m/"), "{link}");
    // The link opens this person's phone page (no sign-in).
    let page = h.http.get(format!("{}{path}", h.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // The desk's printed sheet: the same QR, as an image of its own.
    let desk = h.staff("q-desk2", "front_desk").await;
    let html = desk
        .http
        .get(format!("{}/desk/visits/{}/print", desk.url, rec.booking.id))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let qr = format!("/desk/visits/{}/phone-qr.png", rec.booking.id);
    assert!(html.contains(&qr), "{html}");
    let png = desk
        .http
        .get(format!("{}{qr}", desk.url))
        .header("cookie", &desk.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
}
