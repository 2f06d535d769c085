//! A pay-sim in this process (over real HTTP on 127.0.0.1), the crate's own
//! client pointed at it, and a merchant notify endpoint that verifies each
//! notification with the client and hands the opened ones to the test.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use exam_payment::PaymentGateway;
use exam_payment::crypto::SignedHeaders;
use exam_payment::notify::Notification;
use exam_payment::sim::{Sim, SimConfig, SimKeys, spawn};
use exam_payment::wechat::WechatPayV3;
use tokio::sync::mpsc;

pub struct Harness {
    pub sim: Arc<Sim>,
    pub base: String,
    pub gw: Arc<WechatPayV3>,
    pub notices: mpsc::UnboundedReceiver<Notification>,
    /// Deliveries the merchant side refused (did not verify).
    pub refused: Arc<AtomicU64>,
    pub http: reqwest::Client,
}

pub fn fast(cfg: SimConfig) -> SimConfig {
    SimConfig {
        timeout_delay: Duration::from_millis(1_500),
        notify_backoff: vec![Duration::from_millis(100); 3],
        refund_delay: Duration::from_millis(100),
        reorder_delay: Duration::from_millis(300),
        ..cfg
    }
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

pub fn gateway(
    keys: &SimKeys,
    base: &str,
    notify_url: &str,
    merchant_key: Option<rsa::RsaPrivateKey>,
) -> WechatPayV3 {
    let mut config = keys.merchant_config(base, notify_url, Duration::from_millis(500));
    if let Some(k) = merchant_key {
        config.merchant_key = k;
    }
    ok(WechatPayV3::new(config))
}

type RxState = (
    Arc<WechatPayV3>,
    mpsc::UnboundedSender<Notification>,
    Arc<AtomicU64>,
);

async fn notify(
    State((gw, tx, refused)): State<RxState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let opened =
        SignedHeaders::from_header_map(&headers).and_then(|h| gw.parse_notification(&h, &body));
    match opened {
        Ok(n) => {
            let _ = tx.send(n);
            StatusCode::NO_CONTENT
        }
        Err(_) => {
            refused.fetch_add(1, Ordering::SeqCst);
            StatusCode::UNAUTHORIZED
        }
    }
}

pub async fn start(cfg: SimConfig) -> Harness {
    let keys = ok(SimKeys::generate("1900000001", "wx0000000000000001"));
    let rx_listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let notify_url = format!("http://{}/notify", ok(rx_listener.local_addr()));
    let sim_listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let base = format!("http://{}", ok(sim_listener.local_addr()));
    let gw = Arc::new(gateway(&keys, &base, &notify_url, None));
    let sim = Sim::new(keys, fast(cfg));
    ok(spawn(sim.clone(), sim_listener).await);
    let (tx, notices) = mpsc::unbounded_channel();
    let refused = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route("/notify", post(notify))
        .with_state((gw.clone(), tx, refused.clone()));
    tokio::spawn(async move { axum::serve(rx_listener, app).await });
    Harness {
        sim,
        base,
        gw,
        notices,
        refused,
        http: reqwest::Client::new(),
    }
}

impl Harness {
    /// The test payer pays `code_url` (optionally a chosen amount).
    pub async fn pay(&self, code_url: &str, amount: Option<u64>) -> StatusCode {
        let mut body = serde_json::json!({ "code_url": code_url });
        if let Some(a) = amount {
            body["amount"] = a.into();
        }
        let r = ok(self
            .http
            .post(format!("{}/sim/pay", self.base))
            .json(&body)
            .send()
            .await);
        StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub async fn next_notice(&mut self, within: Duration) -> Option<Notification> {
        tokio::time::timeout(within, self.notices.recv())
            .await
            .ok()
            .flatten()
    }
}
