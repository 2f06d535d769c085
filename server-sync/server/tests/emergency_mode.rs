//! E15, emergency mode, end to end on both stores: HIS and the laboratory
//! away (scripted peers driven through simulated time) and the payment
//! platform away (pay-sim behind a proxy that refuses connections). After
//! 30 simulated minutes the centre is eligible; a desk supervisor switches
//! emergency mode on; the desk goes on registering and taking money under
//! emergency receipt numbers, every staff page carries the banner, kiosks
//! are told to pay at the desk (the platform is not asked); the
//! counterparts come back, staff switch off, the queue drains once and in
//! order, the episode closes, and its report's figures are what was done.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use common::{Backend, Harness, id_number};
use exam_payment::sim::{Faults, Sim, SimConfig, SimKeys, spawn};
use exam_protocol::paths;
use exam_server::emergency::machine::{Away, Basis, Phase, Refusal, SwitchOn};
use exam_server::emergency::{self, EmergencyError};
use exam_server::interfaces::{Counterpart, Dispatcher};
use exam_server::roles::Role;
use interfaces::{Peer, adapters, config, line, walk_in};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

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

both!(an_outage_in_emergency_mode_reconciles);

/// A TCP proxy in front of pay-sim: while `down`, connections are refused
/// (accepted and dropped at once) and open ones are cut.
struct Switch {
    down: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Switch {
    async fn start(target: String) -> (Arc<Self>, String) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let s = Arc::new(Self {
            down: Arc::new(AtomicBool::new(false)),
            cut,
        });
        let me = s.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = l.accept().await else {
                    return;
                };
                if me.down.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut cut = me.cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut out) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut out) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        (s, url)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}

async fn start(backend: Backend) -> (Harness, Arc<Switch>, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    SimKeys::generate("1900000001", "wx0000000000000001")
        .unwrap()
        .write(keys.path())
        .unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_addr = l.local_addr().unwrap().to_string();
    let sim = Sim::new(
        SimKeys::load(keys.path()).unwrap(),
        SimConfig {
            faults: Faults::default(),
            timeout_delay: StdDuration::from_millis(1_500),
            notify_backoff: vec![StdDuration::from_millis(200); 3],
            refund_delay: StdDuration::from_millis(200),
            reorder_delay: StdDuration::from_millis(300),
        },
    );
    spawn(sim, l).await.unwrap();
    let (switch, url) = Switch::start(sim_addr).await;
    let dir = keys.path().to_path_buf();
    let h = Harness::start_with(backend, move |c| {
        c.payment.base_url = Some(url);
        c.payment.sim_keys_dir = Some(dir);
        c.payment.timeout_ms = 500;
        c.payment.poll_ms = 200;
    })
    .await;
    (h, switch, keys)
}

