//! An episode's reconciliation report: what the desk did during it
//! (registrations, charges, refunds, with amounts and emergency receipt
//! numbers), the messages each visit queued meanwhile and where they are
//! now, what is not yet acknowledged, and the totals by payment method.
//! Read from the store as it stands (a dead letter retried later shows
//! acknowledged); the totals and the CSV are pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::store::{EntryKind, Episode};
use crate::db::{Db, DbError, parse_ts};
use crate::interfaces::{Counterpart, MessageKind, MessageState};

/// Where a message stands, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Acknowledged,
    /// Delivered, the acknowledgement still to come.
    Sent,
    /// Still in the line (pending, being sent, retrying).
    Waiting,
    Dead,
}

impl Delivery {
    pub fn of(s: MessageState) -> Self {
        match s {
            MessageState::Acked => Delivery::Acknowledged,
            MessageState::Sent => Delivery::Sent,
            MessageState::Pending | MessageState::Sending | MessageState::Retrying => {
                Delivery::Waiting
            }
            MessageState::Dead => Delivery::Dead,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Acknowledged => "acknowledged",
            Delivery::Sent => "sent",
            Delivery::Waiting => "waiting",
            Delivery::Dead => "dead",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Delivery::Acknowledged => "已确认",
            Delivery::Sent => "已发送待确认",
            Delivery::Waiting => "等待发送",
            Delivery::Dead => "死信",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub kind: EntryKind,
    pub booking_id: i64,
    pub exam_no: String,
    pub amount_fen: i64,
    pub method: Option<String>,
    pub receipt_no: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    pub seq: i64,
    pub booking_id: i64,
    pub exam_no: String,
    pub counterpart: Counterpart,
    pub kind: MessageKind,
    pub item_code: Option<String>,
    pub state: MessageState,
    pub delivery: Delivery,
    pub last_error: Option<String>,
}

/// Money by method: charged, refunded, net (fen).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Money {
    pub charges: u32,
    pub charged_fen: i64,
    pub refunds: u32,
    pub refunded_fen: i64,
    pub net_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub registrations: u32,
    pub all: Money,
    /// By payment method (a refund's method: the charge's when the desk
    /// took it during the episode, else `original`: back the way it came).
    pub by_method: BTreeMap<String, Money>,
    /// Messages the episode's visits queued, by where they are now.
    pub messages: BTreeMap<Delivery, u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub episode: Episode,
    pub entries: Vec<Entry>,
    pub messages: Vec<Message>,
    pub totals: Totals,
}

impl Report {
    /// Every message not yet acknowledged (sent, waiting or dead).
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Message> {
        self.messages
            .iter()
            .filter(|m| m.delivery != Delivery::Acknowledged)
    }
}

/// Pure: the totals of the entries and the messages.
pub fn totals(entries: &[Entry], messages: &[Message]) -> Totals {
    let mut t = Totals::default();
    for e in entries {
        let method = e.method.clone().unwrap_or_else(|| "original".into());
        match e.kind {
            EntryKind::Registration => {
                t.registrations += 1;
                continue;
            }
            EntryKind::Charge => {
                for m in [&mut t.all, t.by_method.entry(method).or_default()] {
                    m.charges += 1;
                    m.charged_fen += e.amount_fen;
                    m.net_fen += e.amount_fen;
                }
            }
            EntryKind::Refund => {
                for m in [&mut t.all, t.by_method.entry(method).or_default()] {
                    m.refunds += 1;
                    m.refunded_fen += e.amount_fen;
                    m.net_fen -= e.amount_fen;
                }
            }
        }
    }
    for m in messages {
        *t.messages.entry(m.delivery).or_default() += 1;
    }
    t
}

impl Db {
    /// The report of an episode as the store stands now.
    pub async fn emergency_report(&self, e: Episode) -> Result<Report, DbError> {
        let rows = sqlx::query(
            "SELECT kind, booking_id, exam_no, amount_fen, method, receipt_no, actor, at
               FROM emergency_entries WHERE episode_id = $1 ORDER BY at, id",
        )
        .bind(e.id)
        .fetch_all(&self.read)
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            entries.push(Entry {
                kind: EntryKind::parse(&kind)
                    .ok_or_else(|| DbError::Corrupt(format!("emergency entry {kind:?}")))?,
                booking_id: r.try_get("booking_id")?,
                exam_no: r.try_get("exam_no")?,
                amount_fen: r.try_get("amount_fen")?,
                method: r.try_get("method")?,
                receipt_no: r.try_get("receipt_no")?,
                actor: r.try_get("actor")?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
            });
        }
        // A refund of what was charged during the episode went back by
        // the charge's method.
        let charged: BTreeMap<i64, String> = entries
            .iter()
            .filter(|x| x.kind == EntryKind::Charge)
            .filter_map(|x| Some((x.booking_id, x.method.clone()?)))
            .collect();
        for x in entries.iter_mut().filter(|x| x.kind == EntryKind::Refund) {
            if x.method.is_none() {
                x.method = charged.get(&x.booking_id).cloned();
            }
        }
        let mut exam_nos: BTreeMap<i64, String> = BTreeMap::new();
        for x in &entries {
            exam_nos.insert(x.booking_id, x.exam_no.clone());
        }
        let mut messages = Vec::new();
        for (&booking, exam_no) in &exam_nos {
            let rows = sqlx::query(
                "SELECT id, seq, counterpart, kind, item_code, state, last_error
                   FROM interface_messages
                  WHERE booking_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
            )
            .bind(booking)
            .bind(e.seq_start)
            .bind(e.seq_end.unwrap_or(i64::MAX))
            .fetch_all(&self.read)
            .await?;
            for r in &rows {
                let (c, k, s): (String, String, String) = (
                    r.try_get("counterpart")?,
                    r.try_get("kind")?,
                    r.try_get("state")?,
                );
                let corrupt =
                    |what: &str, v: &str| DbError::Corrupt(format!("message {what} {v:?}"));
                let state = MessageState::parse(&s).ok_or_else(|| corrupt("state", &s))?;
                messages.push(Message {
                    id: r.try_get("id")?,
                    seq: r.try_get("seq")?,
                    booking_id: booking,
                    exam_no: exam_no.clone(),
                    counterpart: Counterpart::parse(&c)
                        .ok_or_else(|| corrupt("counterpart", &c))?,
                    kind: MessageKind::parse(&k).ok_or_else(|| corrupt("kind", &k))?,
                    item_code: r.try_get("item_code")?,
                    state,
                    delivery: Delivery::of(state),
                    last_error: r.try_get("last_error")?,
                });
            }
        }
        messages.sort_by_key(|m| m.seq);
        let totals = totals(&entries, &messages);
        Ok(Report {
            episode: e,
            entries,
            messages,
            totals,
        })
    }
}

