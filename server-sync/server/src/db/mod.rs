//! The central store: one repository layer over SQLite (embedded default)
//! and PostgreSQL, chosen by URL, through sqlx's `Any` driver.
//!
//! Portability rules (see ARCHITECTURE.md): ids are BIGINT from the
//! application, times RFC 3339 TEXT in UTC with fixed width (so they sort as
//! text), flags INTEGER; no advisory locks, triggers, LISTEN/NOTIFY or
//! SKIP LOCKED, so that PostgreSQL-compatible distributed engines also work.
//! One exception: the triggers that make the audit trail append-only
//! (`audit::install_guards`; ARCHITECTURE.md says why it is worth it).

mod accounts;
mod api_clients;
mod at_rest;
mod audit;
mod batch;
mod bookings;
mod catalogue;
mod desk;
mod events;
mod exports;
mod faces;
mod fhir;
mod group;
mod groups;
mod visits;
// The hot paths' statements, for the plan test (tests/query_plans.rs).
#[doc(hidden)]
pub mod hot_queries;
mod items;
mod kiosks;
mod moves;
mod oplog;
mod people;
mod person;
mod photos;
mod pickups;
mod preload;
mod privacy;
mod reports;
mod scope;
mod search;
mod sessions;
mod slots;
mod staff;

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::Row;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};

pub use accounts::{AccountRow, AccountState, ChangeReason, StaffUser};
pub use api_clients::{ApiClient, NewApiClient, TokenGrant, secret_hash};
pub use at_rest::Resealed;
pub use audit::{AuditCheck, AuditQuery, AuditRow};
pub use bookings::ChangesPage;
pub use desk::{Created, DeskError, NewVisit, Visit, VisitItem, VisitKind};
pub use events::{PushOutcome, Pushed};
pub use exports::{ExportKind, ExportLimits, ExportRefusal};
pub use fhir::{AppointmentRow, PatientRow, ReportDoc, RequestRow, SEARCH_CAP, VisitFilter};
pub use group::Write;
pub use groups::{CompanyRow, GroupRow, GroupSpec, ImportRecord, MemberRow, NewMember};
pub use kiosks::{EnrolError, KioskRow};
pub use moves::{MoveError, OpenMove};
pub use oplog::{OpLine, OpQuery};
pub use people::{Corrected, CorrectionError, IdentityField};
pub use person::{
    AccessLine, Erased, FaceHeld, MembershipHeld, PersonRecord, PhotoHeld, ReportHeld,
};
pub use photos::VisitPhoto;
pub use pickups::PickupRow;
pub use preload::{Loaded, in_the_past};
pub use privacy::{ConsentRow, PrivacyError};
pub use reports::{ReportError, ReportPrint, ReportRow};
pub use search::{Hit, SearchKey};
pub use sessions::{LoginDuration, PendingSecondFactor, SessionRecord, SessionUser, Stage};
pub use slots::SlotRow;
pub use staff::{CountTable, RegistrationRow};

// The hospital interfaces (`crate::interfaces`) write inside the desk's
// transactions and their own: the visit as it stands, sealing, audit lines.
pub(crate) use at_rest::ad;
pub(crate) use items::mark_items_paid_in;
pub(crate) use oplog::log as log_line;
pub(crate) use people::{person_key as person_key_of, subject as subject_of_person};
pub(crate) use visits::{visit_in, visits_to_sync};
// The SMS requests (`crate::sms`) open a visit's person and key the rate
// limits by the mobile's blind index.
pub(crate) use people::{joined_name_and_id, mobile_index as mobile_index_of, person_of_row};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The group commit a write shared failed (db/group.rs): nothing of
    /// the write was kept.
    #[error("the commit failed: {0}")]
    Commit(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("personal data at rest: {0}")]
    Vault(#[from] exam_vault::VaultError),
    /// Started without migrating (`migrate_on_start = false`) on a store
    /// the owner has not brought up to date, or whose audit trail is not
    /// guarded.
    #[error(
        "the store is not ready for this release: {0}; run `exam-server migrate` as the database owner"
    )]
    NotMigrated(String),
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connections open and idle in each pool ([`Db::pool_state`]); on
/// PostgreSQL the reader is the writer's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub writer: (u32, u32),
    pub reader: (u32, u32),
}