async fn page(s: &common::Staff, path: &str) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Orders the service made at the platform, read from the store directly.
async fn payment_orders(h: &Harness) -> i64 {
    let url = match h.pg_url() {
        Some(u) => u.to_string(),
        None => format!(
            "sqlite://{}",
            h.dir.as_ref().unwrap().path().join("exam.db").display()
        ),
    };
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let n = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM payment_orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

async fn an_outage_in_emergency_mode_reconciles(backend: Backend) {
    let (h, platform, _keys) = start(backend).await;
    let st = &h.server.state;
    let desk = h.staff("em-desk", "front_desk").await;
    let sup = h.staff("em-sup", "desk_supervisor").await;
    let admin = h.staff("em-admin", "admin").await;
    let group = h.staff("em-group", "group_desk").await;
    let kiosk = h.kiosk("K-EM").await;
    let db = h.db();
    // HIS, the laboratory and every other system the visits order from.
    let peers: Vec<(Counterpart, Arc<Peer>)> =
        Counterpart::ALL.iter().map(|&c| (c, Peer::new())).collect();
    let (his, lis) = (peers[0].1.clone(), peers[1].1.clone());
    let refs: Vec<(Counterpart, &Arc<Peer>)> = peers.iter().map(|(c, p)| (*c, p)).collect();
    let d = Dispatcher::new(db.clone(), config(), adapters(&refs), "emergency-sender");
    let set_down = |down: bool| {
        for (_, p) in &peers {
            p.down.store(down, Ordering::SeqCst);
        }
    };
    // Everything away from the start.
    set_down(true);
    platform.set_down(true);
    let start = Utc::now();
    let before = walk_in(&desk, 1).await;
    // The kiosk's order fails at the platform: payment unavailable.
    let kiosk_pay = |booking: i64, seq: u16| {
        let body = json!({ "id_number": id_number(1970, seq * 2 + 1), "bookings": [booking] });
        let (h, kiosk) = (&h, &kiosk);
        async move {
            h.signed(
                kiosk,
                "POST",
                paths::PAYMENT,
                body.to_string().as_bytes(),
                None,
            )
            .await
        }
    };
    let (code, v) = kiosk_pay(before, 1).await;
    assert_eq!(
        (code, v["error"].as_str()),
        (503, Some("payment_unavailable")),
        "{v}"
    );
    let mut now = start;
    let step = |now| {
        let d = &d;
        async move {
            for c in Counterpart::ALL {
                d.step(c, now).await.unwrap();
            }
        }
    };
    while now < start + Duration::minutes(20) {
        now += Duration::seconds(30);
        step(now).await;
    }
    // 20 minutes: both away, not yet long enough; nobody but an
    // administrator with a reason may switch on.
    let s = emergency::status(st, now).await.unwrap();
    assert_eq!(s.phase, Phase::Normal);
    let away: Vec<Away> = s.eligibility.reasons.iter().map(|r| r.away).collect();
    assert_eq!(away, [Away::His, Away::PaymentPlatform], "{s:?}");
    assert!(s.eligibility.reasons.iter().all(|r| !r.enough));
    let req = SwitchOn {
        reason: "HIS 与支付平台断线，信息中心判定为灾难".into(),
        leadership: Some("应急领导小组 王主任".into()),
        recovery_estimate: Some("两小时内".into()),
        override_reason: None,
    };
    let r = emergency::switch_on(st, "em-sup", Role::DeskSupervisor, &req, now).await;
    assert!(
        matches!(r, Err(EmergencyError::Refused(Refusal::NotEligible(30)))),
        "{r:?}"
    );
    let (code, v) = admin
        .post("/api/emergency/on", json!({ "reason": "演练" }))
        .await;
    assert_eq!(
        (code, v["error"].as_str()),
        (409, Some("emergency_refused")),
        "{v}"
    );
    while now < start + Duration::minutes(31) {
        now += Duration::seconds(30);
        step(now).await;
    }
    let s = emergency::status(st, now).await.unwrap();
    assert_eq!(s.phase, Phase::Eligible, "{s:?}");
    assert!(s.eligibility.reasons.iter().all(|r| r.enough));
    // The front desk may not switch; the supervisor may.
    let r = emergency::switch_on(st, "em-desk", Role::FrontDesk, &req, now).await;
    assert!(matches!(
        r,
        Err(EmergencyError::Refused(Refusal::NotPermitted))
    ));
    let (code, _) = desk
        .post("/api/emergency/on", json!({ "reason": "x" }))
        .await;
    assert_eq!(code, 403);
    let ep = emergency::switch_on(st, "em-sup", Role::DeskSupervisor, &req, now)
        .await
        .unwrap();
    assert_eq!(ep.basis, Basis::Eligible);
    let (code, v) = sup.get("/api/emergency").await;
    assert_eq!((code, v["phase"].as_str()), (200, Some("active")), "{v}");
    // A second switch-on is refused.
    let (code, _) = sup
        .post("/api/emergency/on", json!({ "reason": "again" }))
        .await;
    assert_eq!(code, 409);
    // Every staff page says so.
    for (who, path) in [
        (&desk, "/desk"),
        (&sup, "/emergency"),
        (&admin, "/interfaces"),
        (&group, "/groups"),
    ] {
        let (code, html) = page(who, path).await;
        assert_eq!(code, 200, "{path}");
        assert!(html.contains("id=\"emergency-banner\""), "{path}");
    }
    // The desk goes on: registrations and money, under emergency receipts.
    let orders_before = payment_orders(&h).await;
    let mut visits = Vec::new();
    let (mut charged, mut receipts) = (0i64, Vec::new());
    let mut by_method = std::collections::BTreeMap::<String, i64>::new();
    for (i, method) in ["cash", "cash", "card"].into_iter().enumerate() {
        let id = walk_in(&desk, 10 + i as u16).await;
        let (code, v) = desk
            .post(
                &format!("/api/desk/visits/{id}/pay"),
                json!({ "method": method }),
            )
            .await;
        assert_eq!(code, 200, "{v}");
        let fen = v["paid_fen"].as_i64().unwrap();
        assert!(fen > 0);
        charged += fen;
        *by_method.entry(method.into()).or_default() += fen;
        assert_eq!(v["emergency"]["episode_id"].as_i64(), Some(ep.id), "{v}");
        receipts.push(v["emergency"]["receipt_no"].as_str().unwrap().to_string());
        visits.push(id);
        now += Duration::minutes(2);
        step(now).await;
    }
    let expected: Vec<String> = (1..=3)
        .map(|n| format!("{}-{n:04}", ep.receipt_prefix))
        .collect();
    assert_eq!(receipts, expected);
    // The visit registered before the episode is paid now too (cash).
    let (_, v) = desk
        .post(
            &format!("/api/desk/visits/{before}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    charged += v["paid_fen"].as_i64().unwrap();
    *by_method.entry("cash".into()).or_default() += v["paid_fen"].as_i64().unwrap();
    // A refund of one item of the card visit.
    let code_of = interfaces::routed_items(&desk, visits[2]).await[0]
        .0
        .clone();
    let (code, v) = desk
        .post(
            &format!("/api/desk/visits/{}/items/{code_of}", visits[2]),
            json!({ "change": "refund" }),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    let refunded = v["refund_fen"].as_i64().unwrap();
    assert!(refunded > 0);
    // Kiosks are sent to the desk without the platform being asked.
    let (code, v) = kiosk_pay(visits[0], 10).await;
    assert_eq!(
        (code, v["error"].as_str()),
        (503, Some("payment_unavailable")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("应急模式"), "{v}");
    assert_eq!(payment_orders(&h).await, orders_before, "no platform order");
    // Nothing reached HIS or the laboratory meanwhile.
    while now < start + Duration::minutes(55) {
        now += Duration::seconds(30);
        step(now).await;
    }
    assert!(peers.iter().all(|(_, p)| p.taken_keys().is_empty()));
    // Back. Switch off; the queue drains once and in order.
    set_down(false);
    platform.set_down(false);
    let (code, v) = sup
        .post(
            "/api/emergency/off",
            json!({ "reason": "HIS 与支付平台已恢复" }),
        )
        .await;
    assert_eq!((code, v["state"].as_str()), (200, Some("ending")), "{v}");
    let (_, html) = page(&desk, "/desk").await;
    assert!(!html.contains("id=\"emergency-banner\""), "banner gone");
    let back = now;
    loop {
        let mut tried = 0;
        for c in Counterpart::ALL {
            tried += d.drain(c, now, 50).await.unwrap();
        }
        if tried == 0 {
            let mut empty = true;
            for c in Counterpart::ALL {
                empty &= db.line_head(c).await.unwrap().is_none();
            }
            if empty {
                break;
            }
            now += Duration::seconds(30);
            assert!(now < back + Duration::minutes(10), "not drained");
        }
    }
    let mut all_lines = Vec::new();
    for (c, p) in &peers {
        let l = line(db, *c).await;
        assert_eq!(
            p.taken_keys(),
            l.iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
            "{c}: each message once, in line order"
        );
        all_lines.extend(l);
    }
    assert!(!his.taken_keys().is_empty() && !lis.taken_keys().is_empty());
    // The platform answers again (the payment job's probe), and the
    // episode closes.
    let mut closed = None;
    for _ in 0..100 {
        let (_, v) = sup.get("/api/emergency").await;
        if v["open"].is_null() {
            closed = Some(v);
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let v = closed.expect("the episode closes once the queue drained and the platform answers");
    assert_eq!(v["phase"].as_str(), Some("normal"), "{v}");
    // The report: what was done, and every message acknowledged.
    let (code, r) = sup
        .get(&format!("/api/emergency/episodes/{}/report", ep.id))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["episode"]["state"].as_str(), Some("closed"));
    let t = &r["totals"];
    assert_eq!(t["registrations"].as_i64(), Some(3));
    assert_eq!(t["all"]["charges"].as_i64(), Some(4));
    assert_eq!(t["all"]["charged_fen"].as_i64(), Some(charged));
    assert_eq!(t["all"]["refunds"].as_i64(), Some(1));
    assert_eq!(t["all"]["refunded_fen"].as_i64(), Some(refunded));
    assert_eq!(t["all"]["net_fen"].as_i64(), Some(charged - refunded));
    assert_eq!(
        t["by_method"]["cash"]["charged_fen"].as_i64(),
        by_method.get("cash").copied()
    );
    // The refund went back by the card visit's method.
    assert_eq!(
        t["by_method"]["card"]["refunded_fen"].as_i64(),
        Some(refunded)
    );
    let msgs = r["messages"].as_array().unwrap();
    assert!(!msgs.is_empty());
    assert!(
        msgs.iter().all(|m| m["delivery"] == "acknowledged"),
        "{msgs:?}"
    );
    // Every message the episode's visits queued during it is on the report.
    let ids: std::collections::BTreeSet<i64> = visits.iter().copied().chain([before]).collect();
    let in_episode = all_lines.iter().filter(|m| m.1 > ep.seq_start).count();
    assert!(msgs.len() <= in_episode && ids.len() == 4);
    assert!(msgs.iter().any(|m| m["counterpart"] == "lis"));
    for kind in ["registration", "charge", "refund"] {
        assert!(
            msgs.iter()
                .any(|m| m["kind"] == kind && m["counterpart"] == "his"),
            "{kind}"
        );
    }
    // The CSV (audited) and the page.
    let r = sup
        .http
        .get(format!(
            "{}/emergency/episodes/{}/report.csv",
            sup.url, ep.id
        ))
        .header("cookie", &sup.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csv = r.text().await.unwrap();
    for no in &receipts {
        assert!(csv.contains(no.as_str()), "{csv}");
    }
    assert!(csv.contains(&format!(
        "total,all,4,{}.{:02},1,",
        charged / 100,
        charged % 100
    )));
    let (code, html) = page(&sup, &format!("/emergency?episode={}", ep.id)).await;
    assert_eq!(code, 200);
    assert!(html.contains("id=\"all-acknowledged\"") && html.contains(&receipts[0]));
    assert!(!html.contains("吴建国"), "no names");
    // Who sees what.
    assert_eq!(page(&desk, "/emergency").await.0, 200);
    assert_eq!(page(&group, "/emergency").await.0, 403);
    let (code, _) = desk
        .post("/api/emergency/off", json!({ "reason": "x" }))
        .await;
    assert_eq!(code, 403);
    h.stop().await;
}
