//! The one-command demo: the central service on an embedded SQLite file,
//! one headless kiosk enrolled against it, and simulated patients arriving
//! with their ID cards, booking QR codes or typed ID + mobile numbers.
//! Open the staff page and watch the check-ins arrive live.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use kiosk_app::runner::{self, KioskOptions};
use kiosk_app::script;
use sync_client::AgentConfig;

struct Args {
    data: PathBuf,
    listen: std::net::SocketAddr,
    people: usize,
    interval_ms: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        data: "demo-data".into(),
        listen: "127.0.0.1:8080".parse()?,
        people: 300,
        interval_ms: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => a.data = val()?.into(),
            "--listen" => a.listen = val()?.parse()?,
            "--people" => a.people = val()?.parse()?,
            "--interval-ms" => a.interval_ms = val()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "demo [--data DIR (demo-data)] [--listen ADDR (127.0.0.1:8080)] [--people N (300)] [--interval-ms MS (2000)]\n\
                     Runs the central service on DIR/exam.db and one headless kiosk checking in demo patients."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown option {other} (try --help)"),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let a = args()?;
    std::fs::create_dir_all(&a.data).with_context(|| format!("creating {}", a.data.display()))?;
    let server = e2e_tests::start_server(&a.data.join("exam.db"), a.listen, a.people)
        .await
        .with_context(|| {
            format!(
                "starting the central service on {} (is the port free? try --listen)",
                a.listen
            )
        })?;
    let url = server.url();
    let kiosk_id = "K-DEMO-01";
    let journal = a.data.join(format!("kiosk-{kiosk_id}.db"));
    let secret = exam_protocol::auth::random_token();
    if kiosk_app::settings::load(&offline_store::Journal::open(&journal)?)?.is_none() {
        server
            .state
            .db
            .add_kiosk(kiosk_id, "main", "lobby", &secret)
            .await?;
    }
    let kiosk = runner::start(KioskOptions {
        journal,
        server_url: Some(url.clone()),
        kiosk_id: Some(kiosk_id.into()),
        enrol_secret: Some(secret),
        agent: AgentConfig {
            pull_every: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(5),
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_millis(1500),
    })
    .await?;

    println!("\n  体检中心 self-service check-in demo");
    println!(
        "  central service : {url}  (SQLite: {})",
        a.data.join("exam.db").display()
    );
    println!("  staff page      : {url}/login");
    match &server.admin_password {
        Some(pw) => println!(
            "  first sign-in   : user admin, one-time password {pw} (you will be asked to change it)"
        ),
        None => println!(
            "  sign in as admin with the password you set (delete {} to start afresh)",
            a.data.display()
        ),
    }
    println!(
        "  kiosk           : {kiosk_id}, headless, {} demo people arriving every {} ms",
        a.people, a.interval_ms
    );
    println!("  stop            : Ctrl-C\n");

    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let day = exam_domain::demo::generate(
        exam_domain::demo::DEMO_SEED,
        a.people,
        today,
        chrono::NaiveTime::MIN,
        chrono::NaiveTime::MIN,
        "main",
    );
    let deck = script::demo_deck(&day, a.interval_ms, 1);
    let mut stdout = std::io::stdout();
    tokio::select! {
        r = runner::play(&kiosk.core, &deck, &mut stdout) => {
            let o = r?;
            println!("\nall demo patients done: {o:?}. The service keeps running; Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    kiosk.stop().await;
    server.stop().await;
    Ok(())
}
