//! The platform simulator (`pay-sim`): the v3 endpoints a merchant uses for
//! QR payment, speaking the real wire (signed requests checked, answers
//! signed, notifications signed and AES-GCM sealed, the bill in the
//! platform's CSV), with a test payer and seeded fault injection.
//!
//! Endpoints (all `/v3/*` need a valid merchant signature):
//! - `POST /v3/pay/transactions/native`
//! - `GET  /v3/pay/transactions/out-trade-no/{no}?mchid=`
//! - `POST /v3/pay/transactions/out-trade-no/{no}/close`
//! - `POST /v3/refund/domestic/refunds`, `GET /v3/refund/domestic/refunds/{no}`
//! - `GET  /v3/bill/tradebill?bill_date=&bill_type=ALL` → download URL
//!   `GET  /v3/billdownload/file?token=` (unsigned file, like the platform)
//! - `POST /sim/pay` `{"code_url": "...", "amount": fen?, "openid": "..."?}`:
//!   the test payer, as a phone scanning the QR code would pay
//! - `GET  /sim/stats`: notification delivery and fault counters
//!
//! The `/v3/certificates` endpoint is not served: merchants here use the
//! platform public key mode (`Wechatpay-Serial: PUB_KEY_ID_...`).

mod api;
pub mod keys;
mod notifier;
pub mod rng;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

pub use keys::{Identity, SimKeys};
use rng::SplitMix64;
use state::Ledger;

/// Probabilities (0..=1) of each fault, drawn from one seeded generator.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Apply the call, then answer only after `timeout_delay` (the client
    /// has given up by then: it must find out by asking again).
    pub timeout: f64,
    /// Answer 500 SYSTEM_ERROR, half of the time after applying the call.
    pub server_error: f64,
    /// Apply the call, answer with a signature that does not verify.
    pub bad_signature: f64,
    /// A notification never delivered (the merchant must query).
    pub notify_lost: f64,
    /// A notification delivered twice.
    pub notify_duplicate: f64,
    /// A notification held back so later ones overtake it.
    pub notify_reorder: f64,
    /// The first delivery of a notification carries a bad signature.
    pub notify_bad_signature: f64,
    /// The test payer pays one fen more than the order (when it is not told
    /// an amount).
    pub amount_mismatch: f64,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub faults: Faults,
    pub timeout_delay: Duration,
    /// Waits between notification attempts (the platform's 15s/15s/30s/3m/..
    /// schedule, scaled for tests); attempts = len + 1.
    pub notify_backoff: Vec<Duration>,
    /// How long a refund stays PROCESSING before it succeeds.
    pub refund_delay: Duration,
    /// Extra hold for a reordered notification.
    pub reorder_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            faults: Faults::default(),
            timeout_delay: Duration::from_secs(12),
            notify_backoff: [15, 15, 30, 180, 600, 1200, 1800]
                .map(Duration::from_secs)
                .to_vec(),
            refund_delay: Duration::from_secs(2),
            reorder_delay: Duration::from_secs(3),
        }
    }
}

/// Counters for tests and the chaos benchmark.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SimStats {
    pub orders: u64,
    pub payments: u64,
    pub refunds: u64,
    pub notify_attempts: u64,
    pub notify_acked: u64,
    /// Attempts the merchant refused or that failed to connect.
    pub notify_refused: u64,
    pub notify_lost: u64,
    pub notify_given_up: u64,
    pub faults_timeout: u64,
    pub faults_server_error: u64,
    pub faults_bad_signature: u64,
    pub auth_failures: u64,
}

/// What the payer's phone does with a QR code: asks the simulator's test
/// payer (`POST /sim/pay`) to pay it. Returns the HTTP status (200: paid).
pub async fn pay_code(sim_url: &str, code_url: &str) -> reqwest::Result<u16> {
    let r = reqwest::Client::new()
        .post(format!("{}/sim/pay", sim_url.trim_end_matches('/')))
        .json(&serde_json::json!({ "code_url": code_url }))
        .send()
        .await?;
    Ok(r.status().as_u16())
}

pub struct Sim {
    pub keys: SimKeys,
    cfg: SimConfig,
    rng: Mutex<SplitMix64>,
    ledger: Mutex<Ledger>,
    stats: Mutex<SimStats>,
    http: reqwest::Client,
}

impl Sim {
    pub fn new(keys: SimKeys, cfg: SimConfig) -> Arc<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| panic!("HTTP client for notifications: {e}"));
        Self::with_client(keys, cfg, http)
    }

    /// As [`Sim::new`], sending notifications to a merchant whose HTTPS
    /// certificate comes from this CA (PEM): a development CA, as the
    /// demo's service has, which the real platform would never need.
    pub fn trusting(keys: SimKeys, cfg: SimConfig, ca_pem: &[u8]) -> reqwest::Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .tls_certs_only([reqwest::Certificate::from_pem(ca_pem)?])
            .build()?;
        Ok(Self::with_client(keys, cfg, http))
    }

    fn with_client(keys: SimKeys, cfg: SimConfig, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            keys,
            rng: Mutex::new(SplitMix64::new(cfg.faults.seed)),
            cfg,
            ledger: Mutex::new(Ledger::default()),
            stats: Mutex::new(SimStats::default()),
            http,
        })
    }

    fn chance(&self, p: f64) -> bool {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).chance(p)
    }

    fn stat(&self, f: impl FnOnce(&mut SimStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn stats(&self) -> SimStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The platform's view of an order (tests and the benchmark check what
    /// happened behind a timeout or a lost answer).
    pub fn trade_state(&self, out_trade_no: &str) -> Option<crate::model::TradeState> {
        self.ledger().orders.get(out_trade_no).map(|o| o.state)
    }

    pub fn router(self: &Arc<Self>) -> axum::Router {
        api::router(self.clone())
    }
}

/// Serve on `listener` until the task is dropped; returns the bound address.
pub async fn spawn(
    sim: Arc<Sim>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let app = sim.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("pay-sim server stopped: {e}");
        }
    });
    Ok(addr)
}
