//! Support for the interface tests: a counterpart that fails in scripted
//! ways (per message key: refusals, refusals for good; for the whole
//! counterpart: an outage), records what it took and checks it never has
//! two messages in flight; and visits registered and paid at the desk.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use exam_server::interfaces::adapter::Adapters;
use exam_server::interfaces::{
    Counterpart, Delivered, InterfacesConfig, MessageState, Outbound, Outgoing, SendError,
};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::common::{Staff, id_number};

/// One delivery the counterpart took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub key: String,
    pub seq: i64,
    pub attempt: u32,
    pub his_patient_id: Option<String>,
}

#[derive(Default)]
pub struct Peer {
    /// Everything refuses with "no answer" while set.
    pub down: AtomicBool,
    /// Answers for a message's next attempts, by key (then: taken).
    script: Mutex<HashMap<String, VecDeque<SendError>>>,
    /// What it took, in the order it took it.
    pub taken: Mutex<Vec<Taken>>,
    /// Every attempt that reached it (taken or refused).
    pub attempts: AtomicUsize,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Each send takes this long (the two-sender test).
    pub delay_ms: u64,
}

impl Peer {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn slow(delay_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            delay_ms,
            ..Self::default()
        })
    }

    /// The next attempts of message `key` meet these answers, in order.
    pub fn script(&self, key: &str, answers: Vec<SendError>) {
        self.script
            .lock()
            .unwrap()
            .insert(key.to_string(), answers.into());
    }

    pub fn taken_keys(&self) -> Vec<String> {
        self.taken
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.key.clone())
            .collect()
    }
}

impl Outbound for Peer {
    fn send<'a>(&'a self, msg: &'a Outgoing) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            self.attempts.fetch_add(1, Ordering::SeqCst);
            if self.delay_ms > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(self.delay_ms)).await;
            }
            let answer = if self.down.load(Ordering::SeqCst) {
                Err(SendError::Unavailable("connection refused".into()))
            } else if let Some(e) = self
                .script
                .lock()
                .unwrap()
                .get_mut(&msg.key)
                .and_then(VecDeque::pop_front)
            {
                Err(e)
            } else {
                self.taken.lock().unwrap().push(Taken {
                    key: msg.key.clone(),
                    seq: msg.seq,
                    attempt: msg.attempt,
                    his_patient_id: msg.his_patient_id.clone(),
                });
                Ok(Delivered {
                    acknowledged: true,
                    remote_ref: (msg.counterpart == Counterpart::His)
                        .then(|| format!("HIS-{}", msg.id)),
                })
            };
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            answer
        })
    }

    fn describe(&self) -> String {
        "scripted test peer".into()
    }
}

/// Adapters for the given peers.
pub fn adapters(peers: &[(Counterpart, &Arc<Peer>)]) -> Adapters {
    let mut a: Adapters = BTreeMap::new();
    for (c, p) in peers {
        a.insert(*c, Arc::clone(p) as Arc<dyn Outbound>);
    }
    a
}

/// Refuse three times, then dead; back off from 5 s to 5 min.
pub fn config() -> InterfacesConfig {
    InterfacesConfig {
        max_failures: 3,
        ..InterfacesConfig::default()
    }
}

/// A man's walk-in registration (the basic men's package: laboratory,
/// imaging, ultrasound, ECG items and others), not yet paid.
pub async fn walk_in(s: &Staff, seq: u16) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id_number(1970, seq * 2 + 1), "name": "吴建国", "mobile": "13912345678" },
                    "marital": "married", "package": "P-M-BASIC", "add": [], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

pub async fn pay(s: &Staff, id: i64) -> Value {
    let (st, v) = s
        .post(
            &format!("/api/desk/visits/{id}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    v
}

/// The items of a visit and where each one's order goes.
pub async fn routed_items(s: &Staff, id: i64) -> Vec<(String, Option<Counterpart>)> {
    let cat = exam_domain::catalogue::seed::catalogue();
    let (_, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let code = i["code"].as_str().unwrap().to_string();
            let dept = cat.item(&code).unwrap().department.clone();
            let c = Counterpart::for_item(&code, &dept);
            (code, c)
        })
        .collect()
}

/// `(kind, state)` of every message of `c`, in line order. Every message
/// has a number of its own.
pub async fn line(db: &exam_server::db::Db, c: Counterpart) -> Vec<(String, i64, MessageState)> {
    let mut m = db.interface_messages(c, None, 10_000).await.unwrap();
    m.sort_by_key(|m| m.seq);
    assert!(
        m.iter().all(|m| m.seq > 0),
        "{c}: a message without its number: {:?}",
        m.iter()
            .filter(|m| m.seq == 0)
            .map(|m| &m.key)
            .collect::<Vec<_>>()
    );
    assert!(
        m.windows(2).all(|w| w[0].seq < w[1].seq),
        "{c}: two messages with one number"
    );
    m.into_iter().map(|m| (m.key, m.seq, m.state)).collect()
}
