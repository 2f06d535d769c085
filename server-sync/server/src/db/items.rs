//! E4 in the store: items added to a visit, one item's change (remove,
//! refund, waive with the signature kept, make-up, defer, restore) and
//! payment at the desk; each with its line in the operation log.

use chrono::Utc;
use exam_domain::changes::{self, ItemChange, ItemState, ItemStatus, Outcome};
use sqlx::Row;

use super::at_rest::ad;
use super::desk::{DeskError, Visit, insert_items, touch};
use super::visits::visit_in;
use super::{Db, DbError, oplog, ts};
use crate::finance::store as finance;
use crate::finance::{Entry, Method};

type Result<T> = std::result::Result<T, DeskError>;

impl Db {
    /// Adds single items to a visit (already planned and checked by the caller).
    pub async fn add_items(
        &self,
        actor: &str,
        id: i64,
        items: &[(String, i64)],
        pay_later: bool,
    ) -> Result<Visit> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        if v.record.booking.state.as_str() == "cancelled" {
            return Err(DeskError::State("预约已取消".into()));
        }
        for (code, _) in items {
            if v.items.iter().any(|i| &i.code == code) {
                return Err(DeskError::Rule(format!("{code} 已在单上")));
            }
        }
        let rows: Vec<(&str, i64, bool)> =
            items.iter().map(|(c, p)| (c.as_str(), *p, false)).collect();
        insert_items(&mut tx, id, &rows, actor).await?;
        touch(&mut tx, id, pay_later).await?;
        // I1-I3: orders, cancellations, HIS charges and refunds with the change.
        crate::interfaces::facts::sync_visit(&mut tx, &self.keys, id, Utc::now()).await?;
        oplog::log(
            &mut tx,
            actor,
            "item.add",
            &super::people::subject(&self.keys, &v.record.person.id_number),
            &format!(
                "exam_no={} items={}",
                v.record.booking.exam_no,
                items
                    .iter()
                    .map(|i| i.0.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        )
        .await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// E4: one change of one item (remove, refund, waive, make-up, defer, restore).
    pub async fn change_item(
        &self,
        actor: &str,
        id: i64,
        code: &str,
        change: &ItemChange,
        pay_later: bool,
    ) -> Result<(Visit, i64)> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        let item = v
            .items
            .iter()
            .find(|i| i.code == code)
            .ok_or(DeskError::NotFound)?;
        let outcome = changes::apply(
            ItemState {
                status: item.status,
                paid: item.paid,
                price_fen: item.price_fen,
            },
            change,
        )
        .map_err(|e| DeskError::Rule(e.to_string()))?;
        let mut refund = 0;
        match outcome {
            Outcome::Removed => {
                sqlx::query("DELETE FROM booking_items WHERE booking_id = $1 AND item_code = $2")
                    .bind(id)
                    .bind(code)
                    .execute(&mut *tx)
                    .await?;
            }
            Outcome::Status { status, refund_fen } => {
                refund = refund_fen;
                let signature = match change {
                    ItemChange::Waive { signature_png } => Some(
                        self.keys
                            .seal(
                                signature_png,
                                &ad("booking_items", "signature", &[&id.to_string(), code]),
                            )
                            .map_err(DbError::from)?,
                    ),
                    _ => None,
                };
                sqlx::query(
                    "UPDATE booking_items SET status = $3, signature = COALESCE($4, signature),
                            changed_at = $5, changed_by = $6 WHERE booking_id = $1 AND item_code = $2",
                )
                .bind(id)
                .bind(code)
                .bind(status.as_str())
                .bind(signature)
                .bind(ts(Utc::now()))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
            }
        }
        // K16: money paid through the platform goes back the same way, by
        // a refund number decided here (the payment job sends it).
        if matches!(change, ItemChange::Refund) && item.paid && refund > 0 {
            let rno =
                crate::payments::store::refund_item_in(&mut tx, id, code, refund, actor).await?;
            // E14: the refund in the ledger, by the way the money goes
            // back: the platform's refund, or how the desk last took it.
            let method = match rno {
                Some(_) => Method::Platform,
                None => finance::desk_method_in(&mut tx, id)
                    .await?
                    .unwrap_or(Method::Cash),
            };
            let line = finance::Line {
                booking: id,
                entry: Entry::Refund,
                method,
                fen: refund,
                by: actor,
                reference: rno.as_deref(),
            };
            finance::record_in(&mut tx, &line, Utc::now()).await?;
        }
        touch(&mut tx, id, pay_later).await?;
        // I1-I3: orders, cancellations, HIS charges and refunds with the change.
        crate::interfaces::facts::sync_visit(&mut tx, &self.keys, id, Utc::now()).await?;
        if matches!(change, ItemChange::Refund) && refund > 0 {
            // E15: during an emergency episode, an entry of its report.
            crate::emergency::store::record_in(
                &mut tx,
                crate::emergency::EntryKind::Refund,
                id,
                &v.record.booking.exam_no,
                refund,
                None,
                actor,
                Utc::now(),
            )
            .await?;
        }
        let what = match change {
            ItemChange::Remove => "item.remove",
            ItemChange::Refund => "item.refund",
            ItemChange::Waive { .. } => "item.waive",
            ItemChange::MakeUp => "item.make_up",
            ItemChange::Deferred => "item.defer",
            ItemChange::Restore => "item.restore",
        };
        oplog::log(
            &mut tx,
            actor,
            what,
            &super::people::subject(&self.keys, &v.record.person.id_number),
            &format!(
                "exam_no={} item={code} refund_fen={refund}",
                v.record.booking.exam_no
            ),
        )
        .await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok((v, refund))
    }

    /// The patient's signature for a waived item, as PNG bytes.
    /// A waived item's signature (high-risk data, seed 002 §(九) 6.1): every
    /// view is audited, like the kiosk photo's.
    pub async fn signature(&self, actor: &str, id: i64, code: &str) -> Result<Option<Vec<u8>>> {
        let r = sqlx::query(
            "SELECT signature FROM booking_items WHERE booking_id = $1 AND item_code = $2",
        )
        .bind(id)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        let Some(sealed) =
            r.and_then(|r| r.try_get::<Option<String>, _>("signature").ok().flatten())
        else {
            return Ok(None);
        };
        let ad = ad("booking_items", "signature", &[&id.to_string(), code]);
        let png = self.keys.open(&sealed, &ad).map_err(DbError::from)?;
        self.audit_on(
            actor,
            "signature.view",
            &format!("booking:{id}"),
            &format!("waiver signature of item {code}"),
        )
        .await?;
        Ok(Some(png))
    }

    /// The front desk takes payment for every unpaid active item. During
    /// an emergency episode (E15) the charge is an entry of it, with its
    /// emergency receipt number (the stamp).
    pub async fn mark_paid(
        &self,
        actor: &str,
        id: i64,
        method: Method,
    ) -> Result<(Visit, i64, Option<crate::emergency::Stamp>)> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        let amount: i64 = v
            .items
            .iter()
            .filter(|i| !i.paid && i.status == ItemStatus::Active)
            .map(|i| i.price_fen)
            .sum();
        sqlx::query("UPDATE booking_items SET paid = 1 WHERE booking_id = $1 AND paid = 0 AND status = 'active'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        touch(&mut tx, id, false).await?;
        // I1-I3: orders, cancellations, HIS charges and refunds with the change.
        crate::interfaces::facts::sync_visit(&mut tx, &self.keys, id, Utc::now()).await?;
        // E14: the charge in the ledger, under the visit's campus.
        let line = finance::Line {
            booking: id,
            entry: Entry::Charge,
            method,
            fen: amount,
            by: actor,
            reference: None,
        };
        finance::record_in(&mut tx, &line, Utc::now()).await?;
        let stamp = if amount > 0 {
            crate::emergency::store::record_in(
                &mut tx,
                crate::emergency::EntryKind::Charge,
                id,
                &v.record.booking.exam_no,
                amount,
                Some(method.as_str()),
                actor,
                Utc::now(),
            )
            .await?
        } else {
            None
        };
        let receipt = stamp
            .as_ref()
            .and_then(|s| s.receipt_no.as_deref())
            .map(|r| format!(" emergency_receipt={r}"))
            .unwrap_or_default();
        oplog::log(
            &mut tx,
            actor,
            "visit.pay",
            &super::people::subject(&self.keys, &v.record.person.id_number),
            &format!(
                "exam_no={} amount_fen={amount} method={}{receipt}",
                v.record.booking.exam_no,
                method.as_str()
            ),
        )
        .await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok((v, amount, stamp))
    }
}

/// K16: the platform said an order is paid: its items still unpaid and
/// active are marked paid in the caller's transaction (with the visit's
/// HIS charge and orders enqueued, and the operation log's line). Returns
/// the fen actually marked: less than the order's amount when an item was
/// refunded, removed or paid otherwise meanwhile.
pub(crate) async fn mark_items_paid_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    keys: &exam_vault::KeyRing,
    booking: i64,
    items: &[(String, i64)],
    actor: &str,
    out_trade_no: &str,
    detail: &str,
) -> std::result::Result<i64, DbError> {
    let v = visit_in(tx, keys, booking).await.map_err(|e| match e {
        DeskError::Db(d) => d,
        other => DbError::Corrupt(other.to_string()),
    })?;
    let mut marked = 0;
    for (code, price) in items {
        if code == crate::payments::WHOLE_BOOKING {
            let n = sqlx::query(
                "UPDATE bookings SET amount_due_fen = 0 WHERE id = $1 AND amount_due_fen = $2",
            )
            .bind(booking)
            .bind(price)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if n == 1 {
                marked += price;
            }
            continue;
        }
        let n = sqlx::query(
            "UPDATE booking_items SET paid = 1
              WHERE booking_id = $1 AND item_code = $2 AND paid = 0 AND status = 'active'",
        )
        .bind(booking)
        .bind(code)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if n == 1 {
            marked += price;
        }
    }
    touch(tx, booking, false).await.map_err(|e| match e {
        DeskError::Db(d) => d,
        other => DbError::Corrupt(other.to_string()),
    })?;
    crate::interfaces::facts::sync_visit(tx, keys, booking, Utc::now()).await?;
    // E14: what was marked is the campus's income (money the platform
    // took for items no longer due goes back and never counts).
    let line = finance::Line {
        booking,
        entry: Entry::Charge,
        method: Method::Platform,
        fen: marked,
        by: actor,
        reference: Some(out_trade_no),
    };
    finance::record_in(tx, &line, Utc::now()).await?;
    oplog::log(
        tx,
        actor,
        "visit.pay",
        &super::people::subject(keys, &v.record.person.id_number),
        &format!(
            "exam_no={} amount_fen={marked} {detail}",
            v.record.booking.exam_no
        ),
    )
    .await?;
    Ok(marked)
}

pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

impl Db {
    /// New prices for a visit's unpaid active items (a group's discount
    /// changed); paid, refunded and waived items keep theirs.
    pub async fn reprice_items(
        &self,
        actor: &str,
        id: i64,
        prices: &[(String, i64)],
        pay_later: bool,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        let mut n = 0;
        for (code, price) in prices {
            n += sqlx::query(
                "UPDATE booking_items SET price_fen = $3, changed_at = $4, changed_by = $5
                  WHERE booking_id = $1 AND item_code = $2 AND paid = 0 AND status = 'active'",
            )
            .bind(id)
            .bind(code)
            .bind(price)
            .bind(ts(Utc::now()))
            .bind(actor)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        touch(&mut tx, id, pay_later).await?;
        oplog::log(
            &mut tx,
            actor,
            "item.reprice",
            &super::people::subject(&self.keys, &v.record.person.id_number),
            &format!("exam_no={} items={n}", v.record.booking.exam_no),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// A group's discount, as later bookings and repricing use it.
    pub async fn set_group_discount(
        &self,
        actor: &str,
        company: i64,
        group: i64,
        pct: u32,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE exam_groups SET discount_pct = $3 WHERE id = $1 AND company_id = $2",
        )
        .bind(group)
        .bind(company)
        .bind(i64::from(pct))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        oplog::log(
            &mut tx,
            actor,
            "group.discount",
            &format!("company:{company}"),
            &format!("group={group} discount={pct}%"),
        )
        .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}

/// The printable items (not refunded, not waived) of `n` visits bound as
/// `$1`..`$n` (a kiosk's pull attaches them to every booking it carries).
pub(crate) fn items_of_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, item_code, price_fen, paid FROM booking_items
                  WHERE status NOT IN ('refunded', 'waived') AND booking_id IN ({})
                  ORDER BY booking_id, changed_at, item_code",
        super::placeholders(n)
    )
}

impl Db {
    /// The printable items (not refunded, not waived) of several visits.
    pub async fn items_of(
        &self,
        ids: &[i64],
    ) -> std::result::Result<
        std::collections::HashMap<i64, Vec<exam_domain::documents::DocItem>>,
        super::DbError,
    > {
        let mut out: std::collections::HashMap<i64, Vec<exam_domain::documents::DocItem>> =
            Default::default();
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(items_of_sql(chunk.len())));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.read).await? {
                out.entry(r.try_get("booking_id")?).or_default().push(
                    exam_domain::documents::DocItem {
                        code: r.try_get("item_code")?,
                        price_fen: r.try_get("price_fen")?,
                        paid: r.try_get::<i64, _>("paid")? != 0,
                    },
                );
            }
        }
        Ok(out)
    }
}
