//! Orders: made for a kiosk, applied from the platform's facts, closed.
//! Platform calls happen outside transactions; each answer is applied in a
//! short transaction under the order's row lock.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use exam_domain::changes::ItemStatus;
use exam_payment::gateway::NativeOrder;
use exam_payment::model::{Transaction, platform_time};
use exam_payment::{Applied, OrderState, PaymentError};
use exam_protocol::{PaymentOrder, PaymentState};

use super::store::{self, Channel, Flag, NewOrder, Stored};
use crate::AppState;
use crate::db::{DbError, KioskRow};
use crate::error::ApiErr;

pub type OrderView = PaymentOrder;

/// The "item" of a booking that has an amount due but no item rows.
pub const WHOLE_BOOKING: &str = "*booking";

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// No platform configured, or it cannot be reached now.
    #[error("{0}")]
    Unavailable(String),
    #[error("没有需要缴费的项目 / nothing to pay")]
    NothingDue,
    #[error("没有这条记录")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PayError {
    fn from(e: sqlx::Error) -> Self {
        PayError::Db(DbError::Sqlx(e))
    }
}

impl From<PayError> for ApiErr {
    fn from(e: PayError) -> Self {
        match e {
            PayError::Unavailable(m) => {
                ApiErr::new(StatusCode::SERVICE_UNAVAILABLE, "payment_unavailable", m)
            }
            PayError::NothingDue => ApiErr::new(StatusCode::CONFLICT, "nothing_due", e.to_string()),
            PayError::NotFound => ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            PayError::Db(d) => d.into(),
        }
    }
}

fn kiosk_state(s: OrderState) -> PaymentState {
    match s {
        OrderState::Created | OrderState::Paying => PaymentState::Pending,
        OrderState::Paid => PaymentState::Paid,
        OrderState::Closed => PaymentState::Closed,
        OrderState::PartiallyRefunded | OrderState::Refunded => PaymentState::Refunded,
        OrderState::Mismatch => PaymentState::Failed,
    }
}

pub fn view(s: &Stored) -> OrderView {
    PaymentOrder {
        out_trade_no: s.order.out_trade_no.clone(),
        amount_fen: s.order.total as i64,
        code_url: s.order.code_url.clone(),
        state: kiosk_state(s.order.state),
        expires_at: s.expires_at,
    }
}

fn actor(k: &KioskRow) -> String {
    format!("kiosk:{}", k.id)
}

/// Who asks for a platform order, and what they may pay for.
#[derive(Clone, Copy)]
pub(crate) enum Requester<'a> {
    /// A kiosk, for the person it identified, at its own campus: another
    /// campus's or person's booking is answered as unknown.
    Kiosk {
        kiosk: &'a KioskRow,
        id_number: &'a exam_domain::IdNumber,
    },
    /// Staff at the desk (`TakePayment`), for a visit they have open: the
    /// QR is shown on the desk's screen for the patient to scan.
    Desk { username: &'a str },
}

impl Requester<'_> {
    fn channel(self) -> Channel {
        match self {
            Requester::Kiosk { .. } => Channel::Kiosk,
            Requester::Desk { .. } => Channel::Desk,
        }
    }

    fn actor(self) -> String {
        match self {
            Requester::Kiosk { kiosk, .. } => actor(kiosk),
            Requester::Desk { username } => username.to_string(),
        }
    }
}

/// The kiosk asks to pay these bookings of the person it identified.
pub(crate) async fn create_for_kiosk(
    st: &AppState,
    kiosk: &KioskRow,
    id_number: &exam_domain::IdNumber,
    bookings: &[i64],
) -> Result<OrderView, PayError> {
    create_order(st, Requester::Kiosk { kiosk, id_number }, bookings).await
}

