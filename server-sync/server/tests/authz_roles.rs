//! What each role and each kiosk may see, beyond the route-by-route matrix
//! (`authz_matrix.rs`): the group desk serves group members only (no
//! patient search, no history, no refunds), the desk's log is the caller's
//! own work of today with ID numbers masked, the auditor reads the trail
//! and nothing else, and a kiosk of another campus learns nothing of a
//! booking while the attempt is audited. On SQLite and PostgreSQL.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Harness, Staff, id_number};
use exam_protocol::auth::KioskKey;
use exam_protocol::{Event, EventBody, paths};
use serde_json::{Value, json};

on_both_stores!(
    the_group_desk_serves_group_members_only,
    the_desk_log_is_the_callers_own_work_of_today_masked,
    a_kiosk_of_another_campus_learns_nothing_and_is_audited,
);

/// The demo company, booked for tomorrow: (company, a member's booking id,
/// that member's full ID number and name).
async fn booked_company(h: &Harness, admin: &Staff) -> (i64, i64, String, String) {
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .unwrap();
    let tomorrow = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let (st, b) = admin
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let member = h
        .db()
        .members(company)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.booking_id.is_some())
        .unwrap();
    (
        company,
        member.booking_id.unwrap(),
        member.person.id_number.as_str().to_string(),
        member.person.name.clone(),
    )
}

async fn auditor_sees(h: &Harness, name: &str, query: &str) -> Vec<Value> {
    let auditor = h.staff(name, "auditor").await;
    let (st, log) = auditor.get(&format!("/api/audit/operations?{query}")).await;
    assert_eq!(st, 200, "{log}");
    log["operations"].as_array().unwrap().clone()
}

