//! K16 / I4 against an in-process pay-sim over real HTTP: the kiosk's order
//! for a visit's unpaid items, the simulator's test payer pays, the
//! platform's notification (or the service's order query when it is lost)
//! makes the items paid, and the HIS charge and LIS / PACS orders are
//! queued with it; an order never paid is closed at the platform; forged
//! notifications are refused; duplicates change nothing; a desk refund goes
//! back through the platform once under one out_refund_no; the day's bill
//! reconciles with no difference, and a seeded one is found with its cause.
//! Both stores.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, Harness, Staff, id_number};
use exam_payment::model::{TradeState, cst};
use exam_payment::sim::{Faults, Sim, SimConfig, SimKeys, spawn};
use exam_protocol::auth::KioskKey;
use exam_protocol::paths;
use exam_server::interfaces::{Counterpart, MessageKind};
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
    paid_by_notification_then_refunded_and_reconciled,
    lost_notification_found_by_query,
    never_paid_is_closed_at_the_platform,
    forged_and_duplicate_notifications,
    a_difference_is_found_with_its_cause,
    the_desk_takes_payment_through_the_platform,
    an_extra_item_is_added_and_paid_in_the_room,
);

struct Pay {
    h: Harness,
    sim: Arc<Sim>,
    sim_url: String,
    _keys: tempfile::TempDir,
    kiosk: KioskKey,
    desk: Staff,
}

async fn start(
    backend: Backend,
    faults: Faults,
    tweak: impl FnOnce(&mut exam_server::Config),
) -> Pay {
    // Test identities made now, for this run only.
    let keys = tempfile::tempdir().unwrap();
    SimKeys::generate("1900000001", "wx0000000000000001")
        .unwrap()
        .write(keys.path())
        .unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", l.local_addr().unwrap());
    let sim = Sim::new(
        SimKeys::load(keys.path()).unwrap(),
        SimConfig {
            faults,
            timeout_delay: Duration::from_millis(1_500),
            notify_backoff: vec![Duration::from_millis(200); 3],
            refund_delay: Duration::from_millis(200),
            reorder_delay: Duration::from_millis(300),
        },
    );
    spawn(sim.clone(), l).await.unwrap();
    let (url, dir) = (sim_url.clone(), keys.path().to_path_buf());
    let h = Harness::start_with(backend, move |c| {
        c.payment.base_url = Some(url);
        c.payment.sim_keys_dir = Some(dir);
        c.payment.timeout_ms = 1_000;
        c.payment.query_after_seconds = 1;
        c.payment.poll_ms = 200;
        tweak(c);
    })
    .await;
    let kiosk = h.kiosk("K-PAY").await;
    let desk = h.staff("cashier", "front_desk").await;
    Pay {
        h,
        sim,
        sim_url,
        _keys: keys,
        kiosk,
        desk,
    }
}

