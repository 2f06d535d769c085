//! `sms-sim`: the SMS platform simulator (Tencent Cloud SMS API 3.0 wire)
//! for tests and the demo. Prints one JSON line with its URL and test
//! credentials, then serves until killed.
//!
//!     sms-sim --listen 127.0.0.1:8791 --seed 7 --fault-5xx 0.05 \
//!             --fault-report-lost 0.1 --callback-url http://127.0.0.1:8443/sms/reports

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use exam_sms::sim::{Faults, Sim, SimConfig, spawn};

#[derive(Parser, Debug)]
#[command(about = "SMS platform simulator (Tencent Cloud SMS API 3.0 wire) with fault injection")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:8791")]
    listen: String,
    /// Test credentials (never a real account's).
    #[arg(long, default_value = "AKIDsmssimtest0000000000000000000000")]
    secret_id: String,
    #[arg(
        long,
        default_value = "smssimtestsecretkey0000000000000",
        env = "SMS_SIM_SECRET_KEY"
    )]
    secret_key: String,
    #[arg(long, default_value = "1400000001")]
    sdk_app_id: String,
    /// Known templates as id=parameter count, comma-separated (none: any
    /// numeric id).
    #[arg(long, default_value = "")]
    templates: String,
    /// Platform limits per number as seconds:max, comma-separated.
    #[arg(long, default_value = "30:1,3600:5,86400:10")]
    phone_limits: String,
    #[arg(long)]
    callback_url: Option<String>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 0.0)]
    fault_timeout: f64,
    #[arg(long = "fault-5xx", default_value_t = 0.0)]
    fault_5xx: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_internal_error: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_limit: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_delivery_fail: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_report_lost: f64,
    #[arg(long, default_value_t = 0.0)]
    fault_report_duplicate: f64,
    #[arg(long, default_value_t = 12_000)]
    timeout_delay_ms: u64,
    #[arg(long, default_value_t = 200)]
    report_delay_ms: u64,
}

fn pairs(s: &str) -> anyhow::Result<Vec<(String, String)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once(['=', ':'])
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .with_context(|| format!("{p:?}: want a=b"))
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    let faults = Faults {
        seed: a.seed,
        timeout: a.fault_timeout,
        server_error: a.fault_5xx,
        internal_error: a.fault_internal_error,
        limit: a.fault_limit,
        delivery_fail: a.fault_delivery_fail,
        report_lost: a.fault_report_lost,
        report_duplicate: a.fault_report_duplicate,
    };
    for p in [
        faults.timeout,
        faults.server_error,
        faults.internal_error,
        faults.limit,
        faults.delivery_fail,
        faults.report_lost,
        faults.report_duplicate,
    ] {
        anyhow::ensure!(
            (0.0..=1.0).contains(&p),
            "fault probabilities are between 0 and 1"
        );
    }
    let templates: BTreeMap<String, usize> = pairs(&a.templates)?
        .into_iter()
        .map(|(k, v)| Ok((k, v.parse()?)))
        .collect::<anyhow::Result<_>>()
        .context("--templates")?;
    let per_number = pairs(&a.phone_limits)?
        .into_iter()
        .map(|(s, m)| {
            Ok(exam_sms::Window {
                seconds: s.parse()?,
                max: m.parse()?,
            })
        })
        .collect::<anyhow::Result<_>>()
        .context("--phone-limits")?;
    let cfg = SimConfig {
        secret_id: a.secret_id.clone(),
        secret_key: a.secret_key,
        sdk_app_id: a.sdk_app_id.clone(),
        templates,
        limits: exam_sms::Limits {
            per_number,
            overall_per_minute: 0,
        },
        faults,
        timeout_delay: Duration::from_millis(a.timeout_delay_ms),
        report_delay: Duration::from_millis(a.report_delay_ms),
        callback_url: a.callback_url,
    };
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("bind {}", a.listen))?;
    let addr = spawn(Sim::new(cfg), listener).await?;
    // One line for whoever started us (tests read it); the key is a test key
    // but is still not printed.
    println!(
        "{}",
        serde_json::json!({
            "url": format!("http://{addr}"),
            "secret_id": a.secret_id,
            "sdk_app_id": a.sdk_app_id,
        })
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
