//! Bulk exports (S5; 002 §(九) 6.2.5, 6.3.2): every CSV of many people is
//! counted per staff user and per day, and one over the limits is refused.
//! The limits are the service's configuration ([`ExportLimits`]); the rule
//! is [`check`] (pure); [`Db::record_export`] applies it and writes the
//! export, or its refusal, with its audit line in one transaction.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, Result, next_id, ts};
use crate::audit::{AuditEvent, Category};

/// How much one staff user may export (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportLimits {
    /// Rows one export may carry.
    pub max_rows: i64,
    /// Rows one user may export in a centre-local day, all exports together.
    pub daily_rows: i64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            max_rows: 5_000,
            daily_rows: 20_000,
        }
    }
}

/// What is exported (the audit action is `export.<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A company's roster with its members' exam state.
    Members,
    /// Today's kiosk check-ins.
    Registrations,
    /// The audit trail.
    Audit,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Members => "members",
            ExportKind::Registrations => "registrations",
            ExportKind::Audit => "audit",
        }
    }
}

/// Why an export was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExportRefusal {
    #[error("一次最多导出 {max} 行，本次 {rows} 行：请缩小范围 / at most {max} rows an export")]
    TooManyRows { rows: i64, max: i64 },
    #[error(
        "今日已导出 {used} 行，每人每天最多 {max} 行 / {used} rows exported today, at most {max} a day"
    )]
    DailyLimit { used: i64, max: i64 },
}

/// The rule: an export of `rows` by a user who exported `used_today` rows
/// today already.
pub fn check(limits: &ExportLimits, rows: i64, used_today: i64) -> Result<(), ExportRefusal> {
    if rows > limits.max_rows {
        return Err(ExportRefusal::TooManyRows {
            rows,
            max: limits.max_rows,
        });
    }
    if used_today + rows > limits.daily_rows {
        return Err(ExportRefusal::DailyLimit {
            used: used_today,
            max: limits.daily_rows,
        });
    }
    Ok(())
}

impl Db {
    /// Applies the limits to an export of `rows` rows by `actor` (the
    /// user's day began at `day_start`) and records it, or its refusal,
    /// with an audit line (`export.<kind>`, allowed or denied, category
    /// access) in one transaction. `what` says what was asked (no personal
    /// data: filters, a company id).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_export(
        &self,
        actor: &str,
        kind: ExportKind,
        rows: i64,
        what: &str,
        limits: &ExportLimits,
        day_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), ExportRefusal>> {
        let mut tx = self.pool.begin().await?;
        let used: i64 = sqlx::query(
            // PostgreSQL sums BIGINT as NUMERIC: cast back for the Any driver.
            "SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM data_exports
              WHERE actor = $1 AND refused = 0 AND at >= $2",
        )
        .bind(actor)
        .bind(ts(day_start))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let verdict = check(limits, rows, used);
        sqlx::query(
            "INSERT INTO data_exports(id, actor, kind, row_count, refused, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(next_id())
        .bind(actor)
        .bind(kind.as_str())
        .bind(rows)
        .bind(i64::from(verdict.is_err()))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let action = format!("export.{}", kind.as_str());
        let event = match &verdict {
            Ok(()) => AuditEvent::new(Category::Access, actor, action)
                .detail(format!("{rows} rows; {what}")),
            Err(why) => AuditEvent::new(Category::Access, actor, action)
                .detail(format!("refused: {why}; {rows} rows asked; {what}"))
                .denied(),
        };
        super::audit::append(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_refused_over_either_limit() {
        let l = ExportLimits {
            max_rows: 100,
            daily_rows: 250,
        };
        assert_eq!(check(&l, 100, 0), Ok(()));
        assert_eq!(
            check(&l, 101, 0),
            Err(ExportRefusal::TooManyRows {
                rows: 101,
                max: 100
            })
        );
        assert_eq!(check(&l, 100, 150), Ok(()));
        assert_eq!(
            check(&l, 1, 250),
            Err(ExportRefusal::DailyLimit {
                used: 250,
                max: 250
            })
        );
        // An empty export is always allowed within the day's budget.
        assert_eq!(check(&l, 0, 250), Ok(()));
    }
}
