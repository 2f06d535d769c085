//! From facts to messages. [`plan`] (pure) compares a visit as it stands
//! with what was already sent for it and says what to send; [`sync_visit`]
//! runs it inside the fact's own transaction and enqueues the result.
//!
//! The rules (I1–I3):
//! - a registered visit (checked in at a kiosk or the desk) sends HIS the
//!   patient master record (once per person) and the registration;
//! - an item is ordered from its counterpart when the visit is registered,
//!   the item is to be done (active, make-up or deferred) and it is paid
//!   (or the visit is a group's that pays later); an ordered item that is
//!   no longer to be done (refunded, waived, removed) has its order
//!   cancelled, and if it is due again later it is a new order (generation);
//! - items paid at the desk are charged to HIS in one message per payment,
//!   and charged items refunded are refunded to HIS.
//!
//! Calling it again with nothing changed enqueues nothing: every step is
//! recorded in `interface_items` in the same transaction, and the keys of
//! the messages are unique.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use exam_domain::catalogue::SampleType;
use exam_domain::changes::ItemStatus;
use sqlx::{Any, Row, Transaction};

use super::Counterpart;
use super::payload::{Line, OrderLine, PatientData, Payload, VisitRef};
use super::store::{NewMessage, enqueue};
use crate::db::{DbError, DeskError, Result, visit_in};

/// One item of the visit as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemNow {
    pub code: String,
    pub status: ItemStatus,
    pub paid: bool,
}

/// What was sent for one item so far (`interface_items`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSent {
    pub counterpart: Option<Counterpart>,
    pub generation: u32,
    pub ordered: bool,
    pub charged: bool,
    pub refunded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitNow {
    pub registered: bool,
    /// A group's visit: the employer settles later, nothing is paid here.
    pub pay_later: bool,
    pub items: Vec<ItemNow>,
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    PatientRecord,
    Registration,
    Order {
        code: String,
        counterpart: Counterpart,
        generation: u32,
    },
    Cancel {
        code: String,
        counterpart: Counterpart,
        generation: u32,
    },
    Charge {
        codes: Vec<String>,
    },
    Refund {
        codes: Vec<String>,
    },
}

fn to_be_done(s: ItemStatus) -> bool {
    matches!(
        s,
        ItemStatus::Active | ItemStatus::MakeUp | ItemStatus::Deferred
    )
}