/// The amount is the bookings' unpaid active items, from the store (no
/// requester says how much). An open order for exactly these items is
/// handed back again; open orders for some of them are closed first.
pub(crate) async fn create_order(
    st: &AppState,
    who: Requester<'_>,
    bookings: &[i64],
) -> Result<OrderView, PayError> {
    let pay = &st.payments;
    let mut bookings = bookings.to_vec();
    bookings.sort_unstable();
    bookings.dedup();
    if bookings.is_empty() || bookings.len() > 20 {
        return Err(PayError::NotFound);
    }
    for _round in 0..3 {
        let mut tx = st.db.pool.begin().await?;
        let mut items: Vec<(i64, String, i64)> = Vec::new();
        let mut exam_nos = Vec::new();
        for &b in &bookings {
            let v = match crate::db::visit_in(&mut tx, &st.db.keys, b).await {
                Ok(v) => v,
                Err(crate::db::DeskError::NotFound) => return Err(PayError::NotFound),
                Err(crate::db::DeskError::Db(e)) => return Err(e.into()),
                Err(e) => return Err(PayError::Db(DbError::Corrupt(e.to_string()))),
            };
            // Another campus's booking, or another person's: as if unknown.
            if let Requester::Kiosk { kiosk, id_number } = who
                && (v.record.booking.campus != kiosk.campus
                    || v.record.person.id_number.as_str() != id_number.as_str())
            {
                return Err(PayError::NotFound);
            }
            exam_nos.push(v.record.booking.exam_no.clone());
            // A booking made elsewhere (the demo, an import) may carry its
            // amount due without item rows: paid as a whole.
            if v.items.is_empty() && v.record.booking.amount_due_fen > 0 {
                items.push((
                    b,
                    WHOLE_BOOKING.to_string(),
                    v.record.booking.amount_due_fen,
                ));
            }
            items.extend(
                v.items
                    .iter()
                    .filter(|i| !i.paid && i.status == ItemStatus::Active && i.price_fen > 0)
                    .map(|i| (b, i.code.clone(), i.price_fen)),
            );
        }
        items.sort();
        let amount: i64 = items.iter().map(|i| i.2).sum();
        if amount <= 0 {
            return Err(PayError::NothingDue);
        }
        // Checked after the bookings: another campus's kiosk learns nothing.
        let gw = pay.gateway()?.clone();
        let now = Utc::now();
        let open = store::open_orders_of(&mut tx, &bookings).await?;
        let mut reuse = None;
        let mut to_close = Vec::new();
        for no in open {
            let s = store::load(&mut tx, &no).await?.ok_or(PayError::NotFound)?;
            // Handed back only to whoever made it: a desk order closes a
            // kiosk's open one for the same items (and the other way round),
            // so one QR code is live per set of items.
            let same_maker = match who {
                Requester::Kiosk { kiosk, .. } => s.kiosk_id.as_deref() == Some(kiosk.id.as_str()),
                Requester::Desk { .. } => s.channel == Channel::Desk.as_str(),
            };
            if reuse.is_none()
                && same_maker
                && s.items == items
                && s.expires_at > now + chrono::Duration::seconds(30)
                && s.order.code_url.is_some()
            {
                reuse = Some(s);
            } else {
                to_close.push(no);
            }
        }
        if to_close.is_empty() {
            if let Some(s) = reuse {
                tx.rollback().await?;
                return Ok(view(&s));
            }
            let no = pay.next_trade_no();
            let expires_at =
                now + chrono::Duration::seconds(pay.settings.order_expiry_seconds.max(1));
            let actor = who.actor();
            let kiosk_id = match who {
                Requester::Kiosk { kiosk, .. } => Some(kiosk.id.as_str()),
                Requester::Desk { .. } => None,
            };
            store::insert(
                &mut tx,
                &NewOrder {
                    out_trade_no: &no,
                    amount_fen: amount,
                    channel: who.channel(),
                    kiosk_id,
                    created_by: &actor,
                    expires_at,
                    items: &items,
                },
                now,
            )
            .await?;
            crate::db::log_line(
                &mut tx,
                &actor,
                "payment.order",
                &format!(
                    "booking:{}",
                    bookings
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                &format!(
                    "out_trade_no={no} amount_fen={amount} items={}",
                    items.len()
                ),
            )
            .await?;
            tx.commit().await?;
            let native = NativeOrder {
                out_trade_no: no.clone(),
                description: format!("体检费 {}", exam_nos.join(",")),
                total: amount as u64,
                time_expire: Some(platform_time(expires_at)),
                attach: None,
            };
            // The same number and content again is the same order at the
            // platform: a lost answer is simply asked again.
            let mut last = None;
            for attempt in 0..4u32 {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(150 * u64::from(attempt))).await;
                }
                match gw.create_native(&native).await {
                    Ok(code_url) => {
                        let mut tx = st.db.pool.begin().await?;
                        store::lock(&mut tx, &no).await?;
                        let mut s = store::load(&mut tx, &no).await?.ok_or(PayError::NotFound)?;
                        let _ = s.order.on_code_url(&code_url);
                        store::save(&mut tx, &s.order, Utc::now(), None).await?;
                        tx.commit().await?;
                        return Ok(view(&s));
                    }
                    Err(e) if e.is_retryable() => last = Some(e),
                    Err(e) => {
                        last = Some(e);
                        break;
                    }
                }
            }
            // The order stays `created`: the job asks the platform about it
            // and closes it at its expiry.
            let e = last.map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(out_trade_no = %no, error = %e, "platform order not created");
            expire_now(st, &no).await?;
            return Err(PayError::Unavailable(format!(
                "支付平台暂时无法下单，请到收费处缴费 / the payment platform cannot take the order now ({e})"
            )));
        }
        tx.rollback().await?;
        for no in to_close {
            close(st, &no).await?;
        }
    }
    Err(PayError::Unavailable(
        "上一笔订单尚未关闭，请稍后再试 / an earlier order is still open".into(),
    ))
}