#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    /// For reads that need no transaction: on SQLite a few more connections
    /// (WAL lets readers run beside the one writer), on PostgreSQL the same pool.
    pub(crate) read: AnyPool,
    pub backend: Backend,
    /// Seals and opens personal data, computes blind indexes (db/people.rs).
    pub(crate) keys: std::sync::Arc<exam_vault::KeyRing>,
    /// SQLite's group commit (db/group.rs): the hot writes share a
    /// transaction and its flush. `None` on PostgreSQL.
    group: Option<std::sync::Arc<group::Group>>,
    /// PostgreSQL's writer of audit lines in transactions of their own
    /// (db/batch.rs). `None` on SQLite.
    audit_batch: Option<std::sync::Arc<batch::Batcher<crate::audit::AuditEvent>>>,
    /// PostgreSQL's stamper of committed visits' change numbers
    /// (`bookings::stamp_committed`, db/batch.rs). `None` on SQLite.
    stamps: Option<std::sync::Arc<batch::Batcher<Vec<i64>>>>,
    /// PostgreSQL: a connection of its own for a writer that runs one at a
    /// time under a lock of the service's (the queue's), so that the
    /// section behind that lock never waits for the shared pool. `None` on
    /// SQLite (one writer connection, the group commit's).
    serial: Option<AnyPool>,
}

/// Migrations in order. Portable SQL runs on both back ends; a migration
/// that must differ gets a per-backend file under `migrations/<backend>/`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "kiosk rejected events",
        include_str!("../../migrations/0002_kiosk_rejected.sql"),
    ),
    (
        3,
        "print backlog and pickups",
        include_str!("../../migrations/0003_print_pickups.sql"),
    ),
    (
        4,
        "exam workflow",
        include_str!("../../migrations/0004_exam_workflow.sql"),
    ),
    (
        5,
        "booking state index",
        include_str!("../../migrations/0005_booking_state_index.sql"),
    ),
    (
        6,
        "what kiosks print for moved documents",
        include_str!("../../migrations/0006_kiosk_prints.sql"),
    ),
    (
        7,
        "kiosk photos",
        include_str!("../../migrations/0007_visit_photos.sql"),
    ),
    (
        8,
        "reports",
        include_str!("../../migrations/0008_reports.sql"),
    ),
    (
        9,
        "audit trail chain and guards",
        include_str!("../../migrations/0009_audit_chain.sql"),
    ),
    (
        10,
        "staff account security",
        include_str!("../../migrations/0010_staff_security.sql"),
    ),
    (
        11,
        "personal data encrypted at rest",
        include_str!("../../migrations/0011_encryption.sql"),
    ),
    (
        12,
        "consent and privacy",
        include_str!("../../migrations/0012_privacy.sql"),
    ),
    (
        13,
        "hospital interfaces: outbound queue, leases, inbound log",
        include_str!("../../migrations/0013_interfaces.sql"),
    ),
    (
        15,
        "API clients of the FHIR API",
        include_str!("../../migrations/0015_api_clients.sql"),
    ),
    (
        16,
        "payments: local orders, refunds, notifications, reconciliation",
        include_str!("../../migrations/0016_payments.sql"),
    ),
    (
        17,
        "SMS: messages held by the rate limits, their status reports",
        include_str!("../../migrations/0017_sms.sql"),
    ),
    (
        18,
        "emergency mode: episodes and what the desk did during them",
        include_str!("../../migrations/0018_emergency.sql"),
    ),
    (
        19,
        "major abnormal results; HIS prices and their change log",
        include_str!("../../migrations/0019_abnormal_results_his_prices.sql"),
    ),
    (
        20,
        "the queue: its log, who waited where, room settings, ratings",
        include_str!("../../migrations/0020_queue.sql"),
    ),
    (
        21,
        "department results and summaries",
        include_str!("../../migrations/0021_results.sql"),
    ),
    (
        22,
        "specimens and their events",
        include_str!("../../migrations/0022_specimens.sql"),
    ),
    (
        23,
        "the chief examination: reports, returns, chief physicians; medical history, questionnaires",
        include_str!("../../migrations/0023_chief.sql"),
    ),
    (
        24,
        "several instances: leases, the change log, the screens' calls",
        include_str!("../../migrations/0024_cluster.sql"),
    ),
    (
        25,
        "indexes for the alarms' counts over bookings, items and check-ins",
        include_str!("../../migrations/0025_alarm_fact_indexes.sql"),
    ),
    (
        26,
        "face check-in: one sealed face template per consenting person",
        include_str!("../../migrations/0026_face_templates.sql"),
    ),
    (
        27,
        "the ledger: every charge and refund under its campus and day",
        include_str!("../../migrations/0027_ledger.sql"),
    ),
    (
        28,
        "indexes: a room's queue entries past waiting; visits awaiting their change number",
        include_str!("../../migrations/0028_hot_path_indexes.sql"),
    ),
    (
        29,
        "the audit chain's tip: an audit line in one statement on PostgreSQL",
        include_str!("../../migrations/0029_audit_tip.sql"),
    ),
    (
        30,
        "a staff account's campus (多院区): NULL is every campus",
        include_str!("../../migrations/0030_staff_campus.sql"),
    ),
    (
        31,
        "audit lines placed in the chain after their commit on PostgreSQL: the index of those waiting",
        include_str!("../../migrations/0031_audit_chainer.sql"),
    ),
    (
        32,
        "an interface line's open messages in line order: its head without a sort",
        include_str!("../../migrations/0032_interface_open_index.sql"),
    ),
];

