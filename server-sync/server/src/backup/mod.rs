//! Backups and restores (S9; seed §(九) 6.4.2, 3.5, 5.6).
//!
//! - [`take`]: a full or an incremental backup of the store into a
//!   directory meant to be another disk or a remote share: SQLite as page
//!   images (`sqlite`), PostgreSQL as `pg_dump -Fc` and daily row changes
//!   (`pg`). Every file is sealed with the service's data keys
//!   (`container`: AES-256-GCM in 1 MiB chunks) and described by a
//!   manifest (`manifest`: kind, base, time, the file's SHA-256, every
//!   table's row count and checksum).
//! - [`restore`]: into an empty store only, the full backup and (if named)
//!   an incremental on it; the result is checked table by table against
//!   the manifest before it counts (SQLite: before the file is put in
//!   place; PostgreSQL: inside the transaction that applies the
//!   incremental).
//! - [`store_sums`] / [`compare_stores`]: every table's row count and
//!   checksum (`rows`), to compare a live store with a restored one.
//! - `schedule`: the service's own weekly full / daily incremental task.
//!
//! Rows are copied as stored: sealed columns stay sealed, and the audit
//! table's append-only trigger is never asked to allow an update (a
//! restore inserts, or lays down the file whole).

pub mod cli;
mod container;
pub mod manifest;
mod pg;
mod pg_inc;
pub mod rows;
pub mod schedule;
mod sqlite;

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use exam_vault::KeyRing;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

pub use manifest::{Kind, Manifest, Store};
pub use rows::{TableDiff, TableSum};

use crate::db::Backend;
use container::{OpenReader, SealWriter};
use manifest::HashWriter;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup file: {0}")]
    Io(#[from] io::Error),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Rows(#[from] rows::RowsError),
    #[error("backup {file} is damaged: {what}")]
    Damaged { file: String, what: String },
    #[error("backup is not consistent: {0}")]
    Corrupt(String),
    #[error("the restored store differs from the backup's manifest in: {}", .0.join(", "))]
    Mismatch(Vec<String>),
    #[error(
        "the target store is not empty: a restore goes into a new database or a missing file only"
    )]
    NotEmpty,
    #[error("no full backup of this store in {0}: take a full backup first")]
    NoBase(String),
    #[error(
        "the store changed shape since the full backup {0} (schema or page size): take a full backup"
    )]
    SchemaChanged(String),
    #[error("backups need a sqlite:// file or a postgres:// store, not {0}")]
    Url(String),
    #[error("a {backup:?} backup cannot be restored into {target}")]
    WrongStore { backup: Store, target: String },
}

impl BackupError {
    /// An incremental that cannot be taken, where a full one can.
    pub fn wants_full(&self) -> bool {
        matches!(self, Self::NoBase(_) | Self::SchemaChanged(_))
    }
}

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

fn store_of(url: &str) -> Result<Store> {
    sqlx::any::install_default_drivers();
    if url.starts_with("sqlite:") {
        Ok(Store::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Store::Postgres)
    } else {
        Err(BackupError::Url(
            url.split(':').next().unwrap_or("").to_string(),
        ))
    }
}

/// The file of a `sqlite:` store URL (None for other stores and memory).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    sqlite::path_of_url(url)
}

fn schema_sha(tables: &[rows::Table]) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(tables).unwrap_or_default(),
    ))
}

/// Checks a backup file against its manifest's checksum.
fn check_file(dir: &Path, m: &Manifest) -> Result<PathBuf> {
    let path = dir.join(&m.file);
    let (sha, bytes) = manifest::file_sha256(&path).map_err(|e| BackupError::Damaged {
        file: m.file.clone(),
        what: e.to_string(),
    })?;
    if sha != m.file_sha256 || bytes != m.file_bytes {
        return Err(BackupError::Damaged {
            file: m.file.clone(),
            what: "its SHA-256 differs from its manifest's".into(),
        });
    }
    Ok(path)
}

/// Sums of one store, in one read transaction.
pub async fn store_sums(database_url: &str) -> Result<Vec<TableSum>> {
    match store_of(database_url)? {
        Store::Postgres => pg::sums(database_url).await,
        Store::Sqlite => {
            let mut conn = AnyConnection::connect(database_url).await?;
            let mut tx = conn.begin().await?;
            let s = rows::sums(&mut tx, Backend::Sqlite).await?;
            tx.commit().await?;
            conn.close().await?;
            Ok(s)
        }
    }
}

/// Tables a running service changes by itself every few seconds (leases
/// renewed, the change log and the sign-in events written and pruned):
/// coordination between instances (issue 21), not data. Backed up like
/// the rest, but a live store and its restored copy may differ there.
pub const COORDINATION: [&str; 3] = ["leases", "change_log", "signin_events"];