async fn expire_now(st: &AppState, no: &str) -> Result<(), PayError> {
    let mut tx = st.db.pool.begin().await?;
    store::set_flag(&mut tx, no, Flag::ExpireNow, Utc::now()).await?;
    tx.commit().await?;
    st.payments.kick.notify_one();
    Ok(())
}

/// Who looks at an order: the kiosk that made it, or the desk (any desk
/// order: the cashier who made it may have gone on break).
#[derive(Clone, Copy)]
pub(crate) enum Viewer<'a> {
    Kiosk(&'a KioskRow),
    Desk(&'a str),
}

impl Viewer<'_> {
    fn may_see(self, s: &Stored) -> bool {
        match self {
            Viewer::Kiosk(k) => s.kiosk_id.as_deref() == Some(k.id.as_str()),
            Viewer::Desk(_) => s.channel == Channel::Desk.as_str(),
        }
    }

    fn actor(self) -> String {
        match self {
            Viewer::Kiosk(k) => actor(k),
            Viewer::Desk(u) => u.to_string(),
        }
    }
}

/// The order's state for the kiosk that made it.
pub(crate) async fn state_for_kiosk(
    st: &AppState,
    kiosk: &KioskRow,
    no: &str,
) -> Result<OrderView, PayError> {
    state_for(st, Viewer::Kiosk(kiosk), no).await
}

pub(crate) async fn state_for(
    st: &AppState,
    who: Viewer<'_>,
    no: &str,
) -> Result<OrderView, PayError> {
    let s = store::load_one(&st.db, no)
        .await?
        .ok_or(PayError::NotFound)?;
    if !who.may_see(&s) {
        return Err(PayError::NotFound);
    }
    Ok(view(&s))
}

/// The patient left the pay screen: close the order now (a payment made
/// meanwhile is applied instead).
pub(crate) async fn cancel_for_kiosk(
    st: &AppState,
    kiosk: &KioskRow,
    no: &str,
) -> Result<OrderView, PayError> {
    cancel_for(st, Viewer::Kiosk(kiosk), no).await
}

pub(crate) async fn cancel_for(
    st: &AppState,
    who: Viewer<'_>,
    no: &str,
) -> Result<OrderView, PayError> {
    state_for(st, who, no).await?;
    let mut tx = st.db.pool.begin().await?;
    store::set_flag(&mut tx, no, Flag::ExpireNow, Utc::now()).await?;
    crate::db::log_line(
        &mut tx,
        &who.actor(),
        "payment.cancel",
        "",
        &format!("out_trade_no={no}"),
    )
    .await?;
    tx.commit().await?;
    if st.payments.available()
        && let Err(e) = close(st, no).await
    {
        tracing::warn!(out_trade_no = %no, error = %e, "closing a cancelled order: the job retries");
    }
    state_for(st, who, no).await
}

/// Close an unpaid order at the platform and locally; if the platform says
/// it is paid, the payment is looked up and applied.
pub(crate) async fn close(st: &AppState, no: &str) -> Result<(), PayError> {
    let gw = st.payments.gateway()?.clone();
    match gw.close_order(no).await {
        Ok(()) => closed(st, no).await,
        Err(e) if e.is_not_found() => closed(st, no).await,
        Err(PaymentError::Rejected {
            code: exam_payment::ErrorCode::OrderClosed,
            ..
        }) => closed(st, no).await,
        Err(PaymentError::Rejected {
            code: exam_payment::ErrorCode::OrderPaid,
            ..
        }) => query(st, no).await,
        Err(e) => Err(PayError::Unavailable(e.to_string())),
    }
}

