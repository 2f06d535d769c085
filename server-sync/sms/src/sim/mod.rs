//! The SMS platform simulator (`sms-sim`): Tencent Cloud SMS API 3.0 on the
//! wire (`POST /` with `X-TC-Action`, TC3-HMAC-SHA256 verified, answers in
//! `{"Response": ...}`), keeping every message and producing delivery
//! reports, by `PullSmsSendStatus` or pushed to a callback URL as the
//! platform pushes them. The platform's per-number limits are enforced
//! (configurable), and faults are drawn from one seeded generator.
//!
//! Test endpoints (no signature): `GET /sim/messages` (every message kept:
//! number, template, parameters, serial number, report state),
//! `GET /sim/stats`.

mod api;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use state::Books;
pub use state::{SimMessage, SimReport};

/// SplitMix64: the same seed gives the same faults, so a failing run can be
/// replayed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Probabilities (0..=1) of each fault.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Send the message, then answer only after `timeout_delay` (the
    /// client has given up: a retry sends it again, as at the platform).
    pub timeout: f64,
    /// Answer HTTP 502 without doing anything (a gateway in front failing).
    pub server_error: f64,
    /// Answer `InternalError.Timeout` in `Response.Error` without sending.
    pub internal_error: f64,
    /// Refuse the number with `LimitExceeded.PhoneNumberDailyLimit`.
    pub limit: f64,
    /// The message is sent but its report says FAIL (`UNDELIV`).
    pub delivery_fail: f64,
    /// No report at all for a message.
    pub report_lost: f64,
    /// The report comes twice.
    pub report_duplicate: f64,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    /// Known template ids with their parameter counts (empty: any numeric
    /// id with any parameters).
    pub templates: BTreeMap<String, usize>,
    /// The platform's per-number limits.
    pub limits: crate::Limits,
    pub faults: Faults,
    pub timeout_delay: Duration,
    /// From sending to the phone's report.
    pub report_delay: Duration,
    /// Where reports are pushed (none: they wait for `PullSmsSendStatus`).
    pub callback_url: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            secret_id: "AKIDsmssimtest0000000000000000000000".into(),
            secret_key: "smssimtestsecretkey0000000000000".into(),
            sdk_app_id: "1400000001".into(),
            templates: BTreeMap::new(),
            limits: crate::Limits {
                overall_per_minute: 0,
                ..crate::Limits::default()
            },
            faults: Faults::default(),
            timeout_delay: Duration::from_secs(12),
            report_delay: Duration::from_millis(200),
            callback_url: None,
        }
    }
}

/// Counters for the tests.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SimStats {
    pub requests: u64,
    pub sent: u64,
    pub auth_failures: u64,
    pub refused: u64,
    pub faults_timeout: u64,
    pub faults_server_error: u64,
    pub faults_internal_error: u64,
    pub faults_limit: u64,
    pub reports_made: u64,
    pub reports_lost: u64,
    pub reports_duplicated: u64,
    pub reports_pulled: u64,
    pub reports_pushed: u64,
    pub push_failures: u64,
}

pub struct Sim {
    cfg: SimConfig,
    rng: Mutex<SplitMix64>,
    books: Mutex<Books>,
    stats: Mutex<SimStats>,
    http: reqwest::Client,
    /// Where reports are pushed now (starts as `cfg.callback_url`).
    callback: Mutex<Option<String>>,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Arc<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| panic!("HTTP client for callbacks: {e}"));
        Arc::new(Self {
            rng: Mutex::new(SplitMix64::new(cfg.faults.seed)),
            books: Mutex::new(Books::new(&cfg.limits)),
            callback: Mutex::new(cfg.callback_url.clone()),
            cfg,
            stats: Mutex::new(SimStats::default()),
            http,
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Pushes reports to `url` from now on (None: they wait to be pulled),
    /// as the platform's console setting changes.
    pub fn set_callback_url(&self, url: Option<String>) {
        *self.callback.lock().unwrap_or_else(|e| e.into_inner()) = url;
    }

    pub fn callback_url(&self) -> Option<String> {
        self.callback
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every message kept, oldest first.
    pub fn messages(&self) -> Vec<SimMessage> {
        self.books().messages.clone()
    }

    pub fn router(self: &Arc<Self>) -> axum::Router {
        api::router(self.clone())
    }

    /// Pushes due reports to the callback URL (a batch per round); a batch
    /// the receiver does not take with 2xx is tried again next round.
    async fn push_round(&self, url: &str) {
        let batch = self.books().take_due(chrono::Utc::now(), 100);
        if batch.is_empty() {
            return;
        }
        let body: Vec<_> = batch.iter().map(SimReport::callback).collect();
        let ok = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            self.stat(|s| s.reports_pushed += batch.len() as u64);
        } else {
            self.stat(|s| s.push_failures += 1);
            self.books().put_back(batch);
        }
    }
}

/// Serves on `listener` (and pushes reports when a callback URL is set)
/// until the runtime stops; returns the bound address.
pub async fn spawn(
    sim: Arc<Sim>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<SocketAddr> {
    let addr = listener.local_addr()?;
    let app = sim.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("sms-sim server stopped: {e}");
        }
    });
    tokio::spawn(async move {
        loop {
            if let Some(url) = sim.callback_url() {
                sim.push_round(&url).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Ok(addr)
}
