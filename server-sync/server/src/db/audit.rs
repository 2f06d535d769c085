//! The audit trail's storage (S7). Three promises:
//!
//! - **Every row is chained.** On SQLite (one writer) [`append`] takes the
//!   `audit_seq` counter, reads the hash of the row before and stores
//!   `seq`, `prev_hash` and `hash` with the row, in the transaction of the
//!   change it records. On PostgreSQL a line is written in the change's
//!   transaction without its place in the chain (no lock: the chain's lock
//!   held to every audited write's commit was the desk's one serial point
//!   under load, issue 21), and [`Db::chain_pending`] — one chainer at a
//!   time, under the counter's row lock — gives committed lines their
//!   number and hash in batches, tens of milliseconds later. Either way
//!   the chain never forks and every row up to the counter is committed.
//! - **Append-only, enforced by the store.** [`install_guards`] (run by
//!   `Db::migrate`) installs triggers that refuse UPDATE and DELETE of
//!   `audit_log` (and TRUNCATE on PostgreSQL), but for the one update that
//!   gives an unchained row its place (`seq`, `prev_hash`, `hash` from
//!   nothing to something, every other column as it was), and any move of
//!   the `audit_seq` counter but forward.
//! - **A failed audit fails the request.** Nothing here swallows an error;
//!   callers propagate it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use super::{Backend, Db, Result, next_id, ts};
use crate::audit::chain::{self, ChainRow, Report, Verifier};
use crate::audit::{AuditEvent, Category, Outcome};

/// One stored row, as the auditor, the export and the syslog copy read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub id: i64,
    pub at: String,
    pub category: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn chain_row(&self) -> ChainRow {
        ChainRow {
            seq: self.seq,
            id: self.id,
            at: self.at.clone(),
            category: self.category.clone(),
            actor: self.actor.clone(),
            source: self.source.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            outcome: self.outcome.clone(),
            detail: self.detail.clone(),
        }
    }
}

const COLUMNS: &str =
    "seq, id, at, category, actor, source, action, subject, outcome, detail, prev_hash, hash";

fn row_of(r: &sqlx::any::AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: r.try_get::<Option<i64>, _>("seq")?.unwrap_or(0),
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        category: r.try_get("category")?,
        actor: r.try_get("actor")?,
        source: r.try_get("source")?,
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        outcome: r.try_get("outcome")?,
        detail: r.try_get("detail")?,
        prev_hash: r
            .try_get::<Option<String>, _>("prev_hash")?
            .unwrap_or_default(),
        hash: r.try_get::<Option<String>, _>("hash")?.unwrap_or_default(),
    })
}

/// The hash of the row before `seq` (every audit line on SQLite reads it).
pub(crate) const PREV_HASH: &str =
    "SELECT hash FROM audit_log WHERE seq < $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1";
/// Rows still without their place in the chain a while after they were
/// written (`$1`: that moment): written around the service on SQLite, or
/// PostgreSQL's chainer stopped (the alarms ask every minute).
pub(crate) const UNCHAINED: &str = "SELECT count(*) FROM audit_log WHERE seq IS NULL AND at < $1";

/// How long a line may wait for its place in the chain before the check
/// names it (PostgreSQL's chainer runs every few tens of milliseconds).
pub(crate) const CHAIN_GRACE: chrono::Duration = chrono::Duration::minutes(1);

/// PostgreSQL's chainer: committed lines without a place, oldest first
/// (through the partial index `audit_log_unchained`).
pub(crate) const PENDING: &str =
    "SELECT seq, id, at, category, actor, source, action, subject, outcome, detail, prev_hash, hash
   FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1";

/// Lines one chainer transaction places at most.
pub(crate) const CHAIN_BATCH: i64 = 1000;

