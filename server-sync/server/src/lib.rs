//! The central exam-workflow service (library side; `main.rs` is the CLI).
//!
//! Modules: [`db`] is the repository layer (SQLite or PostgreSQL),
//! `kiosk_api` every route a kiosk calls (signed, checked in one
//! extractor), `staff` the staff web pages, [`workflow`] the staff JSON API
//! (front desk, group desk, administration), `staff_auth` the staff
//! session both of them use, [`roles`] what each staff role may do,
//! `metrics` the Prometheus counters. [`start`] wires them into a running
//! server.

mod abnormal;
pub mod alarms;
pub mod audit;
pub mod backup;
pub mod booking_codes;
pub mod chief;
pub mod cluster;
pub mod config;
pub mod data_class;
pub mod data_keys;
pub mod db;
pub mod emergency;
mod error;
pub mod fhir;
pub mod finance;
mod http_guard;
pub mod interfaces;
mod kiosk_api;
mod metrics;
pub mod openapi;
mod password;
pub mod payments;
pub mod queue;
pub mod results;
pub mod roles;
pub mod routes;
pub mod sms;
pub mod specimens;
mod staff;
mod staff_auth;
pub mod tls;
mod uploads;
pub mod workflow;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use chrono::{Duration, NaiveTime, Timelike, Utc};
use tokio::sync::{broadcast, oneshot};

