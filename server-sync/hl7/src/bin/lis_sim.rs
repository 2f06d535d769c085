//! `lis-sim`: a LIS / PACS / ECG system speaking HL7 v2 over MLLP for
//! real. It listens for orders (ORM^O01 / OML^O21), acknowledges them,
//! and after a delay sends ORU^R01 results to the configured endpoint,
//! retrying until they are acknowledged. A re-fetch (QRY^R02) for a
//! placer order number it took is answered AA and that order's results go
//! again (same content, new control ids); an unknown one gets AE with the
//! reason. Faults apply to queries as to orders (by control id). Faults by flag, all decided by
//! the seed (see `exam_hl7::sim`). The sockets and the clock are here; the
//! decisions are in the library, tested there.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use exam_hl7::mllp::{ClientConfig, MllpClient, MllpStream, ack_control_id};
use exam_hl7::sim::{self, AckFault, Faults, Held, Outage, ReportStyle, ResultRules, Rng};
use exam_hl7::{
    Ack, AckCode, Charset, Delivery, ErrorCode, MessageError, MessageKind, Order, OrderControl,
    ResultMessage, ResultQuery,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

#[derive(Debug, Parser)]
#[command(about = "LIS / PACS simulator: HL7 v2 orders in, results out, over MLLP, with faults")]
struct Args {
    /// Where orders are received (port 0: any free port; the address is
    /// printed as `lis-sim listening on ADDR`).
    #[arg(long, default_value = "127.0.0.1:2575")]
    listen: String,
    /// Our MLLP listener for results (`host:port`).
    #[arg(long)]
    results_to: String,
    /// Delay between an order's ACK and its results.
    #[arg(long, default_value_t = 1000)]
    delay_ms: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of patients (chosen by their id and the seed) whose potassium
    /// comes back critically high, beside those named below.
    #[arg(long, default_value_t = 0.0)]
    critical_share: f64,
    /// Patient id (PID-3) whose potassium comes back critically high (HH).
    #[arg(long = "critical-patient")]
    critical_patients: Vec<String>,
    /// utf8 or gbk: results and ACKs are written in it, orders read in it
    /// (unless their MSH-18 says otherwise).
    #[arg(long, default_value = "utf8")]
    charset: Charset,
    /// pdf, link or mixed.
    #[arg(long, default_value = "mixed")]
    report_style: ReportStyle,
    #[arg(long, default_value = "http://pacs.sim/reports")]
    link_base: String,
    /// Share of orders acknowledged late (after --late-ack-ms).
    #[arg(long, default_value_t = 0.0)]
    late_ack_rate: f64,
    #[arg(long, default_value_t = 3000)]
    late_ack_ms: u64,
    /// Share of orders answered AE (not taken).
    #[arg(long, default_value_t = 0.0)]
    ae_rate: f64,
    /// Share of orders answered AR (not taken; a retry may pass).
    #[arg(long, default_value_t = 0.0)]
    ar_rate: f64,
    /// Share of orders whose connection is closed before the ACK.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Share of results first sent with a malformed segment.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Share of results sent twice (same control id, then a new one).
    #[arg(long, default_value_t = 0.0)]
    duplicate_rate: f64,
    /// Share of results lost the first time (never sent): a re-fetch
    /// (QRY^R02) brings them.
    #[arg(long, default_value_t = 0.0)]
    lost_rate: f64,
    /// Down from START to END seconds after start (repeatable), e.g. 5-20.
    #[arg(long = "outage")]
    outages: Vec<Outage>,
    /// How long to wait for our ACK of a result.
    #[arg(long, default_value_t = 10_000)]
    ack_timeout_ms: u64,
}

struct Sim {
    args: Args,
    faults: Faults,
    rules: ResultRules,
    start: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Receipts per control id: a retry draws its fault afresh.
    attempts: HashMap<String, u32>,
    /// Orders taken (by control id): a re-sent order is acknowledged
    /// again but makes no second set of results.
    taken: HashSet<String>,
    /// (barcode, item) cancelled: their results are not sent.
    cancelled: HashSet<(String, String)>,
    /// By placer order number: the patient, and the results made, for a
    /// re-fetch.
    held: HashMap<String, Held>,
}

impl Sim {
    fn outage_left(&self) -> Option<Duration> {
        sim::outage_left(&self.args.outages, self.start.elapsed())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    for rate in [
        args.late_ack_rate,
        args.ae_rate,
        args.ar_rate,
        args.drop_rate,
        args.malformed_rate,
        args.duplicate_rate,
        args.lost_rate,
        args.critical_share,
    ] {
        anyhow::ensure!((0.0..=1.0).contains(&rate), "rates are between 0 and 1");
    }
    let faults = Faults {
        late_ack: args.late_ack_rate,
        late_ack_delay: Duration::from_millis(args.late_ack_ms),
        ae: args.ae_rate,
        ar: args.ar_rate,
        drop: args.drop_rate,
        malformed: args.malformed_rate,
        duplicate: args.duplicate_rate,
        lost: args.lost_rate,
    };
    let rules = ResultRules {
        seed: args.seed,
        critical_patients: args.critical_patients.clone(),
        report_style: args.report_style,
        link_base: args.link_base.clone(),
        charset: args.charset,
    };
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    println!("lis-sim listening on {}", listener.local_addr()?);
    let sim = Arc::new(Sim {
        args,
        faults,
        rules,
        start: Instant::now(),
        state: Mutex::new(State::default()),
    });
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(send_results(sim.clone(), rx));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let sim = sim.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_orders(sim, tcp, peer, tx).await {
                tracing::info!(%peer, error = %e, "order connection ended");
            }
        });
    }
}

