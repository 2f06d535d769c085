//! Item prices come from HIS, with a change log (I1), against his-sim (the
//! HIS simulator of `exam-his`, speaking SOAP 1.1 on SQLite and REST on
//! PostgreSQL): the first sync finds HIS and the catalogue agreeing; after
//! HIS publishes version 2 (three prices up, one new HIS code) a sync
//! records and applies the three changes (the desk's next booking pays the
//! new price, a visit booked before keeps its prices), lists the new HIS
//! code as unmapped, and a repeat changes nothing; a version effective
//! later waits in the log until its time; HIS away is a failed run said on
//! the page; every run audited; only an administrator may run it.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Backend, Harness, Staff, id_number};
use exam_his::sim::{Sim, SimConfig};
use exam_his::{PriceItem, PriceList};
use exam_server::db::AuditQuery;
use exam_server::interfaces::Counterpart;
use exam_server::interfaces::settings::AdapterSpec;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_soap() {
    prices_from_his(Backend::Sqlite, "his_soap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rest() {
    prices_from_his(Backend::Postgres, "his_rest").await;
}

/// A walk-in booking the single `items` (no package: each at its list price).
async fn walk_in(s: &Staff, seq: u16, items: &[String]) -> (i64, Value) {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id_number(1968, seq * 2 + 1), "name": "郑国强", "mobile": "13912345679" },
                    "marital": "married", "package": null, "add": items, "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let id = r["visit"]["id"].as_i64().unwrap();
    let (st, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    assert_eq!(st, 200, "{v}");
    (id, v)
}

fn price_of(visit: &Value, code: &str) -> Option<i64> {
    visit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .map(|i| i["price_fen"].as_i64().unwrap())
}

async fn list_price(h: &Harness, code: &str) -> i64 {
    h.db()
        .load_catalogue()
        .await
        .unwrap()
        .item(code)
        .unwrap()
        .price_fen
}

async fn prices_from_his(backend: Backend, adapter: &str) {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let endpoint = if adapter == "his_soap" {
        sim.soap_endpoint()
    } else {
        sim.rest_base()
    };
    let adapter = adapter.to_string();
    let h = Harness::start_with(backend, move |c| {
        c.interfaces.counterparts.insert(
            Counterpart::His,
            AdapterSpec {
                adapter,
                options: [
                    ("endpoint".to_string(), json!(endpoint)),
                    ("timeout_seconds".to_string(), json!(3)),
                    // The job stays out of the test's way.
                    ("price_sync_minutes".to_string(), json!(600)),
                ]
                .into_iter()
                .collect(),
            },
        );
    })
    .await;
    let admin = h.staff("price-admin", "admin").await;
    let desk = h.staff("price-desk", "front_desk").await;

    // Version 1 is our seeded catalogue: nothing to change.
    let (st, r) = admin
        .post("/api/interfaces/his/prices/sync", json!({}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["ok"].as_bool(), r["his_version"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(r["recorded"], 0, "{r}");
    assert!(r["plan"]["unmapped"].as_array().unwrap().is_empty(), "{r}");
    assert!(r["plan"]["missing"].as_array().unwrap().is_empty(), "{r}");

    // The simulator's version 2 raises its first three items (the seeded
    // catalogue's order): a visit books them at today's prices.
    let seeded: Vec<String> = exam_domain::catalogue::seed::catalogue()
        .items
        .iter()
        .take(3)
        .map(|i| i.code.clone())
        .collect();
    let (before_id, before) = walk_in(&desk, 1, &seeded).await;

    // HIS publishes version 2: three prices up by a tenth, HIS9001 new.
    sim.change_prices_now();
    let (st, r) = admin
        .post("/api/interfaces/his/prices/sync", json!({}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["his_version"], 2, "{r}");
    assert_eq!(
        (r["recorded"].as_u64(), r["applied"].as_u64()),
        (Some(3), Some(3)),
        "{r}"
    );
    assert_eq!(r["plan"]["unmapped"], json!(["HIS9001"]));
    let changes = r["plan"]["changes"].as_array().unwrap().clone();
    let mut changed: Vec<String> = changes
        .iter()
        .map(|c| c["item_code"].as_str().unwrap().to_string())
        .collect();
    changed.sort();
    let mut want = seeded.clone();
    want.sort();
    assert_eq!(changed, want);
    // The desk's next booking takes the new prices (the catalogue in
    // memory was reloaded); the visit booked before keeps its own.
    let (_, after) = walk_in(&desk, 2, &seeded).await;
    let (_, before_again) = desk.get(&format!("/api/desk/visits/{before_id}")).await;
    for c in &changes {
        let code = c["item_code"].as_str().unwrap();
        let (old, new) = (
            c["old_price_fen"].as_i64().unwrap(),
            c["new_price_fen"].as_i64().unwrap(),
        );
        assert!(new > old, "{c}");
        assert_eq!(list_price(&h, code).await, new, "{code} in the catalogue");
        assert_eq!(price_of(&before, code), Some(old), "{code} booked before");
        assert_eq!(
            price_of(&before_again, code),
            Some(old),
            "{code} still as booked"
        );
        assert_eq!(price_of(&after, code), Some(new), "{code} booked after");
    }
    // Both pay now: HIS books each at its own (new) price, the visit
    // booked before with the difference as the centre's discount, so
    // neither charge is refused for its price.
    let booked_total = |v: &Value| -> i64 {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["price_fen"].as_i64().unwrap())
            .sum()
    };
    let mut want_totals = vec![booked_total(&before), booked_total(&after)];
    want_totals.sort_unstable();
    for v in [&before, &after] {
        let id = v["id"].as_i64().unwrap();
        let (st, r) = desk
            .post(
                &format!("/api/desk/visits/{id}/pay"),
                json!({ "method": "cash" }),
            )
            .await;
        assert_eq!(st, 200, "{r}");
    }
    let charges = || {
        let mut t: Vec<i64> = sim
            .bookings()
            .iter()
            .filter_map(|b| match b {
                exam_his::sim::Booking::Charge { total_fen, .. } => Some(*total_fen),
                _ => None,
            })
            .collect();
        t.sort_unstable();
        t
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while charges().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "HIS booked {:?}; dead letters: {:?}",
            charges(),
            h.db()
                .interface_messages(Counterpart::His, None, 100)
                .await
                .unwrap()
                .iter()
                .map(|m| (m.kind, m.state, m.last_error.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(charges(), want_totals, "each charged what it was booked at");

    // Again: the log already has version 2, nothing new.
    let (_, r) = admin
        .post("/api/interfaces/his/prices/sync", json!({}))
        .await;
    assert_eq!(
        (r["recorded"].as_u64(), r["applied"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );

    // A version effective in an hour waits in the log, then applies.
    let code = changes[0]["item_code"].as_str().unwrap().to_string();
    let now_price = list_price(&h, &code).await;
    let catalogue = h.db().load_catalogue().await.unwrap();
    let later = Utc::now() + Duration::hours(1);
    let list = PriceList {
        version: 3,
        effective_at: later,
        items: catalogue
            .items
            .iter()
            .map(|i| PriceItem {
                code: i.code.clone(),
                name: i.name.clone(),
                unit_price_fen: if i.code == code {
                    now_price + 500
                } else {
                    i.price_fen
                },
            })
            .collect(),
    };
    let map = Default::default();
    let r = h
        .db()
        .record_his_prices(Ok(list.clone()), &map, "system:his", Utc::now())
        .await
        .unwrap();
    assert_eq!((r.recorded, r.applied), (1, 0));
    assert_eq!(
        list_price(&h, &code).await,
        now_price,
        "not before its time"
    );
    let (_, view) = admin.get("/api/interfaces/his/prices").await;
    let pending: Vec<_> = view["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["applied_at"].is_null())
        .collect();
    assert_eq!(pending.len(), 1, "{view}");
    assert_eq!(pending[0]["his_version"], 3);
    let r = h
        .db()
        .record_his_prices(Ok(list), &map, "system:his", later + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!((r.recorded, r.applied), (0, 1));
    assert_eq!(list_price(&h, &code).await, now_price + 500);

    // The page shows the last run, the log and the unmapped code.
    let page = admin
        .http
        .get(format!("{}/interfaces", admin.url))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"his-price-changes\""), "{page}");
    assert!(page.contains("id=\"his-prices-last\""));

    // HIS away: a failed run, said on the page; prices untouched.
    sim.set_outage(true);
    let (st, r) = admin
        .post("/api/interfaces/his/prices/sync", json!({}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    let (_, view) = admin.get("/api/interfaces/his/prices").await;
    assert_eq!(view["last"]["ok"], false, "{view}");
    assert!(
        view["last"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert_eq!(list_price(&h, &code).await, now_price + 500);

    // Audited, each run; the desk may read neither nor run it.
    let runs = h
        .db()
        .audit_rows(
            &AuditQuery {
                actions: vec!["catalogue.his_prices".into()],
                ..AuditQuery::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(runs.len(), 6, "{runs:?}");
    assert_eq!(runs.iter().filter(|r| r.actor == "price-admin").count(), 4);
    assert!(
        runs.iter()
            .any(|r| r.detail.contains("version=2 recorded=3 applied=3"))
    );
    let (st, _) = desk
        .post("/api/interfaces/his/prices/sync", json!({}))
        .await;
    assert_eq!(st, 403);
    let (st, _) = desk.get("/api/interfaces/his/prices").await;
    assert_eq!(st, 403);
    h.stop().await;
}
