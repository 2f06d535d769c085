//! What counterparts send us: results, image reports, late acknowledgements.
//! A listener (the HL7 MLLP server, a HIS callback) parses its wire format
//! and hands the message here; it is kept once, by its control id (a
//! counterpart that did not get our ACK sends the same message again) and
//! by its content (the same result sent again under a new control id), and
//! matched to the visit's item by the placer order number we sent. A
//! matched result's observations are checked for major abnormal results
//! (`abnormal`), raised in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::Counterpart;
use super::abnormal::{ObservedValue, raise_from_result};
use crate::db::{Db, Result, ad, next_id, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundKind {
    /// Results of an order (HL7 ORU^R01).
    Result,
    /// An image or examination report (a PDF or a link).
    Report,
}

impl InboundKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Result => "result",
            InboundKind::Report => "report",
        }
    }
}

/// How complete a result is (HL7 OBR-25 / OBX-11: P preliminary, F final,
/// C corrected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Partial,
    Final,
    Corrected,
}

impl ResultStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Partial => "partial",
            ResultStatus::Final => "final",
            ResultStatus::Corrected => "corrected",
        }
    }
}

/// One message from a counterpart, as its listener parsed it.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub counterpart: Counterpart,
    pub kind: InboundKind,
    /// The sender's message id (HL7 MSH-10).
    pub control_id: String,
    /// Our placer order number, echoed (HL7 ORC-2 / OBR-2).
    pub order_no: Option<String>,
    pub status: ResultStatus,
    /// The message as received (kept sealed: it names the patient).
    pub body: String,
    /// What makes it the same result as another: the item's part of the
    /// message without its header (a result sent again under a new control
    /// id has the same content).
    pub content: String,
    /// The item's observations (a result's OBX), checked for major
    /// abnormal results when the result is matched.
    pub observations: Vec<ObservedValue>,
}

/// What became of an inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Received {
    /// Kept, and matched to the item ordered.
    Matched,
    /// Kept, but no order of ours has its number (an unmapped barcode, a
    /// result for another system's order): listed for staff.
    Unmatched,
    /// Already had: dropped.
    Duplicate,
}

fn content_hash(m: &Inbound) -> String {
    let mut h = Sha256::new();
    for part in [
        m.kind.as_str(),
        m.order_no.as_deref().unwrap_or(""),
        m.status.as_str(),
        &m.content,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

impl Db {
    /// Keeps `m` once and marks the item's result; the listener answers
    /// the counterpart's ACK after this returns (so a result is never
    /// acknowledged before it is stored).
    pub async fn receive_inbound(&self, m: &Inbound, now: DateTime<Utc>) -> Result<Received> {
        let mut tx = self.pool.begin().await?;
        let hash = content_hash(m);
        let seen = sqlx::query(
            "SELECT 1 FROM interface_inbound WHERE counterpart = $1 AND (control_id = $2 OR content_hash = $3)",
        )
        .bind(m.counterpart.as_str())
        .bind(&m.control_id)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        if seen.is_some() {
            return Ok(Received::Duplicate);
        }
        let item = match &m.order_no {
            Some(no) => sqlx::query(
                "SELECT booking_id, item_code FROM interface_items WHERE order_no = $1 AND counterpart = $2",
            )
            .bind(no)
            .bind(m.counterpart.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| {
                Ok::<_, sqlx::Error>((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?))
            })
            .transpose()?,
            None => None,
        };
        let id = next_id();
        let at = ts(now);
        let outcome = if item.is_some() {
            Received::Matched
        } else {
            Received::Unmatched
        };
        let n = sqlx::query(
            "INSERT INTO interface_inbound(id, counterpart, kind, control_id, content_hash, order_no,
                booking_id, item_code, status, outcome, payload, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(m.counterpart.as_str())
        .bind(m.kind.as_str())
        .bind(&m.control_id)
        .bind(&hash)
        .bind(m.order_no.as_deref())
        .bind(item.as_ref().map(|i| i.0))
        .bind(item.as_ref().map(|i| i.1.clone()))
        .bind(m.status.as_str())
        .bind(if outcome == Received::Matched {
            "matched"
        } else {
            "unmatched"
        })
        .bind(self.keys.seal_str(
            &m.body,
            &ad("interface_inbound", "payload", &[&id.to_string()]),
        )?)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            // Another instance kept the same message a moment ago.
            return Ok(Received::Duplicate);
        }
        if let Some((booking, code)) = &item {
            // A final result is not turned back into a partial one by a
            // late preliminary.
            let result = match m.status {
                ResultStatus::Partial => "partial",
                ResultStatus::Final | ResultStatus::Corrected => "final",
            };
            sqlx::query(
                "UPDATE interface_items SET result = $3, result_at = $4
                  WHERE booking_id = $1 AND item_code = $2 AND NOT (result = 'final' AND $3 = 'partial')",
            )
            .bind(booking)
            .bind(code)
            .bind(result)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            if m.kind == InboundKind::Result && result == "final" {
                // The tube is at the laboratory and has its result (E5).
                crate::specimens::settle_in(
                    &mut tx,
                    &self.keys,
                    *booking,
                    code,
                    &format!("system:{}", m.counterpart),
                    now,
                )
                .await?;
            }
            if m.kind == InboundKind::Result {
                // Last: its audit line ends the transaction.
                raise_from_result(
                    &mut tx,
                    &self.keys,
                    *booking,
                    code,
                    id,
                    &format!("system:{}", m.counterpart),
                    &m.observations,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
