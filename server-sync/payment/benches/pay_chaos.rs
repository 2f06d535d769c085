//! Chaos run of the payment crate against `pay-sim` (in process, over real
//! HTTP): N payments by the merchant logic the service will use (create
//! with retries under the same out_trade_no; notification, else order
//! query; refunds retried under the same out_refund_no), with the platform
//! failing a share of calls in every way it can. Then the day's bill is
//! fetched and reconciled. Prints the figures and fails if a target is
//! missed: ≥ 99.5 % of the payments the payer completed (at the right
//! amount) end paid locally; 0 double charges; 0 refunds paid twice; 0
//! differences after the bill apart from amount mismatches held for staff.
//!
//!     cargo bench --profile dev -p exam-payment --bench pay_chaos -- \
//!         --payments 1000 --concurrency 32 --seed 7
//!
//! This is the crate alone: the kiosk and desk paths through the service
//! come when the crate is wired in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use exam_payment::bill::BillTradeState;
use exam_payment::crypto::SignedHeaders;
use exam_payment::gateway::{NativeOrder, RefundOrder};
use exam_payment::model::{Currency, RefundStatus, cst};
use exam_payment::notify::Notification;
use exam_payment::order::{LocalOrder, OrderState};
use exam_payment::reconcile::{DiffCause, reconcile};
use exam_payment::sim::{Faults, Sim, SimConfig, SimKeys, spawn};
use exam_payment::trade_no::TradeNoGenerator;
use exam_payment::wechat::WechatPayV3;
use exam_payment::{PaymentError, PaymentGateway};

type Orders = Arc<Mutex<HashMap<String, LocalOrder>>>;

struct Ctx {
    gw: WechatPayV3,
    orders: Orders,
    http: reqwest::Client,
    base: String,
    payer_completed: AtomicU64,
    payer_mismatch: AtomicU64,
    gave_up: AtomicU64,
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Retry a call while the error is retryable (the platform's keys make it safe).
async fn retry<T, F, Fut>(mut f: F) -> Result<T, PaymentError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, PaymentError>>,
{
    let mut wait = Duration::from_millis(20);
    for _ in 0..30 {
        match f().await {
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(500));
            }
            r => return r,
        }
    }
    f().await
}

