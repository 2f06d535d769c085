//! What the staff page, the metrics and the alarms read of the queue. No
//! personal data: messages are named by kind, exam number and item.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::payload::Payload;
use super::{Counterpart, MessageKind, MessageState};
use crate::db::{Db, DbError, Result, ad, parse_ts};

/// One counterpart's line in numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LineSummary {
    pub counterpart: Option<Counterpart>,
    pub pending: i64,
    pub sending: i64,
    pub retrying: i64,
    pub sent: i64,
    pub acked: i64,
    pub dead: i64,
    /// The newest error any of its messages met.
    pub last_error: Option<String>,
    /// Since when the head of the line has been failing (None: it is not).
    pub head_failing_since: Option<DateTime<Utc>>,
    /// The head's last error, when it is failing.
    pub head_error: Option<String>,
}

impl LineSummary {
    /// Still to deliver.
    pub fn open(&self) -> i64 {
        self.pending + self.sending + self.retrying
    }
}

/// One message as the page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub seq: i64,
    pub counterpart: Counterpart,
    pub kind: MessageKind,
    pub state: MessageState,
    pub key: String,
    pub booking_id: Option<i64>,
    pub item_code: Option<String>,
    /// Kind, exam number, item: no personal data.
    pub summary: String,
    pub attempts: i64,
    pub failures: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One item of a visit: what was ordered and what came back.
#[derive(Debug, Clone, Serialize)]
pub struct ItemLink {
    pub item_code: String,
    pub counterpart: Option<Counterpart>,
    pub order_no: Option<String>,
    pub ordered: bool,
    pub charged: bool,
    pub refunded: bool,
    /// none, partial or final.
    pub result: String,
    pub result_at: Option<String>,
    /// The state of the item's newest order message.
    pub order_state: Option<MessageState>,
}

/// A line's newest error: searched in the index of messages that met one
/// (migration 0025), not among all the line's messages ever sent.
pub(crate) const LINE_LAST_ERROR: &str = "SELECT last_error FROM interface_messages
  WHERE counterpart = $1 AND last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1";

/// A line's messages still to deliver and its dead letters, counted in
/// the line's index (counterpart, state, seq): the alarms ask every
/// minute, and the messages delivered grow by every visit for ever.
pub(crate) const LINE_OPEN_COUNTS: &str = "SELECT state, CAST(COUNT(*) AS BIGINT) AS n
   FROM interface_messages
  WHERE counterpart = $1 AND state IN ('pending', 'sending', 'retrying', 'dead') GROUP BY state";

impl LineSummary {
    fn count(&mut self, state: &str, n: i64) {
        match MessageState::parse(state) {
            Some(MessageState::Pending) => self.pending = n,
            Some(MessageState::Sending) => self.sending = n,
            Some(MessageState::Retrying) => self.retrying = n,
            Some(MessageState::Sent) => self.sent = n,
            Some(MessageState::Acked) => self.acked = n,
            Some(MessageState::Dead) => self.dead = n,
            None => {}
        }
    }
}

impl Db {
    /// Every counterpart's numbers (all of them, configured or not), for
    /// the `/interfaces` page: every message ever sent counted.
    pub async fn interface_lines(&self) -> Result<Vec<LineSummary>> {
        self.lines(true).await
    }

    /// Every counterpart's open messages, dead letters and failing head,
    /// not the delivered ones (sent, acknowledged: 0): what the alarms
    /// read every minute, through the line's index.
    pub async fn interface_lines_open(&self) -> Result<Vec<LineSummary>> {
        self.lines(false).await
    }