/// Results waiting for their time.
struct Due {
    at: Instant,
    result: ResultMessage,
    /// A re-fetch's copy: never "lost" (the fault is for first sends).
    refetch: bool,
}

async fn serve_orders(
    sim: Arc<Sim>,
    tcp: TcpStream,
    peer: SocketAddr,
    tx: mpsc::UnboundedSender<Due>,
) -> anyhow::Result<()> {
    let mut s = MllpStream::new(tcp, exam_hl7::mllp::frame::DEFAULT_MAX_FRAME);
    loop {
        if sim.outage_left().is_some() {
            tracing::info!(%peer, "in an outage: connection closed");
            return Ok(());
        }
        let Some(frame) = s.read_frame().await? else {
            return Ok(());
        };
        if sim.outage_left().is_some() {
            tracing::info!(%peer, "in an outage: message not taken, connection closed");
            return Ok(());
        }
        let now = chrono::Local::now().naive_local();
        let (msg, cs) = match exam_hl7::decode(&frame, sim.args.charset) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable order");
                let ack =
                    Ack::for_unreadable(&frame, sim.args.charset, &e, ack_control_id(now), now);
                s.write_frame(&ack.encode()?).await?;
                continue;
            }
        };
        let control_id = msg.control_id().to_string();
        let attempt = {
            let mut st = sim
                .state
                .lock()
                .map_err(|_| anyhow::anyhow!("state poisoned"))?;
            let n = st.attempts.entry(control_id.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let fault = sim::ack_fault(sim.args.seed, &sim.faults, &control_id, attempt);
        tracing::info!(%control_id, attempt, ?fault, "order received");
        let reply = |code, err: Option<(ErrorCode, &str)>| {
            let mut a = Ack::reply_to(&msg, cs, ack_control_id(now), now, code, "");
            if let Some((c, t)) = err {
                a = a.with_error(c, t);
            }
            a
        };
        let ack = match fault {
            AckFault::Drop => {
                let _ = s.shutdown().await;
                return Ok(());
            }
            AckFault::Reject => reply(
                AckCode::Reject,
                Some((ErrorCode::ApplicationInternal, "simulated: busy, try again")),
            ),
            AckFault::Error => reply(
                AckCode::Error,
                Some((
                    ErrorCode::ApplicationInternal,
                    "simulated application error",
                )),
            ),
            AckFault::Late | AckFault::None => {
                if fault == AckFault::Late {
                    tokio::time::sleep(sim.faults.late_ack_delay).await;
                }
                let (code, trigger) = msg.message_type();
                if MessageKind::from_type(code, trigger) == Some(MessageKind::QryR02) {
                    let answer = ResultQuery::from_message(&msg, cs)
                        .map_err(|e| (ErrorCode::RequiredFieldMissing, e.to_string()))
                        .and_then(|q| {
                            refetch(&sim, &q, &tx).map_err(|e| (ErrorCode::UnknownKey, e))
                        });
                    let ack = match answer {
                        Ok(()) => reply(AckCode::Accept, None),
                        Err((c, why)) => {
                            tracing::info!(%control_id, %why, "re-fetch refused");
                            reply(AckCode::Error, Some((c, &why)))
                        }
                    };
                    s.write_frame(&ack.encode()?).await?;
                    continue;
                }
                match Order::from_message(&msg, cs) {
                    Ok(order) => {
                        take_order(&sim, &order, &tx)?;
                        reply(AckCode::Accept, None)
                    }
                    Err(e) => {
                        tracing::warn!(%control_id, error = %e, "not an order we take");
                        let code = match e {
                            MessageError::WrongType { .. } => ErrorCode::UnsupportedMessageType,
                            MessageError::MissingField { .. } | MessageError::MissingSegment(_) => {
                                ErrorCode::RequiredFieldMissing
                            }
                            _ => ErrorCode::DataType,
                        };
                        reply(AckCode::Error, Some((code, &e.to_string())))
                    }
                }
            }
        };
        s.write_frame(&ack.encode()?).await?;
    }
}

