//! `his-sim`: the HIS simulator (SOAP web service with its WSDL, and the
//! REST / JSON API) with seeded fault injection. Test and demo only.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use exam_his::sim::{FaultConfig, FaultKind, Sim, SimConfig};

#[derive(Debug, Parser)]
#[command(about = "HIS simulator: SOAP 1.1 (+WSDL at /his/soap?wsdl) and REST at /his/api/v1")]
struct Args {
    /// Address to listen on (keep it on loopback: /sim/ controls are open).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
    /// Seed of the fault plan: the same seed and request order, the same faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of operation requests that fail, 0.0-1.0.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Which faults (comma-separated): hang, drop, server-error, soap-fault,
    /// slow, wrong-demographics. Default: all.
    #[arg(long, value_delimiter = ',')]
    faults: Vec<String>,
    /// How long a hung request is held (ms).
    #[arg(long, default_value_t = 10_000)]
    hang_ms: u64,
    /// How late a slow answer comes (ms).
    #[arg(long, default_value_t = 1_500)]
    slow_ms: u64,
    /// Outage windows in seconds after start, FROM..TO (repeatable).
    #[arg(long)]
    outage: Vec<String>,
    /// Seconds after start when price list version 2 takes effect.
    #[arg(long)]
    price_change_after: Option<u64>,
}

fn kind(name: &str) -> anyhow::Result<FaultKind> {
    serde_json::from_value(serde_json::Value::String(name.trim().to_owned()))
        .with_context(|| format!("unknown fault kind {name:?}"))
}

fn window(s: &str) -> anyhow::Result<(u64, u64)> {
    let (a, b) = s
        .split_once("..")
        .context("an outage is FROM..TO seconds")?;
    Ok((a.trim().parse()?, b.trim().parse()?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fault_rate),
        "--fault-rate is 0.0-1.0"
    );
    let kinds = if args.faults.is_empty() {
        FaultKind::ALL.to_vec()
    } else {
        args.faults
            .iter()
            .map(|k| kind(k))
            .collect::<anyhow::Result<_>>()?
    };
    let config = SimConfig {
        faults: FaultConfig {
            seed: args.seed,
            rate: args.fault_rate,
            kinds,
            hang_ms: args.hang_ms,
            slow_ms: args.slow_ms,
            outages: args
                .outage
                .iter()
                .map(|w| window(w))
                .collect::<anyhow::Result<_>>()?,
        },
        price_change_after: args.price_change_after.map(Duration::from_secs),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let sim = Sim::start(listener, config)?;
    tracing::info!(
        wsdl = %sim.wsdl_url(),
        rest = %sim.rest_base(),
        "his-sim serving"
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
