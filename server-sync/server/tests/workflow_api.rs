//! The exam workflow API (E1–E4, K17) against a real server, on SQLite and
//! on PostgreSQL: registration rules, exam numbers, slot capacity under
//! concurrent bookings, rebooking, cancelling, no-shows, item changes,
//! search, roles and CSRF.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff, id_number};
use serde_json::{Value, json};

on_both_stores!(
    walk_in_registration_cuts_the_package_to_the_person,
    conflicting_and_unsuitable_items_are_refused_with_why,
    a_slot_is_never_overbooked_under_concurrent_bookings,
    rebook_cancel_and_no_shows_give_the_place_back,
    item_changes_refund_waive_make_up_and_deferred,
    search_finds_people_every_way_the_desk_types,
    roles_sign_in_and_csrf_are_enforced,
    administration_accounts_prices_and_the_log,
);

fn tomorrow() -> String {
    (exam_server::workflow::now_local().date() + chrono::Duration::days(1)).to_string()
}

async fn walk_in(
    s: &Staff,
    id: &str,
    name: &str,
    marital: &str,
    package: Value,
    add: Value,
) -> (u16, Value) {
    s.post(
        "/api/desk/visits",
        json!({ "person": { "id_number": id, "name": name, "mobile": "13912345678" },
                "marital": marital, "package": package, "add": add, "walk_in": true }),
    )
    .await
}

async fn book(s: &Staff, id: &str, name: &str, slot: &str) -> (u16, Value) {
    s.post(
        "/api/desk/visits",
        json!({ "person": { "id_number": id, "name": name, "mobile": "" }, "marital": "married",
                "package": "P-EMP", "date": tomorrow(), "slot_start": slot }),
    )
    .await
}

