//! The audit trail (S7): every row is appended, never updated or deleted.

use chrono::Utc;

use super::{Db, Result, next_id, ts};

impl Db {
    /// S7: append-only; no code path updates or deletes audit rows.
    pub async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log(id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(next_id())
        .bind(ts(Utc::now()))
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
