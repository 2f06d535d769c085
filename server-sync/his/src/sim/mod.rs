//! The HIS simulator: both styles a hospital runs, over real HTTP, on one
//! port, with real state (`state`) and seeded faults (`faults`).
//!
//! - `GET  /his/soap?wsdl`: the WSDL, its address pointing here;
//! - `POST /his/soap`: SOAP 1.1 document/literal (`soap`);
//! - `/his/api/v1/...`: the REST / JSON API (`rest`);
//! - `/sim/...`: the test's controls: `GET /sim/bookings`, `POST
//!   /sim/outage?on=true|false`, `POST /sim/faults` (a `FaultConfig`),
//!   `POST /sim/price-change`. Test-only: bind it to loopback.

pub mod faults;
mod http;
mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Decision, FaultConfig, FaultKind, FaultPlan};
pub use state::{Booking, HisState, Refusal};

#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    pub faults: FaultConfig,
    /// When the scheduled price change (version 2) takes effect, after
    /// start; `None`: only on `POST /sim/price-change`.
    pub price_change_after: Option<Duration>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    state: Mutex<HisState>,
    plan: Mutex<FaultPlan>,
    started: Instant,
    price_change_after: Mutex<Option<Duration>>,
    outage: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a handler must not take the simulator down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn new(config: SimConfig) -> Self {
        Self {
            state: Mutex::new(HisState::seeded(now())),
            plan: Mutex::new(FaultPlan::new(config.faults)),
            started: Instant::now(),
            price_change_after: Mutex::new(config.price_change_after),
            outage: AtomicBool::new(false),
        }
    }

    /// HIS is down: an outage window of the plan or the test's switch.
    fn down(&self) -> bool {
        self.outage.load(Ordering::SeqCst) || lock(&self.plan).in_outage(self.started.elapsed())
    }

    fn apply_due_price_change(&self) {
        let mut due = lock(&self.price_change_after);
        if due.is_some_and(|d| self.started.elapsed() >= d) {
            *due = None;
            lock(&self.state).scheduled_change(now());
        }
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct Sim {
    inner: Arc<Inner>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Sim {
    /// Serves on `listener` until dropped.
    pub fn start(listener: TcpListener, config: SimConfig) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner::new(config));
        let served = inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let inner = served.clone();
                tokio::spawn(routes::serve(inner, stream));
            }
        });
        Ok(Self { inner, addr, task })
    }

    /// On an ephemeral loopback port.
    pub async fn start_local(config: SimConfig) -> std::io::Result<Self> {
        Self::start(TcpListener::bind("127.0.0.1:0").await?, config)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn soap_endpoint(&self) -> String {
        format!("http://{}/his/soap", self.addr)
    }

    pub fn wsdl_url(&self) -> String {
        format!("http://{}/his/soap?wsdl", self.addr)
    }

    pub fn rest_base(&self) -> String {
        format!("http://{}/his/api/v1", self.addr)
    }

    pub fn bookings(&self) -> Vec<Booking> {
        lock(&self.inner.state).bookings().to_vec()
    }

    pub fn set_outage(&self, down: bool) {
        self.inner.outage.store(down, Ordering::SeqCst);
    }

    pub fn set_faults(&self, config: FaultConfig) {
        *lock(&self.inner.plan) = FaultPlan::new(config);
    }

    pub fn change_prices_now(&self) {
        lock(&self.inner.state).scheduled_change(now());
    }

    /// Direct access to the books, for tests that set up or inspect.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut HisState) -> T) -> T {
        f(&mut lock(&self.inner.state))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// HIS's clock, in whole seconds: what both styles carry (xs:dateTime as we
/// write it has no fraction), so an answer reads the same in either.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
