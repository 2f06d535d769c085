//! The central exam-workflow service (library side; `main.rs` is the CLI).
//!
//! Modules: [`db`] is the repository layer (SQLite or PostgreSQL),
//! `kiosk_api` every route a kiosk calls (signed, checked in one
//! extractor), `staff` the staff web pages, [`workflow`] the staff JSON API
//! (front desk, group desk, administration), `staff_auth` the staff
//! session both of them use, [`roles`] what each staff role may do,
//! `metrics` the Prometheus counters. [`start`] wires them into a running
//! server.

pub mod config;
pub mod db;
mod error;
mod kiosk_api;
mod metrics;
mod password;
pub mod roles;
mod staff;
mod staff_auth;
pub mod workflow;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::{Router, routing::get};
use chrono::{Duration, NaiveTime, Timelike, Utc};
use tokio::sync::{broadcast, oneshot};

pub use config::Config;
use db::Db;
pub use metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub metrics: Arc<Metrics>,
    /// Signalled when registrations arrive, to wake the staff page's streams.
    pub changed: broadcast::Sender<()>,
    pub config: Arc<Config>,
    /// The dictionaries, loaded at start.
    pub catalogue: workflow::CatalogueCell,
    /// Roster imports in progress (for the group desk's progress bar).
    pub progress: workflow::Progress,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(kiosk_api::routes())
        .merge(staff_auth::routes())
        .merge(staff::routes())
        .merge(workflow::routes(state.clone()))
        .route("/healthz", get(healthz))
        .route("/metrics", get(prometheus))
        .layer(axum::middleware::map_response(security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    res
}

async fn healthz(State(st): State<AppState>) -> impl IntoResponse {
    match st.db.user_count().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "store unavailable",
        ),
    }
}

async fn prometheus(State(st): State<AppState>) -> impl IntoResponse {
    let backlogs = st
        .db
        .kiosks()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| Some((k.id, k.backlog?)))
        .collect::<Vec<_>>();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&backlogs),
    )
}

/// Creates the first administrator when there are no staff accounts. The
/// one-time password is returned for the caller to show once; it must be
/// changed at first login.
pub async fn bootstrap_admin(db: &Db) -> Result<Option<String>, db::DbError> {
    if db.user_count().await? > 0 {
        return Ok(None);
    }
    let pw = password::generate();
    db.create_user("admin", &password::hash(pw.clone()).await, true)
        .await?;
    Ok(Some(pw))
}

/// Creates a staff account with `role`; with `password` None a one-time
/// password is generated (and returned) that must be changed at first login.
pub async fn create_staff(
    db: &Db,
    username: &str,
    role: roles::Role,
    password: Option<String>,
) -> Result<String, db::DbError> {
    let must_change = password.is_none();
    let pw = password.unwrap_or_else(password::generate);
    db.create_user(username, &password::hash(pw.clone()).await, must_change)
        .await?;
    db.set_role(username, role).await?;
    Ok(pw)
}

/// Seeds today's demo bookings (idempotent: the same people each time).
pub async fn seed_demo(db: &Db, people: usize, campus: &str) -> Result<usize, db::DbError> {
    let now = Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .naive_local();
    // Half-hour slots from three hours ago to an hour ahead: most patients
    // can check in now, a few are too early (K8) and are told when to come.
    let half_hour = |i: u32| NaiveTime::from_hms_opt(i / 2, 30 * (i % 2), 0).expect("valid slot");
    let now_idx = now.time().hour() * 2 + u32::from(now.time().minute() >= 30);
    let (first, last) = (
        half_hour(now_idx.saturating_sub(6)),
        half_hour((now_idx + 2).min(47)),
    );
    let day = exam_domain::demo::generate(
        exam_domain::demo::DEMO_SEED,
        people,
        now.date(),
        first,
        last,
        campus,
    );
    db.insert_bookings(&day.people, &day.bookings).await
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Set when this start created the first administrator.
    pub admin_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

pub async fn start(config: Config) -> Result<Server, StartError> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let admin_password = bootstrap_admin(&db).await?;
    if db
        .seed_catalogue(&exam_domain::catalogue::seed::catalogue())
        .await?
    {
        tracing::info!("dictionaries seeded with the demo catalogue");
    }
    let catalogue = workflow::CatalogueCell::new(db.load_catalogue().await?);
    if config.demo_people > 0 {
        let n = seed_demo(&db, config.demo_people, &config.demo_campus).await?;
        tracing::info!(inserted = n, "demo bookings seeded");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let state = AppState {
        db: db.clone(),
        metrics: Arc::new(Metrics::default()),
        changed: broadcast::channel(64).0,
        config: Arc::new(config),
        catalogue,
        progress: workflow::Progress::default(),
    };
    let n = workflow::backfill_initials(&db).await?;
    if n > 0 {
        tracing::info!(people = n, "pinyin initials computed");
    }
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(state.clone());
    let pruner_db = db.clone();
    let no_show_grace = state.config.no_show_grace_minutes;
    let task = tokio::spawn(async move {
        let prune = async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                let cutoff =
                    Utc::now() - Duration::milliseconds(2 * exam_protocol::auth::MAX_SKEW_MS);
                if let Err(e) = pruner_db.prune_nonces(cutoff).await {
                    tracing::warn!(error = %e, "nonce pruning failed");
                }
                let grace = Duration::minutes(no_show_grace);
                match pruner_db
                    .release_no_shows(workflow::now_local(), grace)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(released = n, "no-show bookings released"),
                    Err(e) => tracing::warn!(error = %e, "releasing no-shows failed"),
                }
            }
        };
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        tokio::select! {
            r = serve => if let Err(e) = r { tracing::error!(error = %e, "server stopped") },
            () = prune => {}
        }
    });
    tracing::info!(%addr, backend = ?db.backend, "exam-server listening");
    Ok(Server {
        addr,
        state,
        admin_password,
        shutdown: Some(tx),
        task,
    })
}

impl Server {
    /// Stops accepting, lets open requests finish, closes the store.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // SSE streams never end by themselves: give requests a moment, then cut.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), &mut self.task).await;
        self.task.abort();
        self.state.db.close().await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
