//! The kiosk's journal (principle 1 of the design: the journal first).
//!
//! Every fact the kiosk decides is committed here, in the same transaction
//! as its outbox event, before anything acts on it. SQLite runs in WAL mode
//! with `synchronous=FULL`, so a commit that returned survives a power cut
//! (NORMAL would lose the last commits), and readers never block the writer.
//!
//! One [`Journal`] is the single writer; [`Journal::open_reader`] gives
//! read-only connections for other threads.

mod cache;
mod migrations;
mod moves;
mod outbox;
mod print;
mod retention;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use cache::CacheStats;
pub use outbox::Backlog;
pub use print::{NewPart, NewPrintJob, PartState, PrintBacklog, PrintPart};
pub use retention::{DEFAULT_RETENTION, Purged};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("journal database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal row is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the journal was written by a newer version (schema {found}, this build knows {known})"
    )]
    TooNew { found: i64, known: i64 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The single writer of a kiosk's journal.
pub struct Journal {
    conn: Connection,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.conn.path())
            .finish()
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl Journal {
    /// Opens (creating if needed) and migrates the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(StoreError::Corrupt(format!(
                "could not switch to WAL (got {mode})"
            )));
        }
        configure(&conn)?;
        migrations::migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// A read-only connection for another thread; it never blocks the writer.
    pub fn open_reader(path: impl AsRef<Path>) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Direct access for diagnostics and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The kiosk's one [`Journal`], shared by the front end, the spoolers and
/// the sync agent: cloning shares it, [`SharedJournal::lock`] takes it.
#[derive(Debug, Clone)]
pub struct SharedJournal(Arc<Mutex<Journal>>);

impl SharedJournal {
    pub fn new(journal: Journal) -> Self {
        Self(Arc::new(Mutex::new(journal)))
    }

    /// Takes the journal. A panic while another thread held it leaves
    /// SQLite consistent (each call is its own transaction), so a poisoned
    /// lock is safe to reuse: every holder recovers it the same way.
    pub fn lock(&self) -> MutexGuard<'_, Journal> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<Journal> for SharedJournal {
    fn from(journal: Journal) -> Self {
        Self::new(journal)
    }
}

#[cfg(test)]
impl Journal {
    pub(crate) fn open_in_memory_for_tests() -> Self {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        Self { conn }
    }
}

pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp {s:?}: {e}")))
}
