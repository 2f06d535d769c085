//! The `kiosk` command line. This build runs headless (the touch UI is the
//! next milestone): it enrols, syncs, and plays a script of patients
//! through the real check-in core.

use std::path::PathBuf;
use std::time::Duration;

use crate::runner::{self, KioskOptions};
use crate::script;
use anyhow::Context;
use clap::{Parser, Subcommand};
use sync_client::AgentConfig;

/// Self-service check-in kiosk of the health-examination centre.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run headless: enrol on first start, sync in the background, and play
    /// patients from a script or the demo deck.
    Run(Box<RunArgs>),
    /// Show the journal's state: enrolment, backlog, cache.
    Status {
        /// The kiosk's journal (SQLite file on the data partition).
        #[arg(long, env = "KIOSK_JOURNAL", default_value = "kiosk-journal.db")]
        journal: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The kiosk's journal (SQLite file on the data partition).
    #[arg(long, env = "KIOSK_JOURNAL", default_value = "kiosk-journal.db")]
    journal: PathBuf,
    /// Central service URL, needed for the first enrolment only.
    #[arg(long, env = "KIOSK_SERVER")]
    server: Option<String>,
    /// This kiosk's id, as registered with `exam-server add-kiosk`.
    #[arg(long, env = "KIOSK_ID")]
    kiosk_id: Option<String>,
    /// One-time enrolment secret printed by `exam-server add-kiosk`.
    #[arg(long, env = "KIOSK_ENROL_SECRET", hide_env_values = true)]
    enrol_secret: Option<String>,
    /// Script of patients (see kiosk-app/src/script.rs for the format).
    #[arg(long, conflicts_with = "demo_people")]
    script: Option<PathBuf>,
    /// Play the demo deck: this many of the server's demo people arrive.
    #[arg(long)]
    demo_people: Option<usize>,
    /// Milliseconds between demo patients.
    #[arg(long, default_value_t = 1500)]
    interval_ms: u64,
    /// After the script, wait until the server has every event and every
    /// print job is printed, then exit
    /// (otherwise keep syncing until Ctrl-C).
    #[arg(long)]
    exit_when_drained: bool,
    /// Serial device of the ID card reader (or a simulator's pseudo-terminal).
    #[arg(long, env = "KIOSK_IDCARD")]
    idcard: Option<String>,
    /// Baud rate of the ID card reader.
    #[arg(long, default_value_t = 115_200)]
    idcard_baud: u32,
    /// Serial device of the code scanner (or a simulator's pseudo-terminal).
    #[arg(long, env = "KIOSK_SCANNER")]
    scanner: Option<String>,
    /// Baud rate of the code scanner.
    #[arg(long, default_value_t = 9600)]
    scanner_baud: u32,
    /// Watch PC/SC readers (pcscd) for social security cards.
    #[arg(long, env = "KIOSK_SMARTCARD")]
    smartcard: bool,
    /// Receipt printer: tcp://HOST:9100 or a serial device. Guide sheets are
    /// printed only when one is given.
    #[arg(long, env = "KIOSK_RECEIPT_PRINTER")]
    receipt_printer: Option<String>,
    /// Seconds between cache pulls and between heartbeats.
    #[arg(long, default_value_t = 30)]
    sync_every_s: u64,
}

/// Entry point of the `kiosk` binary (also built by the end-to-end tests).
pub fn main() -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async_main())
}

async fn async_main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run(a) => run(*a).await,
        Command::Status { journal } => {
            let j = offline_store::Journal::open(&journal)?;
            let e = crate::settings::load(&j)?;
            println!(
                "enrolled: {}",
                e.as_ref().map_or("no".into(), |e| format!(
                    "{} at {} (campus {})",
                    e.key.kiosk_id, e.server_url, e.campus
                ))
            );
            println!("backlog: {:?}", j.backlog()?);
            println!("cache: {:?}", j.cache_stats()?);
            Ok(())
        }
    }
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    let steps = match (&a.script, a.demo_people) {
        (Some(path), _) => script::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )?,
        (None, Some(n)) => {
            let today = chrono::Utc::now()
                .with_timezone(&exam_domain::centre_offset())
                .date_naive();
            let (t0, t1) = (
                chrono::NaiveTime::MIN,
                chrono::NaiveTime::from_hms_opt(23, 30, 0).expect("valid"),
            );
            let day =
                exam_domain::demo::generate(exam_domain::demo::DEMO_SEED, n, today, t0, t1, "main");
            script::demo_deck(
                &day,
                a.interval_ms,
                today.to_string().len() as u64 + n as u64,
            )
        }
        (None, None) => Vec::new(),
    };
    let every = Duration::from_secs(a.sync_every_s.max(1));
    let kiosk = runner::start(KioskOptions {
        journal: a.journal,
        server_url: a.server,
        kiosk_id: a.kiosk_id,
        enrol_secret: a.enrol_secret,
        agent: AgentConfig {
            pull_every: every,
            heartbeat_every: every,
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_millis(1500),
        receipt_printer: a.receipt_printer,
    })
    .await?;
    println!(
        "kiosk {} ready (campus {})",
        kiosk.enrolment.key.kiosk_id, kiosk.enrolment.campus
    );
    if a.idcard.is_some() || a.scanner.is_some() || a.smartcard {
        // Devices and the script feed one input stream; runs until Ctrl-C.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let _reader = a
            .idcard
            .as_ref()
            .map(|p| crate::devices::start_idcard(p, a.idcard_baud, tx.clone()));
        let _scanner = a
            .scanner
            .as_ref()
            .map(|p| crate::devices::start_scanner(p, a.scanner_baud, tx.clone()));
        tokio::spawn(async move {
            for step in steps {
                match step {
                    script::Step::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    script::Step::Identify(q) => {
                        let _ = tx.send(crate::devices::Input::Identify(q));
                    }
                }
            }
        });
        let mut stdout = std::io::stdout();
        tokio::select! {
            r = runner::serve(&kiosk.core, &kiosk.devices, rx, &mut stdout) => { r?; }
            _ = tokio::signal::ctrl_c() => {}
        }
        kiosk.stop().await;
        return Ok(());
    }
    let outcome = runner::play(&kiosk.core, &steps, &mut std::io::stdout()).await?;
    println!("script done: {outcome:?}");
    if a.exit_when_drained {
        while !kiosk.drain(Duration::from_secs(3600)).await? {}
        println!("drained: every event acknowledged, every print job printed");
    } else {
        tokio::signal::ctrl_c().await?;
    }
    kiosk.stop().await;
    Ok(())
}