/// Table by table: the two stores' row counts and checksums (the
/// coordination tables left out).
pub async fn compare_stores(left: &str, right: &str) -> Result<Vec<TableDiff>> {
    let data = |sums: Vec<TableSum>| -> Vec<TableSum> {
        sums.into_iter()
            .filter(|t| !COORDINATION.contains(&t.table.as_str()))
            .collect()
    };
    Ok(rows::compare(
        &data(store_sums(left).await?),
        &data(store_sums(right).await?),
    ))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(e.to_string()))??)
}

/// A new backup file being written: renamed into place by [`Partial::done`].
struct Partial {
    path: PathBuf,
    tmp: sqlite::TempFile,
}

impl Partial {
    fn new(dir: &Path, name: &str) -> io::Result<(Self, HashWriter<BufWriter<File>>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(name);
        let tmp = sqlite::TempFile(dir.join(format!("{name}.partial")));
        let f = File::create(&tmp.0)?;
        Ok((Self { path, tmp }, HashWriter::new(BufWriter::new(f))))
    }

    fn done(self, w: HashWriter<BufWriter<File>>) -> io::Result<(String, u64)> {
        let (buf, sha, bytes) = w.finish();
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&self.tmp.0, &self.path)?;
        Ok((sha, bytes))
    }
}

/// Takes a backup of the store at `database_url` into `dir`.
pub async fn take(
    database_url: &str,
    keys: &Arc<KeyRing>,
    dir: &Path,
    kind: Kind,
    now: DateTime<Utc>,
) -> Result<Manifest> {
    let started = Instant::now();
    let store = store_of(database_url)?;
    let base = match kind {
        Kind::Full => None,
        Kind::Incremental => {
            let list = manifest::list(dir).unwrap_or_default();
            let b = manifest::latest_full(&list, store)
                .cloned()
                .ok_or_else(|| BackupError::NoBase(dir.display().to_string()))?;
            let path = check_file(dir, &b)?;
            Some((b, path))
        }
    };
    let name = manifest::file_name(store, kind, now);
    let (partial, w) = Partial::new(dir, &name)?;
    let mut m = Manifest {
        format: manifest::FORMAT,
        kind,
        store,
        file: name,
        file_sha256: String::new(),
        file_bytes: 0,
        base: base.as_ref().map(|(b, _)| b.file.clone()),
        base_sha256: base.as_ref().map(|(b, _)| b.file_sha256.clone()),
        taken_at: now,
        key_id: keys.current_key_id(),
        schema_sha256: String::new(),
        tables: vec![],
        sqlite: None,
        postgres: None,
        seconds: 0.0,
    };
    let w = match store {
        Store::Sqlite => {
            let live = sqlite::path_of_url(database_url)
                .ok_or_else(|| BackupError::Url("an in-memory SQLite store".into()))?;
            let snap = blocking(move || sqlite::snapshot(&live)).await?;
            let image = snap.0.clone();
            let (page_size, pages, image_sha) = {
                let image = image.clone();
                blocking(move || sqlite::image_facts(&image)).await?
            };
            let mut conn = AnyConnection::connect(&sqlite::immutable_url(&image)).await?;
            let tables = rows::tables(&mut conn, Backend::Sqlite).await?;
            m.tables = rows::sums(&mut conn, Backend::Sqlite).await?;
            conn.close().await?;
            m.schema_sha256 = schema_sha(&tables);
            let keys = keys.clone();
            let (w, stored) = match base {
                None => {
                    blocking(move || {
                        let _keep = snap;
                        Ok((sqlite::write_full(&keys, &image, w)?, pages))
                    })
                    .await?
                }
                Some((b, base_path)) => {
                    if b.sqlite.as_ref().is_none_or(|s| s.page_size != page_size) {
                        return Err(BackupError::SchemaChanged(b.file));
                    }
                    blocking(move || {
                        let _keep = snap;
                        sqlite::write_incremental(&keys, &base_path, &image, page_size, pages, w)
                    })
                    .await?
                }
            };
            m.sqlite = Some(manifest::SqliteFacts {
                page_size,
                pages,
                pages_stored: stored,
                image_sha256: image_sha,
            });
            w
        }
        Store::Postgres => match base {
            None => {
                let sealed = SealWriter::new(keys.clone(), w)?;
                let (sealed, scan) = pg::take_full(database_url, sealed).await?;
                m.tables = scan.sums;
                m.schema_sha256 = schema_sha(&scan.tables);
                m.postgres = Some(manifest::PgFacts::default());
                sealed.finish()?
            }
            Some((b, base_path)) => {
                let k = keys.clone();
                let index = blocking(move || {
                    let mut r = OpenReader::new(k, BufReader::new(File::open(base_path)?))?;
                    pg::read_index(&mut r)
                })
                .await?;
                let mut sealed = SealWriter::new(keys.clone(), w)?;
                let scan = pg_inc::take_incremental(database_url, index, &mut sealed).await?;
                if schema_sha(&scan.tables) != b.schema_sha256 {
                    return Err(BackupError::SchemaChanged(b.file));
                }
                m.tables = scan.sums;
                m.schema_sha256 = b.schema_sha256.clone();
                m.postgres = Some(scan.facts);
                sealed.finish()?
            }
        },
    };
    let (sha, bytes) = partial.done(w)?;
    m.file_sha256 = sha;
    m.file_bytes = bytes;
    m.seconds = started.elapsed().as_secs_f64();
    m.write(dir)?;
    Ok(m)
}

