//! Staff's hand on one item of a visit (the failures real hospitals report:
//! a barcode the laboratory did not map, a partial result that never
//! completed, wrong demographics sent to imaging):
//!
//! - **re-fetch**: ask the counterpart to send the item's results again;
//! - **manual transfer**: send the item's live order again, with the
//!   patient's data as they stand now (after a correction).
//!
//! Each is a message of its own in the counterpart's line (so it keeps its
//! place in the order) with a key of its own, audited with the change.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::facts::{load_items, order_line};
use super::payload::{PatientData, Payload, VisitRef};
use super::store::{NewMessage, enqueue};
use super::{Counterpart, MessageKind};
use crate::db::{Db, DbError, DeskError, log_line, visit_in};

/// Which hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Manual {
    Refetch,
    Transfer,
}

/// Why a manual step was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("该项目没有已下达的申请单")]
    NoOrder,
    #[error("没有这条记录")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ManualError {
    fn from(e: sqlx::Error) -> Self {
        ManualError::Db(e.into())
    }
}

impl Db {
    /// Enqueues a re-fetch or a manual transfer of item `code` of visit
    /// `booking_id`; the item must have a live order. Returns the key.
    pub async fn interface_manual(
        &self,
        actor: &str,
        booking_id: i64,
        code: &str,
        what: Manual,
        now: DateTime<Utc>,
    ) -> std::result::Result<(Counterpart, String), ManualError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT counterpart, generation FROM interface_items
              WHERE booking_id = $1 AND item_code = $2 AND ordered = 1",
        )
        .bind(booking_id)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ManualError::NoOrder)?;
        let c: Option<String> = row.try_get("counterpart")?;
        let counterpart = c
            .as_deref()
            .and_then(Counterpart::parse)
            .ok_or(ManualError::NoOrder)?;
        let generation = u32::try_from(row.try_get::<i64, _>("generation")?).unwrap_or(0);
        let v = match visit_in(&mut tx, &self.keys, booking_id).await {
            Ok(v) => v,
            Err(DeskError::NotFound) => return Err(ManualError::NotFound),
            Err(DeskError::Db(e)) => return Err(e.into()),
            Err(e) => return Err(DbError::Corrupt(e.to_string()).into()),
        };
        let (info, _) = load_items(&mut tx, &[booking_id]).await?;
        let b = &v.record.booking;
        let visit = VisitRef {
            booking_id,
            exam_no: b.exam_no.clone(),
            campus: b.campus.clone(),
            exam_date: b.exam_date,
        };
        let order = order_line(&info, &b.exam_no, code, generation);
        let (kind, payload, tag) = match what {
            Manual::Refetch => (
                MessageKind::ResultQuery,
                Payload::ResultQuery { visit, order },
                "refetch",
            ),
            Manual::Transfer => (
                MessageKind::Order,
                Payload::Order {
                    visit,
                    patient: PatientData::of(&v.record.person),
                    order,
                },
                "transfer",
            ),
        };
        let done: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM interface_messages
              WHERE booking_id = $1 AND item_code = $2 AND idem_key LIKE $3",
        )
        .bind(booking_id)
        .bind(code)
        .bind(format!("{tag}:%"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let key = format!("{tag}:{booking_id}:{code}:{generation}:{}", done + 1);
        enqueue(
            &mut tx,
            &self.keys,
            &NewMessage {
                counterpart,
                key: key.clone(),
                booking_id: Some(booking_id),
                item_code: Some(code.to_string()),
                payload,
            },
            now,
        )
        .await?;
        log_line(
            &mut tx,
            actor,
            &format!("interface.{tag}"),
            &crate::db::subject_of_person(&self.keys, &v.record.person.id_number),
            &format!(
                "exam_no={} item={code} counterpart={counterpart} kind={} key={key}",
                b.exam_no,
                kind.as_str()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((counterpart, key))
    }
}