/// A CSV cell: quoted when it must be, and text a spreadsheet would read
/// as a formula made inert (staff typed the reasons).
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(out: &mut String, cells: &[&str]) {
    let v: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    out.push_str(&v.join(","));
    out.push_str("\r\n");
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Pure: the report as CSV (one table; the first column says which part
/// a row belongs to).
pub fn csv(r: &Report) -> String {
    let e = &r.episode;
    let mut o = String::new();
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    line(&mut o, &["section", "field", "value"]);
    for (k, v) in [
        ("episode", e.id.to_string()),
        ("state", e.state.as_str().to_string()),
        ("basis", e.basis.as_str().to_string()),
        ("started_at", crate::db::ts(e.started_at)),
        ("started_by", e.started_by.clone()),
        ("reason", e.reason.clone()),
        ("override_reason", opt(&e.override_reason)),
        ("leadership", opt(&e.leadership)),
        ("recovery_estimate", opt(&e.recovery_estimate)),
        (
            "ended_at",
            e.ended_at.map(crate::db::ts).unwrap_or_default(),
        ),
        ("ended_by", opt(&e.ended_by)),
        (
            "closed_at",
            e.closed_at.map(crate::db::ts).unwrap_or_default(),
        ),
    ] {
        line(&mut o, &["episode", k, &v]);
    }
    line(
        &mut o,
        &[
            "section",
            "kind",
            "exam_no",
            "amount_yuan",
            "method",
            "receipt_no",
            "actor",
            "at",
        ],
    );
    for x in &r.entries {
        line(
            &mut o,
            &[
                "entry",
                x.kind.as_str(),
                &x.exam_no,
                &yuan(x.amount_fen),
                x.method.as_deref().unwrap_or(""),
                x.receipt_no.as_deref().unwrap_or(""),
                &x.actor,
                &crate::db::ts(x.at),
            ],
        );
    }
    line(
        &mut o,
        &[
            "section",
            "method",
            "charges",
            "charged_yuan",
            "refunds",
            "refunded_yuan",
            "net_yuan",
        ],
    );
    let t = &r.totals;
    for (m, v) in t
        .by_method
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .chain([("all", &t.all)])
    {
        line(
            &mut o,
            &[
                "total",
                m,
                &v.charges.to_string(),
                &yuan(v.charged_fen),
                &v.refunds.to_string(),
                &yuan(v.refunded_fen),
                &yuan(v.net_fen),
            ],
        );
    }
    line(
        &mut o,
        &["total", "registrations", &t.registrations.to_string()],
    );
    line(
        &mut o,
        &[
            "section",
            "seq",
            "exam_no",
            "counterpart",
            "kind",
            "item",
            "delivery",
            "last_error",
        ],
    );
    for m in &r.messages {
        line(
            &mut o,
            &[
                "message",
                &m.seq.to_string(),
                &m.exam_no,
                m.counterpart.as_str(),
                m.kind.as_str(),
                m.item_code.as_deref().unwrap_or(""),
                m.delivery.as_str(),
                m.last_error.as_deref().unwrap_or(""),
            ],
        );
    }
    o
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