impl Pay {
    async fn kiosk_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.h
            .signed(&self.kiosk, "POST", path, body.to_string().as_bytes(), None)
            .await
    }

    /// A walk-in visit at the desk with its items unpaid: (booking, ID number).
    async fn visit(&self, seq: u16) -> (i64, String) {
        let idn = id_number(1971, seq * 2 + 1);
        let (st, r) = self
            .desk
            .post(
                "/api/desk/visits",
                json!({ "person": { "id_number": idn, "name": "周付款", "mobile": "13912345670" },
                        "marital": "married", "package": "P-M-BASIC", "add": [], "walk_in": true }),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        (r["visit"]["id"].as_i64().unwrap(), idn)
    }

    async fn order(&self, booking: i64, idn: &str) -> Value {
        let (st, o) = self
            .kiosk_post(
                paths::PAYMENT,
                json!({ "id_number": idn, "bookings": [booking] }),
            )
            .await;
        assert_eq!(st, 200, "{o}");
        assert!(
            o["code_url"].as_str().unwrap().starts_with("weixin://"),
            "{o}"
        );
        o
    }

    async fn payer(&self, code_url: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/sim/pay", self.sim_url))
            .json(&json!({ "code_url": code_url }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The order's state as the kiosk sees it, once it is `want` (or panics).
    async fn wait_state(&self, no: &str, want: &str, secs: u64) -> Value {
        let mut last = Value::Null;
        for _ in 0..secs * 10 {
            let (st, o) = self
                .kiosk_post(paths::PAYMENT_STATE, json!({ "out_trade_no": no }))
                .await;
            assert_eq!(st, 200, "{o}");
            if o["state"] == want {
                return o;
            }
            last = o;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("order {no} never became {want}: {last}");
    }

    async fn items_paid(&self, booking: i64) -> Vec<bool> {
        let (_, v) = self.desk.get(&format!("/api/desk/visits/{booking}")).await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["paid"].as_bool().unwrap())
            .collect()
    }

    async fn sql_i64(&self, sql: &str) -> i64 {
        self.h.sql_text(sql).await.map_or(0, |t| t.parse().unwrap())
    }

    async fn reconcile_today(&self, admin: &Staff) -> Value {
        let day = chrono::Utc::now().with_timezone(&cst()).date_naive();
        let (st, r) = admin
            .post(
                "/api/payments/reconciliations",
                json!({ "day": day.to_string() }),
            )
            .await;
        assert_eq!(st, 200, "{r}");
        r
    }

    async fn messages(&self, c: Counterpart, booking: i64) -> Vec<MessageKind> {
        self.h
            .db()
            .interface_messages(c, None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.booking_id == Some(booking))
            .map(|m| m.kind)
            .collect()
    }
}

async fn paid_by_notification_then_refunded_and_reconciled(b: Backend) {
    let p = start(b, Faults::default(), |_| {}).await;
    let (booking, idn) = p.visit(1).await;
    assert!(p.items_paid(booking).await.iter().all(|&x| !x));
    let o = p.order(booking, &idn).await;
    let no = o["out_trade_no"].as_str().unwrap().to_string();
    assert!(o["amount_fen"].as_i64().unwrap() > 0);
    assert_eq!(o["state"], "pending");
    // Asking again for the same items is the same order.
    let again = p.order(booking, &idn).await;
    assert_eq!(again["out_trade_no"], o["out_trade_no"]);
    // Someone else's ID number: as if the booking did not exist.
    let (st, _) = p
        .kiosk_post(
            paths::PAYMENT,
            json!({ "id_number": id_number(1980, 3), "bookings": [booking] }),
        )
        .await;
    assert_eq!(st, 404);

    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 200);
    p.wait_state(&no, "paid", 10).await;
    assert!(p.items_paid(booking).await.iter().all(|&x| x));
    // The HIS charge and the laboratory / imaging orders went with it.
    assert!(
        p.messages(Counterpart::His, booking)
            .await
            .contains(&MessageKind::Charge)
    );
    let orders = p.messages(Counterpart::Lis, booking).await.len()
        + p.messages(Counterpart::Pacs, booking).await.len()
        + p.messages(Counterpart::Ultrasound, booking).await.len();
    assert!(orders > 0, "no order queued");
    assert_eq!(
        p.sql_i64(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM payment_notifications WHERE out_trade_no = '{no}'"
        ))
        .await,
        1
    );
    // E14: the campus's ledger has the platform's money, by its order.
    assert_eq!(
        p.sql_i64(&format!(
            "SELECT CAST(SUM(amount_fen) AS TEXT) FROM ledger WHERE booking_id = {booking}
               AND entry = 'charge' AND method = 'platform' AND reference = '{no}'"
        ))
        .await,
        o["amount_fen"].as_i64().unwrap()
    );
    // Nothing left to pay.
    let (st, _) = p
        .kiosk_post(
            paths::PAYMENT,
            json!({ "id_number": idn, "bookings": [booking] }),
        )
        .await;
    assert_eq!(st, 409);

    // A desk refund of one item goes back through the platform.
    let (_, v) = p.desk.get(&format!("/api/desk/visits/{booking}")).await;
    let code = v["items"][0]["code"].as_str().unwrap().to_string();
    let (st, r) = p
        .desk
        .post(
            &format!("/api/desk/visits/{booking}/items/{code}"),
            json!({ "change": "refund" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let mut done = false;
    for _ in 0..100 {
        if p.sql_i64(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM payment_refunds WHERE out_refund_no = '{no}R1' AND state = 'success'"
        ))
        .await
            == 1
        {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "refund never succeeded");
    assert_eq!(
        p.sql_i64(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM ledger WHERE booking_id = {booking}
               AND entry = 'refund' AND method = 'platform' AND reference = '{no}R1'"
        ))
        .await,
        1,
        "the refund in the ledger, by the platform"
    );
    assert_eq!(p.sim.stats().refunds, 1, "one refund at the platform");
    assert!(
        p.messages(Counterpart::His, booking)
            .await
            .contains(&MessageKind::Refund)
    );
    p.wait_state(&no, "refunded", 5).await;

    // Finance reconciles the day, and sees no patient.
    let finance = p.h.staff("finance", "finance").await;
    let r = p.reconcile_today(&finance).await;
    assert_eq!(r["run"]["differences"], 0, "{r}");
    assert_eq!(r["run"]["matched_payments"], 1, "{r}");
    assert_eq!(r["run"]["matched_refunds"], 1, "{r}");
    let (st, _) = finance.get("/payments").await;
    assert_eq!(st, 200);
    for path in ["/desk", "/registrations", "/api/desk/search?q=zfk"] {
        let (st, _) = finance.get(path).await;
        assert_eq!(st, 403, "finance at {path}");
    }
    let (st, _) = finance.get(&format!("/api/desk/visits/{booking}")).await;
    assert_eq!(st, 403);
    // The desk does not see the platform's books.
    let (st, _) = p.desk.get("/api/payments/reconciliations").await;
    assert_eq!(st, 403);
    p.h.stop().await;
}

async fn lost_notification_found_by_query(b: Backend) {
    let faults = Faults {
        notify_lost: 1.0,
        ..Faults::default()
    };
    let p = start(b, faults, |_| {}).await;
    let (booking, idn) = p.visit(2).await;
    let o = p.order(booking, &idn).await;
    let no = o["out_trade_no"].as_str().unwrap();
    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 200);
    p.wait_state(no, "paid", 10).await;
    assert!(p.items_paid(booking).await.iter().all(|&x| x));
    assert_eq!(
        p.sql_i64("SELECT CAST(COUNT(*) AS TEXT) FROM payment_notifications")
            .await,
        0,
        "found by the query, not a notification"
    );
    assert!(
        p.messages(Counterpart::His, booking)
            .await
            .contains(&MessageKind::Charge)
    );
    p.h.stop().await;
}

async fn never_paid_is_closed_at_the_platform(b: Backend) {
    let p = start(b, Faults::default(), |c| c.payment.order_expiry_seconds = 2).await;
    let (booking, idn) = p.visit(3).await;
    let o = p.order(booking, &idn).await;
    let no = o["out_trade_no"].as_str().unwrap();
    p.wait_state(no, "closed", 10).await;
    assert_eq!(p.sim.trade_state(no), Some(TradeState::Closed));
    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 409);
    assert!(p.items_paid(booking).await.iter().all(|&x| !x));
    assert!(
        !p.messages(Counterpart::His, booking)
            .await
            .contains(&MessageKind::Charge)
    );

    // The kiosk's cancel closes at once.
    let o = p.order(booking, &idn).await;
    let no2 = o["out_trade_no"].as_str().unwrap();
    assert_ne!(no2, no);
    let (st, c) = p
        .kiosk_post(paths::PAYMENT_CANCEL, json!({ "out_trade_no": no2 }))
        .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["state"], "closed");
    assert_eq!(p.sim.trade_state(no2), Some(TradeState::Closed));
    p.h.stop().await;
}