/// Appends `e` to the trail inside `tx` (the transaction of the change it
/// records, or one of its own). On SQLite it must be the transaction's
/// last write (the chain's lock is held to commit).
pub(crate) async fn append(tx: &mut Transaction<'_, Any>, e: &AuditEvent) -> Result<()> {
    append_many(tx, std::slice::from_ref(e)).await
}

/// The chained fields of line `e`, numbered `seq`, written at `at`.
fn chain_row(seq: i64, at: &str, e: &AuditEvent) -> ChainRow {
    ChainRow {
        seq,
        id: next_id(),
        at: at.to_string(),
        category: e.category.as_str().into(),
        actor: e.actor.clone(),
        source: e.source.clone().unwrap_or_else(crate::audit::source),
        action: e.action.clone(),
        subject: e.subject.clone(),
        outcome: e.outcome.as_str().into(),
        detail: e.detail.clone(),
    }
}

/// Appends `events` in order inside `tx`: chained at once on SQLite (the
/// chain's lock taken once, so the last write of the transaction), to be
/// chained after their commit on PostgreSQL.
pub(crate) async fn append_many(
    tx: &mut Transaction<'_, Any>,
    events: &[AuditEvent],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    if tx.backend_name() == "PostgreSQL" {
        return append_pg(tx, events).await;
    }
    // SQLite, the one writer: one counter move, one read of the hash
    // before, one INSERT per hundred rows. One step per line: the store's
    // guard lets the counter move forward by one only.
    let mut first = None;
    for _ in events {
        let seq: i64 = sqlx::query(
            "UPDATE counters SET value = value + 1 WHERE name = 'audit_seq' RETURNING value",
        )
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        first.get_or_insert(seq);
    }
    let first = first.expect("at least one line");
    let mut prev: String = sqlx::query(PREV_HASH)
        .bind(first)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten()
        .unwrap_or_else(|| chain::GENESIS.to_string());
    let at = ts(Utc::now());
    let mut rows = Vec::with_capacity(events.len());
    for (seq, e) in (first..).zip(events) {
        let row = chain_row(seq, &at, e);
        let hash = chain::link(&prev, &row);
        let before = std::mem::replace(&mut prev, hash.clone());
        rows.push((row, Some((before, hash))));
    }
    insert_lines(tx, &rows).await
}

/// The lines of `events` on PostgreSQL, unchained: no lock, so an audited
/// write waits for no other (issue 21). They commit or roll back with the
/// change; [`Db::chain_pending`] places them once committed.
async fn append_pg(tx: &mut Transaction<'_, Any>, events: &[AuditEvent]) -> Result<()> {
    let at = ts(Utc::now());
    let rows: Vec<(ChainRow, Option<(String, String)>)> = events
        .iter()
        .map(|e| (chain_row(0, &at, e), None))
        .collect();
    insert_lines(tx, &rows).await
}

/// Inserts lines, a hundred a statement: each with its place (`seq`, the
/// hash before and its hash) or, without one, to be placed by the chainer.
async fn insert_lines(
    tx: &mut Transaction<'_, Any>,
    rows: &[(ChainRow, Option<(String, String)>)],
) -> Result<()> {
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO audit_log(seq, id, at, category, actor, source, action, subject, outcome, detail, prev_hash, hash)
             VALUES {}",
            super::value_rows(chunk.len(), 12)
        );
        // Placeholders only: the values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (row, place) in chunk {
            q = q
                .bind(place.as_ref().map(|_| row.seq))
                .bind(row.id)
                .bind(&row.at)
                .bind(&row.category)
                .bind(&row.actor)
                .bind(&row.source)
                .bind(&row.action)
                .bind(&row.subject)
                .bind(&row.outcome)
                .bind(&row.detail)
                .bind(place.as_ref().map(|(before, _)| before.as_str()))
                .bind(place.as_ref().map(|(_, hash)| hash.as_str()));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What the auditor searches by; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuditQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub category: Option<Category>,
    pub outcome: Option<Outcome>,
    /// Exactly this subject (an ID number, `company:<id>`, a user name).
    pub subject: Option<String>,
    /// A piece of the action, subject or detail.
    pub text: Option<String>,
    /// Only these actions (e.g. `login.locked`); empty: any.
    #[serde(skip)]
    pub actions: Vec<String>,
}