async fn walk_in_registration_cuts_the_package_to_the_person(h: &Harness) {
    let s = h.staff("desk1", "front_desk").await;
    let woman = id_number(1996, 22);
    let (st, r) = walk_in(
        &s,
        &woman,
        "林晓雨",
        "unmarried",
        json!("P-F-BASIC-M"),
        json!(["L-HCY"]),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    let exam_no = r["visit"]["exam_no"].as_str().unwrap();
    assert!(!exam_no.contains('4'), "{exam_no}");
    assert_eq!(
        exam_no.len(),
        9,
        "date rule: 5-digit day part + 4-digit serial: {exam_no}"
    );
    let excluded: Vec<&str> = r["plan"]["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        excluded.contains(&"L-TCT")
            && excluded.contains(&"US-VAG")
            && excluded.contains(&"GYN-EXAM"),
        "{excluded:?}"
    );
    let vag = r["plan"]["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "US-VAG")
        .unwrap();
    assert_eq!(vag["replaced_by"], "US-ABDGYN");
    assert!(vag["reason"].as_str().unwrap().contains("未婚"), "{vag}");

    let id = r["visit"]["id"].as_i64().unwrap();
    let (_, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    assert_eq!(v["state"], "checked_in");
    assert_eq!(v["person"]["id_number"].as_str().unwrap().len(), 18);
    assert!(
        v["person"]["id_number"].as_str().unwrap().contains('*'),
        "masked: {}",
        v["person"]["id_number"]
    );
    let codes: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"US-ABDGYN") && codes.contains(&"L-HCY") && !codes.contains(&"L-TCT"),
        "{codes:?}"
    );
    assert_eq!(v["amount_due_fen"], r["plan"]["total_fen"]);
    // Documents as data: fasting stations first, one label per tube.
    let stations = v["documents"]["guide"]["stations"].as_array().unwrap();
    assert_eq!(stations[0]["fasting"], true, "{stations:?}");
    let labels = v["documents"]["labels"].as_array().unwrap();
    assert!(
        labels
            .iter()
            .all(|l| l["barcode"].as_str().unwrap().starts_with(exam_no))
    );
    assert!(
        labels.len() >= 2,
        "serum and whole blood at least: {labels:?}"
    );

    // The desk prints the same documents: guide sheet with the room order, fee list, labels.
    let page = s
        .http
        .get(format!("{}/desk/visits/{id}/print", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(exam_no) && html.contains("<svg") && html.contains("【空腹】"),
        "{html}"
    );
    assert_eq!(html.matches("class=\"label\"").count(), labels.len());
    assert!(!html.contains(&woman), "ID number masked on paper too");

    // Numbers are serial within the day and never repeat.
    let (_, r2) = walk_in(
        &s,
        &id_number(1980, 11),
        "王建国",
        "married",
        json!("P-M-BASIC"),
        json!([]),
    )
    .await;
    let n2 = r2["visit"]["exam_no"].as_str().unwrap();
    assert_eq!(&n2[..5], &exam_no[..5], "same day part");
    assert!(n2 > exam_no);

    // Tomorrow's booking copies the last exam: the same package and single items.
    let (st, r3) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": woman, "name": "林晓雨", "mobile": "13912345678" }, "marital": "unmarried",
                    "copy_last": true, "date": tomorrow(), "slot_start": "08:00:00" }),
        )
        .await;
    assert_eq!(st, 200, "{r3}");
    let (_, v3) = s
        .get(&format!("/api/desk/visits/{}", r3["visit"]["id"]))
        .await;
    assert_eq!(v3["package_code"], "P-F-BASIC-M");
    assert!(
        v3["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "L-HCY")
    );
    assert_eq!(
        v3["history"].as_array().unwrap().len(),
        1,
        "earlier exam one click away"
    );
    assert_eq!(v3["state"], "booked");
    // A second visit the same day is refused: rebook instead.
    let (st, e) = walk_in(&s, &woman, "林晓雨", "unmarried", json!("P-EMP"), json!([])).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (409, Some("already_booked")),
        "{e}"
    );

    // The log says who did it, searchable by ID number.
    let (_, ops) = s
        .get(&format!("/api/desk/operations?subject={woman}"))
        .await;
    let ops = ops["operations"].as_array().unwrap();
    // The changes (each read of the visit is in the log too, as read.visit).
    let actions: Vec<&str> = ops
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .filter(|a| !a.starts_with("read."))
        .collect();
    assert_eq!(
        actions,
        ["visit.book", "visit.print", "visit.register"],
        "{ops:?}"
    );
    assert!(ops.iter().all(|o| o["actor"] == "desk1"));
}

