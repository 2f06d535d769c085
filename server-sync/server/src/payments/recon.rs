//! The daily bill (对账): the platform's trade bill of one day (CST)
//! fetched, checked and matched order by order against ours by
//! `exam_payment::reconcile`; the run and every difference with its cause
//! are stored for the finance page. A bill that cannot be fetched is a run
//! with its error, not silence.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use exam_payment::model::cst;
use exam_payment::reconcile::{DiffCause, reconcile};
use serde::Serialize;
use sqlx::Row;

use super::store;
use crate::AppState;
use crate::db::{DbError, next_id, ts};

#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub bill_day: String,
    pub run_at: String,
    pub run_by: String,
    pub bill_rows: i64,
    pub matched_payments: i64,
    pub matched_refunds: i64,
    pub differences: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffRow {
    pub out_trade_no: String,
    pub out_refund_no: Option<String>,
    /// A stable code (`unknown_order`, `paid_at_platform_not_local`, ...).
    pub cause: String,
    /// In words, with the amounts or states involved.
    pub detail: String,
}

/// A cause as a code and words for finance.
pub fn describe(c: &DiffCause) -> (&'static str, String) {
    match c {
        DiffCause::UnknownOrder => (
            "unknown_order",
            "账单中有本院未建的订单 / not our order".into(),
        ),
        DiffCause::PaidAtPlatformNotLocal { local_state } => (
            "paid_at_platform_not_local",
            format!(
                "平台已收款，本地为 {} / paid at the platform, not here",
                store::state_str(*local_state)
            ),
        ),
        DiffCause::LocalPaidNotAtPlatform => (
            "local_paid_not_at_platform",
            "本地已收款，账单中没有 / paid here, not in the bill".into(),
        ),
        DiffCause::AmountDiffers { local, platform } => (
            "amount_differs",
            format!("金额不符：本地 {local} 分，平台 {platform} 分"),
        ),
        DiffCause::CurrencyDiffers { local, platform } => (
            "currency_differs",
            format!("币种不符：本地 {local}，平台 {platform}"),
        ),
        DiffCause::TransactionIdDiffers { local, platform } => (
            "transaction_id_differs",
            format!("交易号不符：本地 {local}，平台 {platform}"),
        ),
        DiffCause::LocalMismatchUnresolved => (
            "local_mismatch_unresolved",
            "本地订单因金额不符待处理 / held for a mismatch".into(),
        ),
        DiffCause::DuplicateInBill => (
            "duplicate_in_bill",
            "账单中重复出现 / twice in the bill".into(),
        ),
        DiffCause::RefundAtPlatformNotLocal { local_state } => (
            "refund_at_platform_not_local",
            format!(
                "平台已退款，本地为 {} / refunded at the platform, not here",
                local_state.map_or("无", store::refund_state_str)
            ),
        ),
        DiffCause::LocalRefundNotAtPlatform => (
            "local_refund_not_at_platform",
            "本地已退款，账单中没有 / refunded here, not in the bill".into(),
        ),
        DiffCause::RefundAmountDiffers { local, platform } => (
            "refund_amount_differs",
            format!("退款金额不符：本地 {local} 分，平台 {platform} 分"),
        ),
        DiffCause::DayDiffers { local_day } => (
            "day_differs",
            format!(
                "记账日期不同：本地 {}",
                local_day.map_or("无".into(), |d| d.to_string())
            ),
        ),
        DiffCause::RevokedAtPlatform => ("revoked_at_platform", "平台撤销的交易 / revoked".into()),
    }
}