async fn forged_and_duplicate_notifications(b: Backend) {
    let faults = Faults {
        notify_duplicate: 1.0,
        notify_bad_signature: 1.0,
        notify_reorder: 0.5,
        seed: 7,
        ..Faults::default()
    };
    // Long query delay: what makes it paid is a notification.
    let p = start(b, faults, |c| c.payment.query_after_seconds = 60).await;
    // A forged notification: refused.
    let r = reqwest::Client::new()
        .post(format!("{}/pay/notify", p.h.url))
        .header("Wechatpay-Timestamp", chrono::Utc::now().timestamp().to_string())
        .header("Wechatpay-Nonce", "abc")
        .header("Wechatpay-Signature", "Zm9yZ2Vk")
        .header("Wechatpay-Serial", "PUB_KEY_ID_forged")
        .body(r#"{"id":"x","create_time":"","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"","nonce":""}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let (booking, idn) = p.visit(4).await;
    let o = p.order(booking, &idn).await;
    let no = o["out_trade_no"].as_str().unwrap();
    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 200);
    p.wait_state(no, "paid", 10).await;
    // The badly signed first delivery was refused, the resend and its
    // duplicate taken: one notification row, one charge.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        p.sql_i64(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM payment_notifications WHERE out_trade_no = '{no}'"
        ))
        .await,
        1
    );
    assert!(
        p.sql_i64(&format!("SELECT CAST(MAX(deliveries) AS TEXT) FROM payment_notifications WHERE out_trade_no = '{no}'")).await
            >= 2,
        "the duplicate was delivered and counted"
    );
    let charges = p
        .messages(Counterpart::His, booking)
        .await
        .into_iter()
        .filter(|k| *k == MessageKind::Charge)
        .count();
    assert_eq!(charges, 1, "paid once, charged once");
    assert!(
        p.sql_i64(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'payment.notify_refused'"
        )
        .await
            >= 2
    );
    p.h.stop().await;
}