pub use config::Config;
use db::Db;
pub use metrics::Metrics;
pub use staff_auth::{LoginGuard, limits, policy, totp};

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
    /// Sign-in limits, captchas and the bound on password hashes (S1).
    pub login: Arc<LoginGuard>,
    /// The audit trail's chain checks and refusal budget in memory (S7).
    pub audit: Arc<audit::AuditState>,
    /// The outside systems' API: rate buckets and refusal limiter (I6, I7).
    pub api: Arc<fhir::ApiState>,
    /// The payment platform's gateway (none configured: unavailable).
    pub payments: Arc<payments::Payments>,
    /// The queue's engines and calls (Q1–Q6).
    pub queue: Arc<queue::Live>,
    /// This instance's name in leases and the change log (issue 21).
    pub instance: cluster::Instance,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Syslog(#[from] audit::syslog::BadTarget),
    /// No data keys, or keys that do not open (issue 17 item 9).
    #[error(transparent)]
    Keys(#[from] exam_vault::VaultError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A setting that cannot be used (named in the message).
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Every route, each with who may call it (`routes::Access`), in the
/// order registered: what the authorization matrix test walks.
pub fn route_table(state: AppState) -> Vec<routes::RouteInfo> {
    all_routes(state).1
}

fn all_routes(state: AppState) -> (Router<AppState>, Vec<routes::RouteInfo>) {
    let mut t = routes::RouteTable::new(state);
    kiosk_api::routes(&mut t);
    staff_auth::routes(&mut t);
    staff::routes(&mut t);
    workflow::routes(&mut t);
    fhir::routes(&mut t);
    openapi::routes(&mut t);
    interfaces::routes(&mut t);
    payments::routes(&mut t);
    finance::page::routes(&mut t);
    sms::routes(&mut t);
    emergency::routes(&mut t);
    queue::api::routes(&mut t);
    queue::pages::routes(&mut t);
    results::routes(&mut t);
    abnormal::routes(&mut t);
    specimens::routes(&mut t);
    chief::routes(&mut t);
    t.get("/healthz", routes::Access::Public, healthz).get(
        "/metrics",
        routes::Access::Metrics,
        alarms::prom::prometheus,
    );
    t.finish()
}

pub fn router(state: AppState) -> Router {
    all_routes(state.clone())
        .0
        // Scanners: a bare 404 for unknown paths, a bare 500 for a panic.
        .fallback(http_guard::not_found)
        // E15: the emergency banner on every staff page while the mode is on.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            emergency::banner,
        ))
        .layer(axum::middleware::from_fn(http_guard::catch_panic))
        // S7: every audit row a request writes names the caller's address.
        .layer(axum::middleware::from_fn(audit::with_source))
        .layer(axum::middleware::map_response(security_headers))
        // no-store unless a route chose its caching, Permissions-Policy, no Server.
        .layer(axum::middleware::map_response(http_guard::harden))
        // Logs name the route's template, never the URI (search terms).
        .layer(http_guard::trace_layer())
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
            "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
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

/// Creates the first administrator when there are no staff accounts. The
/// one-time password is returned for the caller to show once; it must be
/// changed at first login.
pub async fn bootstrap_admin(db: &Db) -> Result<Option<String>, db::DbError> {
    if db.user_count().await? > 0 {
        return Ok(None);
    }
    let pw = password::generate();
    let hash = password::hash(pw.clone()).await;
    db.create_user("system", "admin", &hash, true, roles::Role::Admin, None)
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
    create_staff_at(db, "system", username, role, None, password).await
}

/// [`create_staff`] by `actor`, bound to one `campus` (None: every campus;
/// the caller checks the code against the catalogue).
pub async fn create_staff_at(
    db: &Db,
    actor: &str,
    username: &str,
    role: roles::Role,
    campus: Option<&str>,
    password: Option<String>,
) -> Result<String, db::DbError> {
    let must_change = password.is_none();
    let pw = password.unwrap_or_else(password::generate);
    let hash = password::hash(pw.clone()).await;
    db.create_user(actor, username, &hash, must_change, role, campus)
        .await?;
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

/// The `prune` job's turn: stale staff sessions ended, nonces past twice
/// the allowed skew deleted, face templates past retention deleted,
/// no-shows released.
async fn prune(st: &AppState) {
    let cutoff = Utc::now() - Duration::milliseconds(2 * exam_protocol::auth::MAX_SKEW_MS);
    if let Err(e) = staff_auth::end_stale_sessions(&st.db, &st.config).await {
        tracing::warn!(error = %e, "ending stale staff sessions failed");
    }
    if let Err(e) = st.db.prune_nonces(cutoff).await {
        tracing::warn!(error = %e, "nonce pruning failed");
    }
    // K3: face templates a year past the person's last visit.
    match st.db.prune_face_templates(Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "face templates past their retention deleted"),
        Err(e) => tracing::warn!(error = %e, "pruning face templates failed"),
    }
    // Visits committed without their change number (issue 21: PostgreSQL
    // stamps a new visit after its commit; a crash between leaves 0).
    match st
        .db
        .stamp_unstamped(&st.catalogue.get().campus_codes())
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(stamped = n, "visits without a change number stamped"),
        Err(e) => tracing::warn!(error = %e, "stamping visits without a change number failed"),
    }
    let grace = Duration::minutes(st.config.no_show_grace_minutes);
    match st.db.release_no_shows(workflow::now_local(), grace).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "no-show bookings released"),
        Err(e) => tracing::warn!(error = %e, "releasing no-shows failed"),
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// Where the plain-HTTP redirect listener is (`http_redirect_listen`).
    pub redirect_addr: Option<SocketAddr>,
    /// Serving HTTPS (`tls_cert` and `tls_key` set).
    pub tls: bool,
    pub state: AppState,
    /// Set when this start created the first administrator.
    pub admin_password: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// The chain check and the syslog copy.
    audit_tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