async fn closed(st: &AppState, no: &str) -> Result<(), PayError> {
    let mut tx = st.db.pool.begin().await?;
    if !store::lock(&mut tx, no).await? {
        return Err(PayError::NotFound);
    }
    let mut s = store::load(&mut tx, no).await?.ok_or(PayError::NotFound)?;
    if matches!(s.order.on_closed(), Ok(Applied::Changed { .. })) {
        store::save(&mut tx, &s.order, Utc::now(), None).await?;
        store::set_flag(&mut tx, no, Flag::Closed, Utc::now()).await?;
        crate::db::log_line(
            &mut tx,
            "payment:platform",
            "payment.closed",
            "",
            &format!("out_trade_no={no}"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ask the platform and apply its answer.
pub(crate) async fn query(st: &AppState, no: &str) -> Result<(), PayError> {
    let gw = st.payments.gateway()?.clone();
    let answer = gw.query_order(no).await;
    let mut tx = st.db.pool.begin().await?;
    store::set_flag(&mut tx, no, Flag::Queried, Utc::now()).await?;
    tx.commit().await?;
    match answer {
        Ok(t) => apply_transaction(st, &t, "query").await.map(|_| ()),
        // Never reached the platform: nothing to pay; closed at expiry.
        Err(e) if e.is_not_found() => {
            let s = store::load_one(&st.db, no)
                .await?
                .ok_or(PayError::NotFound)?;
            if s.order.state == OrderState::Created && s.expires_at <= Utc::now() {
                closed(st, no).await?;
            }
            Ok(())
        }
        Err(e) => Err(PayError::Unavailable(e.to_string())),
    }
}

/// Apply what the platform says about an order (a notification's resource
/// or a query answer) under the row lock. Paid: the items are marked paid
/// in this transaction (HIS charge, LIS / PACS orders queued with it);
/// whatever could not be marked (changed or paid meanwhile) is refunded.
pub(crate) async fn apply_transaction(
    st: &AppState,
    t: &Transaction,
    source: &str,
) -> Result<Applied, PayError> {
    let no = &t.out_trade_no;
    let mut tx = st.db.pool.begin().await?;
    if !store::lock(&mut tx, no).await? {
        return Err(PayError::NotFound);
    }
    let mut s = store::load(&mut tx, no).await?.ok_or(PayError::NotFound)?;
    let now = Utc::now();
    if source == "notification" {
        store::set_flag(&mut tx, no, Flag::Notified, now).await?;
    }
    let applied = match s.order.apply_transaction(t) {
        Ok(a) => a,
        Err(e) => {
            // Another transaction id for a paid order: staff must look.
            tracing::error!(out_trade_no = %no, error = %e, "platform fact refused");
            tx.commit().await?;
            return Ok(Applied::Stale);
        }
    };
    if let Applied::Changed { from, to } = applied {
        let mut refund_meta = None;
        if to.is_paid() && !from.is_paid() {
            let marked = mark_paid(&mut tx, st, &s, source).await?;
            let left = s.order.total as i64 - marked;
            if left > 0 {
                // Money for items no longer due (or paid twice): back to the payer.
                if s.order.request_refund(left as u64).is_ok() {
                    store::set_flag(&mut tx, no, Flag::AutoRefund, now).await?;
                    refund_meta = Some(("paid items no longer due", None, "payment:platform"));
                }
            }
        }
        store::save(&mut tx, &s.order, now, refund_meta).await?;
        if to == OrderState::Mismatch {
            crate::db::log_line(
                &mut tx,
                "payment:platform",
                "payment.mismatch",
                "",
                &format!(
                    "out_trade_no={no} reported={:?}",
                    t.amount.as_ref().map(|a| a.total)
                ),
            )
            .await?;
        }
    }
    tx.commit().await?;
    if matches!(applied, Applied::Changed { .. }) {
        st.payments.kick.notify_one();
        crate::cluster::feed::publish(st, crate::cluster::feed::Topic::Registrations).await;
    }
    Ok(applied)
}

async fn mark_paid(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    st: &AppState,
    s: &Stored,
    source: &str,
) -> Result<i64, PayError> {
    let mut by_booking: std::collections::BTreeMap<i64, Vec<(String, i64)>> = Default::default();
    for (b, code, price) in &s.items {
        by_booking
            .entry(*b)
            .or_default()
            .push((code.clone(), *price));
    }
    let detail = format!(
        "method=platform out_trade_no={} transaction_id={} via={source}",
        s.order.out_trade_no,
        s.order
            .payment
            .as_ref()
            .map_or("", |p| p.transaction_id.as_str())
    );
    let mut marked = 0;
    for (b, items) in by_booking {
        marked += crate::db::mark_items_paid_in(
            tx,
            &st.db.keys,
            b,
            &items,
            "payment:platform",
            &s.order.out_trade_no,
            &detail,
        )
        .await?;
    }
    Ok(marked)
}

/// When an open order should be asked about (no notification for a while).
pub fn due_for_query(
    notified: bool,
    created: DateTime<Utc>,
    last_query: Option<DateTime<Utc>>,
    after: chrono::Duration,
    now: DateTime<Utc>,
) -> bool {
    !notified && created + after <= now && last_query.is_none_or(|q| q + after <= now)
}