async fn notify(State(ctx): State<Arc<Ctx>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Ok(n) =
        SignedHeaders::from_header_map(&headers).and_then(|h| ctx.gw.parse_notification(&h, &body))
    else {
        return StatusCode::UNAUTHORIZED;
    };
    let mut orders = ctx.orders.lock().unwrap_or_else(|e| e.into_inner());
    let applied = match &n {
        Notification::Payment { transaction, .. } => orders
            .get_mut(&transaction.out_trade_no)
            .map(|o| o.apply_transaction(transaction).is_ok()),
        Notification::Refund { refund, .. } => orders.get_mut(&refund.out_trade_no).map(|o| {
            o.apply_refund(
                &refund.out_refund_no,
                refund.refund_status,
                refund.amount.refund,
                &refund.refund_id,
                refund.success_time.as_deref(),
            )
            .is_ok()
        }),
    };
    // Acknowledged once applied (the service: once committed).
    if applied == Some(true) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

fn state_of(ctx: &Ctx, no: &str) -> Option<OrderState> {
    ctx.orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(no)
        .map(|o| o.state)
}

async fn one_payment(ctx: Arc<Ctx>, no: String, total: u64, refund: bool) {
    ctx.orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(no.clone(), LocalOrder::new(&no, total, Currency::Cny));
    let order = NativeOrder {
        out_trade_no: no.clone(),
        description: "体检费".into(),
        total,
        time_expire: None,
        attach: None,
    };
    let Ok(code_url) = retry(|| ctx.gw.create_native(&order)).await else {
        ctx.gave_up.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if let Some(o) = ctx
        .orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(&no)
    {
        let _ = o.on_code_url(&code_url);
    }
    let paid = ctx
        .http
        .post(format!("{}/sim/pay", ctx.base))
        .json(&serde_json::json!({"code_url": code_url}))
        .send()
        .await;
    let Ok(paid) = paid else { return };
    if !paid.status().is_success() {
        return;
    }
    let amount = paid
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["amount"]["total"].as_u64());
    if amount != Some(total) {
        ctx.payer_mismatch.fetch_add(1, Ordering::Relaxed);
    } else {
        ctx.payer_completed.fetch_add(1, Ordering::Relaxed);
    }
    // The notification, else the order query (what the service's sweeper does).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        if state_of(&ctx, &no).is_some_and(|s| s.is_paid() || s == OrderState::Mismatch) {
            break;
        }
        if let Ok(t) = retry(|| ctx.gw.query_order(&no)).await
            && let Some(o) = ctx
                .orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(&no)
        {
            let _ = o.apply_transaction(&t);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !refund || state_of(&ctx, &no) != Some(OrderState::Paid) {
        return;
    }
    let rno = {
        let mut m = ctx.orders.lock().unwrap_or_else(|e| e.into_inner());
        match m
            .get_mut(&no)
            .map(|o| o.request_refund(total / 2).map(|r| r.out_refund_no.clone()))
        {
            Some(Ok(r)) => r,
            _ => return,
        }
    };
    let req = RefundOrder {
        out_trade_no: no.clone(),
        out_refund_no: rno.clone(),
        refund: total / 2,
        total,
        reason: None,
    };
    if retry(|| ctx.gw.refund(&req)).await.is_err() {
        ctx.gave_up.fetch_add(1, Ordering::Relaxed);
        return;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..20 {
        let done = ctx
            .orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&no)
            .is_some_and(|o| o.refunded() > 0);
        if done {
            break;
        }
        if let Ok(r) = retry(|| ctx.gw.query_refund(&rno)).await
            && r.status != RefundStatus::Processing
            && let Some(o) = ctx
                .orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(&no)
        {
            let _ = o.apply_refund(
                &rno,
                r.status,
                r.amount.refund,
                &r.refund_id,
                r.success_time.as_deref(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--payments", 1000);
    let conc = arg(&args, "--concurrency", 32) as usize;
    let seed = arg(&args, "--seed", 7);
    // 30 % of calls fail in some way: spread over every kind.
    let faults = Faults {
        seed,
        timeout: 0.05,
        server_error: 0.10,
        bad_signature: 0.05,
        notify_lost: 0.10,
        notify_duplicate: 0.10,
        notify_reorder: 0.10,
        notify_bad_signature: 0.10,
        amount_mismatch: 0.01,
    };
    let keys = SimKeys::generate("1900000001", "wx0000000000000001")?;
    let rx = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let notify_url = format!("http://{}/notify", rx.local_addr()?);
    let sl = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", sl.local_addr()?);
    let gw =
        WechatPayV3::new(keys.merchant_config(&base, &notify_url, Duration::from_millis(400)))?;
    let sim = Sim::new(
        keys,
        SimConfig {
            faults,
            timeout_delay: Duration::from_millis(800),
            notify_backoff: vec![Duration::from_millis(200); 5],
            refund_delay: Duration::from_millis(100),
            reorder_delay: Duration::from_millis(300),
        },
    );
    spawn(sim.clone(), sl).await?;
    let ctx = Arc::new(Ctx {
        gw,
        orders: Arc::new(Mutex::new(HashMap::new())),
        http: reqwest::Client::new(),
        base,
        payer_completed: AtomicU64::new(0),
        payer_mismatch: AtomicU64::new(0),
        gave_up: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route("/notify", axum::routing::post(notify))
        .with_state(ctx.clone());
    tokio::spawn(async move { axum::serve(rx, app).await });

    let gen_ = TradeNoGenerator::new("CH", 1)?;
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(conc));
    let mut tasks = Vec::new();
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await?;
        let ctx = ctx.clone();
        let no = gen_.next(Utc::now());
        tasks.push(tokio::spawn(async move {
            one_payment(ctx, no, 100 + (i % 50) * 100, i % 5 == 0).await;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    // Let the last notifications land before the books are closed.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let day = Utc::now().with_timezone(&cst()).date_naive();
    let bill = retry(|| ctx.gw.trade_bill(day)).await?;
    let orders: Vec<LocalOrder> = ctx
        .orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    let rec = reconcile(day, &bill, &orders);

    let completed = ctx.payer_completed.load(Ordering::Relaxed);
    let paid_ok = orders.iter().filter(|o| o.state.is_paid()).count() as u64;
    let mut pay_lines: HashMap<&str, u32> = HashMap::new();
    let mut refunded_at_platform: HashMap<&str, u64> = HashMap::new();
    for r in &bill.rows {
        match r.trade_state {
            BillTradeState::Success => *pay_lines.entry(&r.out_trade_no).or_default() += 1,
            BillTradeState::Refund => {
                *refunded_at_platform.entry(&r.out_trade_no).or_default() += r.refund
            }
            BillTradeState::Revoked => {}
        }
    }
    let double_charges = pay_lines.values().filter(|c| **c > 1).count();
    let by_no: HashMap<&str, &LocalOrder> = orders
        .iter()
        .map(|o| (o.out_trade_no.as_str(), o))
        .collect();
    let refunds_twice = refunded_at_platform
        .iter()
        .filter(|(no, fen)| by_no.get(*no).is_none_or(|o| **fen > o.total / 2))
        .count();
    let mismatch_held = rec
        .differences
        .iter()
        .filter(|d| matches!(d.cause, DiffCause::AmountDiffers { .. }))
        .count();
    let other_diffs: Vec<_> = rec
        .differences
        .iter()
        .filter(|d| !matches!(d.cause, DiffCause::AmountDiffers { .. }))
        .collect();
    let stats = sim.stats();
    let rate = if completed == 0 {
        0.0
    } else {
        100.0 * paid_ok.min(completed) as f64 / completed as f64
    };
    println!(
        "payments: {n} in {:.1} s ({:.0}/s), concurrency {conc}, seed {seed}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "payer completed at the right amount: {completed}; paid locally: {paid_ok} ({rate:.2} %)"
    );
    println!(
        "payer paid a wrong amount: {} (held as mismatch, never paid; in the bill as amount differs: {mismatch_held})",
        ctx.payer_mismatch.load(Ordering::Relaxed)
    );
    println!(
        "double charges: {double_charges}; refunds paid twice: {refunds_twice}; gave up after retries: {}",
        ctx.gave_up.load(Ordering::Relaxed)
    );
    println!(
        "bill lines: {}; matched payments {}, refunds {}; other differences: {}",
        bill.rows.len(),
        rec.matched_payments,
        rec.matched_refunds,
        other_diffs.len()
    );
    println!("platform: {stats:?}");
    for d in other_diffs.iter().take(10) {
        println!("  difference: {d:?}");
    }
    anyhow::ensure!(rate >= 99.5, "paid locally {rate:.2} % < 99.5 %");
    anyhow::ensure!(
        double_charges == 0 && refunds_twice == 0,
        "double charge or refund"
    );
    anyhow::ensure!(other_diffs.is_empty(), "differences left after the bill");
    Ok(())
}