pub async fn start(mut config: Config) -> Result<Server, StartError> {
    // No plaintext off loopback, decided before anything is touched: the
    // service's own HTTP and its link to PostgreSQL.
    let tls_files = tls::transport(&config)?;
    // Personal data at rest: no store without its keys, which also open a
    // sealed database URL (issue 17 item 9, S2).
    let keys = Arc::new(data_keys::load(&config)?);
    let database_url = data_keys::database_url(&config.database_url, &keys)?;
    tls::check_database_url(&database_url)?;
    if tls_files.is_some() {
        // The session cookie never travels in clear once HTTPS is on.
        config.secure_cookies = true;
    }
    if let Some(t) = &config.syslog_target {
        t.parse::<audit::syslog::Target>()?;
    }
    alarms::prom::parse_allow(&config.metrics_allow).map_err(StartError::Config)?;
    if let Some(u) = &config.public_url {
        queue::check_public_url(u).map_err(StartError::Config)?;
    }
    // I1-I3: an adapter named but not built stops the start (orders would
    // queue unseen otherwise).
    let adapters = interfaces::adapter::from_config(&config.interfaces)
        .map_err(|e| StartError::Config(e.to_string()))?;
    let mut db = Db::connect(&database_url, keys).await?;
    if !config.group_commit {
        db = db.without_group_commit();
    }
    if config.migrate_on_start {
        db.migrate().await?;
    } else {
        // The owner migrates; this role may not (and never runs unguarded).
        db.check_schema().await?;
    }
    // Before any id is made: this instance's id node (issue 21).
    let instance = cluster::Instance::new();
    let node = cluster::node::claim(&db, &instance).await?;
    tracing::info!(instance = %instance.name, node, "id node held");
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
    // A bad certificate stops the start here; later a bad one is refused
    // and the running one kept.
    let reloading = match tls_files {
        Some(files) => Some(tls::load_and_watch(
            files,
            std::time::Duration::from_secs(config.tls_reload_seconds.max(1)),
        )?),
        None => None,
    };
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
    let redirect = match config.http_redirect_listen {
        Some(at) => {
            let bind_err = |source| StartError::Bind { addr: at, source };
            let l = tokio::net::TcpListener::bind(at).await.map_err(bind_err)?;
            let local = l.local_addr().map_err(bind_err)?;
            Some((l, local))
        }
        None => None,
    };
    let redirect_addr = redirect.as_ref().map(|(_, a)| *a);
    // K16: the gateway needs this service's address (the default notify URL).
    let own_url = format!(
        "{}://{addr}",
        if reloading.is_some() { "https" } else { "http" }
    );
    let payments = payments::Payments::from_config(&config.payment, &db.keys, &own_url)
        .map_err(StartError::Config)?;
    let state = AppState {
        db: db.clone(),
        metrics: Arc::new(Metrics::default()),
        changed: broadcast::channel(64).0,
        login: Arc::new(LoginGuard::new(&config.accounts)),
        config: Arc::new(config),
        catalogue,
        progress: workflow::Progress::default(),
        audit: Arc::default(),
        api: Arc::default(),
        payments: Arc::new(payments),
        queue: Arc::default(),
        instance,
    };
    // The syslog copy's cursor is set before the start is recorded, so the
    // collector gets that row.
    let mut audit_tasks = audit::spawn_background(&state).await?;
    // 8.7.6: the system's start and stop are in the trail.
    db.audit_event(
        &audit::AuditEvent::new(audit::Category::System, "system", "system.start")
            .source("local")
            .detail(format!(
                "exam-server {} on {:?}",
                env!("CARGO_PKG_VERSION"),
                db.backend
            )),
    )
    .await?;
    // S9: the backup schedule, stopped with the audit tasks.
    audit_tasks.extend(backup::schedule::spawn(&state, &database_url));
    // S8: alarms raised and cleared go to the log and the audit trail.
    audit_tasks.push(alarms::spawn_watch(&state));
    // I1-I3: a sender per configured counterpart (none: messages wait).
    audit_tasks.extend(
        interfaces::engine::spawn(&db, &state.config.interfaces, adapters)
            .map_err(StartError::Config)?,
    );
    // I1: HIS's prices fetched every `price_sync_minutes` (HIS configured).
    audit_tasks.extend(
        interfaces::price_sync::spawn(&state)
            .map_err(|e| StartError::Config(format!("[interfaces.counterparts.his]: {e}")))?,
    );
    // K16: orders queried and closed, refunds sent, the daily bill.
    audit_tasks.extend(payments::spawn(&state));
    // E15: an ending emergency episode closes once its queue has drained.
    audit_tasks.push(emergency::spawn(&state));
    // Q1: registered and checked-in visits join the queue by themselves.
    audit_tasks.push(queue::spawn(&state));
    // Issue 21: the id node kept; other instances' changes wake our pages.
    audit_tasks.push(cluster::node::keep(&db, &state.instance, node));
    audit_tasks.push(cluster::feed::spawn(&state));
    audit_tasks.push(staff_auth::shared::spawn(&state));
    let n = workflow::backfill_initials(&db).await?;
    if n > 0 {
        tracing::info!(people = n, "pinyin initials computed");
    }
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(state.clone());
    let tls_on = reloading.is_some();
    let app = if tls_on {
        app.layer(axum::middleware::map_response(tls::hsts))
    } else {
        app
    };
    // Once across instances (leases, issue 21): sessions nobody came back to
    // get their end in the login history; nonces past the skew are pruned;
    // no-shows released; the change log trimmed.
    audit_tasks.push(
        cluster::lease::Job::new("prune", std::time::Duration::from_secs(60))
            .spawn(&state, |st| async move { prune(&st).await }),
    );
    audit_tasks.push(
        cluster::lease::Job::new("change_log", std::time::Duration::from_secs(60)).spawn(
            &state,
            |st| async move {
                if let Err(e) = cluster::feed::prune(&st).await {
                    tracing::warn!(error = %e, "pruning the change log failed");
                }
                if let Err(e) = staff_auth::shared::prune(&st).await {
                    tracing::warn!(error = %e, "pruning the sign-in events failed");
                }
            },
        ),
    );
    let task = tokio::spawn(async move {
        let stop = async {
            let _ = rx.await;
        };
        let serve = async move {
            match reloading {
                Some(r) => {
                    let tls = tls::TlsListener::new(listener, r.config.clone())?;
                    serve_on(tls, app, stop).await
                }
                None => serve_on(listener, app, stop).await,
            }
        };
        let redirect = async move {
            let Some((l, _)) = redirect else {
                return std::future::pending().await;
            };
            if let Err(e) = axum::serve(l, tls::redirect_router(addr.port())).await {
                tracing::error!(error = %e, "the HTTP redirect listener stopped");
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            r = serve => if let Err(e) = r { tracing::error!(error = %e, "server stopped") },
            () = redirect => {}
        }
    });
    tracing::info!(%addr, tls = tls_on, ?redirect_addr, backend = ?db.backend, "exam-server listening");
    Ok(Server {
        addr,
        redirect_addr,
        tls: tls_on,
        state,
        admin_password,
        shutdown: Some(tx),
        task,
        audit_tasks,
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
        let stopped = audit::AuditEvent::new(audit::Category::System, "system", "system.stop")
            .source("local");
        if let Err(e) = self.state.db.audit_event(&stopped).await {
            tracing::error!(error = %e, "could not record the stop in the audit trail");
        }
        // PostgreSQL: the lines still waiting get their place now, the stop's
        // among them (another instance's chainer would place them too).
        if let Err(e) = self.state.db.chain_pending().await {
            tracing::warn!(error = %e, "placing the last audit lines failed");
        }
        // Rows the syslog copy has not taken yet go at the next start: its
        // cursor is kept in the store.
        for t in &self.audit_tasks {
            t.abort();
        }
        // Another instance may take our node and leases at once.
        let me = &self.state.instance;
        if let Err(e) = self.state.db.release_leases_of(&me.name).await {
            tracing::warn!(error = %e, "releasing this instance's leases failed");
        }
        self.state.db.close().await;
    }

    /// The service's base URL: https:// when TLS is on.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

/// Serves `app` on `listener` (plain TCP or TLS alike) until `stop`; the
/// peer's address is there for handlers as `ConnectInfo<SocketAddr>`.
async fn serve_on<L>(
    listener: L,
    app: Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    use axum::serve::ListenerExt;
    axum::serve(
        listener.tap_io(|_| {}),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}