/// The steps that bring the counterparts up to `v` (pure). `routes` is each
/// item's counterpart from the catalogue; `sent` what was sent per item.
/// HIS's messages come first, then orders and cancellations by item code.
pub fn plan(
    v: &VisitNow,
    routes: &BTreeMap<String, Option<Counterpart>>,
    sent: &BTreeMap<String, ItemSent>,
) -> Vec<Step> {
    let mut out = Vec::new();
    let charge: Vec<String> = v
        .items
        .iter()
        .filter(|i| i.paid && !v.pay_later && !sent.get(&i.code).is_some_and(|s| s.charged))
        .map(|i| i.code.clone())
        .collect();
    let refund: Vec<String> = v
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Refunded)
        .filter(|i| {
            // Charged before (or in this very step: paid, then refunded
            // before anything was synced).
            let charged = sent.get(&i.code).is_some_and(|s| s.charged) || (i.paid && !v.pay_later);
            charged && !sent.get(&i.code).is_some_and(|s| s.refunded)
        })
        .map(|i| i.code.clone())
        .collect();
    // HIS books nothing for a patient it has no record of: money paid
    // before registration (a kiosk's pay screen comes before its check-in,
    // a desk takes money for a booking) sends the record first. The
    // record's key is the person's, so it goes once however it is asked.
    if v.registered || !charge.is_empty() || !refund.is_empty() {
        out.push(Step::PatientRecord);
    }
    if v.registered {
        out.push(Step::Registration);
    }
    if !charge.is_empty() {
        out.push(Step::Charge { codes: charge });
    }
    if !refund.is_empty() {
        out.push(Step::Refund { codes: refund });
    }
    let mut codes: Vec<&String> = v.items.iter().map(|i| &i.code).collect();
    codes.extend(
        sent.keys()
            .filter(|c| !v.items.iter().any(|i| &i.code == *c)),
    );
    codes.sort();
    for code in codes {
        let now = v.items.iter().find(|i| &i.code == code);
        let was = sent.get(code).cloned().unwrap_or_default();
        let due =
            now.is_some_and(|i| v.registered && to_be_done(i.status) && (i.paid || v.pay_later));
        let route = routes.get(code).copied().flatten();
        match (due, was.ordered) {
            (true, false) => {
                if let Some(counterpart) = route {
                    out.push(Step::Order {
                        code: code.clone(),
                        counterpart,
                        generation: was.generation + 1,
                    });
                }
            }
            (false, true) => {
                if let Some(counterpart) = was.counterpart {
                    out.push(Step::Cancel {
                        code: code.clone(),
                        counterpart,
                        generation: was.generation,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// What the catalogue says of an item.
#[derive(Debug, Clone)]
pub(super) struct ItemInfo {
    name: String,
    department: String,
    sample: Option<SampleType>,
    price_fen: i64,
    /// The catalogue's price.
    list_fen: i64,
}

type Routes = BTreeMap<String, Option<Counterpart>>;

/// The catalogue rows of every item a visit has or had.
pub(crate) const LOAD_ITEMS: &str =
    "SELECT e.code, e.name, e.department, e.sample, e.counterpart, e.price_fen FROM exam_items e
          WHERE e.code IN (SELECT item_code FROM booking_items WHERE booking_id = $1
                           UNION SELECT item_code FROM interface_items WHERE booking_id = $1)";

/// The catalogue's word on every item the visit has or had, and where
/// each one's order goes.
pub(super) async fn load_items(
    tx: &mut Transaction<'_, Any>,
    booking_id: i64,
) -> Result<(BTreeMap<String, ItemInfo>, Routes)> {
    let mut info = BTreeMap::new();
    let mut routes = BTreeMap::new();
    for r in sqlx::query(LOAD_ITEMS)
        .bind(booking_id)
        .fetch_all(&mut **tx)
        .await?
    {
        let code: String = r.try_get("code")?;
        let department: String = r.try_get("department")?;
        let sample: Option<String> = r.try_get("sample")?;
        let route: Option<String> = r.try_get("counterpart")?;
        routes.insert(
            code.clone(),
            match route.as_deref() {
                None => Counterpart::for_item(&code, &department),
                Some(s) => Counterpart::parse(s),
            },
        );
        info.insert(
            code,
            ItemInfo {
                name: r.try_get("name")?,
                department,
                sample: sample
                    .and_then(|s| serde_json::from_value(serde_json::Value::String(s)).ok()),
                price_fen: 0,
                list_fen: r.try_get("price_fen")?,
            },
        );
    }
    Ok((info, routes))
}

/// The order of `code` at `generation` for visit `exam_no`.
pub(super) fn order_line(
    info: &BTreeMap<String, ItemInfo>,
    exam_no: &str,
    code: &str,
    generation: u32,
) -> OrderLine {
    let i = info.get(code);
    let sample = i.and_then(|i| i.sample);
    OrderLine {
        order_no: format!("{exam_no}-{code}-{generation}"),
        item_code: code.to_string(),
        item_name: i.map_or_else(|| code.to_string(), |i| i.name.clone()),
        department: i.map_or_else(String::new, |i| i.department.clone()),
        sample,
        barcode: sample.map(|s| exam_domain::documents::label_barcode(exam_no, s)),
    }
}

/// The visit's row lock (a write that changes nothing).
pub(crate) const LOCK_VISIT: &str = "UPDATE bookings SET change_seq = change_seq WHERE id = $1";
/// Whether the visit's group pays later (0 for anyone else).
pub(crate) const PAY_LATER: &str =
    "SELECT CAST(COALESCE(MAX(g.pay_later), 0) AS BIGINT) FROM bookings b
           JOIN group_members m ON m.id = b.member_id
           JOIN exam_groups g ON g.id = m.group_id
          WHERE b.id = $1";
/// What was sent for the visit's items so far.
pub(crate) const SENT_ITEMS: &str =
    "SELECT item_code, counterpart, generation, ordered, charged, refunded
           FROM interface_items WHERE booking_id = $1";

/// Brings the counterparts up to visit `booking_id` inside `tx`: call it in
/// every transaction that changes what a visit is, before its audit line
/// (which must stay the last write). Returns the messages enqueued.
pub(crate) async fn sync_visit(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    // The visit's row lock: two transactions syncing one visit take turns,
    // so the second sees what the first recorded.
    sqlx::query(LOCK_VISIT)
        .bind(booking_id)
        .execute(&mut **tx)
        .await?;
    let v = match visit_in(tx, keys, booking_id).await {
        Ok(v) => v,
        Err(DeskError::NotFound) => return Ok(0),
        Err(DeskError::Db(e)) => return Err(e),
        Err(e) => return Err(DbError::Corrupt(e.to_string())),
    };
    let pay_later: i64 = sqlx::query(PAY_LATER)
        .bind(booking_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    let mut sent = BTreeMap::new();
    for r in sqlx::query(SENT_ITEMS)
        .bind(booking_id)
        .fetch_all(&mut **tx)
        .await?
    {
        let c: Option<String> = r.try_get("counterpart")?;
        sent.insert(
            r.try_get::<String, _>("item_code")?,
            ItemSent {
                counterpart: c.as_deref().and_then(Counterpart::parse),
                generation: u32::try_from(r.try_get::<i64, _>("generation")?).unwrap_or(0),
                ordered: r.try_get::<i64, _>("ordered")? != 0,
                charged: r.try_get::<i64, _>("charged")? != 0,
                refunded: r.try_get::<i64, _>("refunded")? != 0,
            },
        );
    }
    let (mut info, routes) = load_items(tx, booking_id).await?;
    for i in &v.items {
        if let Some(inf) = info.get_mut(&i.code) {
            inf.price_fen = i.price_fen;
        }
    }
    let now_items = v
        .items
        .iter()
        .map(|i| ItemNow {
            code: i.code.clone(),
            status: i.status,
            paid: i.paid,
        })
        .collect();
    let visit_now = VisitNow {
        registered: v.record.booking.state == exam_domain::BookingState::CheckedIn,
        pay_later: pay_later != 0,
        items: now_items,
    };
    let steps = plan(&visit_now, &routes, &sent);
    if steps.is_empty() {
        return Ok(0);
    }
    let b = &v.record.booking;
    let visit = VisitRef {
        booking_id,
        exam_no: b.exam_no.clone(),
        campus: b.campus.clone(),
        exam_date: b.exam_date,
    };
    let patient = PatientData::of(&v.record.person);
    let person_key = crate::db::person_key_of(keys, &v.record.person.id_number);
    let line = |code: &str| {
        let i = info.get(code);
        Line {
            code: code.to_string(),
            name: i.map_or_else(|| code.to_string(), |i| i.name.clone()),
            price_fen: i.map_or(0, |i| i.price_fen),
            list_price_fen: i.filter(|i| i.list_fen > i.price_fen).map(|i| i.list_fen),
        }
    };
    let order_of = |code: &str, generation: u32| order_line(&info, &b.exam_no, code, generation);
    let mut n = 0;
    for step in steps {
        let (msg, update) = match step {
            Step::PatientRecord => (
                NewMessage {
                    counterpart: Counterpart::His,
                    key: format!("his.patient:{person_key}"),
                    booking_id: Some(booking_id),
                    item_code: None,
                    payload: Payload::PatientRecord {
                        patient: patient.clone(),
                    },
                },
                None,
            ),
            Step::Registration => (
                NewMessage {
                    counterpart: Counterpart::His,
                    key: format!("his.register:{booking_id}"),
                    booking_id: Some(booking_id),
                    item_code: None,
                    payload: Payload::Registration {
                        visit: visit.clone(),
                        patient: patient.clone(),
                        package: b.package.clone(),
                    },
                },
                None,
            ),
            Step::Charge { codes } | Step::Refund { codes } if codes.is_empty() => continue,
            Step::Charge { codes } => {
                let lines: Vec<Line> = codes.iter().map(|c| line(c)).collect();
                let total_fen = lines.iter().map(|l| l.price_fen).sum();
                let k = count_kind(tx, booking_id, "charge").await? + 1;
                (
                    NewMessage {
                        counterpart: Counterpart::His,
                        key: format!("his.charge:{booking_id}:{k}"),
                        booking_id: Some(booking_id),
                        item_code: None,
                        payload: Payload::Charge {
                            visit: visit.clone(),
                            lines,
                            total_fen,
                        },
                    },
                    Some(Update::Charged(codes)),
                )
            }
            Step::Refund { codes } => {
                let lines: Vec<Line> = codes.iter().map(|c| line(c)).collect();
                let total_fen = lines.iter().map(|l| l.price_fen).sum();
                let k = count_kind(tx, booking_id, "refund").await? + 1;
                (
                    NewMessage {
                        counterpart: Counterpart::His,
                        key: format!("his.refund:{booking_id}:{k}"),
                        booking_id: Some(booking_id),
                        item_code: None,
                        payload: Payload::Refund {
                            visit: visit.clone(),
                            lines,
                            total_fen,
                        },
                    },
                    Some(Update::Refunded(codes)),
                )
            }
            Step::Order {
                code,
                counterpart,
                generation,
            } => (
                NewMessage {
                    counterpart,
                    key: format!("order:{booking_id}:{code}:{generation}"),
                    booking_id: Some(booking_id),
                    item_code: Some(code.clone()),
                    payload: Payload::Order {
                        visit: visit.clone(),
                        patient: patient.clone(),
                        order: order_of(&code, generation),
                    },
                },
                Some(Update::Ordered(
                    code.clone(),
                    counterpart,
                    generation,
                    format!("{}-{code}-{generation}", b.exam_no),
                )),
            ),
            Step::Cancel {
                code,
                counterpart,
                generation,
            } => (
                NewMessage {
                    counterpart,
                    key: format!("cancel:{booking_id}:{code}:{generation}"),
                    booking_id: Some(booking_id),
                    item_code: Some(code.clone()),
                    payload: Payload::OrderCancel {
                        visit: visit.clone(),
                        order: order_of(&code, generation),
                    },
                },
                Some(Update::Cancelled(code)),
            ),
        };
        if enqueue(tx, keys, &msg, now).await? {
            n += 1;
        }
        if let Some(u) = update {
            record(tx, booking_id, u).await?;
        }
    }
    Ok(n)
}

/// How many messages of a kind (charge, refund) the visit has had.
pub(crate) const COUNT_KIND: &str =
    "SELECT CAST(COUNT(*) AS BIGINT) FROM interface_messages WHERE booking_id = $1 AND kind = $2";

async fn count_kind(tx: &mut Transaction<'_, Any>, booking_id: i64, kind: &str) -> Result<i64> {
    Ok(sqlx::query(COUNT_KIND)
        .bind(booking_id)
        .bind(kind)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?)
}

enum Update {
    Ordered(String, Counterpart, u32, String),
    Cancelled(String),
    Charged(Vec<String>),
    Refunded(Vec<String>),
}

/// Writes a step into `interface_items` (the row made on first use).
async fn record(tx: &mut Transaction<'_, Any>, booking_id: i64, u: Update) -> Result<()> {
    let codes: Vec<String> = match &u {
        Update::Ordered(c, ..) | Update::Cancelled(c) => vec![c.clone()],
        Update::Charged(cs) | Update::Refunded(cs) => cs.clone(),
    };
    for code in codes {
        sqlx::query(
            "INSERT INTO interface_items(booking_id, item_code, counterpart, generation, ordered, charged, refunded, result)
             VALUES ($1, $2, NULL, 0, 0, 0, 0, 'none') ON CONFLICT (booking_id, item_code) DO NOTHING",
        )
        .bind(booking_id)
        .bind(&code)
        .execute(&mut **tx)
        .await?;
        let q = match &u {
            Update::Ordered(_, c, g, order_no) => sqlx::query(
                "UPDATE interface_items SET counterpart = $3, generation = $4, ordered = 1,
                        order_no = $5, result = 'none', result_at = NULL
                  WHERE booking_id = $1 AND item_code = $2",
            )
            .bind(booking_id)
            .bind(code)
            .bind(c.as_str())
            .bind(i64::from(*g))
            .bind(order_no.clone()),
            Update::Cancelled(_) => sqlx::query(
                "UPDATE interface_items SET ordered = 0 WHERE booking_id = $1 AND item_code = $2",
            )
            .bind(booking_id)
            .bind(code),
            Update::Charged(_) => sqlx::query(
                "UPDATE interface_items SET charged = 1, refunded = 0 WHERE booking_id = $1 AND item_code = $2",
            )
            .bind(booking_id)
            .bind(code),
            Update::Refunded(_) => sqlx::query(
                "UPDATE interface_items SET refunded = 1 WHERE booking_id = $1 AND item_code = $2",
            )
            .bind(booking_id)
            .bind(code),
        };
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