impl Db {
    /// Opens the store; `keys` seal and open its personal data (there is
    /// no store without them: see `exam_vault`).
    pub async fn connect(url: &str, keys: std::sync::Arc<exam_vault::KeyRing>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            // Create the file on first start; WAL and synchronous=FULL are sqlx's SQLite defaults.
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        // SQLite has one writer anyway; one connection avoids SQLITE_BUSY on
        // lock upgrades and keeps `sqlite::memory:` a single database.
        let max = if backend == Backend::Sqlite { 1 } else { 16 };
        let options = || {
            let o = AnyPoolOptions::new();
            if backend != Backend::Sqlite {
                return o;
            }
            // Deleted rows are zeroed in the file, not left in free pages
            // (rows replaced when a store in clear is sealed, issue 17).
            o.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql("PRAGMA secure_delete = ON")
                        .execute(conn)
                        .await
                        .map(|_| ())
                })
            })
        };
        let pool = options().max_connections(max).connect(&url).await?;
        let read = if backend == Backend::Sqlite && !url.contains(":memory:") {
            options().max_connections(4).connect(&url).await?
        } else {
            pool.clone()
        };
        let group = (backend == Backend::Sqlite).then(group::Group::start);
        let pg = backend == Backend::Postgres;
        let audit_batch =
            pg.then(|| std::sync::Arc::new(batch::Batcher::start(audit::Lines(pool.clone()))));
        let stamps =
            pg.then(|| std::sync::Arc::new(batch::Batcher::start(bookings::Stamps(pool.clone()))));
        let serial = if pg {
            Some(options().max_connections(1).connect(&url).await?)
        } else {
            None
        };
        Ok(Self {
            pool,
            read,
            backend,
            keys,
            group,
            audit_batch,
            stamps,
            serial,
        })
    }

    /// Begins a write: on SQLite a member of the group commit, on
    /// PostgreSQL a transaction of its own. See [`Write`].
    pub async fn write(&self) -> Result<Write<'_>> {
        Write::begin(self.group.as_deref(), &self.pool).await
    }

    /// [`Db::write`] for a writer that runs one at a time under a lock of
    /// its own (the queue's): on PostgreSQL through its own connection, so
    /// the lock is never held while waiting for the shared pool (a queue
    /// change waiting for a connection held up every room's next call);
    /// on SQLite the same as `write`.
    pub async fn write_serial(&self) -> Result<Write<'_>> {
        match &self.serial {
            Some(pool) => Write::begin(None, pool).await,
            None => self.write().await,
        }
    }

    /// For reads under the same lock as [`Db::write_serial`]: on
    /// PostgreSQL that writer's connection (free whenever the lock is
    /// held), on SQLite the read pool.
    pub(crate) fn serial_read(&self) -> &AnyPool {
        self.serial.as_ref().unwrap_or(&self.read)
    }

    /// The connection pools as they stand: a writer's pool with no idle
    /// connection and writes waiting is where a stalled service shows
    /// (`/metrics`, and the power-cut harness when a run stalls).
    pub fn pool_state(&self) -> PoolState {
        let of = |p: &AnyPool| (p.size(), u32::try_from(p.num_idle()).unwrap_or(u32::MAX));
        PoolState {
            writer: of(&self.pool),
            reader: of(&self.read),
        }
    }

    /// Writes committed through the group commit and the commits they
    /// took (`None`: no group commit here).
    pub fn group_commit_counts(&self) -> Option<(u64, u64)> {
        self.group.as_ref().map(|g| g.counts())
    }

    /// Without the group commit: every write its own transaction and
    /// flush, as before it (the ingest benchmark's comparison).
    #[doc(hidden)]
    pub fn without_group_commit(mut self) -> Self {
        self.group = None;
        self
    }

    /// The SQL migrations up to `version` only, without the steps `migrate`
    /// runs from Rust: for tests that build a store as an older release
    /// left it (then `migrate` takes it the rest of the way).
    #[doc(hidden)]
    pub async fn migrate_sql_to(&self, version: i64) -> Result<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    (*d).into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        let mut m = Migrator::with_migrations(migrations);
        m.set_locking(false);
        m.run_to(version, &self.pool).await?;
        Ok(())
    }

    /// For a service that does not migrate (its role may not): every
    /// migration of this release applied, and the audit trail guarded.
    pub async fn check_schema(&self) -> Result<()> {
        let want = MIGRATIONS.last().map_or(0, |m| m.0);
        let have: Option<i64> =
            match sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
            {
                Ok(r) => r.try_get(0)?,
                // No migration table: a store never migrated.
                Err(sqlx::Error::Database(_)) => None,
                Err(e) => return Err(e.into()),
            };
        if have != Some(want) {
            return Err(DbError::NotMigrated(format!(
                "its schema is at migration {}, this release needs {want}",
                have.unwrap_or(0)
            )));
        }
        if !audit::guards_installed(self).await? {
            return Err(DbError::NotMigrated(
                "the audit trail's guard triggers are missing".into(),
            ));
        }
        Ok(())
    }

    pub async fn migrate(&self) -> Result<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    (*d).into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        let mut m = Migrator::with_migrations(migrations);
        // Advisory locks are not portable; run `exam-server migrate` once
        // before starting several instances.
        m.set_locking(false);
        m.run(&self.pool).await?;
        if self.backend == Backend::Postgres {
            // Prefix search (LIKE 'zs%') needs pattern-ops indexes on
            // PostgreSQL under a non-C collation; SQLite uses ranges instead.
            for sql in [
                "CREATE INDEX IF NOT EXISTS people_initials_prefix ON people (initials text_pattern_ops)",
            ] {
                sqlx::query(sql).execute(&self.pool).await?;
            }
        }
        // E15: `staff_users.role` accepts the desk supervisor (the CHECK
        // differs per back end, so it is changed from Rust).
        crate::emergency::store::allow_supervisor_role(self).await?;
        // S7: rows from before the chain are chained once, and the store
        // refuses UPDATE and DELETE of the trail (triggers differ per back end).
        audit::install_guards(self).await?;
        // Rows in clear (a store from before migration 0011) are sealed now:
        // the conversion needs the keys the SQL migration does not have.
        self.seal_clear_rows().await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(group) = &self.group {
            group.flush().await;
        }
        self.read.close().await;
        self.pool.close().await;
        if let Some(serial) = &self.serial {
            serial.close().await;
        }
    }
}

