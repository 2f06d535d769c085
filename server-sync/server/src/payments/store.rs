//! Orders and refunds in the store. An order row is the persisted
//! `exam_payment::LocalOrder`: every change loads it under its row lock
//! ([`lock`]: a version bump, the first write of the transaction), applies
//! a platform fact through the pure state machine and writes it back
//! ([`save`]). Nothing here calls the platform: calls are made outside
//! transactions and their answers applied after.

use chrono::{DateTime, Utc};
use exam_payment::OrderState;
use exam_payment::model::Currency;
use exam_payment::order::{LocalOrder, LocalRefund, LocalRefundState, MismatchFact, PaymentFact};
use sqlx::any::Any;
use sqlx::{Row, Transaction};

use crate::db::{DbError, parse_ts, ts};

type Result<T> = std::result::Result<T, DbError>;

pub fn state_str(s: OrderState) -> &'static str {
    match s {
        OrderState::Created => "created",
        OrderState::Paying => "paying",
        OrderState::Paid => "paid",
        OrderState::Closed => "closed",
        OrderState::PartiallyRefunded => "partially_refunded",
        OrderState::Refunded => "refunded",
        OrderState::Mismatch => "mismatch",
    }
}

pub fn parse_state(s: &str) -> Result<OrderState> {
    Ok(match s {
        "created" => OrderState::Created,
        "paying" => OrderState::Paying,
        "paid" => OrderState::Paid,
        "closed" => OrderState::Closed,
        "partially_refunded" => OrderState::PartiallyRefunded,
        "refunded" => OrderState::Refunded,
        "mismatch" => OrderState::Mismatch,
        other => return Err(DbError::Corrupt(format!("payment order state {other:?}"))),
    })
}

pub fn refund_state_str(s: LocalRefundState) -> &'static str {
    match s {
        LocalRefundState::Requested => "requested",
        LocalRefundState::Processing => "processing",
        LocalRefundState::Success => "success",
        LocalRefundState::Closed => "closed",
        LocalRefundState::Abnormal => "abnormal",
    }
}

fn parse_refund_state(s: &str) -> Result<LocalRefundState> {
    Ok(match s {
        "requested" => LocalRefundState::Requested,
        "processing" => LocalRefundState::Processing,
        "success" => LocalRefundState::Success,
        "closed" => LocalRefundState::Closed,
        "abnormal" => LocalRefundState::Abnormal,
        other => return Err(DbError::Corrupt(format!("refund state {other:?}"))),
    })
}

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Kiosk,
    Desk,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Desk => "desk",
        }
    }
}

/// An order with what the state machine does not keep.
#[derive(Debug, Clone)]
pub struct Stored {
    pub order: LocalOrder,
    pub channel: String,
    pub kiosk_id: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub notified: bool,
    pub auto_refund: bool,
    /// (booking, item code, price in fen).
    pub items: Vec<(i64, String, i64)>,
}

pub struct NewOrder<'a> {
    pub out_trade_no: &'a str,
    pub amount_fen: i64,
    pub channel: Channel,
    pub kiosk_id: Option<&'a str>,
    pub created_by: &'a str,
    pub expires_at: DateTime<Utc>,
    pub items: &'a [(i64, String, i64)],
}

