//! E14, 多院区 with central control: an administrator binds staff accounts
//! to one campus. A bound desk sees and serves its campus's visits only
//! (another's refused at the route gate, audited), books at its campus,
//! finds only its campus's people; a bound guide's queue pages are its
//! campus's and another campus's queue or visit is refused; bound finance sees its
//! campus's figures only, over a day or a period. Unbound accounts keep
//! every campus, and unbinding takes effect at the next request. Both
//! stores.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Harness, Staff, id_number};
use exam_protocol::auth::KioskKey;
use exam_protocol::{CheckIn, Event, EventBody, paths};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_stores!(a_campus_account_serves_its_campus_only);

async fn walk_in(desk: &Staff, campus: Option<&str>, seq: u16) -> (u16, Value) {
    let mut body = json!({ "person": { "id_number": id_number(1975, seq), "name": "院区甲", "mobile": "" },
                           "marital": "married", "package": "P-EMP", "walk_in": true });
    if let Some(c) = campus {
        body["campus"] = json!(c);
    }
    desk.post("/api/desk/visits", body).await
}

/// A kiosk checks `code`'s person in (a check-in of a visit the desk has
/// registered is recorded as a repeat: still a row of the page).
async fn kiosk_check_in(
    h: &Harness,
    key: &KioskKey,
    id: i64,
    code: &str,
    id_number: &exam_domain::IdNumber,
) {
    let body = EventBody::CheckIn(CheckIn {
        booking_id: id,
        booking_code: code.into(),
        id_number: id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now() - Duration::seconds(5),
        offline: false,
        privacy: None,
    });
    let events = vec![Event::new(Uuid::now_v7(), 1, Utc::now(), &body)];
    let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
    let (st, r) = h.signed(key, "POST", paths::EVENTS, &body, None).await;
    assert_eq!(st, 200, "{r}");
}

