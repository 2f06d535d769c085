//! `exam-server`: the central service's command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use exam_server::Config;
use serde::Serialize;

/// The central exam-workflow service of the health-examination centre:
/// kiosk sync API, bookings and the staff web UI.
///
/// Settings come from defaults, then the TOML file given with --config, then
/// EXAM_* environment variables (EXAM_DATABASE_URL, EXAM_LISTEN, ...), then
/// these flags.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// TOML configuration file (keys: listen, database_url, data_key_file, demo_people,
    /// demo_campus, session_idle_minutes, secure_cookies, tls_cert, tls_key,
    /// tls_reload_seconds, http_redirect_listen, log_json).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    flags: Flags,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Flags that override the configuration file and environment.
#[derive(Debug, clap::Args, Serialize)]
struct Flags {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<std::net::SocketAddr>,
    /// Store: sqlite://FILE (embedded, default sqlite://exam-server.db) or
    /// postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    /// Seed this many demo people with bookings for today (idempotent).
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    demo_people: Option<usize>,
    /// Log JSON lines instead of text.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    log_json: bool,
    /// The data key file (mode 600) that seals personal data in the store;
    /// else the key text in EXAM_DATA_KEY. Required.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_key_file: Option<PathBuf>,
    /// HTTPS certificate chain, PEM (leaf first); with --tls-key. Without
    /// them the service listens on a loopback address only.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert, PEM.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_key: Option<PathBuf>,
    /// A plain-HTTP address whose only answer is a redirect to HTTPS.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    http_redirect_listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a new data key file (mode 600) for personal data at rest, or
    /// with --add put a new data key into an existing one (rotation: new
    /// data is sealed with it; run `rekey` to reseal the old). The keys are
    /// never printed.
    GenDataKey {
        /// The key file to write (refused when it exists, unless --add).
        #[arg(long)]
        out: PathBuf,
        /// Add a data key to the existing file instead.
        #[arg(long)]
        add: bool,
    },
    /// Reseal every personal datum sealed under an older data key with the
    /// newest one (after `gen-data-key --add`).
    Rekey,
    /// Seal a configuration secret (the database URL) with the data keys:
    /// reads it from standard input (not the command line, which shells
    /// keep) and prints `sealed:v1:...` for `database_url`.
    SealSecret,
    /// Run the service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Register a kiosk (or re-issue its enrolment) and print its one-time
    /// enrolment secret, to be given to the kiosk at provisioning.
    AddKiosk {
        /// Kiosk id: letters, digits, '-' or '_', e.g. K-LOBBY-01.
        #[arg(long)]
        id: String,
        /// Campus whose bookings the kiosk caches.
        #[arg(long, default_value = "main")]
        campus: String,
        /// Zone within the campus (exam area, report pickup, outpatient).
        #[arg(long, default_value = "lobby")]
        zone: String,
    },
    /// Create a staff account and print its one-time password (changed at
    /// first login).
    AddUser {
        #[arg(long)]
        username: String,
        /// admin, front_desk, desk_supervisor, group_desk, finance (财务: the
        /// payments' books), auditor (审计员: reads the audit trail only),
        /// guide (导诊: the guide desk) or doctor (医生: the doctor station).
        #[arg(long, default_value = "front_desk")]
        role: String,
        /// Bind the account to one campus (its code): its desk, queue pages
        /// and figures are that campus's. Without: every campus.
        #[arg(long)]
        campus: Option<String>,
    },
    /// Register an outside system as a client of the FHIR API (I6, I7) and
    /// print its client id and secret (shown once; the store keeps a hash).
    AddApiClient {
        /// Who it is, e.g. "集成平台".
        #[arg(long)]
        name: String,
        /// Granted scopes, repeated: system/<Resource>.read or system/*.read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// masked (ID number, name, mobile masked; birth year only) or full.
        #[arg(long, default_value = "masked")]
        identity: String,
        /// Addresses and CIDR prefixes it may call from, comma-separated (* any).
        #[arg(long)]
        allow_from: String,
        /// Requests a minute.
        #[arg(long, default_value_t = 120)]
        rate_per_minute: u32,
    },
    /// Recompute the audit trail's hash chain (S7) and name the first row
    /// where it breaks; exits with status 1 when it is broken (for a
    /// scheduled check). The check itself is written to the trail.
    AuditVerify,
    /// Back up the store (S9) into --dir or backup_dir: sealed with the data
    /// keys, with a manifest of every table's rows and checksum beside it.
    Backup {
        /// full, incremental (the pages or rows changed since the newest
        /// full backup) or auto (what the schedule would take today).
        #[arg(long, value_enum, default_value = "auto")]
        kind: exam_server::backup::cli::Which,
        /// Directory to write into (default: backup_dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Restore a backup into an EMPTY store (a new PostgreSQL database or a
    /// SQLite file that does not exist yet); an incremental backup brings its
    /// full backup from the same directory. Checked table by table against
    /// the backup's manifest.
    Restore {
        /// The backup file (or its .json manifest).
        #[arg(long)]
        from: PathBuf,
        /// The store to restore into: sqlite://FILE or postgres://...
        #[arg(long)]
        into: String,
    },
    /// Compare every table's row count and checksum of the configured store
    /// with another (--against, e.g. a restored copy), or check that a backup
    /// file is intact and opens (--file). Exits with status 1 on a difference.
    VerifyBackup {
        #[arg(long)]
        against: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Write a development CA (ca.pem) and a server certificate signed by it
    /// (server.pem, server-key.pem) into DIR, for the demo, tests and trials.
    /// Production certificates come from the hospital's CA.
    TlsDevCert {
        /// Directory to write into (created).
        #[arg(long)]
        out: PathBuf,
        /// Names the certificate is for: DNS names or IP addresses, repeated
        /// [default: localhost 127.0.0.1 ::1].
        #[arg(long = "host")]
        hosts: Vec<String>,
    },
}

/// mimalloc instead of glibc's malloc: the service allocates and frees
/// many small buffers per request on every worker thread (README,
/// Measured: the desk under load).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config =
        Config::load(cli.config.as_deref(), &cli.flags).context("reading the configuration")?;
    init_logs(config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let server = exam_server::start(config).await?;
            if let Some(pw) = &server.admin_password {
                // Printed once on the console, never logged.
                println!(
                    "\nFirst start: created staff account 'admin' with one-time password {pw}\n\
                     Sign in at {}/login and change it.\n",
                    server.url()
                );
            }
            println!("exam-server listening on {}", server.url());
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            server.stop().await;
        }
        Command::Migrate => {
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            println!("migrations applied");
        }
        Command::AddKiosk { id, campus, zone } => {
            anyhow::ensure!(
                exam_protocol::auth::valid_kiosk_id(&id),
                "kiosk ids are 1-64 letters, digits, '-' or '_'"
            );
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            let secret = exam_protocol::auth::random_token();
            db.add_kiosk(&id, &campus, &zone, &secret).await?;
            println!("{secret}");
        }
        Command::AuditVerify => {
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            let check = exam_server::audit::verify_and_record(&db, "cli").await?;
            println!("{check}");
            if !check.is_intact() {
                std::process::exit(1);
            }
        }
        Command::AddApiClient {
            name,
            scopes,
            identity,
            allow_from,
            rate_per_minute,
        } => {
            let form = exam_server::fhir::clients::NewClientForm {
                name,
                scopes,
                identity: Some(identity),
                allow_from,
                rate_per_minute: Some(rate_per_minute),
            };
            let c = form.check().map_err(anyhow::Error::msg)?;
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            let (client, secret) = exam_server::fhir::clients::register(&db, "system", &c).await?;
            println!("client_id     {}", client.client_id);
            println!("client_secret {secret}");
            println!("token         POST /fhir/token (grant_type=client_credentials, HTTP Basic)");
        }
        Command::AddUser {
            username,
            role,
            campus,
        } => {
            let role: exam_server::roles::Role = role.parse()?;
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            if let Some(c) = &campus {
                // A new store's first account: its dictionaries as the
                // service would seed them at its first start.
                db.seed_catalogue(&exam_domain::catalogue::seed::catalogue())
                    .await?;
                let cat = db.load_catalogue().await?;
                anyhow::ensure!(
                    cat.campuses.iter().any(|x| &x.code == c),
                    "no campus {c:?} in the catalogue ({})",
                    cat.campus_codes().join(", ")
                );
            }
            let pw = exam_server::create_staff_at(
                &db,
                "system",
                &username,
                role,
                campus.as_deref(),
                None,
            )
            .await?;
            println!("{pw}");
        }
        Command::GenDataKey { out, add } => {
            if add {
                let mut keys = exam_vault::KeyRing::load_file(&out)?;
                let id = keys.rotate()?;
                keys.replace_file(&out)?;
                println!(
                    "data key {id} added to {}: new data is sealed with it; \
                     run `exam-server rekey` to reseal older data",
                    out.display()
                );
            } else {
                exam_vault::KeyRing::generate()?.write_new_file(&out)?;
                println!(
                    "data keys written to {} (mode 600): set data_key_file to it, and keep a \
                     copy apart from the store's backups (without it the data cannot be read)",
                    out.display()
                );
            }
        }
        Command::Rekey => {
            let db = exam_server::data_keys::open_store(&config).await?;
            db.migrate().await?;
            let done = db.rekey().await?;
            println!(
                "resealed with the newest data key: {} people, {} other values",
                done.people, done.values
            );
        }
        Command::SealSecret => {
            let keys = exam_server::data_keys::load(&config)?;
            let mut secret = String::new();
            std::io::stdin()
                .read_line(&mut secret)
                .context("reading the secret from standard input")?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!secret.is_empty(), "no secret on standard input");
            println!("{}", keys.seal_config(secret)?);
        }
        Command::Backup { kind, dir } => {
            let keys = std::sync::Arc::new(exam_server::data_keys::load(&config)?);
            let url = exam_server::data_keys::database_url(&config.database_url, &keys)?;
            let m = exam_server::backup::cli::backup(&config, &keys, &url, kind, dir).await?;
            println!("{}", exam_server::backup::cli::describe(&m));
        }
        Command::Restore { from, into } => {
            let keys = std::sync::Arc::new(exam_server::data_keys::load(&config)?);
            let into = exam_server::data_keys::database_url(&into, &keys)?;
            let m = exam_server::backup::restore(&from, &keys, &into).await?;
            println!(
                "restored {}; every table checked against its manifest",
                exam_server::backup::cli::describe(&m)
            );
        }
        Command::VerifyBackup { against, file } => {
            let keys = std::sync::Arc::new(exam_server::data_keys::load(&config)?);
            anyhow::ensure!(
                against.is_some() || file.is_some(),
                "give --against <database_url> or --file <backup>"
            );
            if let Some(file) = file {
                println!(
                    "{}",
                    exam_server::backup::cli::check_file(&file, &keys).await?
                );
            }
            if let Some(other) = against {
                let live = exam_server::data_keys::database_url(&config.database_url, &keys)?;
                let other = exam_server::data_keys::database_url(&other, &keys)?;
                let diff = exam_server::backup::compare_stores(&live, &other).await?;
                let (text, same) =
                    exam_server::backup::cli::render_comparison(&diff, "live", "other");
                print!("{text}");
                if !same {
                    std::process::exit(1);
                }
            }
        }
        Command::TlsDevCert { out, hosts } => {
            let today = chrono::Utc::now().date_naive();
            let pki = exam_server::tls::dev::issue(&hosts, today)?;
            let files = pki.write(&out)?;
            println!(
                "development CA      {}\nserver certificate  {} (for {})\nserver key          {}\n\n\
                 exam-server --tls-cert {} --tls-key {}\n\
                 kiosks: server_ca = \"{}\" (device file) or KIOSK_SERVER_CA\n\
                 For development only: production certificates come from the hospital's CA.",
                files.ca.display(),
                files.cert.display(),
                pki.hosts.join(", "),
                files.key.display(),
                files.cert.display(),
                files.key.display(),
                files.ca.display(),
            );
        }
    }
    Ok(())
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