/// Records the order once (by control id) and schedules its results.
fn take_order(sim: &Sim, order: &Order, tx: &mpsc::UnboundedSender<Due>) -> anyhow::Result<()> {
    let mut st = sim
        .state
        .lock()
        .map_err(|_| anyhow::anyhow!("state poisoned"))?;
    if !st.taken.insert(order.header.control_id.clone()) {
        tracing::info!(control_id = %order.header.control_id, "duplicate order: acknowledged, not taken again");
        return Ok(());
    }
    for line in &order.lines {
        let held = st.held.entry(line.placer_order_number.clone()).or_default();
        held.patient_id = order.patient.id.clone();
        if line.control == OrderControl::Cancel {
            held.cancelled = true;
            st.cancelled
                .insert((line.placer_order_number.clone(), line.item.code.clone()));
        }
    }
    let now = chrono::Local::now().naive_local();
    let at = Instant::now() + Duration::from_millis(sim.args.delay_ms);
    let prefix = format!("R{}", order.header.control_id);
    // A patient drawn critical by the share is critical in every result.
    let drawn;
    let rules = if sim.args.critical_share > 0.0
        && Rng::keyed(sim.args.seed, &["critical", &order.patient.id])
            .chance(sim.args.critical_share)
    {
        let mut r = sim.rules.clone();
        r.critical_patients.push(order.patient.id.clone());
        drawn = r;
        &drawn
    } else {
        &sim.rules
    };
    for result in sim::results_for(order, rules, now, &prefix) {
        if let Some(h) = st.held.get_mut(&result.items[0].placer_order_number) {
            h.results.push(result.clone());
        }
        tx.send(Due {
            at,
            result,
            refetch: false,
        })
        .map_err(|_| anyhow::anyhow!("result sender stopped"))?;
    }
    Ok(())
}