async fn bind(admin: &Staff, who: &str, campus: Value) {
    let (st, r) = admin
        .post(
            &format!("/api/admin/accounts/{who}/campus"),
            json!({ "campus": campus }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
}

fn campuses(f: &Value) -> Vec<&str> {
    f["campuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campus"].as_str().unwrap())
        .collect()
}

async fn page(h: &Harness, who: &Staff, path: &str) -> (u16, String) {
    let r = h
        .http
        .get(format!("{}{path}", h.url))
        .header("cookie", &who.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn a_campus_account_serves_its_campus_only(h: &Harness) {
    let admin = h.staff("camp-admin", "admin").await;
    let central = h.staff("camp-central", "front_desk").await;
    let east = h.staff("camp-east", "front_desk").await;
    let guide = h.staff("camp-guide", "guide").await;
    let money = h.staff("camp-money", "finance").await;
    let group_money = h.staff("camp-group-money", "finance").await;

    // The administrator binds them; a campus the catalogue lacks and an
    // unknown account are refused.
    for who in ["camp-east", "camp-guide", "camp-money"] {
        bind(&admin, who, json!("east")).await;
    }
    let (st, r) = admin
        .post(
            "/api/admin/accounts/camp-east/campus",
            json!({ "campus": "mars" }),
        )
        .await;
    assert_eq!((st, r["error"].as_str()), (422, Some("campus")), "{r}");
    let (st, _) = admin
        .post(
            "/api/admin/accounts/nobody/campus",
            json!({ "campus": "east" }),
        )
        .await;
    assert_eq!(st, 422);
    let (_, listed) = admin.get("/api/admin/accounts").await;
    let row = |name: &str| {
        listed["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("camp-east")["campus"], "east");
    assert_eq!(row("camp-central")["campus"], Value::Null);
    // A new account bound at its creation.
    let (st, r) = admin
        .post(
            "/api/admin/accounts",
            json!({ "username": "camp-new", "role": "front_desk", "campus": "east" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let audit = h
        .sql_text(
            "SELECT detail FROM audit_log WHERE action = 'user.create' AND subject = 'camp-new'",
        )
        .await;
    assert_eq!(audit.as_deref(), Some("front_desk campus=east"));

    // The central desk books at both campuses.
    let (st, main_v) = walk_in(&central, Some("main"), 11).await;
    assert_eq!(st, 200, "{main_v}");
    let main_id = main_v["visit"]["id"].as_i64().unwrap();
    let (_, east_v) = walk_in(&central, Some("east"), 13).await;
    let east_id = east_v["visit"]["id"].as_i64().unwrap();
    assert_eq!(
        central.get(&format!("/api/desk/visits/{main_id}")).await.0,
        200
    );

    // The east desk: its campus's visit, not the main campus's, whatever
    // the route; refusals are audited as access denied.
    let denied_before = h
        .sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' AND actor = 'camp-east'")
        .await;
    assert_eq!(denied_before.as_deref(), Some("0"));
    let (st, v) = east.get(&format!("/api/desk/visits/{east_id}")).await;
    assert_eq!(st, 200, "{v}");
    let (st, r) = east.get(&format!("/api/desk/visits/{main_id}")).await;
    assert_eq!(
        (st, r["error"].as_str()),
        (403, Some("other_campus")),
        "{r}"
    );
    assert!(r["message"].as_str().unwrap().contains("东区分院"), "{r}");
    let (st, _) = east
        .post(
            &format!("/api/desk/visits/{main_id}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert_eq!(st, 403);
    let (st, _) = east
        .post(
            &format!("/api/desk/visits/{main_id}/cancel"),
            json!({ "reason": "试图取消别院区的体检" }),
        )
        .await;
    assert_eq!(st, 403);
    let denied = h
        .sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' AND actor = 'camp-east'")
        .await;
    assert_eq!(denied.as_deref(), Some("3"));
    // The visit the east desk could not cancel is still booked.
    let (_, still) = central.get(&format!("/api/desk/visits/{main_id}")).await;
    assert_eq!(still["state"], "checked_in", "{still}");

    // It books at its campus: by default, by name; another campus refused.
    let (st, mine) = walk_in(&east, None, 15).await;
    assert_eq!(st, 200, "{mine}");
    let (_, v) = east
        .get(&format!("/api/desk/visits/{}", mine["visit"]["id"]))
        .await;
    assert_eq!(v["campus"], "east", "{v}");
    let (st, r) = walk_in(&east, Some("main"), 17).await;
    assert_eq!(
        (st, r["error"].as_str()),
        (403, Some("other_campus")),
        "{r}"
    );
    let (st, slots) = east.get("/api/desk/slots?date=2030-01-07").await;
    assert_eq!(
        (st, slots["campus"].as_str()),
        (200, Some("east")),
        "{slots}"
    );
    assert_eq!(
        east.get("/api/desk/slots?campus=main&date=2030-01-07")
            .await
            .0,
        403
    );

    // The same name at both campuses: the east desk finds its campus's.
    let (_, all) = central.get("/api/desk/search?q=院区甲").await;
    assert_eq!(all["hits"].as_array().unwrap().len(), 3, "{all}");
    let (_, hits) = east.get("/api/desk/search?q=院区甲").await;
    let ids: Vec<i64> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{hits}");
    assert!(!ids.contains(&main_id), "{hits}");
    // Its desk page offers its campus only.
    let (st, html) = page(h, &east, "/desk").await;
    assert_eq!(st, 200);
    assert!(
        html.contains(r#"<option value="east">东区分院</option>"#),
        "campus select"
    );
    assert!(!html.contains(r#"<option value="main">"#), "campus select");
    let (_, html) = page(h, &central, "/desk").await;
    assert!(
        html.contains(r#"<option value="main">"#),
        "the central desk's"
    );

    // The registrations page: a bound desk sees its campus's kiosks and
    // their check-ins; the central desk every one.
    let main_kiosk = h.kiosk_at("K-CAMP-MAIN", "main", "lobby").await;
    let east_kiosk = h.kiosk_at("K-CAMP-EAST", "east", "lobby").await;
    let main_rec = &h.db().changes_since("main", 0, 1).await.unwrap().records[0];
    kiosk_check_in(
        h,
        &main_kiosk,
        main_rec.booking.id,
        &main_rec.booking.code,
        &main_rec.person.id_number,
    )
    .await;
    let east_code = east_v["visit"]["code"].as_str().unwrap();
    let east_person = exam_domain::IdNumber::parse(&id_number(1975, 13)).unwrap();
    kiosk_check_in(h, &east_kiosk, east_id, east_code, &east_person).await;
    let (st, html) = page(h, &east, "/registrations").await;
    assert_eq!(st, 200);
    assert!(
        html.contains("K-CAMP-EAST") && !html.contains("K-CAMP-MAIN"),
        "{html}"
    );
    let (_, html) = page(h, &central, "/registrations").await;
    assert!(html.contains("K-CAMP-EAST") && html.contains("K-CAMP-MAIN"));
    // Its forms act on its campus's kiosks only: moving the main kiosk's
    // waiting documents or handing over what it printed is refused (403,
    // audited), its own kiosk's hand-over goes through.
    let denied = || {
        h.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' AND actor = 'camp-east'")
    };
    let before = denied().await;
    let form = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", east.csrf.clone()));
        h.http
            .post(format!("{}{path}", h.url))
            .header("cookie", &east.cookie)
            .form(&fields)
            .send()
    };
    let job = Uuid::now_v7().to_string();
    let r = form(
        "/kiosks/move-printing",
        vec![("from", "K-CAMP-MAIN".into()), ("to", "K-CAMP-EAST".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = form(
        "/pickups/handed-over",
        vec![("job_id", job.clone()), ("kiosk_id", "K-CAMP-MAIN".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("东区"), "names its campus");
    let after = denied().await;
    let n = |s: Option<String>| s.unwrap().parse::<u32>().unwrap();
    assert_eq!(n(after) - n(before), 2, "both refusals audited");
    assert!(
        h.db().open_moves().await.unwrap().is_empty(),
        "nothing moved"
    );
    let r = form(
        "/pickups/handed-over",
        vec![("job_id", job), ("kiosk_id", "K-CAMP-EAST".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 303, "its own kiosk's");

    // The bound guide: its campus's board by default, the main campus's
    // board and rooms refused; its page is its campus's.
    let (st, b) = guide.get("/api/queue/board").await;
    assert_eq!((st, b["campus"].as_str()), (200, Some("east")), "{b}");
    assert_eq!(guide.get("/api/queue/board?campus=main").await.0, 403);
    // Rooms of both campuses share codes: a room is the request's campus's.
    let (_, main_board) = central_guide(h)
        .await
        .get("/api/queue/board?campus=main")
        .await;
    let room = main_board["rooms"][0]["code"].as_str().unwrap().to_string();
    let (st, r) = guide
        .post(
            &format!("/api/queue/rooms/{room}/evacuate?campus=main"),
            json!({}),
        )
        .await;
    assert_eq!(
        (st, r["error"].as_str()),
        (403, Some("other_campus")),
        "{r}"
    );
    assert_eq!(
        guide
            .post(
                &format!("/api/queue/rooms/{room}/call/{main_id}"),
                json!({})
            )
            .await
            .0,
        403
    );
    assert_eq!(
        guide.get(&format!("/api/queue/visits/{main_id}")).await.0,
        403
    );
    let (_, html) = page(h, &guide, "/guide").await;
    assert!(html.contains(r#"<meta name="campus" content="east">"#));

    // Money at both campuses; the east campus's finance sees its own.
    let paid = |v: &Value| v["visit"]["id"].as_i64().unwrap();
    let (st, r) = central
        .post(
            &format!("/api/desk/visits/{main_id}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (st, r) = east
        .post(
            &format!("/api/desk/visits/{}/pay", paid(&mine)),
            json!({ "method": "card" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let east_fen = r["paid_fen"].as_i64().unwrap();
    let (_, all) = group_money.get("/api/figures").await;
    assert_eq!(campuses(&all), ["east", "main"], "{all}");
    let (st, f) = money.get("/api/figures").await;
    assert_eq!(st, 200, "{f}");
    assert_eq!(campuses(&f), ["east"], "{f}");
    assert_eq!(
        f["total"]["net_fen"], east_fen,
        "the total is its campus's: {f}"
    );
    assert_eq!(f["total"]["arrived"], 2);
    // A week to today holds today's; a period the wrong way round, or one
    // without its end, is refused.
    let today = exam_server::workflow::now_local().date();
    let week_ago = today - chrono::Duration::days(6);
    let (st, week) = money
        .get(&format!("/api/figures?from={week_ago}&to={today}"))
        .await;
    assert_eq!(
        (st, &week["total"]["net_fen"]),
        (200, &json!(east_fen)),
        "{week}"
    );
    assert_eq!(week["last_day"], today.to_string());
    let (st, r) = money
        .get(&format!("/api/figures?from={today}&to={week_ago}"))
        .await;
    assert_eq!((st, r["error"].as_str()), (422, Some("period")), "{r}");
    assert_eq!(
        money.get(&format!("/api/figures?from={today}")).await.0,
        422
    );
    let (st, html) = page(h, &money, &format!("/figures?from={week_ago}&to={today}")).await;
    assert_eq!(st, 200);
    assert!(
        html.contains("7 天合计") && html.contains(r#"id="figures-campus">东区分院<"#),
        "{html}"
    );
    assert!(!html.contains(r#"data-campus="main""#));

    // Unbound again: every campus at its next request.
    bind(&admin, "camp-east", Value::Null).await;
    assert_eq!(
        east.get(&format!("/api/desk/visits/{main_id}")).await.0,
        200
    );
    let changes = h
        .sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'user.campus' AND subject = 'camp-east'")
        .await;
    assert_eq!(changes.as_deref(), Some("2"), "bound, then unbound");
}

/// An unbound guide (every campus).
async fn central_guide(h: &Harness) -> Staff {
    h.staff("camp-guide-all", "guide").await
}