    async fn lines(&self, delivered: bool) -> Result<Vec<LineSummary>> {
        let mut out: Vec<LineSummary> = Counterpart::ALL
            .iter()
            .map(|&c| LineSummary {
                counterpart: Some(c),
                ..Default::default()
            })
            .collect();
        if delivered {
            for r in sqlx::query(
                "SELECT counterpart, state, CAST(COUNT(*) AS BIGINT) AS n FROM interface_messages
                  GROUP BY counterpart, state",
            )
            .fetch_all(&self.read)
            .await?
            {
                let c = Counterpart::parse(&r.try_get::<String, _>("counterpart")?);
                let Some(line) = out.iter_mut().find(|l| l.counterpart == c && c.is_some()) else {
                    continue;
                };
                line.count(&r.try_get::<String, _>("state")?, r.try_get("n")?);
            }
        } else {
            for line in &mut out {
                let Some(c) = line.counterpart else { continue };
                for r in sqlx::query(LINE_OPEN_COUNTS)
                    .bind(c.as_str())
                    .fetch_all(&self.read)
                    .await?
                {
                    line.count(&r.try_get::<String, _>("state")?, r.try_get("n")?);
                }
            }
        }
        for line in &mut out {
            let Some(c) = line.counterpart else { continue };
            if line.open() + line.dead + line.sent + line.acked == 0 {
                continue;
            }
            if let Some(r) = sqlx::query(LINE_LAST_ERROR)
                .bind(c.as_str())
                .fetch_optional(&self.read)
                .await?
            {
                line.last_error = r.try_get("last_error")?;
            }
            if let Some(r) = sqlx::query(super::store::LINE_NEXT)
                .bind(c.as_str())
                .fetch_optional(&self.read)
                .await?
            {
                line.head_failing_since = r
                    .try_get::<Option<String>, _>("failing_since")?
                    .as_deref()
                    .map(parse_ts)
                    .transpose()?;
                if line.head_failing_since.is_some() {
                    line.head_error = r.try_get("last_error")?;
                }
            }
        }
        Ok(out)
    }

    /// `c`'s messages in line order: open ones first, then the newest of
    /// the others; `state` narrows it.
    pub async fn interface_messages(
        &self,
        c: Counterpart,
        state: Option<MessageState>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let rows = sqlx::query(
            "SELECT * FROM interface_messages WHERE counterpart = $1 AND ($2 = '' OR state = $2)
              ORDER BY CASE WHEN state IN ('pending', 'retrying', 'sending') THEN 0 ELSE 1 END,
                       CASE WHEN state IN ('pending', 'retrying', 'sending') THEN seq ELSE -seq END
              LIMIT $3",
        )
        .bind(c.as_str())
        .bind(state.map_or("", MessageState::as_str))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| self.message_view(r)).collect()
    }

    /// A visit's items and messages, for the per-visit view.
    pub async fn interface_visit(
        &self,
        booking_id: i64,
    ) -> Result<(Vec<ItemLink>, Vec<MessageView>)> {
        let messages =
            sqlx::query("SELECT * FROM interface_messages WHERE booking_id = $1 ORDER BY seq")
                .bind(booking_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| self.message_view(r))
                .collect::<Result<Vec<_>>>()?;
        let items =
            sqlx::query("SELECT * FROM interface_items WHERE booking_id = $1 ORDER BY item_code")
                .bind(booking_id)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    let code: String = r.try_get("item_code")?;
                    let order_state = messages
                        .iter()
                        .rev()
                        .find(|m| {
                            m.item_code.as_deref() == Some(code.as_str())
                                && m.kind == MessageKind::Order
                        })
                        .map(|m| m.state);
                    Ok(ItemLink {
                        counterpart: r
                            .try_get::<Option<String>, _>("counterpart")?
                            .as_deref()
                            .and_then(Counterpart::parse),
                        order_no: r.try_get("order_no")?,
                        ordered: r.try_get::<i64, _>("ordered")? != 0,
                        charged: r.try_get::<i64, _>("charged")? != 0,
                        refunded: r.try_get::<i64, _>("refunded")? != 0,
                        result: r.try_get("result")?,
                        result_at: r.try_get("result_at")?,
                        order_state,
                        item_code: code,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        Ok((items, messages))
    }

    fn message_view(&self, r: &AnyRow) -> Result<MessageView> {
        let id: i64 = r.try_get("id")?;
        let c: String = r.try_get("counterpart")?;
        let k: String = r.try_get("kind")?;
        let s: String = r.try_get("state")?;
        let sealed: String = r.try_get("payload")?;
        let summary = self
            .keys
            .open_string(
                &sealed,
                &ad("interface_messages", "payload", &[&id.to_string()]),
            )
            .ok()
            .and_then(|j| serde_json::from_str::<Payload>(&j).ok())
            .map_or_else(|| "（无法读取）".to_string(), |p| p.summary());
        Ok(MessageView {
            id,
            seq: r.try_get("seq")?,
            counterpart: Counterpart::parse(&c)
                .ok_or_else(|| DbError::Corrupt(format!("counterpart {c:?}")))?,
            kind: MessageKind::parse(&k).ok_or_else(|| DbError::Corrupt(format!("kind {k:?}")))?,
            state: MessageState::parse(&s)
                .ok_or_else(|| DbError::Corrupt(format!("state {s:?}")))?,
            key: r.try_get("idem_key")?,
            booking_id: r.try_get("booking_id")?,
            item_code: r.try_get("item_code")?,
            summary,
            attempts: r.try_get("attempts")?,
            failures: r.try_get("failures")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}
