//! `exam-server`: the central service's command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use exam_server::{Config, db::Db};
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
    /// TOML configuration file (keys: listen, database_url, demo_people,
    /// demo_campus, session_idle_minutes, secure_cookies, log_json).
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
}

#[derive(Debug, Subcommand)]
enum Command {
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
        /// admin, front_desk or group_desk.
        #[arg(long, default_value = "front_desk")]
        role: String,
    },
}

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
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            println!("migrations applied");
        }
        Command::AddKiosk { id, campus, zone } => {
            anyhow::ensure!(
                exam_protocol::auth::valid_kiosk_id(&id),
                "kiosk ids are 1-64 letters, digits, '-' or '_'"
            );
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let secret = exam_protocol::auth::random_token();
            db.add_kiosk(&id, &campus, &zone, &secret).await?;
            println!("{secret}");
        }
        Command::AddUser { username, role } => {
            let role: exam_server::roles::Role = role.parse()?;
            let db = Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let pw = exam_server::create_staff(&db, &username, role, None).await?;
            println!("{pw}");
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