/// Adds `by` to the counter `name` (made at `by` the first time) and
/// returns its new value; `by = 0` only takes its row. One statement: the
/// row stays locked to the commit, and every round trip inside that window
/// is paid by every writer waiting for it (issue 21).
pub(crate) async fn bump_counter(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    by: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO counters(name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + $2 RETURNING value",
    )
    .bind(name)
    .bind(by)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// [`bump_counter`] in a statement of its own, committed at once: the row
/// is locked for that statement only. For numbers that must be unique and
/// rising but not gap-free, on the hottest counters (see `Db::create_visit`).
///
/// PostgreSQL only, and committed without waiting for its flush
/// (`synchronous_commit` off for this statement's transaction): the row
/// is free again as soon as the statement ends, not after a disk flush
/// (pgbench on this machine, 8 clients on one row: 900–1,300 → 9,500–
/// 10,200 a second). Nothing is lost that was promised: a number is only
/// ever used by a later transaction of this service, and a transaction's
/// commit flushes the log up to its own record, so whatever commit makes
/// the number's use durable (or reach a synchronous standby, which reads
/// the same log in order) makes the bump durable with it. A crash before
/// that flush loses the bump and no use of it: the number is issued again.
pub(crate) async fn take_counter(pool: &sqlx::AnyPool, name: &str) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO counters(name, value)
         SELECT $1, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(name)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get(0)?)
}