async fn the_group_desk_serves_group_members_only(h: &Harness) {
    let admin = h.staff("roles-admin", "admin").await;
    let front = h.staff("roles-front", "front_desk").await;
    let group = h.staff("roles-group", "group_desk").await;
    let (_, grp, member_id, member_name) = booked_company(h, &admin).await;
    // The member also came once on their own (a walk-in today): their history.
    let (st, r) = front
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": member_id, "name": member_name },
                    "marital": "married", "walk_in": true, "package": "P-EMP" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let own = r["visit"]["id"].as_i64().unwrap();
    let ind = h.db().changes_since("main", 0, 1).await.unwrap().records[0]
        .booking
        .id;

    // Search: every patient for the front desk, group members for the group desk.
    let q = format!("?q={member_id}");
    assert_eq!(group.get(&format!("/api/desk/search{q}")).await.0, 403);
    let (st, hits) = group.get(&format!("/api/group/members/search{q}")).await;
    assert_eq!(st, 200, "{hits}");
    let ids: Vec<i64> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [grp], "the member's group visit, not their walk-in");
    let (_, hits) = front.get(&format!("/api/desk/search{q}")).await;
    assert_eq!(hits["hits"].as_array().unwrap().len(), 2, "{hits}");
    assert!(
        hits.to_string().find(&member_id).is_none(),
        "masked in the answer"
    );

    // A member's visit: opened, without history; anyone else's: refused.
    let (st, v) = group.get(&format!("/api/desk/visits/{grp}")).await;
    assert_eq!((st, v["kind"].as_str()), (200, Some("group")), "{v}");
    assert_eq!(
        v["history"],
        json!([]),
        "no earlier visits for the group desk"
    );
    let (_, v) = front.get(&format!("/api/desk/visits/{grp}")).await;
    assert!(
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == own),
        "the front desk sees them: {v}"
    );
    for path in [
        format!("/api/desk/visits/{ind}"),
        format!("/api/desk/visits/{own}"),
    ] {
        let (st, e) = group.get(&path).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (403, Some("not_allowed")),
            "{path}"
        );
    }

    // Registering and changing a member's items; no refund, no money, no signature.
    let (st, v) = group
        .post(&format!("/api/desk/visits/{grp}/register"), json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let code = v["items"][0]["code"].as_str().unwrap().to_string();
    let item = format!("/api/desk/visits/{grp}/items/{code}");
    let (st, e) = group.post(&item, json!({ "change": "refund" })).await;
    assert_eq!((st, e["error"].as_str()), (403, Some("not_allowed")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("退费"), "{e}");
    assert_ne!(
        front.post(&item, json!({ "change": "refund" })).await.0,
        403
    );
    let (st, v) = group.post(&item, json!({ "change": "deferred" })).await;
    assert_eq!(st, 200, "an item deferred by the group desk: {v}");
    let (st, _) = group
        .post(&format!("/api/desk/visits/{ind}/register"), json!({}))
        .await;
    assert_eq!(st, 403);
    for (path, body) in [
        (
            format!("/api/desk/visits/{grp}/pay"),
            json!({ "method": "cash" }),
        ),
        ("/api/desk/visits".to_string(), json!({})),
    ] {
        assert_eq!(group.post(&path, body).await.0, 403, "{path}");
    }
    assert_eq!(
        group
            .get(&format!("/api/desk/visits/{grp}/items/{code}/signature"))
            .await
            .0,
        403
    );

    // Each refusal is a security event the auditor reads; the administrator may not.
    let denied = auditor_sees(h, "roles-auditor", "actor=roles-group").await;
    let n = denied
        .iter()
        .filter(|l| l["action"] == "access.denied")
        .count();
    assert!(n >= 7, "{n} denials audited: {denied:?}");
    assert_eq!(admin.get("/api/audit/operations").await.0, 403);
}

async fn the_desk_log_is_the_callers_own_work_of_today_masked(h: &Harness) {
    let a = h.staff("log-a", "front_desk").await;
    let b = h.staff("log-b", "front_desk").await;
    let id = id_number(1979, 41);
    let (st, r) = a
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": "孙立" },
                    "marital": "married", "walk_in": true, "package": "P-EMP" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    // Whatever it asks for, the other desk gets its own lines only.
    for q in [
        format!("?actor=log-a&subject={id}"),
        "?actor=log-a&from=2000-01-01T00:00:00Z".to_string(),
        String::new(),
    ] {
        let (st, ops) = b.get(&format!("/api/desk/operations{q}")).await;
        assert_eq!(st, 200, "{ops}");
        assert!(
            ops["operations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["actor"] == "log-b"),
            "{q}: {ops}"
        );
    }
    // Its own: found by the full number, shown masked, nowhere in full.
    let (_, ops) = a.get(&format!("/api/desk/operations?subject={id}")).await;
    let lines = ops["operations"].as_array().unwrap();
    assert!(
        lines.iter().any(|o| o["action"] == "visit.register"),
        "{ops}"
    );
    assert!(!ops.to_string().contains(&id), "{ops}");
    let masked = exam_domain::mask::id_number(&id);
    assert!(
        lines
            .iter()
            .any(|o| o["detail"].as_str().unwrap().contains(&masked)),
        "shown masked: {ops}"
    );
}

fn check_in(booking: i64, code: &str, id: &str, seq: i64) -> Value {
    let body = EventBody::CheckIn(
        serde_json::from_value(json!({
            "booking_id": booking, "booking_code": code, "id_number": id,
            "identified_by": "id_card", "checked_in_at": Utc::now(), "offline": false,
        }))
        .unwrap(),
    );
    json!({ "events": [Event::new(uuid::Uuid::now_v7(), seq, Utc::now(), &body)] })
}

async fn post(h: &Harness, key: &KioskKey, path: &str, body: Value) -> (u16, Value) {
    let body = serde_json::to_vec(&body).unwrap();
    h.signed(key, "POST", path, &body, None).await
}

async fn a_kiosk_of_another_campus_learns_nothing_and_is_audited(h: &Harness) {
    let here = h.kiosk("K-MAIN").await;
    let there = h.kiosk_at("K-EAST", "east", "lobby").await;
    let rec = h
        .db()
        .changes_since("main", 0, 1)
        .await
        .unwrap()
        .records
        .remove(0);
    let (b, p) = (&rec.booking, &rec.person);
    let query = serde_json::to_value(exam_protocol::LookupRequest {
        query: exam_domain::IdentityQuery::IdNumberAndMobile {
            id_number: p.id_number.clone(),
            mobile: p.mobile.clone(),
        },
    })
    .unwrap();
    let (st, found) = post(h, &here, paths::LOOKUP, query.clone()).await;
    assert_eq!((st, found["records"].as_array().unwrap().len()), (200, 1));
    let (st, found) = post(h, &there, paths::LOOKUP, query).await;
    assert_eq!((st, found["records"].as_array().unwrap().len()), (200, 0));

    // Cancelling it from the other campus: the answer of a code that does not exist.
    let cancel =
        |code: &str| json!({ "code": code, "id_number": p.id_number.as_str(), "reason": "x" });
    let real = post(h, &there, paths::CANCEL, cancel(&b.code)).await;
    let none = post(h, &there, paths::CANCEL, cancel("BK0000000000")).await;
    assert_eq!(real.0, 404);
    assert_eq!(
        real, none,
        "indistinguishable from a booking that does not exist"
    );

    // A check-in pushed from there is acknowledged and does nothing.
    let (st, r) = post(
        h,
        &there,
        paths::EVENTS,
        check_in(b.id, &b.code, p.id_number.as_str(), 1),
    )
    .await;
    assert_eq!(
        (st, r["acks"][0]["status"].as_str()),
        (200, Some("accepted")),
        "{r}"
    );
    let state = || async { h.db().visit(b.id).await.unwrap().record.booking.state };
    assert_eq!(state().await, exam_domain::BookingState::Booked);
    let (st, _) = post(
        h,
        &here,
        paths::EVENTS,
        check_in(b.id, &b.code, p.id_number.as_str(), 1),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(state().await, exam_domain::BookingState::CheckedIn);

    // Booking there the day of a booking here: refused without naming it.
    let desk = h.staff("scope-desk", "front_desk").await;
    let tomorrow = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let q = id_number(1968, 57);
    let (st, r) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": q, "name": "周敏" }, "marital": "married",
                    "date": tomorrow, "slot_start": "09:00:00", "package": "P-EMP" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let exam_no = r["visit"]["exam_no"].as_str().unwrap().to_string();
    let (st, e) = post(
        h,
        &there,
        paths::BOOK,
        json!({ "id_number": q, "name": "周敏", "mobile": "13700001234", "marital": "married",
                "plan": { "package": "P-EMP", "add": [], "remove": [] },
                "date": tomorrow, "slot_start": "09:00:00" }),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (409, Some("already_booked")),
        "{e}"
    );
    assert!(!e.to_string().contains(&exam_no), "{e}");

    // Counted and audited as security events, without personal data.
    let lines = auditor_sees(h, "scope-auditor", "actor=kiosk:K-EAST").await;
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "kiosk.out_of_scope")
        .collect();
    assert_eq!(refused.len(), 3, "lookup, cancel, check-in: {lines:?}");
    assert!(
        !serde_json::to_string(&refused)
            .unwrap()
            .contains(p.id_number.as_str())
    );
    let metrics = h
        .http
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("exam_kiosk_out_of_scope_total 3"),
        "{metrics}"
    );
}
