//! Emergency mode in the store (migration 0018): episodes, the desk's
//! entries during one (written in the fact's own transaction by
//! [`record_in`]), and the signals the state machine reads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::machine::{Basis, EpisodeState};
use crate::db::{Db, DbError, next_id, parse_ts, ts};

type Result<T> = std::result::Result<T, DbError>;

/// What the desk did during an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Registration,
    Charge,
    Refund,
}

impl EntryKind {
    pub const ALL: [EntryKind; 3] = [
        EntryKind::Registration,
        EntryKind::Charge,
        EntryKind::Refund,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Registration => "registration",
            EntryKind::Charge => "charge",
            EntryKind::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EntryKind::Registration => "登记",
            EntryKind::Charge => "收费",
            EntryKind::Refund => "退费",
        }
    }
}

/// An emergency charge's mark, handed back to the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stamp {
    pub episode_id: i64,
    /// The emergency receipt number (charges only).
    pub receipt_no: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Episode {
    pub id: i64,
    pub state: EpisodeState,
    pub basis: Basis,
    /// The eligibility when it was switched on (JSON, as shown then).
    pub eligibility: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub started_by: String,
    pub started_role: String,
    pub reason: String,
    pub override_reason: Option<String>,
    pub leadership: Option<String>,
    pub recovery_estimate: Option<String>,
    pub receipt_prefix: String,
    pub receipts: i64,
    pub seq_start: i64,
    pub seq_end: Option<i64>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    r.try_get::<Option<String>, _>(col)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

fn episode_of(r: &AnyRow) -> Result<Episode> {
    let state: String = r.try_get("state")?;
    let basis: String = r.try_get("basis")?;
    let elig: String = r.try_get("eligibility")?;
    Ok(Episode {
        id: r.try_get("id")?,
        state: EpisodeState::parse(&state)
            .ok_or_else(|| DbError::Corrupt(format!("emergency state {state:?}")))?,
        basis: Basis::parse(&basis)
            .ok_or_else(|| DbError::Corrupt(format!("emergency basis {basis:?}")))?,
        eligibility: serde_json::from_str(&elig).unwrap_or(serde_json::Value::Null),
        started_at: parse_ts(&r.try_get::<String, _>("started_at")?)?,
        started_by: r.try_get("started_by")?,
        started_role: r.try_get("started_role")?,
        reason: r.try_get("reason")?,
        override_reason: r.try_get("override_reason")?,
        leadership: r.try_get("leadership")?,
        recovery_estimate: r.try_get("recovery_estimate")?,
        receipt_prefix: r.try_get("receipt_prefix")?,
        receipts: r.try_get("receipt_seq")?,
        seq_start: r.try_get("seq_start")?,
        seq_end: r.try_get("seq_end")?,
        ended_at: opt_ts(r, "ended_at")?,
        ended_by: r.try_get("ended_by")?,
        end_reason: r.try_get("end_reason")?,
        closed_at: opt_ts(r, "closed_at")?,
    })
}

const COLS: &str = "id, state, basis, eligibility, started_at, started_by, started_role, reason,
    override_reason, leadership, recovery_estimate, receipt_prefix, receipt_seq, seq_start, seq_end,
    ended_at, ended_by, end_reason, closed_at";

/// A new episode as the switch decided it.
pub struct NewEpisode<'a> {
    pub basis: Basis,
    pub eligibility: &'a serde_json::Value,
    pub by: &'a str,
    pub role: &'a str,
    pub reason: &'a str,
    pub override_reason: Option<&'a str>,
    pub leadership: Option<&'a str>,
    pub recovery_estimate: Option<&'a str>,
}