/// `$1, $2, .., $n`: the placeholders of an IN list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    placeholders_from(1, n)
}

/// `$from, .., $from+n-1`: an IN list after other parameters.
pub(crate) fn placeholders_from(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, .., $cols), ($cols+1, ..), ..`: the VALUES of a multi-row INSERT
/// of `rows` rows. A set of rows is one statement, not one round trip each.
pub(crate) fn value_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row = (1..=cols)
                .map(|c| format!("${}", r * cols + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({row})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row statement: well under both stores' limits on bound
/// values (SQLite 32,766, PostgreSQL 65,535) for the widest table written.
pub(crate) const ROWS_PER_STATEMENT: usize = 100;

/// Fixed-width UTC timestamps sort as text on every back end.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DbError::Corrupt(format!("timestamp {s:?}: {e}")))
}

/// Bits of an id below its millisecond: the instance's node, then a counter.
const NODE_BITS: u32 = 6;
const SEQ_BITS: u32 = 10;
/// Instances that can hold a node at once (see `cluster::node`).
pub const NODES: i64 = 1 << NODE_BITS;
static NODE: AtomicI64 = AtomicI64::new(0);

/// Sets this process's node (0..NODES), held under a lease so no two
/// running instances share one: their ids then never collide.
pub fn set_node(node: i64) {
    NODE.store(node.rem_euclid(NODES), Ordering::Relaxed);
}

/// Application-assigned 63-bit ids: milliseconds since 2024 in the high
/// bits, then the instance's node (6 bits), then a per-process counter
/// (10 bits; a busier millisecond borrows the next one). Unique across
/// instances, increasing within one process, and roughly time-ordered
/// across them: readers that follow ids as a cursor must allow for a row
/// that commits after a later id (`cluster::feed::Window`).
/// Ids count milliseconds from 2024-01-01.
const EPOCH_MS: i64 = 1_704_067_200_000;

pub fn next_id() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    if let Some(local) = preload::past_id_unit() {
        return compose_id(local);
    }
    // In "local" units (ms << SEQ_BITS | counter); the node is put in between.
    let candidate = (Utc::now().timestamp_millis() - EPOCH_MS) << SEQ_BITS;
    let mut prev = LAST.load(Ordering::Relaxed);
    let local = loop {
        let next = candidate.max(prev + 1);
        match LAST.compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(p) => prev = p,
        }
    };
    compose_id(local)
}

/// An id from local units (milliseconds shifted, then the counter): the
/// node goes in between.
fn compose_id(local: i64) -> i64 {
    let ms = local >> SEQ_BITS;
    let seq = local & ((1 << SEQ_BITS) - 1);
    (ms << (NODE_BITS + SEQ_BITS)) | (NODE.load(Ordering::Relaxed) << SEQ_BITS) | seq
}

/// The id span of `ms` milliseconds (ids are time-ordered).
pub fn id_span_ms(ms: i64) -> i64 {
    ms << (NODE_BITS + SEQ_BITS)
}

/// An id below every id made at or after `at` by a clock that read `at`
/// or later: ids never fall behind their clock (the counter only carries
/// them ahead), so a query for rows made since `at` can start its primary
/// key range here instead of at the table's first row.
pub fn id_floor(at: DateTime<Utc>) -> i64 {
    id_span_ms((at.timestamp_millis() - EPOCH_MS).max(0)) - 1
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn ids_made_since_a_moment_are_above_its_floor() {
        let before = Utc::now();
        let ids: Vec<i64> = (0..3000).map(|_| next_id()).collect();
        assert!(ids.iter().all(|&id| id > id_floor(before)));
        // A moment well after them is above them all: the floor is a bound
        // that prunes, not one that lets everything through.
        let later = Utc::now() + chrono::Duration::seconds(5);
        assert!(ids.iter().all(|&id| id < id_floor(later)));
    }
}

#[cfg(test)]
mod sql_tests {
    #[test]
    fn value_rows_number_every_placeholder_once_in_order() {
        assert_eq!(super::value_rows(1, 1), "($1)");
        assert_eq!(super::value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
