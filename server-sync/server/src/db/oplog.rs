//! The operation log (E2, E12): who did what, when, to whom. Every change
//! of the exam workflow writes its line inside its own transaction, so a
//! change and its log line commit together or not at all.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Db, Result, ts};
use crate::audit::AuditEvent;

#[derive(Debug, Clone, serde::Serialize)]
pub struct OpLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// What the operation log is searched by; all given filters must match.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OpQuery {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Writes the line inside `tx` (see `audit::append`); its category and
/// outcome follow from the action (`AuditEvent::by_action`). On SQLite it
/// must be the transaction's last write: the chain's lock is held from
/// here to commit.
pub(crate) async fn log(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<()> {
    let e = AuditEvent::by_action(actor, action)
        .subject(subject)
        .detail(detail);
    super::audit::append(tx, &e).await
}

impl Db {
    pub async fn audit_on(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        log(&mut tx, actor, action, subject, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest matching lines first, at most `limit`.
    pub async fn operations(&self, q: &OpQuery, limit: i64) -> Result<Vec<OpLine>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, subject, detail FROM audit_log
              WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR subject = $2)
                AND ($3 = '' OR at >= $3) AND ($4 = '' OR at < $4)
              ORDER BY at DESC, id DESC LIMIT $5",
        )
        .bind(q.actor.clone().unwrap_or_default())
        // A typed ID number is searched by its blind index (db/people.rs).
        .bind(
            q.subject
                .as_deref()
                .map(|s| self.subject_of(s))
                .unwrap_or_default(),
        )
        .bind(q.from.map(ts).unwrap_or_default())
        .bind(q.to.map(ts).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpLine {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