async fn conflicting_and_unsuitable_items_are_refused_with_why(h: &Harness) {
    let s = h.staff("desk2", "front_desk").await;
    let man = id_number(1975, 33);
    let (st, e) = walk_in(
        &s,
        &man,
        "赵刚",
        "married",
        json!(null),
        json!(["L-C13", "L-C14"]),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (422, Some("conflict")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("不能同时"), "{e}");
    let (st, e) = walk_in(&s, &man, "赵刚", "married", json!(null), json!(["L-TCT"])).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (422, Some("not_for_person")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("女性"), "{e}");
    let (st, e) = s
        .post(
            "/api/desk/plan",
            json!({ "id_number": man, "marital": "married", "package": "P-NOPE" }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    // Nothing was stored by the refusals.
    let (_, hits) = s.get(&format!("/api/desk/search?q={man}")).await;
    assert_eq!(hits["hits"].as_array().unwrap().len(), 0);
    // Adding a conflicting item to an existing visit is refused too.
    let (_, r) = walk_in(&s, &man, "赵刚", "married", json!(null), json!(["L-C13"])).await;
    let id = r["visit"]["id"].as_i64().unwrap();
    let (st, e) = s
        .post(
            &format!("/api/desk/visits/{id}/items"),
            json!({ "add": ["L-C14"] }),
        )
        .await;
    assert_eq!((st, e["error"].as_str()), (422, Some("conflict")), "{e}");
    // Bad input: a forged ID number, a name with digits.
    let (st, e) = walk_in(
        &s,
        "321002199603150021",
        "赵刚",
        "married",
        json!("P-EMP"),
        json!([]),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (422, Some("id_number")), "{e}");
    let (st, _) = walk_in(
        &s,
        &id_number(1990, 1),
        "赵2",
        "married",
        json!("P-EMP"),
        json!([]),
    )
    .await;
    assert_eq!(st, 422);
}

async fn a_slot_is_never_overbooked_under_concurrent_bookings(h: &Harness) {
    let s = std::sync::Arc::new(h.staff("desk3", "front_desk").await);
    let tasks: Vec<_> = (0..60u16)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                book(
                    &s,
                    &id_number(1970 + i32::from(i % 30), 100 + i * 2 + 1),
                    "孙立",
                    "09:00:00",
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        let (st, r) = t.await.unwrap();
        match st {
            200 => ok += 1,
            409 if r["error"] == "slot_full" => full += 1,
            other => panic!("{other} {r}"),
        }
    }
    assert_eq!((ok, full), (40, 20), "capacity 40");
    let (_, slots) = s.get(&format!("/api/desk/slots?date={}", tomorrow())).await;
    let nine = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["start"] == "09:00:00")
        .unwrap()
        .clone();
    assert_eq!(
        (nine["booked"].as_i64(), nine["capacity"].as_i64()),
        (Some(40), Some(40))
    );
}

async fn rebook_cancel_and_no_shows_give_the_place_back(h: &Harness) {
    let s = h.staff("desk4", "front_desk").await;
    let booked = |slots: &Value, at: &str| -> i64 {
        slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["start"] == at)
            .unwrap()["booked"]
            .as_i64()
            .unwrap()
    };
    let (st, r) = book(&s, &id_number(1988, 41), "周敏", "08:00:00").await;
    assert_eq!(st, 200, "{r}");
    let id = r["visit"]["id"].as_i64().unwrap();
    let (st, v) = s
        .post(
            &format!("/api/desk/visits/{id}/rebook"),
            json!({ "date": tomorrow(), "slot_start": "09:30:00", "reason": "本人要求" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["slot_start"].as_str(), v["state_reason"].as_str()),
        (Some("09:30"), Some("本人要求"))
    );
    let (_, slots) = s.get(&format!("/api/desk/slots?date={}", tomorrow())).await;
    assert_eq!(
        (booked(&slots, "08:00:00"), booked(&slots, "09:30:00")),
        (0, 1)
    );
    let (st, e) = s
        .post(
            &format!("/api/desk/visits/{id}/rebook"),
            json!({ "date": tomorrow(), "slot_start": "09:31:00", "reason": "x" }),
        )
        .await;
    assert_eq!(st, 422, "no such slot: {e}");
    let (st, e) = s
        .post(
            &format!("/api/desk/visits/{id}/cancel"),
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(st, 422, "a reason is required: {e}");
    let (st, v) = s
        .post(
            &format!("/api/desk/visits/{id}/cancel"),
            json!({ "reason": "临时出差" }),
        )
        .await;
    assert_eq!((st, v["state"].as_str()), (200, Some("cancelled")));
    let (_, slots) = s.get(&format!("/api/desk/slots?date={}", tomorrow())).await;
    assert_eq!(booked(&slots, "09:30:00"), 0);
    let (st, _) = s
        .post(&format!("/api/desk/visits/{id}/register"), json!({}))
        .await;
    assert_eq!(st, 409, "a cancelled visit cannot be registered");

    // A no-show: tomorrow evening the 10:00 booking is released.
    let (_, r) = book(&s, &id_number(1991, 43), "吴磊", "10:00:00").await;
    let id = r["visit"]["id"].as_i64().unwrap();
    let day = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let db = h.db();
    let grace = chrono::Duration::minutes(120);
    db.release_no_shows(day.and_hms_opt(12, 29, 0).unwrap(), grace)
        .await
        .unwrap();
    let (_, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    assert_eq!(v["state"], "booked", "not yet: {v}");
    assert!(
        db.release_no_shows(day.and_hms_opt(12, 30, 0).unwrap(), grace)
            .await
            .unwrap()
            >= 1
    );
    let (_, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    assert_eq!(
        (v["state"].as_str(), v["state_reason"].as_str()),
        (Some("cancelled"), Some("no_show"))
    );
    let (_, slots) = s.get(&format!("/api/desk/slots?date={}", tomorrow())).await;
    assert_eq!(booked(&slots, "10:00:00"), 0);
}

async fn item_changes_refund_waive_make_up_and_deferred(h: &Harness) {
    let s = h.staff("desk5", "front_desk").await;
    let (_, r) = walk_in(
        &s,
        &id_number(1969, 55),
        "郑海",
        "married",
        json!("P-M-BASIC"),
        json!(["L-HCY"]),
    )
    .await;
    let id = r["visit"]["id"].as_i64().unwrap();
    let item = |code: &str| format!("/api/desk/visits/{id}/items/{code}");
    // Unpaid: removing is fine, refunding is not.
    let (st, e) = s.post(&item("L-HCY"), json!({ "change": "refund" })).await;
    assert_eq!(st, 422, "{e}");
    let (st, v) = s.post(&item("L-HCY"), json!({ "change": "remove" })).await;
    assert_eq!(st, 200, "{v}");
    let due = v["amount_due_fen"].as_i64().unwrap();
    let (st, v) = s
        .post(
            &format!("/api/desk/visits/{id}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert_eq!(
        (st, v["paid_fen"].as_i64(), v["amount_due_fen"].as_i64()),
        (200, Some(due), Some(0))
    );
    // Paid: removing is refused, refunding returns the item's price.
    let (st, _) = s.post(&item("L-CBC"), json!({ "change": "remove" })).await;
    assert_eq!(st, 422);
    let price = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "L-CBC")
        .unwrap()["price_fen"]
        .clone();
    let (_, v) = s.post(&item("L-CBC"), json!({ "change": "refund" })).await;
    assert_eq!(v["refund_fen"], price);
    // A waiver needs a real PNG signature, kept and retrievable.
    let (st, e) = s.post(&item("ECG-12"), json!({ "change": "waive" })).await;
    assert_eq!(st, 422, "{e}");
    let (st, e) = s
        .post(
            &item("ECG-12"),
            json!({ "change": "waive", "signature_png": "R0lGODlh" }),
        )
        .await;
    assert_eq!(st, 422, "a GIF is not a PNG: {e}");
    let png = tiny_png();
    use base64::Engine;
    let b64 = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let (st, v) = s
        .post(
            &item("ECG-12"),
            json!({ "change": "waive", "signature_png": b64 }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let r = s
        .http
        .get(format!("{}{}", s.url, item("ECG-12") + "/signature"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    // Make-up blocks the summary; deferred does not; restore lifts the block.
    let (_, v) = s
        .post(&item("RAD-DR-CHEST"), json!({ "change": "deferred" }))
        .await;
    assert_eq!(v["summary_blocked"], false);
    let (_, v) = s
        .post(&item("US-ABD"), json!({ "change": "make_up" }))
        .await;
    assert_eq!(v["summary_blocked"], true);
    let (_, v) = s
        .post(&item("US-ABD"), json!({ "change": "restore" }))
        .await;
    assert_eq!(v["summary_blocked"], false);
    let (st, _) = s
        .post(&item("ECG-12"), json!({ "change": "restore" }))
        .await;
    assert_eq!(st, 422, "a waiver is final");
    let (_, ops) = s.get("/api/desk/operations?actor=desk5").await;
    let actions: Vec<&str> = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    for a in [
        "visit.register",
        "item.remove",
        "visit.pay",
        "item.refund",
        "item.waive",
        // High-risk data: each view of the signature is audited.
        "signature.view",
        "item.defer",
        "item.make_up",
        "item.restore",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

fn tiny_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 2, 2);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()
            .unwrap()
            .write_image_data(&[0, 255, 255, 0])
            .unwrap();
    }
    out
}

async fn search_finds_people_every_way_the_desk_types(h: &Harness) {
    let s = h.staff("desk6", "front_desk").await;
    let id = id_number(1985, 67);
    let (_, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": "欧阳明月", "mobile": "13700001111" }, "marital": "married",
                    "package": "P-EMP", "walk_in": true }),
        )
        .await;
    let exam_no = r["visit"]["exam_no"].as_str().unwrap().to_string();
    for q in [
        id.as_str(),
        "13700001111",
        exam_no.as_str(),
        "oymy",
        "OYM",
        "欧阳",
    ] {
        let (st, hits) = s.get(&format!("/api/desk/search?q={}", urlencode(q))).await;
        assert_eq!(st, 200);
        let hits = hits["hits"].as_array().unwrap();
        assert!(
            hits.iter().any(|x| x["exam_no"] == exam_no.as_str()),
            "{q}: {hits:?}"
        );
        assert!(
            hits.iter()
                .all(|x| x["id_number"].as_str().unwrap().contains('*')),
            "masked"
        );
    }
    let (_, hits) = s.get("/api/desk/search?q=%25").await;
    assert!(
        hits["hits"].as_array().unwrap().is_empty(),
        "a bare % matches nothing literal"
    );
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

async fn roles_sign_in_and_csrf_are_enforced(h: &Harness) {
    let (st, e) = {
        let r = h
            .http
            .get(format!("{}/api/desk/search?q=x", h.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!((st, e["error"].as_str()), (401, Some("signed_out")));
    let desk = h.staff("desk7", "front_desk").await;
    let (st, e) = desk
        .post("/api/group/companies", json!({ "name": "某公司" }))
        .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("not_allowed")),
        "the front desk is not the group desk"
    );
    let mut forged = Staff {
        csrf: "0".repeat(48),
        ..desk
    };
    let (st, e) = forged.post("/api/desk/visits", json!({})).await;
    assert_eq!((st, e["error"].as_str()), (403, Some("csrf")), "{e}");
    forged.csrf.clear();
    let (st, _) = forged
        .post("/api/desk/visits/1/cancel", json!({ "reason": "x" }))
        .await;
    assert_eq!(st, 403);
    let group = h.staff("group1", "group_desk").await;
    let (st, _) = group
        .post("/api/group/companies", json!({ "name": "某公司" }))
        .await;
    assert_eq!(st, 200);
}

async fn administration_accounts_prices_and_the_log(h: &Harness) {
    let admin = h.staff("chief", "admin").await;
    let desk = h.staff("desk8", "front_desk").await;
    let (st, e) = desk.get("/api/admin/accounts").await;
    assert_eq!((st, e["error"].as_str()), (403, Some("not_allowed")));
    let (st, r) = admin
        .post(
            "/api/admin/accounts",
            json!({ "username": "nurse1", "role": "group_desk" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert!(r["one_time_password"].as_str().unwrap().len() >= 10);
    let (_, list) = admin.get("/api/admin/accounts").await;
    let nurse = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "nurse1")
        .unwrap()
        .clone();
    assert_eq!(
        (nurse["role"].as_str(), nurse["must_change"].as_bool()),
        (Some("group_desk"), Some(true))
    );
    let (st, _) = admin
        .post(
            "/api/admin/accounts",
            json!({ "username": "nurse1", "role": "group_desk" }),
        )
        .await;
    assert_eq!(st, 422, "no second account of one name");
    let (st, _) = admin
        .post(
            "/api/admin/accounts",
            json!({ "username": "x", "role": "root" }),
        )
        .await;
    assert_eq!(st, 422);
    // A new list price applies to items added from now on.
    let (st, _) = admin
        .post("/api/admin/items/L-HCY/price", json!({ "price_fen": 4321 }))
        .await;
    assert_eq!(st, 200);
    let (_, p) = desk
        .post(
            "/api/desk/plan",
            json!({ "id_number": id_number(1977, 71), "marital": "married", "add": ["L-HCY"] }),
        )
        .await;
    assert_eq!(p["total_fen"], 4321);
    let (st, _) = admin
        .post("/api/admin/items/NOPE/price", json!({ "price_fen": 1 }))
        .await;
    assert_eq!(st, 422);
    // The log: a registration by the desk, found by operator and by ID number, masked on the way out.
    let id = id_number(1977, 71);
    let (_, r) = walk_in(&desk, &id, "冯涛", "married", json!("P-EMP"), json!([])).await;
    assert!(r["visit"]["exam_no"].is_string(), "{r}");
    // The log is the auditor's (三权分立): not the administrator's.
    let auditor = h.staff("auditor1", "auditor").await;
    let (st, e) = admin.get("/api/audit/operations?actor=desk8").await;
    assert_eq!((st, e["error"].as_str()), (403, Some("not_allowed")), "{e}");
    let (st, _) = auditor.get("/api/admin/accounts").await;
    assert_eq!(st, 403, "the auditor manages no accounts");
    let (_, ops) = auditor
        .get(&format!("/api/audit/operations?subject={id}&actor=desk8"))
        .await;
    let ops = ops["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["action"], "visit.register");
    // Found by the full number, shown without it (masked in the detail).
    let line = ops[0].to_string();
    assert!(!line.contains(&id), "{line}");
    assert!(line.contains(&exam_domain::mask::id_number(&id)), "{line}");
    let (_, ops) = auditor.get("/api/audit/operations?actor=chief").await;
    let actions: Vec<&str> = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"user.create") && actions.contains(&"catalogue.item_price"),
        "{actions:?}"
    );
    packages_are_edited_and_added_within_the_rules(&admin, &desk, &auditor).await;
    let (_, ops) = auditor
        .get("/api/audit/operations?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")
        .await;
    assert!(ops["operations"].as_array().unwrap().is_empty());
}

/// E12: a package edited and a new one added take effect at once for
/// registration; an edit registration would refuse is refused with why.
async fn packages_are_edited_and_added_within_the_rules(
    admin: &Staff,
    desk: &Staff,
    auditor: &Staff,
) {
    let body = |items: &[&str], sex: &str| {
        json!({ "name": "入职体检加强套餐", "sex": sex, "price_fen": 29900,
                "exam_type": "employment", "items": items })
    };
    let (st, e) = desk
        .post("/api/admin/packages/P-EMP", body(&["L-CBC"], "both"))
        .await;
    assert_eq!(st, 403, "{e}");
    let (st, e) = admin
        .post(
            "/api/admin/packages/P-EMP",
            body(&["L-C13", "L-C14", "L-CBC"], "both"),
        )
        .await;
    assert_eq!(st, 422);
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("碳13") && msg.contains("碳14"), "{msg}");
    let (st, e) = admin
        .post("/api/admin/packages/P-EMP", body(&["US-BREAST"], "male"))
        .await;
    assert_eq!(st, 422, "{e}");
    let (st, r) = admin
        .post(
            "/api/admin/packages/P-EMP",
            body(&["GEN-BASIC", "L-CBC", "US-THY"], "both"),
        )
        .await;
    assert_eq!((st, r["created"].as_bool()), (200, Some(false)), "{r}");
    let (st, r) = admin
        .post(
            "/api/admin/packages/P-NEW-1",
            body(&["GEN-BASIC", "ECG-12"], "both"),
        )
        .await;
    assert_eq!((st, r["created"].as_bool()), (200, Some(true)), "{r}");
    // Registration sees both at once.
    for (code, n) in [("P-EMP", 3), ("P-NEW-1", 2)] {
        let (st, p) = desk
            .post(
                "/api/desk/plan",
                json!({ "id_number": id_number(1980, 31), "marital": "married", "package": code }),
            )
            .await;
        assert_eq!(st, 200, "{p}");
        assert_eq!(p["items"].as_array().unwrap().len(), n, "{p}");
        assert_eq!(p["total_fen"], 29900);
    }
    let (_, ops) = auditor.get("/api/audit/operations?actor=chief").await;
    assert!(
        ops["operations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["action"] == "catalogue.package" && o["subject"] == "P-NEW-1"),
        "logged"
    );
}
