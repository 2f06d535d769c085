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
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::Counterpart;
use super::payload::{Line, OrderLine, PatientData, Payload, VisitRef};
use super::store::{NewMessage, enqueue_above};
use crate::db::{DbError, DeskError, Result, visits_to_sync};

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
    /// The catalogue's price.
    list_fen: i64,
}

type Routes = BTreeMap<String, Option<Counterpart>>;

/// The catalogue rows of every item a visit has or had.
/// The catalogue rows of the items `n` visits have or had.
pub(crate) fn load_items_sql(n: usize) -> String {
    let ids = crate::db::placeholders(n);
    format!(
        "SELECT e.code, e.name, e.department, e.sample, e.counterpart, e.price_fen FROM exam_items e
          WHERE e.code IN (SELECT item_code FROM booking_items WHERE booking_id IN ({ids})
                           UNION SELECT item_code FROM interface_items WHERE booking_id IN ({ids}))"
    )
}

pub(super) async fn load_items(
    tx: &mut Transaction<'_, Any>,
    booking_ids: &[i64],
) -> Result<(BTreeMap<String, ItemInfo>, Routes)> {
    let mut info = BTreeMap::new();
    let mut routes = BTreeMap::new();
    for r in by_ids(tx, load_items_sql(booking_ids.len()), booking_ids).await? {
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

/// The visits' row locks (a write that changes nothing), `n` of them.
pub(crate) fn lock_visits_sql(n: usize) -> String {
    format!(
        "UPDATE bookings SET change_seq = change_seq WHERE id IN ({})",
        crate::db::placeholders(n)
    )
}
/// What was sent for `n` visits' items so far.
pub(crate) fn sent_items_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, item_code, counterpart, generation, ordered, charged, refunded
           FROM interface_items WHERE booking_id IN ({})",
        crate::db::placeholders(n)
    )
}
/// How many messages of each kind (charge, refund) `n` visits have had.
pub(crate) fn count_kinds_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, kind, CAST(COUNT(*) AS BIGINT) AS n FROM interface_messages
          WHERE booking_id IN ({}) AND kind IN ('charge', 'refund') GROUP BY booking_id, kind",
        crate::db::placeholders(n)
    )
}

/// Brings the counterparts up to visit `booking_id` inside `tx`: call it in
/// every transaction that changes what a visit is, before its audit line
/// (which must stay the last write). Returns the messages enqueued.
pub(crate) async fn sync_visit(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    sync_visits(tx, keys, &[booking_id], Locked::No, now).await
}

/// Whether the caller's transaction holds the visits' row locks already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    /// It wrote every one of the visits' booking rows (a check-in).
    Yes,
    No,
}

/// `sync_visit` for many visits at once, in a fixed number of statements
/// (reads by IN list, writes as multi-row statements): a kiosk's push of a
/// hundred check-ins costs about what one did, not a hundred times it.
pub(crate) async fn sync_visits(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_ids: &[i64],
    locked: Locked,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut ids = booking_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut n = 0;
    for ids in ids.chunks(crate::db::ROWS_PER_STATEMENT) {
        n += sync_chunk(tx, keys, ids, locked, now).await?;
    }
    Ok(n)
}

/// Runs `sql` with `ids` bound in order and returns its rows.
async fn by_ids(tx: &mut Transaction<'_, Any>, sql: String, ids: &[i64]) -> Result<Vec<AnyRow>> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(&mut **tx).await?)
}

async fn sync_chunk(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    ids: &[i64],
    locked: Locked,
    now: DateTime<Utc>,
) -> Result<usize> {
    // The visits' row locks: two transactions syncing one visit take turns,
    // so the second sees what the first recorded. Taken in id order (the
    // ids are sorted) by one statement; not again by a caller that holds
    // them (on PostgreSQL the no-op write makes a new version of each row).
    if locked == Locked::No {
        by_ids(tx, lock_visits_sql(ids.len()), ids).await?;
    }
    let visits = match visits_to_sync(tx, keys, ids).await {
        Ok(v) => v,
        Err(DeskError::Db(e)) => return Err(e),
        Err(e) => return Err(DbError::Corrupt(e.to_string())),
    };
    if visits.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = visits.keys().copied().collect();
    let mut sent: BTreeMap<i64, BTreeMap<String, ItemSent>> = BTreeMap::new();
    for r in by_ids(tx, sent_items_sql(ids.len()), &ids).await? {
        let c: Option<String> = r.try_get("counterpart")?;
        sent.entry(r.try_get("booking_id")?).or_default().insert(
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
    let no_sent = BTreeMap::new();
    let facts: Vec<Facts> = visits
        .iter()
        .map(|(id, v)| Facts {
            id: *id,
            visit: &v.visit,
            pay_later: v.pay_later,
            sent: sent.get(id).unwrap_or(&no_sent),
        })
        .collect();
    // Messages are numbered above every one these visits hold.
    let floor = visits.values().map(|v| v.seq_floor).max().unwrap_or(0);
    send(tx, keys, &facts, History::Read { floor }, now).await
}

/// A visit as it stands and what was sent for it: what its messages are
/// worked out from.
struct Facts<'a> {
    id: i64,
    visit: &'a crate::db::Visit,
    pay_later: bool,
    sent: &'a BTreeMap<String, ItemSent>,
}

/// What the visits' messages so far are known as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum History {
    /// Some, the highest numbered `floor` (their counts are read when due).
    Read { floor: i64 },
    /// None: the visits were created in this transaction.
    None,
}