/// `%` and `_` taken literally in a LIKE pattern (with `ESCAPE '\'`).
fn like_contains(s: &str) -> String {
    let mut p = String::from("%");
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A chain check's result, with the rows the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    pub report: Report,
    /// Rows still without a place in the chain a minute after they were
    /// written (written around the service on SQLite; PostgreSQL's
    /// chainer not running).
    pub unchained: i64,
}

impl AuditCheck {
    pub fn is_intact(&self) -> bool {
        self.report.broken.is_none() && self.unchained == 0
    }
}

impl std::fmt::Display for AuditCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.report.broken {
            Some(b) => write!(
                f,
                "audit chain BROKEN at row {}: {b} (rows 1..{} verified)",
                b.seq(),
                self.report.verified
            )?,
            None => write!(
                f,
                "audit chain intact: rows 1..{} verified, head {}",
                self.report.verified, self.report.head
            )?,
        }
        if self.unchained > 0 {
            write!(
                f,
                "; {} rows outside the chain (written around the service, or not chained)",
                self.unchained
            )?;
        }
        Ok(())
    }
}

/// PostgreSQL's batched audit lines in transactions of their own
/// (db/batch.rs): one transaction, one flush, for every line waiting.
pub(crate) struct Lines(pub(crate) sqlx::AnyPool);