pub async fn insert(
    tx: &mut Transaction<'_, Any>,
    o: &NewOrder<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO payment_orders(out_trade_no, amount_fen, currency, channel, kiosk_id, created_by,
             state, expires_at, paid_after_close, auto_refund, created_at, updated_at, version)
         VALUES ($1, $2, 'CNY', $3, $4, $5, 'created', $6, 0, 0, $7, $7, 0)",
    )
    .bind(o.out_trade_no)
    .bind(o.amount_fen)
    .bind(o.channel.as_str())
    .bind(o.kiosk_id)
    .bind(o.created_by)
    .bind(ts(o.expires_at))
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    for (booking, code, price) in o.items {
        sqlx::query(
            "INSERT INTO payment_order_items(out_trade_no, booking_id, item_code, price_fen)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(o.out_trade_no)
        .bind(booking)
        .bind(code)
        .bind(price)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Takes the order's row lock (PostgreSQL: row lock until commit; SQLite:
/// the one writer). False: no such order.
pub async fn lock(tx: &mut Transaction<'_, Any>, no: &str) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE payment_orders SET version = version + 1 WHERE out_trade_no = $1")
            .bind(no)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

fn opt(r: &sqlx::any::AnyRow, c: &str) -> Result<Option<String>> {
    Ok(r.try_get::<Option<String>, _>(c)?)
}

/// Loads an order (in a transaction after [`lock`], or for reading).
pub async fn load(ex: &mut sqlx::AnyConnection, no: &str) -> Result<Option<Stored>> {
    let Some(r) = sqlx::query("SELECT * FROM payment_orders WHERE out_trade_no = $1")
        .bind(no)
        .fetch_optional(&mut *ex)
        .await?
    else {
        return Ok(None);
    };
    let total: i64 = r.try_get("amount_fen")?;
    let mut o = LocalOrder::new(no, total.max(0) as u64, Currency::Cny);
    o.state = parse_state(&r.try_get::<String, _>("state")?)?;
    o.code_url = opt(&r, "code_url")?;
    o.payment = match (opt(&r, "transaction_id")?, opt(&r, "success_time")?) {
        (Some(transaction_id), t) => Some(PaymentFact {
            transaction_id,
            success_time: t.unwrap_or_default(),
        }),
        _ => None,
    };
    o.mismatch = opt(&r, "mismatch")?.map(|m| {
        let mut p = m.splitn(3, '|');
        let s = |x: Option<&str>| x.filter(|v| !v.is_empty()).map(str::to_string);
        MismatchFact {
            transaction_id: s(p.next()),
            reported_total: p.next().and_then(|v| v.parse().ok()),
            reported_currency: s(p.next()),
        }
    });
    o.paid_after_close = r.try_get::<i64, _>("paid_after_close")? != 0;
    for rr in sqlx::query(
        "SELECT out_refund_no, amount_fen, state, refund_id, success_time FROM payment_refunds
          WHERE out_trade_no = $1 ORDER BY seq",
    )
    .bind(no)
    .fetch_all(&mut *ex)
    .await?
    {
        o.refunds.push(LocalRefund {
            out_refund_no: rr.try_get("out_refund_no")?,
            amount: rr.try_get::<i64, _>("amount_fen")?.max(0) as u64,
            state: parse_refund_state(&rr.try_get::<String, _>("state")?)?,
            refund_id: opt(&rr, "refund_id")?,
            success_time: opt(&rr, "success_time")?,
        });
    }
    let mut items = Vec::new();
    for ir in sqlx::query(
        "SELECT booking_id, item_code, price_fen FROM payment_order_items
          WHERE out_trade_no = $1 ORDER BY booking_id, item_code",
    )
    .bind(no)
    .fetch_all(&mut *ex)
    .await?
    {
        items.push((
            ir.try_get("booking_id")?,
            ir.try_get("item_code")?,
            ir.try_get("price_fen")?,
        ));
    }
    Ok(Some(Stored {
        order: o,
        channel: r.try_get("channel")?,
        kiosk_id: opt(&r, "kiosk_id")?,
        expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        notified: opt(&r, "notified_at")?.is_some(),
        auto_refund: r.try_get::<i64, _>("auto_refund")? != 0,
        items,
    }))
}

/// [`load`] outside a transaction.
pub async fn load_one(db: &crate::db::Db, no: &str) -> Result<Option<Stored>> {
    let mut c = db.pool.acquire().await?;
    load(&mut c, no).await
}

/// A new refund's reason, the item it is for, and who asked.
pub type RefundMeta<'a> = (&'a str, Option<(i64, &'a str)>, &'a str);

/// Writes the state machine's order back, refunds included (new ones
/// inserted with their reason, known ones updated).
pub async fn save(
    tx: &mut Transaction<'_, Any>,
    o: &LocalOrder,
    now: DateTime<Utc>,
    refund_meta: Option<RefundMeta<'_>>,
) -> Result<()> {
    let mismatch = o.mismatch.as_ref().map(|m| {
        format!(
            "{}|{}|{}",
            m.transaction_id.as_deref().unwrap_or_default(),
            m.reported_total.map(|t| t.to_string()).unwrap_or_default(),
            m.reported_currency.as_deref().unwrap_or_default()
        )
    });
    let paid_at = o.state.is_paid().then(|| ts(now));
    sqlx::query(
        "UPDATE payment_orders SET state = $2, code_url = $3, transaction_id = $4,
                success_time = $5, mismatch = $6, paid_after_close = $7,
                paid_at = COALESCE(paid_at, $8), updated_at = $9
          WHERE out_trade_no = $1",
    )
    .bind(&o.out_trade_no)
    .bind(state_str(o.state))
    .bind(o.code_url.as_deref())
    .bind(o.payment.as_ref().map(|p| p.transaction_id.as_str()))
    .bind(o.payment.as_ref().map(|p| p.success_time.as_str()))
    .bind(mismatch)
    .bind(i64::from(o.paid_after_close))
    .bind(paid_at)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    for (seq, r) in o.refunds.iter().enumerate() {
        let n = sqlx::query(
            "UPDATE payment_refunds SET state = $2, refund_id = COALESCE($3, refund_id),
                    success_time = COALESCE($4, success_time), updated_at = $5
              WHERE out_refund_no = $1",
        )
        .bind(&r.out_refund_no)
        .bind(refund_state_str(r.state))
        .bind(r.refund_id.as_deref())
        .bind(r.success_time.as_deref())
        .bind(ts(now))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n == 0 {
            let (reason, item, by) = refund_meta.unwrap_or(("", None, "system"));
            sqlx::query(
                "INSERT INTO payment_refunds(out_refund_no, out_trade_no, seq, amount_fen, state,
                     booking_id, item_code, reason, requested_by, attempts, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10)",
            )
            .bind(&r.out_refund_no)
            .bind(&o.out_trade_no)
            .bind(seq as i64 + 1)
            .bind(r.amount as i64)
            .bind(refund_state_str(r.state))
            .bind(item.map(|i| i.0))
            .bind(item.map(|i| i.1))
            .bind(reason)
            .bind(by)
            .bind(ts(now))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

pub async fn set_flag(
    tx: &mut Transaction<'_, Any>,
    no: &str,
    column: Flag,
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = match column {
        Flag::Notified => {
            "UPDATE payment_orders SET notified_at = COALESCE(notified_at, $2) WHERE out_trade_no = $1"
        }
        Flag::Queried => "UPDATE payment_orders SET last_query_at = $2 WHERE out_trade_no = $1",
        Flag::Closed => {
            "UPDATE payment_orders SET closed_at = COALESCE(closed_at, $2) WHERE out_trade_no = $1"
        }
        Flag::AutoRefund => {
            "UPDATE payment_orders SET auto_refund = 1, updated_at = $2 WHERE out_trade_no = $1"
        }
        Flag::ExpireNow => {
            "UPDATE payment_orders SET expires_at = $2 WHERE out_trade_no = $1 AND expires_at > $2"
        }
    };
    sqlx::query(sql)
        .bind(no)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Notified,
    Queried,
    Closed,
    AutoRefund,
    ExpireNow,
}

/// Open orders (created or paying) holding any item of these bookings:
/// (out_trade_no, items).
pub async fn open_orders_of(
    tx: &mut Transaction<'_, Any>,
    bookings: &[i64],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for b in bookings {
        for r in sqlx::query(
            "SELECT DISTINCT o.out_trade_no FROM payment_order_items i
               JOIN payment_orders o ON o.out_trade_no = i.out_trade_no
              WHERE i.booking_id = $1 AND o.state IN ('created', 'paying')",
        )
        .bind(b)
        .fetch_all(&mut **tx)
        .await?
        {
            let no: String = r.try_get(0)?;
            if !out.contains(&no) {
                out.push(no);
            }
        }
    }
    Ok(out)
}

/// The paid order that paid this item, if the platform took its money.
pub async fn order_paying_item(
    tx: &mut Transaction<'_, Any>,
    booking: i64,
    code: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query(
        "SELECT o.out_trade_no FROM payment_order_items i
           JOIN payment_orders o ON o.out_trade_no = i.out_trade_no
          WHERE i.booking_id = $1 AND i.item_code = $2
            AND o.state IN ('paid', 'partially_refunded')
          ORDER BY o.created_at DESC",
    )
    .bind(booking)
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get(0))
    .transpose()?)
}

/// E4 meets the platform: a desk refund of an item paid through the
/// platform becomes a platform refund, decided (with its out_refund_no) in
/// the item change's own transaction; the payment job sends it. Returns
/// the refund number, or None when the item was paid otherwise (cash).
pub async fn refund_item_in(
    tx: &mut Transaction<'_, Any>,
    booking: i64,
    code: &str,
    amount_fen: i64,
    actor: &str,
) -> Result<Option<String>> {
    if amount_fen <= 0 {
        return Ok(None);
    }
    let Some(no) = order_paying_item(tx, booking, code).await? else {
        return Ok(None);
    };
    lock(tx, &no).await?;
    let Some(mut s) = load(tx, &no).await? else {
        return Ok(None);
    };
    let rno = match s.order.request_refund(amount_fen as u64) {
        Ok(r) => r.out_refund_no.clone(),
        // More than the order still holds (refunded already): nothing to send.
        Err(e) => {
            tracing::warn!(out_trade_no = %no, error = %e, "item refund not sent to the platform");
            return Ok(None);
        }
    };
    save(
        tx,
        &s.order,
        Utc::now(),
        Some(("item refund", Some((booking, code)), actor)),
    )
    .await?;
    Ok(Some(rno))
}

/// Orders the job must look at: open ones (to query or close).
pub async fn open_orders(
    db: &crate::db::Db,
) -> Result<
    Vec<(
        String,
        bool,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    )>,
> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT out_trade_no, notified_at, created_at, expires_at, last_query_at FROM payment_orders
          WHERE state IN ('created', 'paying') ORDER BY created_at LIMIT 2000",
    )
    .fetch_all(&db.pool)
    .await?
    {
        out.push((
            r.try_get("out_trade_no")?,
            opt(&r, "notified_at")?.is_some(),
            parse_ts(&r.try_get::<String, _>("created_at")?)?,
            parse_ts(&r.try_get::<String, _>("expires_at")?)?,
            opt(&r, "last_query_at")?.map(|t| parse_ts(&t)).transpose()?,
        ));
    }
    Ok(out)
}

/// Refunds not final: (out_refund_no, out_trade_no, state, updated_at).
pub async fn pending_refunds(
    db: &crate::db::Db,
) -> Result<Vec<(String, String, LocalRefundState, DateTime<Utc>)>> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT out_refund_no, out_trade_no, state, updated_at FROM payment_refunds
          WHERE state IN ('requested', 'processing', 'abnormal') ORDER BY created_at LIMIT 2000",
    )
    .fetch_all(&db.pool)
    .await?
    {
        out.push((
            r.try_get("out_refund_no")?,
            r.try_get("out_trade_no")?,
            parse_refund_state(&r.try_get::<String, _>("state")?)?,
            parse_ts(&r.try_get::<String, _>("updated_at")?)?,
        ));
    }
    Ok(out)
}

pub async fn refund_attempt(db: &crate::db::Db, rno: &str, error: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE payment_refunds SET attempts = attempts + 1, last_error = $2, updated_at = $3
          WHERE out_refund_no = $1",
    )
    .bind(rno)
    .bind(error)
    .bind(ts(Utc::now()))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records a verified notification once by its id; true when it is new.
pub async fn log_notification(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    kind: &str,
    no: &str,
    rno: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    // ON CONFLICT: two deliveries of one notification at once both get
    // through here; one inserts, the other counts a delivery.
    let n = sqlx::query(
        "INSERT INTO payment_notifications(id, kind, out_trade_no, out_refund_no, outcome, deliveries, received_at, last_at)
         VALUES ($1, $2, $3, $4, 'received', 1, $5, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(no)
    .bind(rno)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE payment_notifications SET deliveries = deliveries + 1, last_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(false)
}

pub async fn notification_outcome(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    outcome: &str,
) -> Result<()> {
    sqlx::query("UPDATE payment_notifications SET outcome = $2 WHERE id = $1")
        .bind(id)
        .bind(outcome)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