async fn a_difference_is_found_with_its_cause(b: Backend) {
    // The platform takes the money and we never hear: no notification, no
    // query in the test's time. The bill shows what we missed.
    let faults = Faults {
        notify_lost: 1.0,
        ..Faults::default()
    };
    let p = start(b, faults, |c| c.payment.query_after_seconds = 3_600).await;
    let (booking, idn) = p.visit(5).await;
    let o = p.order(booking, &idn).await;
    let no = o["out_trade_no"].as_str().unwrap();
    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 200);
    let admin = p.h.staff("finance", "admin").await;
    let r = p.reconcile_today(&admin).await;
    let r_run = r.clone();
    assert_eq!(r["run"]["differences"], 1, "{r}");
    assert_eq!(r["differences"][0]["out_trade_no"], no);
    assert_eq!(r["differences"][0]["cause"], "paid_at_platform_not_local");
    let (st, runs) = admin.get("/api/payments/reconciliations").await;
    assert_eq!(st, 200);
    // Today's run is listed (beside the job's daily run of yesterday).
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == r_id(&r_run) && r["differences"] == 1),
        "{runs}"
    );
    p.h.stop().await;
}

fn r_id(r: &Value) -> Value {
    r["run"]["id"].clone()
}

/// The desk's path: the cashier asks for the visit's order, shows its QR
/// code (a PNG for the desk's screen), the payer pays, the desk sees it
/// paid; a cancelled desk order is closed at the platform; a visit paid at
/// a kiosk and at the desk at once is charged once (the second payment
/// finds its items paid and goes back); the group desk may not take money.
async fn the_desk_takes_payment_through_the_platform(b: Backend) {
    let p = start(b, Faults::default(), |_| {}).await;
    let (booking, _) = p.visit(11).await;
    let path = format!("/api/desk/visits/{booking}/platform-order");
    let (st, o) = p.desk.post(&path, json!({})).await;
    assert_eq!(st, 200, "{o}");
    let no = o["out_trade_no"].as_str().unwrap().to_string();
    assert!(o["code_url"].as_str().unwrap().starts_with("weixin://"));
    assert_eq!(o["state"], "pending");
    // The same items again: the same order.
    let (_, again) = p.desk.post(&path, json!({})).await;
    assert_eq!(again["out_trade_no"], o["out_trade_no"]);
    // Its QR code for the desk's screen.
    let qr =
        p.h.http
            .get(format!("{}/api/desk/payments/{no}/qr.png", p.h.url))
            .header("cookie", &p.desk.cookie)
            .send()
            .await
            .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/png");
    assert!(qr.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // A kiosk may not look at a desk order.
    let (st, _) = p
        .kiosk_post(paths::PAYMENT_STATE, json!({ "out_trade_no": no }))
        .await;
    assert_eq!(st, 404);
    // A cashier bound to another campus (E14) may not follow or cancel it:
    // refused and audited, the order untouched.
    let east = p.h.staff("east-cashier", "front_desk").await;
    p.h.db()
        .set_account_campus("test", "east-cashier", Some("east"))
        .await
        .unwrap();
    for (path, post) in [
        (format!("/api/desk/payments/{no}"), false),
        (format!("/api/desk/payments/{no}/qr.png"), false),
        (format!("/api/desk/payments/{no}/cancel"), true),
    ] {
        let (st, e) = if post {
            east.post(&path, json!({})).await
        } else {
            east.get(&path).await
        };
        assert_eq!(
            (st, e["error"].as_str()),
            (403, Some("other_campus")),
            "{path}: {e}"
        );
    }
    let denied =
        p.h.sql_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' AND actor = 'east-cashier'",
        )
        .await;
    assert_eq!(denied.as_deref(), Some("3"));
    let (_, s) = p.desk.get(&format!("/api/desk/payments/{no}")).await;
    assert_eq!(
        s["state"], "pending",
        "not cancelled by the refused request"
    );

    // The patient scans; the desk sees it paid.
    assert_eq!(p.payer(o["code_url"].as_str().unwrap()).await, 200);
    let mut paid = Value::Null;
    for _ in 0..100 {
        let (st, s) = p.desk.get(&format!("/api/desk/payments/{no}")).await;
        assert_eq!(st, 200, "{s}");
        if s["state"] == "paid" {
            paid = s;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(paid["state"], "paid", "never paid");
    assert!(p.items_paid(booking).await.iter().all(|&x| x));
    let (st, _) = p.desk.post(&path, json!({})).await;
    assert_eq!(st, 409, "nothing left to pay");

    // Another visit: the patient will not pay this way; closed at the platform.
    let (b2, _) = p.visit(12).await;
    let (_, o2) = p
        .desk
        .post(&format!("/api/desk/visits/{b2}/platform-order"), json!({}))
        .await;
    let no2 = o2["out_trade_no"].as_str().unwrap().to_string();
    let (st, c) = p
        .desk
        .post(&format!("/api/desk/payments/{no2}/cancel"), json!({}))
        .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["state"], "closed");
    assert_eq!(p.sim.trade_state(&no2), Some(TradeState::Closed));
    assert_eq!(p.payer(o2["code_url"].as_str().unwrap()).await / 100, 4);
    assert!(p.items_paid(b2).await.iter().all(|&x| !x));

    // A third visit: the patient had the kiosk's QR open when the cashier
    // made the desk's order. The desk's order closes the kiosk's (one open
    // order per set of items), so scanning both takes the money once.
    let (b3, idn3) = p.visit(13).await;
    let k = p.order(b3, &idn3).await;
    let (st, d) = p
        .desk
        .post(&format!("/api/desk/visits/{b3}/platform-order"), json!({}))
        .await;
    assert_eq!(st, 200, "{d}");
    let (k_no, d_no) = (
        k["out_trade_no"].as_str().unwrap(),
        d["out_trade_no"].as_str().unwrap(),
    );
    assert_ne!(k_no, d_no, "the kiosk's order is not handed to the desk");
    assert_eq!(p.sim.trade_state(k_no), Some(TradeState::Closed));
    assert_eq!(p.payer(k["code_url"].as_str().unwrap()).await / 100, 4);
    assert_eq!(p.payer(d["code_url"].as_str().unwrap()).await, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !p.items_paid(b3).await.iter().all(|&x| x) {
        assert!(tokio::time::Instant::now() < deadline, "never paid");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(p.sim.trade_state(d_no), Some(TradeState::Success));

    // The group desk takes no money.
    let group = p.h.staff("groups", "group_desk").await;
    let (st, _) = group.post(&path, json!({})).await;
    assert_eq!(st, 403);
    p.h.stop().await;
}

/// 加项 in the room (E6 item 40): the ultrasound's fatty liver suggests the
/// elastography; the doctor adds it, the person scans the order's QR on the
/// doctor's screen and pays; the item is paid; an item of the other sex
/// is refused.
async fn an_extra_item_is_added_and_paid_in_the_room(b: Backend) {
    let p = start(b, Faults::default(), |_| {}).await;
    let (booking, _) = p.visit(21).await;
    // The package is paid at the desk in cash first.
    let (st, r) = p
        .desk
        .post(
            &format!("/api/desk/visits/{booking}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let doc = p.h.staff("room-doc", "doctor").await;
    let fatty = json!({ "entries": [{ "item": "US-ABD", "values": [
        ["liver", { "type": "findings", "value": ["fatty"] }], ["gallbladder", { "type": "findings", "value": [] }],
        ["kidney", { "type": "findings", "value": [] }], ["spleen", { "type": "findings", "value": [] }]
    ]}]});
    let (st, r) = doc
        .post(
            &format!("/api/results/visits/{booking}/departments/us"),
            fatty,
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, room) = doc
        .get(&format!("/api/results/visits/{booking}?room=us1"))
        .await;
    let suggested: Vec<&str> = room["suggested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(suggested.contains(&"US-FIBRO"), "{room}");
    let (st, e) = doc
        .post(
            &format!("/api/results/visits/{booking}/extra-items"),
            json!({ "items": ["US-VAG"] }),
        )
        .await;
    assert_eq!(st, 422, "a woman's item for a man: {e}");
    let (st, x) = doc
        .post(
            &format!("/api/results/visits/{booking}/extra-items"),
            json!({ "items": ["US-FIBRO"] }),
        )
        .await;
    assert_eq!(st, 200, "{x}");
    let price = exam_domain::catalogue::seed::catalogue()
        .item("US-FIBRO")
        .unwrap()
        .price_fen;
    assert_eq!(x["order"]["amount_fen"], price, "{x}");
    let no = x["order"]["out_trade_no"].as_str().unwrap().to_string();
    let qr =
        p.h.http
            .get(format!("{}/api/results/payments/{no}/qr.png", p.h.url))
            .header("cookie", &doc.cookie)
            .send()
            .await
            .unwrap();
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/png");
    // The desk's cashier sees the same order (one order machinery).
    let (st, d) = p.desk.get(&format!("/api/desk/payments/{no}")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["amount_fen"], price);
    assert_eq!(p.payer(x["order"]["code_url"].as_str().unwrap()).await, 200);
    let mut state = Value::Null;
    for _ in 0..100 {
        let (_, s) = doc.get(&format!("/api/results/payments/{no}")).await;
        state = s["state"].clone();
        if state == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "paid");
    let v = p.h.db().visit(booking).await.unwrap();
    let item = v.items.iter().find(|i| i.code == "US-FIBRO").unwrap();
    assert!(item.paid, "{item:?}");
}