fn nonblank(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Where the interfaces' line stands now: a message numbered above this
/// was numbered after it (`interfaces::store` numbers by the rising id).
/// A message numbered just before and committed just after counts with the
/// side it was numbered on: its fact was under way before the switch.
fn line_mark() -> i64 {
    crate::db::next_id()
}

impl Db {
    /// The episode not yet closed, if any.
    pub async fn emergency_open(&self) -> Result<Option<Episode>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM emergency_episodes WHERE open_slot = 1"
        )))
        .fetch_optional(&self.read)
        .await?;
        r.as_ref().map(episode_of).transpose()
    }

    pub async fn emergency_episode(&self, id: i64) -> Result<Option<Episode>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM emergency_episodes WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        r.as_ref().map(episode_of).transpose()
    }

    /// Newest first.
    pub async fn emergency_episodes(&self, limit: i64) -> Result<Vec<Episode>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM emergency_episodes ORDER BY started_at DESC, id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(episode_of).collect()
    }

    /// Records a switched-on episode with its audit line. `None`: another
    /// episode is open (the unique index decides, whoever came first).
    pub async fn emergency_start(
        &self,
        e: &NewEpisode<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<Episode>> {
        let mut tx = self.pool.begin().await?;
        let n: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM emergency_episodes")
            .fetch_one(&mut *tx)
            .await?;
        let open: Option<i64> =
            sqlx::query_scalar("SELECT id FROM emergency_episodes WHERE open_slot = 1")
                .fetch_optional(&mut *tx)
                .await?;
        if open.is_some() {
            return Ok(None);
        }
        let id = next_id();
        // YJ = 应急; the day and the episode's number keep series apart.
        let prefix = format!("YJ{}-{:02}", now.format("%Y%m%d"), n + 1);
        let seq = line_mark();
        let inserted = sqlx::query(
            "INSERT INTO emergency_episodes(id, state, open_slot, basis, eligibility, started_at,
               started_by, started_role, reason, override_reason, leadership, recovery_estimate,
               receipt_prefix, receipt_seq, seq_start)
             VALUES ($1, 'active', 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)",
        )
        .bind(id)
        .bind(e.basis.as_str())
        .bind(e.eligibility.to_string())
        .bind(ts(now))
        .bind(e.by)
        .bind(e.role)
        .bind(e.reason.trim())
        .bind(nonblank(e.override_reason))
        .bind(nonblank(e.leadership))
        .bind(nonblank(e.recovery_estimate))
        .bind(&prefix)
        .bind(seq)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another instance switched on between our check and insert.
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => return Ok(None),
            Err(x) => return Err(x.into()),
        }
        crate::db::log_line(
            &mut tx,
            e.by,
            "system.emergency_on",
            &format!("emergency:{id}"),
            &format!(
                "basis={} reason={} override={} leadership={} recovery={} receipts={prefix}",
                e.basis.as_str(),
                e.reason.trim(),
                nonblank(e.override_reason).unwrap_or_default(),
                nonblank(e.leadership).unwrap_or_default(),
                nonblank(e.recovery_estimate).unwrap_or_default(),
            ),
        )
        .await?;
        tx.commit().await?;
        self.emergency_episode(id).await
    }

    /// Active → ending (false: it was not active).
    pub async fn emergency_end(
        &self,
        id: i64,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let seq = line_mark();
        let n = sqlx::query(
            "UPDATE emergency_episodes SET state = 'ending', seq_end = $2, ended_at = $3,
                    ended_by = $4, end_reason = $5
              WHERE id = $1 AND state = 'active'",
        )
        .bind(id)
        .bind(seq)
        .bind(ts(now))
        .bind(by)
        .bind(reason.trim())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        crate::db::log_line(
            &mut tx,
            by,
            "system.emergency_off",
            &format!("emergency:{id}"),
            &format!("reason={}", reason.trim()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ending → closed (the queue has drained; see `machine::settle`).
    pub async fn emergency_close(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE emergency_episodes SET state = 'closed', open_slot = NULL, closed_at = $2
              WHERE id = $1 AND state = 'ending'",
        )
        .bind(id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        crate::db::log_line(
            &mut tx,
            "system",
            "system.emergency_closed",
            &format!("emergency:{id}"),
            "every message of the episode has left the queue",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Since when the head of HIS's line has failed (None: nothing failing).
    pub async fn his_failing_since(&self) -> Result<Option<DateTime<Utc>>> {
        let r: Option<Option<String>> = sqlx::query_scalar(
            "SELECT failing_since FROM interface_messages
              WHERE counterpart = 'his' AND state IN ('pending', 'retrying', 'sending')
              ORDER BY seq LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        r.flatten().as_deref().map(parse_ts).transpose()
    }

    /// HIS messages queued during the episode still in HIS's line. (The
    /// other systems' messages are on the report with their state; in a
    /// disaster those departments work by hand, and a system without an
    /// adapter keeps its messages waiting whatever the mode.)
    pub async fn emergency_still_open(&self, e: &Episode) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM interface_messages
              WHERE seq > $1 AND seq <= $2 AND counterpart = 'his'
                AND state IN ('pending', 'retrying', 'sending')",
        )
        .bind(e.seq_start)
        .bind(e.seq_end.unwrap_or(i64::MAX))
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Inside a desk fact's transaction, before its audit line: when an
/// episode is active, the fact is written down as an entry of it (a charge
/// with the next emergency receipt number, taken under the episode row's
/// lock). Nothing here calls a counterpart.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_in(
    tx: &mut Transaction<'_, Any>,
    kind: EntryKind,
    booking: i64,
    exam_no: &str,
    amount_fen: i64,
    method: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Stamp>> {
    let Some(episode): Option<i64> =
        sqlx::query_scalar("SELECT id FROM emergency_episodes WHERE state = 'active'")
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Ok(None);
    };
    let receipt_no = if kind == EntryKind::Charge {
        let r = sqlx::query(
            "UPDATE emergency_episodes SET receipt_seq = receipt_seq + 1 WHERE id = $1
             RETURNING receipt_prefix, receipt_seq",
        )
        .bind(episode)
        .fetch_one(&mut **tx)
        .await?;
        let prefix: String = r.try_get("receipt_prefix")?;
        let n: i64 = r.try_get("receipt_seq")?;
        Some(format!("{prefix}-{n:04}"))
    } else {
        None
    };
    sqlx::query(
        "INSERT INTO emergency_entries(id, episode_id, kind, booking_id, exam_no, amount_fen,
           method, receipt_no, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(next_id())
    .bind(episode)
    .bind(kind.as_str())
    .bind(booking)
    .bind(exam_no)
    .bind(amount_fen)
    .bind(method)
    .bind(receipt_no.as_deref())
    .bind(actor)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(Some(Stamp {
        episode_id: episode,
        receipt_no,
    }))
}

/// Whether an episode is active (kiosks are sent to the desk to pay).
pub(crate) async fn active(db: &Db) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM emergency_episodes WHERE state = 'active'",
    )
    .fetch_one(&db.read)
    .await?;
    Ok(n > 0)
}

/// The roles `staff_users.role` accepts (migration 0010's CHECK), now with
/// the desk supervisor of emergency mode and finance; `ROLE_CHECK_E15`
/// was the check for a while without finance (development stores).
const ROLE_CHECK_OLD: &str = "CHECK (role IN ('admin', 'front_desk', 'group_desk', 'auditor'))";
const ROLE_CHECK_E15: &str =
    "CHECK (role IN ('admin', 'front_desk', 'desk_supervisor', 'group_desk', 'auditor'))";
const ROLE_CHECK_V2: &str = "CHECK (role IN ('admin', 'front_desk', 'desk_supervisor', 'group_desk', 'finance', 'auditor'))";
/// With the queue's guide (导诊) and doctor (医生), issue 19.
const ROLE_CHECK_NEW: &str = "CHECK (role IN ('admin', 'front_desk', 'desk_supervisor', 'group_desk', 'finance', 'auditor', 'guide', 'doctor'))";

/// Lets `staff_users.role` hold `desk_supervisor`, `finance`, `guide` and `doctor` (run by `Db::migrate`
/// after the SQL migrations; does nothing the second time). The CHECK
/// cannot be changed in portable SQL: PostgreSQL replaces the constraint;
/// SQLite takes the documented way to loosen a CHECK without rebuilding
/// the table (the stored CREATE statement rewritten under
/// `writable_schema`, the schema version raised, all in one transaction;
/// every existing row satisfies the looser check).
pub(crate) async fn allow_supervisor_role(db: &Db) -> Result<()> {
    match db.backend {
        crate::db::Backend::Postgres => {
            let has: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_constraint
                  WHERE conname = 'staff_users_role_check_v3'",
            )
            .fetch_one(&db.pool)
            .await?;
            if has > 0 {
                return Ok(());
            }
            let mut tx = db.pool.begin().await?;
            for old in [
                "staff_users_rebuilt_role_check",
                "staff_users_role_check_e15",
                "staff_users_role_check_v2",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE staff_users DROP CONSTRAINT IF EXISTS {old}"
                )))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check_v3 {ROLE_CHECK_NEW}"
            )))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        crate::db::Backend::Sqlite => {
            let sql: Option<String> = sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'staff_users'",
            )
            .fetch_optional(&db.pool)
            .await?;
            let Some(sql) = sql else { return Ok(()) };
            let Some(old) = [ROLE_CHECK_OLD, ROLE_CHECK_E15, ROLE_CHECK_V2]
                .into_iter()
                .find(|c| sql.contains(c))
            else {
                return Ok(());
            };
            let mut tx = db.pool.begin().await?;
            let version: i64 = sqlx::query_scalar("PRAGMA schema_version")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("PRAGMA writable_schema = ON")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE sqlite_master SET sql = $1 WHERE type = 'table' AND name = 'staff_users'",
            )
            .bind(sql.replace(old, ROLE_CHECK_NEW))
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "PRAGMA schema_version = {}",
                version + 1
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::query("PRAGMA writable_schema = OFF")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            // Check what was written: the store must still read.
            let ok: String = sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&db.pool)
                .await?;
            if ok != "ok" {
                return Err(DbError::Corrupt(format!("after the role check: {ok}")));
            }
        }
    }
    Ok(())
}
