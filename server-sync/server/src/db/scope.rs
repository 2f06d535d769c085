//! What the access checks need to know about a booking before a request is
//! served: whether a visit is a group member's (the group desk serves only
//! those) and which campus a booking belongs to (a kiosk is answered only
//! about its own campus, a campus-bound staff account serves only its own).

use std::collections::HashMap;

use sqlx::Row;

use super::desk::VisitKind;
use super::{Db, DbError, Result};

/// The campus of `n` bookings by id (`$1`..`$n`): a kiosk's push names them.
pub(crate) fn campuses_by_id_sql(n: usize) -> String {
    format!(
        "SELECT id, campus FROM bookings WHERE id IN ({})",
        super::placeholders(n)
    )
}

/// The campus of `n` bookings by booking code (`$1`..`$n`).
pub(crate) fn campuses_by_code_sql(n: usize) -> String {
    format!(
        "SELECT code, campus FROM bookings WHERE code IN ({})",
        super::placeholders(n)
    )
}

impl Db {
    /// The kind and campus of visit `id`, or None when there is no such
    /// booking (the route gate: the group desk serves group members, a
    /// campus-bound account its campus's visits).
    pub async fn visit_scope(&self, id: i64) -> Result<Option<(VisitKind, String)>> {
        let Some(r) = sqlx::query("SELECT kind, campus FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let kind: String = r.try_get("kind")?;
        let kind = VisitKind::parse(&kind)
            .ok_or_else(|| DbError::Corrupt(format!("visit kind {kind:?}")))?;
        Ok(Some((kind, r.try_get("campus")?)))
    }

    /// The campus of each booking named by id or by code (those that exist).
    pub async fn booking_campuses(
        &self,
        ids: &[i64],
        codes: &[String],
    ) -> Result<(HashMap<i64, String>, HashMap<String, String>)> {
        let (mut by_id, mut by_code) = (HashMap::new(), HashMap::new());
        for chunk in ids.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(campuses_by_id_sql(chunk.len())));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.read).await? {
                by_id.insert(r.try_get("id")?, r.try_get("campus")?);
            }
        }
        for chunk in codes.chunks(500) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(campuses_by_code_sql(chunk.len())));
            for code in chunk {
                q = q.bind(code.as_str());
            }
            for r in q.fetch_all(&self.read).await? {
                by_code.insert(r.try_get("code")?, r.try_get("campus")?);
            }
        }
        Ok((by_id, by_code))
    }
}