/// Restores `backup` (a backup file or its manifest; an incremental brings
/// its full backup from the same directory) into the empty store at
/// `into`. Returns the manifest of what was restored.
pub async fn restore(backup: &Path, keys: &Arc<KeyRing>, into: &str) -> Result<Manifest> {
    let (m, dir) = Manifest::of(backup)?;
    let file = check_file(&dir, &m)?;
    let (full_m, full, inc) = match m.kind {
        Kind::Full => (m.clone(), file, None),
        Kind::Incremental => {
            let base = m.base.as_deref().ok_or_else(|| {
                BackupError::Corrupt("an incremental backup without a base".into())
            })?;
            let (bm, _) = Manifest::of(&dir.join(base))?;
            if Some(&bm.file_sha256) != m.base_sha256.as_ref() {
                return Err(BackupError::Corrupt(format!(
                    "{base} is not the full backup {} was taken on",
                    m.file
                )));
            }
            let full = check_file(&dir, &bm)?;
            (bm, full, Some(file))
        }
    };
    let target = store_of(into)?;
    if target != m.store {
        return Err(BackupError::WrongStore {
            backup: m.store,
            target: into.split(':').next().unwrap_or("").to_string(),
        });
    }
    match m.store {
        Store::Sqlite => {
            let path = sqlite::path_of_url(into)
                .ok_or_else(|| BackupError::Url("an in-memory SQLite store".into()))?;
            let empty = {
                let p = path.clone();
                blocking(move || sqlite::is_empty_store(&p)).await?
            };
            if !empty {
                return Err(BackupError::NotEmpty);
            }
            let tmp = sqlite::TempFile(path.with_extension("restore-partial"));
            let (k, t) = (keys.clone(), tmp.0.clone());
            let image_sha =
                blocking(move || sqlite::rebuild(&k, &full, inc.as_deref(), &t)).await?;
            let want = m.sqlite.as_ref().map(|s| s.image_sha256.as_str());
            if want != Some(image_sha.as_str()) {
                return Err(BackupError::Corrupt(
                    "the rebuilt database image differs from the one backed up".into(),
                ));
            }
            let mut conn = AnyConnection::connect(&sqlite::immutable_url(&tmp.0)).await?;
            let got = rows::sums(&mut conn, Backend::Sqlite).await?;
            conn.close().await?;
            mismatch(&m.tables, &got)?;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            std::fs::rename(&tmp.0, &path)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                manifest::sync_dir(parent)?;
            }
        }
        Store::Postgres => {
            if !pg::is_empty_store(into).await? {
                return Err(BackupError::NotEmpty);
            }
            let (k, url) = (keys.clone(), into.to_string());
            blocking(move || {
                let mut r = OpenReader::new(k, BufReader::new(File::open(full)?))?;
                pg::restore_dump(&url, &mut r)
            })
            .await?;
            match inc {
                None => mismatch(&full_m.tables, &pg::sums(into).await?)?,
                Some(inc) => {
                    let r = OpenReader::new(keys.clone(), BufReader::new(File::open(inc)?))?;
                    pg_inc::apply_incremental(into, BufReader::new(r).lines(), &m.tables).await?;
                }
            }
        }
    }
    Ok(m)
}

fn mismatch(expected: &[TableSum], got: &[TableSum]) -> Result<()> {
    let diff: Vec<String> = rows::compare(expected, got)
        .into_iter()
        .filter(|d| !d.equal())
        .map(|d| d.table)
        .collect();
    if diff.is_empty() {
        Ok(())
    } else {
        Err(BackupError::Mismatch(diff))
    }
}

/// Checks a backup without restoring it: the file (and its base) match
/// their manifests and every chunk opens with the key ring.
pub async fn check(backup: &Path, keys: &Arc<KeyRing>) -> Result<Manifest> {
    let (m, dir) = Manifest::of(backup)?;
    let mut files = vec![check_file(&dir, &m)?];
    if let Some(base) = &m.base {
        let (bm, _) = Manifest::of(&dir.join(base))?;
        if Some(&bm.file_sha256) != m.base_sha256.as_ref() {
            return Err(BackupError::Corrupt(format!(
                "{base} is not this backup's base"
            )));
        }
        files.push(check_file(&dir, &bm)?);
    }
    let k = keys.clone();
    blocking(move || {
        for f in files {
            let mut r = OpenReader::new(k.clone(), BufReader::new(File::open(&f)?))?;
            io::copy(&mut r, &mut io::sink())?;
        }
        Ok(())
    })
    .await?;
    Ok(m)
}

/// Reads a whole plain stream (for tests of the formats).
#[cfg(test)]
fn open_all(keys: &Arc<KeyRing>, path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    OpenReader::new(keys.clone(), BufReader::new(File::open(path)?))?.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