impl super::batch::Writes for Lines {
    type Item = AuditEvent;
    const WHAT: &'static str = "audit";
    async fn write(&self, events: &[AuditEvent]) -> Result<()> {
        let mut tx = self.0.begin().await?;
        append_many(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// Appends one typed audit row in a transaction of its own, and
    /// returns once it is committed. On PostgreSQL with the lines of other
    /// requests waiting at the same time (`audit_batch`); on SQLite alone,
    /// as before (joining the group commit measured no gain there).
    pub async fn audit_event(&self, e: &AuditEvent) -> Result<()> {
        if let Some(b) = &self.audit_batch {
            // The request's address is this task's (a task-local), not
            // the writer's: taken here.
            let mut e = e.clone();
            e.source = Some(e.source.unwrap_or_else(crate::audit::source));
            return b.submit(e).await;
        }
        let mut tx = self.pool.begin().await?;
        append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An untyped row (category and outcome by its action:
    /// [`AuditEvent::by_action`]); prefer
    /// [`Db::audit_event`] or [`append`] in the change's transaction.
    pub async fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<()> {
        self.audit_event(&AuditEvent::by_action(actor, action).detail(detail))
            .await
    }

    /// Whether the store was closed (the service is stopping).
    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// Places the committed lines still without a place in the chain, in
    /// batches, and returns how many it placed (PostgreSQL; SQLite chains
    /// as it writes: 0). Under the `audit_seq` counter's row lock, so one
    /// chainer of any instance runs at a time; the lines read after the
    /// lock are those committed by then (each statement reads what is
    /// committed when it starts), and a line whose transaction commits
    /// later is placed by the next round.
    pub async fn chain_pending(&self) -> Result<usize> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let mut placed = 0;
        loop {
            let n = self.chain_batch().await?;
            placed += n;
            if (n as i64) < CHAIN_BATCH {
                return Ok(placed);
            }
        }
    }

    async fn chain_batch(&self) -> Result<usize> {
        // Idle: nothing waits, and no lock is taken.
        let waiting = sqlx::query("SELECT 1 FROM audit_log WHERE seq IS NULL LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if waiting.is_none() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        let head: i64 =
            sqlx::query("SELECT value FROM counters WHERE name = 'audit_seq' FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let pending = sqlx::query(PENDING)
            .bind(CHAIN_BATCH)
            .fetch_all(&mut *tx)
            .await?;
        if pending.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let mut prev: String = sqlx::query(PREV_HASH)
            .bind(head + 1)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<Option<String>, _>(0))
            .transpose()?
            .flatten()
            .unwrap_or_else(|| chain::GENESIS.to_string());
        let mut placed = Vec::with_capacity(pending.len());
        for (seq, r) in (head + 1..).zip(&pending) {
            let mut row = row_of(r)?;
            row.seq = seq;
            let hash = chain::link(&prev, &row.chain_row());
            let before = std::mem::replace(&mut prev, hash.clone());
            placed.push((row.id, seq, before, hash));
        }
        for chunk in placed.chunks(super::ROWS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 4;
                    format!(
                        "(${}::bigint, ${}::bigint, ${}::text, ${}::text)",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4
                    )
                })
                .collect();
            let sql = format!(
                "UPDATE audit_log AS a SET seq = v.seq, prev_hash = v.prev, hash = v.hash
                   FROM (VALUES {}) AS v(id, seq, prev, hash)
                  WHERE a.id = v.id AND a.seq IS NULL",
                values.join(", ")
            );
            // Placeholders only: the values are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, seq, before, hash) in chunk {
                q = q.bind(*id).bind(*seq).bind(before).bind(hash);
            }
            let n = q.execute(&mut *tx).await?.rows_affected();
            if n != chunk.len() as u64 {
                // Another chainer cannot have run (the lock): a row is gone
                // or was placed around us. Nothing of this round is kept.
                return Err(super::DbError::Corrupt(format!(
                    "audit chainer placed {n} of {} lines",
                    chunk.len()
                )));
            }
        }
        let last = head + placed.len() as i64;
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'audit_seq'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(placed.len())
    }

    /// Recomputes the whole chain (`exam-server audit-verify`, the
    /// auditor's full check).
    pub async fn verify_audit_chain(&self) -> Result<AuditCheck> {
        self.verify_audit_chain_after(None).await
    }

    /// Checks the rows after `anchor` (a row already verified: its seq and
    /// hash), or all from the first when None.
    pub async fn verify_audit_chain_after(
        &self,
        anchor: Option<(i64, &str)>,
    ) -> Result<AuditCheck> {
        // Lines committed but not yet placed are placed first, so the
        // check covers them.
        self.chain_pending().await?;
        // The counter first: every row up to it has committed, and rows
        // appended while we read lie beyond it.
        let counter: i64 = sqlx::query("SELECT value FROM counters WHERE name = 'audit_seq'")
            .fetch_optional(&self.read)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
        let mut v = match anchor {
            Some((seq, hash)) => Verifier::resume(seq, hash),
            None => Verifier::default(),
        };
        let mut after = anchor.map_or(0, |(s, _)| s);
        'pages: loop {
            let sql = format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 2000"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after)
                .bind(counter)
                .fetch_all(&self.read)
                .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let row = row_of(r)?;
                after = row.seq;
                if !v.push(&row.chain_row(), &row.prev_hash, &row.hash) {
                    break 'pages;
                }
            }
        }
        let unchained: i64 = sqlx::query(UNCHAINED)
            .bind(ts(Utc::now() - CHAIN_GRACE))
            .fetch_one(&self.read)
            .await?
            .try_get(0)?;
        Ok(AuditCheck {
            report: v.finish(counter),
            unchained,
        })
    }

    /// Rows matching `q`, newest first, at most `limit`.
    pub async fn audit_rows(&self, q: &AuditQuery, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log
              WHERE ($1 = '' OR at >= $1) AND ($2 = '' OR at < $2)
                AND ($3 = '' OR actor = $3) AND ($4 = '' OR category = $4)
                AND ($5 = '' OR outcome = $5) AND ($6 = '' OR subject = $6)
                AND ($7 = '%%' OR action LIKE $7 ESCAPE '\\' OR subject LIKE $7 ESCAPE '\\'
                     OR detail LIKE $7 ESCAPE '\\'){}
              ORDER BY at DESC, id DESC LIMIT $8",
            actions_in(&q.actions)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(q.from.map(ts).unwrap_or_default())
            .bind(q.to.map(ts).unwrap_or_default())
            .bind(q.actor.clone().unwrap_or_default())
            .bind(q.category.map(Category::as_str).unwrap_or_default())
            .bind(q.outcome.map(Outcome::as_str).unwrap_or_default())
            .bind(q.subject.clone().unwrap_or_default())
            .bind(like_contains(q.text.as_deref().unwrap_or_default()))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(row_of).collect()
    }

    /// Puts the syslog copy's cursor at the chain's head unless it has one:
    /// history from before forwarding was set up stays in the store (and
    /// its exports); forwarding starts with what follows.
    pub(crate) async fn syslog_init(&self) -> Result<()> {
        let head: i64 = sqlx::query("SELECT value FROM counters WHERE name = 'audit_seq'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        sqlx::query(
            "INSERT INTO counters(name, value) VALUES ('syslog_forwarded', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(head)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the next rows to forward to syslog (at most `max`), in chain
    /// order: the `syslog_forwarded` counter moves past them only if no
    /// other instance moved it first, so each row is sent by one instance.
    /// A number is given under the chain's lock in the transaction that
    /// commits the row (SQLite) or its place (PostgreSQL's chainer), so
    /// every row up to the highest committed number is there to read and
    /// none is passed over.
    pub(crate) async fn syslog_claim(&self, max: i64) -> Result<Vec<AuditRow>> {
        let cursor: i64 = sqlx::query("SELECT value FROM counters WHERE name = 'syslog_forwarded'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cursor)
            .bind(max)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(row_of)
            .collect::<Result<Vec<_>>>()?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(rows);
        };
        let won = sqlx::query(
            "UPDATE counters SET value = $2 WHERE name = 'syslog_forwarded' AND value = $1",
        )
        .bind(cursor)
        .bind(last)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(if won { rows } else { vec![] })
    }
}

/// The action filter as SQL text (the names are the service's own, and
/// only `[a-z_.]` of them is kept, so nothing from outside reaches the SQL).
fn actions_in(actions: &[String]) -> String {
    if actions.is_empty() {
        return String::new();
    }
    let list: Vec<String> = actions
        .iter()
        .map(|a| {
            let clean: String = a
                .chars()
                .filter(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.')
                .collect();
            format!("'{clean}'")
        })
        .collect();
    format!(" AND action IN ({})", list.join(", "))
}

/// The names of the guard triggers, per back end.
const GUARDS_SQLITE: [&str; 4] = [
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_seq_forward_only",
    "audit_seq_kept",
];
const GUARDS_POSTGRES: [&str; 4] = [
    "audit_log_append_only",
    "audit_log_no_truncate",
    "counters_audit_seq",
    "counters_no_truncate",
];

/// Whether every guard trigger is in place (and enabled, on PostgreSQL).
pub(crate) async fn guards_installed(db: &Db) -> Result<bool> {
    let (sql, names) = match db.backend {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'trigger'",
            GUARDS_SQLITE,
        ),
        Backend::Postgres => (
            "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'",
            GUARDS_POSTGRES,
        ),
    };
    let present: Vec<String> = sqlx::query(sql)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
    Ok(names.iter().all(|n| present.iter().any(|p| p == n)))
}

/// Chains the rows written before the chain existed (first run only) and
/// installs the store's own refusal of UPDATE and DELETE, idempotently.
/// The SQL differs per back end, so it runs here rather than in a
/// migration file.
pub(crate) async fn install_guards(db: &Db) -> Result<()> {
    let mut tx = db.pool.begin().await?;
    let first_run = sqlx::query("SELECT value FROM counters WHERE name = 'audit_seq'")
        .fetch_optional(&mut *tx)
        .await?
        .is_none();
    if first_run {
        // Rows written before migration 9: chain them in their order. The
        // counter row is created first, so a second instance starting at
        // the same moment fails its insert and chains nothing.
        sqlx::query("INSERT INTO counters(name, value) VALUES ('audit_seq', 0)")
            .execute(&mut *tx)
            .await?;
        let old = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE seq IS NULL ORDER BY at, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut prev = chain::GENESIS.to_string();
        let mut seq = 0;
        for r in &old {
            seq += 1;
            let action: String = r.try_get("action")?;
            let outcome = Outcome::of_action(&action).as_str().to_string();
            let row = ChainRow {
                seq,
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                category: Category::of_action(&action).as_str().into(),
                actor: r.try_get("actor")?,
                source: String::new(),
                action,
                subject: r.try_get("subject")?,
                outcome,
                detail: r.try_get("detail")?,
            };
            let hash = chain::link(&prev, &row);
            sqlx::query(
                "UPDATE audit_log SET seq = $2, category = $3, outcome = $4, prev_hash = $5, hash = $6
                  WHERE id = $1",
            )
            .bind(row.id)
            .bind(seq)
            .bind(&row.category)
            .bind(&row.outcome)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            prev = hash;
        }
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'audit_seq'")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        if seq > 0 {
            tracing::info!(rows = seq, "existing audit rows chained");
        }
    }
    let guards: &[&'static str] = match db.backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_seq_forward_only BEFORE UPDATE ON counters
             WHEN OLD.name = 'audit_seq' AND (NEW.name <> OLD.name OR NEW.value <> OLD.value + 1)
             BEGIN SELECT RAISE(ABORT, 'the audit_seq counter only moves forward by one'); END",
            "CREATE TRIGGER IF NOT EXISTS audit_seq_kept BEFORE DELETE ON counters
             WHEN OLD.name = 'audit_seq'
             BEGIN SELECT RAISE(ABORT, 'the audit_seq counter cannot be deleted'); END",
        ],
        Backend::Postgres => &[
            "CREATE OR REPLACE FUNCTION exam_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                 USING ERRCODE = 'insufficient_privilege';
             END $$",
            // The one update allowed: an unchained row given its place,
            // nothing else of it changed (the chainer; invariant 19).
            "CREATE OR REPLACE FUNCTION exam_audit_place_once() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
                  AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
                  AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.category = OLD.category
                  AND NEW.actor = OLD.actor AND NEW.source = OLD.source AND NEW.action = OLD.action
                  AND NEW.subject = OLD.subject AND NEW.outcome = OLD.outcome
                  AND NEW.detail = OLD.detail THEN
                 RETURN NEW;
               END IF;
               RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                 USING ERRCODE = 'insufficient_privilege';
             END $$",
            "CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
             FOR EACH ROW EXECUTE FUNCTION exam_audit_place_once()",
            "CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
             FOR EACH STATEMENT EXECUTE FUNCTION exam_audit_refuse()",
            "CREATE OR REPLACE FUNCTION exam_audit_seq_forward() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF OLD.name = 'audit_seq' AND (TG_OP = 'DELETE'
                   OR NEW.name <> OLD.name OR NEW.value <= OLD.value) THEN
                 RAISE EXCEPTION 'the audit_seq counter only moves forward'
                   USING ERRCODE = 'insufficient_privilege';
               END IF;
               IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
               RETURN NEW;
             END $$",
            "CREATE OR REPLACE TRIGGER counters_audit_seq BEFORE UPDATE OR DELETE ON counters
             FOR EACH ROW EXECUTE FUNCTION exam_audit_seq_forward()",
            "CREATE OR REPLACE TRIGGER counters_no_truncate BEFORE TRUNCATE ON counters
             FOR EACH STATEMENT EXECUTE FUNCTION exam_audit_refuse()",
        ],
    };
    for sql in guards {
        sqlx::query(*sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