/// Reconcile one day's bill; stores and returns the run.
pub async fn run(
    st: &AppState,
    day: NaiveDate,
    actor: &str,
) -> Result<(RunRow, Vec<DiffRow>), DbError> {
    let now = Utc::now();
    let id = next_id();
    let (bill, error) = match st.payments.gateway() {
        Ok(gw) => {
            // A timeout, a 5xx or a badly signed answer is asked again (the
            // bill is read only); what is left is the run's error, and the
            // daily job tries again ten minutes later.
            let mut answer = gw.trade_bill(day).await;
            for wait_ms in [200, 500, 1_000, 2_000, 4_000] {
                match &answer {
                    Err(e) if e.is_retryable() => {
                        tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
                        answer = gw.trade_bill(day).await;
                    }
                    _ => break,
                }
            }
            match answer {
                Ok(b) => (Some(b), None),
                Err(e) => (None, Some(e.to_string())),
            }
        }
        Err(e) => (None, Some(e.to_string())),
    };
    let mut diffs = Vec::new();
    let mut row = RunRow {
        id,
        bill_day: day.to_string(),
        run_at: ts(now),
        run_by: actor.to_string(),
        bill_rows: 0,
        matched_payments: 0,
        matched_refunds: 0,
        differences: 0,
        error,
    };
    if let Some(bill) = &bill {
        // Every order the bill names, and every order paid or refunded
        // around that day here (reconcile keeps that day's own).
        let mut nos: BTreeSet<String> = bill.rows.iter().map(|r| r.out_trade_no.clone()).collect();
        let from = day
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(cst()).single());
        let (lo, hi) = match from {
            Some(f) => {
                let f = f.with_timezone(&Utc);
                (
                    ts(f - chrono::Duration::days(1)),
                    ts(f + chrono::Duration::days(2)),
                )
            }
            None => (String::new(), String::new()),
        };
        for r in sqlx::query(
            "SELECT out_trade_no FROM payment_orders WHERE paid_at >= $1 AND paid_at < $2
             UNION SELECT out_trade_no FROM payment_refunds WHERE updated_at >= $1 AND updated_at < $2",
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&st.db.pool)
        .await?
        {
            nos.insert(r.try_get(0)?);
        }
        let mut orders = Vec::new();
        for no in &nos {
            if let Some(s) = store::load_one(&st.db, no).await? {
                orders.push(s.order);
            }
        }
        let rec = reconcile(day, bill, &orders);
        row.bill_rows = bill.rows.len() as i64;
        row.matched_payments = rec.matched_payments as i64;
        row.matched_refunds = rec.matched_refunds as i64;
        row.differences = rec.differences.len() as i64;
        diffs = rec
            .differences
            .iter()
            .map(|d| {
                let (cause, detail) = describe(&d.cause);
                DiffRow {
                    out_trade_no: d.out_trade_no.clone(),
                    out_refund_no: d.out_refund_no.clone(),
                    cause: cause.into(),
                    detail,
                }
            })
            .collect();
    }
    let mut tx = st.db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO payment_reconciliations(id, bill_day, run_at, run_by, bill_rows, matched_payments,
             matched_refunds, differences, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(&row.bill_day)
    .bind(&row.run_at)
    .bind(&row.run_by)
    .bind(row.bill_rows)
    .bind(row.matched_payments)
    .bind(row.matched_refunds)
    .bind(row.differences)
    .bind(row.error.as_deref())
    .execute(&mut *tx)
    .await?;
    for (n, d) in diffs.iter().enumerate() {
        sqlx::query(
            "INSERT INTO payment_differences(run_id, n, out_trade_no, out_refund_no, cause, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(n as i64)
        .bind(&d.out_trade_no)
        .bind(d.out_refund_no.as_deref())
        .bind(&d.cause)
        .bind(&d.detail)
        .execute(&mut *tx)
        .await?;
    }
    crate::db::log_line(
        &mut tx,
        actor,
        "payment.reconcile",
        "",
        &format!(
            "day={day} bill_rows={} differences={} error={}",
            row.bill_rows,
            row.differences,
            row.error.as_deref().unwrap_or("-")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((row, diffs))
}

/// After `bill_time` (CST), yesterday's bill once (a failed fetch is tried
/// again on later ticks, at most every ten minutes).
pub(super) async fn daily(st: &AppState, now: DateTime<Utc>) {
    let local = now.with_timezone(&cst());
    if local.time() < st.payments.settings.bill_time {
        return;
    }
    let day = local.date_naive() - chrono::Duration::days(1);
    let last = sqlx::query(
        "SELECT run_at, error FROM payment_reconciliations WHERE bill_day = $1 ORDER BY run_at DESC",
    )
    .bind(day.to_string())
    .fetch_optional(&st.db.pool)
    .await;
    let due = match last {
        Ok(None) => true,
        Ok(Some(r)) => {
            let failed = r
                .try_get::<Option<String>, _>("error")
                .ok()
                .flatten()
                .is_some();
            let at: String = r.try_get("run_at").unwrap_or_default();
            failed && at < ts(now - chrono::Duration::minutes(10))
        }
        Err(_) => false,
    };
    if due && let Err(e) = run(st, day, "system").await {
        tracing::warn!(error = %e, "daily reconciliation");
    }
}

pub async fn runs(st: &AppState, limit: i64) -> Result<Vec<RunRow>, DbError> {
    let mut out = Vec::new();
    for r in sqlx::query("SELECT * FROM payment_reconciliations ORDER BY run_at DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&st.db.pool)
        .await?
    {
        out.push(RunRow {
            id: r.try_get("id")?,
            bill_day: r.try_get("bill_day")?,
            run_at: r.try_get("run_at")?,
            run_by: r.try_get("run_by")?,
            bill_rows: r.try_get("bill_rows")?,
            matched_payments: r.try_get("matched_payments")?,
            matched_refunds: r.try_get("matched_refunds")?,
            differences: r.try_get("differences")?,
            error: r.try_get("error")?,
        });
    }
    Ok(out)
}

pub async fn differences(st: &AppState, run: i64) -> Result<Vec<DiffRow>, DbError> {
    let mut out = Vec::new();
    for r in sqlx::query("SELECT * FROM payment_differences WHERE run_id = $1 ORDER BY n")
        .bind(run)
        .fetch_all(&st.db.pool)
        .await?
    {
        out.push(DiffRow {
            out_trade_no: r.try_get("out_trade_no")?,
            out_refund_no: r.try_get("out_refund_no")?,
            cause: r.try_get("cause")?,
            detail: r.try_get("detail")?,
        });
    }
    Ok(out)
}