/// A re-fetch: the order's results again, at once, or why not.
fn refetch(sim: &Sim, q: &ResultQuery, tx: &mpsc::UnboundedSender<Due>) -> Result<(), String> {
    let st = sim.state.lock().map_err(|_| "state poisoned".to_string())?;
    let again =
        sim::answer_query(st.held.get(&q.placer_order_number), q).map_err(|e| e.to_string())?;
    tracing::info!(query = %q.query_id, results = again.len(), "re-fetch: results sent again");
    for result in again {
        tx.send(Due {
            at: Instant::now(),
            result,
            refetch: true,
        })
        .map_err(|_| "result sender stopped".to_string())?;
    }
    Ok(())
}

/// Sends results one at a time, in order, each until acknowledged.
async fn send_results(sim: Arc<Sim>, mut rx: mpsc::UnboundedReceiver<Due>) {
    let mut cfg = ClientConfig::new(sim.args.results_to.clone());
    cfg.ack_timeout = Duration::from_millis(sim.args.ack_timeout_ms);
    cfg.peer_charset = sim.args.charset;
    let mut client = MllpClient::new(cfg);
    while let Some(due) = rx.recv().await {
        tokio::time::sleep_until(due.at.into()).await;
        let item = &due.result.items[0];
        let key = (item.placer_order_number.clone(), item.item.code.clone());
        let cancelled = sim
            .state
            .lock()
            .map(|st| st.cancelled.contains(&key))
            .unwrap_or(false);
        if cancelled {
            tracing::info!(barcode = %key.0, item = %key.1, "cancelled: no result sent");
            continue;
        }
        let control_id = due.result.header.control_id.clone();
        let bytes = match due.result.encode() {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(%control_id, error = %e, "result cannot be encoded");
                continue;
            }
        };
        let mut rng = Rng::keyed(sim.args.seed, &["result-faults", &control_id]);
        if !due.refetch && rng.chance(sim.faults.lost) {
            tracing::info!(%control_id, "result lost (simulated): only a re-fetch brings it");
            continue;
        }
        if rng.chance(sim.faults.malformed) {
            let bad = sim::malform(&bytes, &mut rng);
            wait_outage(&sim).await;
            match client.send_bytes(&bad, &control_id).await {
                Ok(ack) => {
                    tracing::info!(%control_id, code = ack.code.code(), "malformed result sent")
                }
                Err(e) => tracing::info!(%control_id, error = %e, "malformed result sent, no ACK"),
            }
        }
        if !deliver(&sim, &mut client, &bytes, &control_id).await {
            continue;
        }
        if rng.chance(sim.faults.duplicate) {
            // The same message again (a sender that missed its ACK), then
            // the same result under a new control id (a LIS re-sending).
            deliver(&sim, &mut client, &bytes, &control_id).await;
            let mut again = due.result.clone();
            again.header.control_id = format!("{control_id}D");
            if let Ok(b) = again.encode() {
                deliver(&sim, &mut client, &b, &again.header.control_id).await;
            }
        }
    }
}

/// Sends until AA (true) or AE (false), backing off on AR and transport
/// errors, and waiting out outages.
async fn deliver(sim: &Sim, client: &mut MllpClient, bytes: &[u8], control_id: &str) -> bool {
    let mut backoff = Duration::from_millis(100);
    loop {
        wait_outage(sim).await;
        match client.send_bytes(bytes, control_id).await {
            Ok(ack) => match ack.code.outcome() {
                Delivery::Accepted => {
                    tracing::info!(%control_id, "result acknowledged");
                    return true;
                }
                Delivery::Failed => {
                    tracing::warn!(%control_id, error = ?ack.error, "result refused (AE)");
                    return false;
                }
                Delivery::RetryLater => {
                    tracing::info!(%control_id, "result rejected (AR): retrying");
                }
            },
            Err(e) => tracing::info!(%control_id, error = %e, "result not acknowledged: retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn wait_outage(sim: &Sim) {
    while let Some(left) = sim.outage_left() {
        tokio::time::sleep(left).await;
    }
}