/// Plans, enqueues and records the messages that bring the counterparts up
/// to `facts`.
async fn send(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    facts: &[Facts<'_>],
    history: History,
    now: DateTime<Utc>,
) -> Result<usize> {
    let ids: Vec<i64> = facts.iter().map(|f| f.id).collect();
    let (catalogue, routes) = load_items(tx, &ids).await?;
    let mut plans = Vec::with_capacity(facts.len());
    for f in facts {
        let visit_now = VisitNow {
            registered: f.visit.record.booking.state == exam_domain::BookingState::CheckedIn,
            pay_later: f.pay_later,
            items: f
                .visit
                .items
                .iter()
                .map(|i| ItemNow {
                    code: i.code.clone(),
                    status: i.status,
                    paid: i.paid,
                })
                .collect(),
        };
        let steps = plan(&visit_now, &routes, f.sent);
        if !steps.is_empty() {
            plans.push((f.id, f.visit, steps));
        }
    }
    // Charges and refunds are numbered per visit: counted only when due
    // (a new visit has had none).
    let mut counts: BTreeMap<(i64, String), i64> = BTreeMap::new();
    if history != History::None
        && plans.iter().any(|(_, _, steps)| {
            steps
                .iter()
                .any(|s| matches!(s, Step::Charge { .. } | Step::Refund { .. }))
        })
    {
        for r in by_ids(tx, count_kinds_sql(ids.len()), &ids).await? {
            counts.insert(
                (r.try_get("booking_id")?, r.try_get("kind")?),
                r.try_get("n")?,
            );
        }
    }
    let mut messages = Vec::new();
    let mut updates = Vec::new();
    for (booking_id, v, steps) in plans {
        let count = |kind: &str| counts.get(&(booking_id, kind.to_string())).copied();
        for (msg, update) in messages_for(keys, &catalogue, booking_id, v, steps, count) {
            messages.push(msg);
            if let Some(u) = update {
                updates.push((booking_id, u));
            }
        }
    }
    let floor = match history {
        History::Read { floor } => floor,
        // No message holds a new visit's number yet.
        History::None => 0,
    };
    let n = enqueue_above(tx, keys, &messages, now, floor).await?;
    record(tx, &updates).await?;
    Ok(n)
}

/// [`sync_visits`] for one visit created in the caller's transaction a
/// moment ago, from the visit as it was written rather than read back:
/// nothing was sent for it, no message holds its number, and the caller
/// says it is no group's (`pay_later` is a group's). Five reads fewer on
/// every walk-in (issue 21); `--lib written_tests` holds the visit to the one
/// read back and finds nothing left to send after it.
pub(crate) async fn sync_new_visit(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    visit: &crate::db::Visit,
    now: DateTime<Utc>,
) -> Result<usize> {
    let no_sent = BTreeMap::new();
    let facts = [Facts {
        id: visit.record.booking.id,
        visit,
        pay_later: false,
        sent: &no_sent,
    }];
    send(tx, keys, &facts, History::None, now).await
}

/// The messages a visit's steps make, with what each records per item.
fn messages_for(
    keys: &exam_vault::KeyRing,
    info: &BTreeMap<String, ItemInfo>,
    booking_id: i64,
    v: &crate::db::Visit,
    steps: Vec<Step>,
    count: impl Fn(&str) -> Option<i64>,
) -> Vec<(NewMessage, Option<Update>)> {
    let b = &v.record.booking;
    let visit = VisitRef {
        booking_id,
        exam_no: b.exam_no.clone(),
        campus: b.campus.clone(),
        exam_date: b.exam_date,
    };
    let patient = PatientData::of(&v.record.person);
    let person_key = crate::db::person_key_of(keys, &v.record.person.id_number);
    // A line at what this visit pays for the item (0 for one it no longer
    // has), beside the catalogue's list price when that is higher.
    let line = |code: &str| {
        let i = info.get(code);
        let paid = i
            .and(v.items.iter().find(|it| it.code == code))
            .map_or(0, |it| it.price_fen);
        Line {
            code: code.to_string(),
            name: i.map_or_else(|| code.to_string(), |i| i.name.clone()),
            price_fen: paid,
            list_price_fen: i.filter(|i| i.list_fen > paid).map(|i| i.list_fen),
        }
    };
    let order_of = |code: &str, generation: u32| order_line(info, &b.exam_no, code, generation);
    let mut out = Vec::new();
    for step in steps {
        out.push(match step {
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
                let k = count("charge").unwrap_or(0) + 1;
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
                let k = count("refund").unwrap_or(0) + 1;
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
        });
    }
    out
}

mod record;
use record::{Update, record};

#[cfg(test)]
mod tests;
