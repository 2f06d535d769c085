//! The payment job: what the platform did not tell us, we ask. Every tick
//! (or when kicked): open orders without a notification for
//! `query_after_seconds` are queried; orders past their expiry are closed
//! at the platform; refunds not final are sent (again, with the same
//! out_refund_no) or queried; after `bill_time`, yesterday's bill is
//! reconciled once.

use std::time::Duration;

use chrono::Utc;
use exam_payment::gateway::RefundOrder;
use exam_payment::order::LocalRefundState;

use super::service::{close, due_for_query, query};
use super::store;
use crate::AppState;

pub fn spawn(st: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    if !st.payments.available() {
        return None;
    }
    let st = st.clone();
    Some(tokio::spawn(async move {
        let period = Duration::from_millis(st.payments.settings.poll_ms.max(50));
        // Once across instances (issue 21): queries, closes, refunds, the bill.
        let job = crate::cluster::lease::Job::new("payments", period);
        loop {
            job.turn(&st, || async {
                if let Err(e) = tick(&st).await {
                    tracing::warn!(error = %e, "payment job");
                }
            })
            .await;
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                () = st.payments.kick.notified() => {}
            }
        }
    }))
}

/// One pass (public for tests that drive time themselves).
pub async fn tick(st: &AppState) -> Result<(), crate::db::DbError> {
    let now = Utc::now();
    let after = chrono::Duration::seconds(st.payments.settings.query_after_seconds.max(0));
    for (no, notified, created, expires, last_query) in store::open_orders(&st.db).await? {
        let r = if expires <= now {
            close(st, &no).await
        } else if due_for_query(notified, created, last_query, after, now) {
            query(st, &no).await
        } else {
            Ok(())
        };
        if let Err(e) = r {
            tracing::info!(out_trade_no = %no, error = %e, "payment order: retried next time");
        }
    }
    for (rno, no, state, updated) in store::pending_refunds(&st.db).await? {
        // Abnormal refunds need staff at the platform: asked about hourly.
        if state == LocalRefundState::Abnormal && updated + chrono::Duration::hours(1) > now {
            continue;
        }
        if let Err(e) = refund_step(st, &rno, &no, state).await {
            store::refund_attempt(&st.db, &rno, Some(&e)).await?;
        }
    }
    super::recon::daily(st, now).await;
    probe(st).await;
    Ok(())
}

/// E15: while the platform is failing, ask it about an order that does
/// not exist (read-only): any answer, "not found" included, shows it is
/// back, so emergency mode sees the platform return even when no order is
/// open.
async fn probe(st: &AppState) {
    if st.payments.health.failing_since().is_none() {
        return;
    }
    if let Ok(gw) = st.payments.gateway() {
        let r = gw.query_order("HEALTH-PROBE-0").await;
        tracing::debug!(
            reachable = !matches!(&r, Err(e) if super::health::unreachable(e)),
            "payment platform probe"
        );
    }
}

/// Send a requested refund (its stored number: a retry is the same refund)
/// or ask about one in progress, and apply the answer.
async fn refund_step(
    st: &AppState,
    rno: &str,
    no: &str,
    state: LocalRefundState,
) -> Result<(), String> {
    let gw = st.payments.gateway().map_err(|e| e.to_string())?.clone();
    let s = store::load_one(&st.db, no)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("order gone")?;
    let r = s
        .order
        .refunds
        .iter()
        .find(|r| r.out_refund_no == rno)
        .ok_or("refund gone")?;
    let answer = if state == LocalRefundState::Requested {
        gw.refund(&RefundOrder {
            out_trade_no: no.to_string(),
            out_refund_no: rno.to_string(),
            refund: r.amount,
            total: s.order.total,
            reason: Some("体检退费".into()),
        })
        .await
    } else {
        gw.query_refund(rno).await
    };
    let refund = answer.map_err(|e| e.to_string())?;
    store::refund_attempt(&st.db, rno, None)
        .await
        .map_err(|e| e.to_string())?;
    let mut tx = st.db.pool.begin().await.map_err(|e| e.to_string())?;
    store::lock(&mut tx, no).await.map_err(|e| e.to_string())?;
    let mut s = store::load(&mut tx, no)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("order gone")?;
    s.order
        .apply_refund(
            rno,
            refund.status,
            refund.amount.refund,
            &refund.refund_id,
            refund.success_time.as_deref(),
        )
        .map_err(|e| e.to_string())?;
    store::save(&mut tx, &s.order, Utc::now(), None)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(())
}
