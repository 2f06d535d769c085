//! `pay-sim`: the payment platform simulator (WeChat Pay API v3 wire) for
//! tests, the demo and the chaos benchmark. Prints one JSON line with its
//! URL and identity, then serves until killed.
//!
//!     pay-sim --listen 127.0.0.1:8790 --keys-dir /tmp/paysim-keys \
//!             --seed 7 --fault-5xx 0.05 --fault-notify-lost 0.1

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use exam_payment::sim::{Faults, Sim, SimConfig, SimKeys, spawn};

#[derive(Parser, Debug)]
#[command(about = "Payment platform simulator (WeChat Pay API v3 wire) with fault injection")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:8790")]
    listen: String,
    /// Where the test identities are read from, or generated into (private
    /// keys written 0600). These are test keys, never a merchant's.
    #[arg(long)]
    keys_dir: PathBuf,
    #[arg(long, default_value = "1900000001")]
    mchid: String,
    #[arg(long, default_value = "wx0000000000000001")]
    appid: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 0.0)]
    fault_timeout: f64,
    #[arg(long = "fault-5xx", default_value_t = 0.0)]
    fault_5xx: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_bad_signature: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_notify_lost: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_notify_duplicate: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_notify_reorder: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_notify_bad_signature: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_amount_mismatch: f64,
    /// How long a "timeout" answer is held back.
    #[arg(long, default_value_t = 12_000)]
    timeout_delay_ms: u64,
    /// Waits between notification attempts, comma-separated milliseconds
    /// (the platform: 15s,15s,30s,3m,10m,20m,30m,...).
    #[arg(
        long,
        default_value = "15000,15000,30000,180000,600000,1200000,1800000"
    )]
    notify_backoff_ms: String,
    #[arg(long, default_value_t = 2_000)]
    refund_delay_ms: u64,
    #[arg(long, default_value_t = 3_000)]
    reorder_delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    for p in [
        a.fault_timeout,
        a.fault_5xx,
        a.fault_bad_signature,
        a.fault_notify_lost,
        a.fault_notify_duplicate,
        a.fault_notify_reorder,
        a.fault_notify_bad_signature,
        a.fault_amount_mismatch,
    ] {
        anyhow::ensure!(
            (0.0..=1.0).contains(&p),
            "fault probabilities are between 0 and 1"
        );
    }
    let backoff = a
        .notify_backoff_ms
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<u64>().map(Duration::from_millis))
        .collect::<Result<Vec<_>, _>>()
        .context("--notify-backoff-ms: comma-separated milliseconds")?;
    let keys =
        SimKeys::load_or_generate(&a.keys_dir, &a.mchid, &a.appid).context("test identities")?;
    let cfg = SimConfig {
        faults: Faults {
            seed: a.seed,
            timeout: a.fault_timeout,
            server_error: a.fault_5xx,
            bad_signature: a.fault_bad_signature,
            notify_lost: a.fault_notify_lost,
            notify_duplicate: a.fault_notify_duplicate,
            notify_reorder: a.fault_notify_reorder,
            notify_bad_signature: a.fault_notify_bad_signature,
            amount_mismatch: a.fault_amount_mismatch,
        },
        timeout_delay: Duration::from_millis(a.timeout_delay_ms),
        notify_backoff: backoff,
        refund_delay: Duration::from_millis(a.refund_delay_ms),
        reorder_delay: Duration::from_millis(a.reorder_delay_ms),
    };
    let id = keys.id.clone();
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("bind {}", a.listen))?;
    let addr = spawn(Sim::new(keys, cfg), listener).await?;
    // One line for whoever started us (tests read it); no secrets in it.
    println!(
        "{}",
        serde_json::json!({
            "url": format!("http://{addr}"),
            "keys_dir": a.keys_dir,
            "mchid": id.mchid,
            "appid": id.appid,
            "merchant_serial_no": id.merchant_serial_no,
            "platform_key_id": id.platform_key_id,
        })
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
