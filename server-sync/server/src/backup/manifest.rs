//! Each backup file has a manifest beside it (`<file>.json`, plain JSON: it
//! holds counts and checksums, no personal data): what kind it is, what it
//! builds on, when it was taken, the checksum of the file as written, and
//! every table's row count and checksum as the backup holds them.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rows::TableSum;

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The whole store.
    Full,
    /// What changed since a full backup (its `base`).
    Incremental,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    pub fn of(backend: crate::db::Backend) -> Self {
        match backend {
            crate::db::Backend::Sqlite => Store::Sqlite,
            crate::db::Backend::Postgres => Store::Postgres,
        }
    }
}

/// SQLite backups are page images: a full one every page, an incremental
/// one the pages that differ from its base and the new length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqliteFacts {
    pub page_size: u32,
    pub pages: u64,
    /// Pages the file holds (all of them in a full backup).
    pub pages_stored: u64,
    /// SHA-256 of the database image the backup restores to.
    pub image_sha256: String,
}

/// PostgreSQL: a full backup is `pg_dump -Fc` (with a row index), an
/// incremental one the rows inserted, updated and deleted since its base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PgFacts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kind: Kind,
    pub store: Store,
    /// The backup file's name (in the same directory).
    pub file: String,
    pub file_sha256: String,
    pub file_bytes: u64,
    /// An incremental backup's full backup, by file name and checksum.
    pub base: Option<String>,
    pub base_sha256: Option<String>,
    pub taken_at: DateTime<Utc>,
    /// The data key that sealed it (older keys stay in the key ring).
    pub key_id: u32,
    /// Tables and columns: an incremental backup needs its base's.
    pub schema_sha256: String,
    pub tables: Vec<TableSum>,
    pub sqlite: Option<SqliteFacts>,
    pub postgres: Option<PgFacts>,
    /// Seconds the backup took.
    pub seconds: f64,
}

/// Where a backup file's manifest is.
pub fn path_of(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// The name of a new backup file.
pub fn file_name(store: Store, kind: Kind, at: DateTime<Utc>) -> String {
    let store = match store {
        Store::Sqlite => "sqlite",
        Store::Postgres => "postgres",
    };
    let kind = match kind {
        Kind::Full => "full",
        Kind::Incremental => "incr",
    };
    format!("exam-{store}-{}-{kind}.bak", at.format("%Y%m%dT%H%M%S%3fZ"))
}

impl Manifest {
    /// Writes the manifest beside `file` (written whole, then renamed).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let path = path_of(&dir.join(&self.file));
        let tmp = path.with_extension("json.partial");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self).map_err(io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        sync_dir(dir)
    }

    pub fn read(path: &Path) -> io::Result<Self> {
        let bytes = std::fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The manifest of a backup named by its file or by its manifest.
    pub fn of(backup: &Path) -> io::Result<(Self, PathBuf)> {
        let manifest = if backup.extension().is_some_and(|e| e == "json") {
            backup.to_path_buf()
        } else {
            path_of(backup)
        };
        let m = Self::read(&manifest)?;
        let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok((m, dir))
    }
}

/// Every manifest in `dir`, oldest first (files that are not ours skipped).
pub fn list(dir: &Path) -> io::Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let is_ours = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("exam-") && n.ends_with(".bak.json"));
        if is_ours && let Ok(m) = Manifest::read(&p) {
            out.push(m);
        }
    }
    out.sort_by_key(|m| m.taken_at);
    Ok(out)
}

/// The newest full backup of `store`.
pub fn latest_full(list: &[Manifest], store: Store) -> Option<&Manifest> {
    list.iter()
        .rev()
        .find(|m| m.store == store && m.kind == Kind::Full)
}

/// Files to delete so that the newest `keep_fulls` full backups of each
/// store remain, each with the incrementals built on it; an incremental
/// whose base is gone goes too. Pure: the caller deletes.
pub fn expired(list: &[Manifest], keep_fulls: usize) -> Vec<String> {
    let keep_fulls = keep_fulls.max(1);
    let mut kept: Vec<&str> = Vec::new();
    for store in [Store::Sqlite, Store::Postgres] {
        let fulls: Vec<&Manifest> = list
            .iter()
            .filter(|m| m.store == store && m.kind == Kind::Full)
            .collect();
        kept.extend(fulls.iter().rev().take(keep_fulls).map(|m| m.file.as_str()));
    }
    list.iter()
        .filter(|m| match m.kind {
            Kind::Full => !kept.contains(&m.file.as_str()),
            Kind::Incremental => !m.base.as_deref().is_some_and(|b| kept.contains(&b)),
        })
        .map(|m| m.file.clone())
        .collect()
}

/// SHA-256 of a file, read in pieces.
pub fn file_sha256(path: &Path) -> io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// A writer that hashes and counts what passes through it.
pub struct HashWriter<W: Write> {
    pub inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hash.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(file: &str, kind: Kind, base: Option<&str>, day: u32) -> Manifest {
        Manifest {
            format: FORMAT,
            kind,
            store: Store::Sqlite,
            file: file.into(),
            file_sha256: String::new(),
            file_bytes: 0,
            base: base.map(Into::into),
            base_sha256: None,
            taken_at: format!("2026-03-{day:02}T02:00:00Z").parse().unwrap(),
            key_id: 1,
            schema_sha256: String::new(),
            tables: vec![],
            sqlite: None,
            postgres: None,
            seconds: 0.0,
        }
    }

    #[test]
    fn retention_keeps_the_newest_fulls_and_their_incrementals() {
        let list = vec![
            m("f1", Kind::Full, None, 1),
            m("i1", Kind::Incremental, Some("f1"), 2),
            m("f2", Kind::Full, None, 8),
            m("i2", Kind::Incremental, Some("f2"), 9),
            m("f3", Kind::Full, None, 15),
            m("i3", Kind::Incremental, Some("f3"), 16),
            m("orphan", Kind::Incremental, Some("gone"), 17),
        ];
        assert_eq!(expired(&list, 2), ["f1", "i1", "orphan"]);
        assert_eq!(expired(&list, 5), ["orphan"]);
        // Never fewer than one full backup.
        assert_eq!(expired(&list, 0), ["f1", "i1", "f2", "i2", "orphan"]);
    }

    #[test]
    fn names_sort_by_time_and_say_what_they_are() {
        let t: DateTime<Utc> = "2026-03-01T02:00:00.123Z".parse().unwrap();
        assert_eq!(
            file_name(Store::Postgres, Kind::Incremental, t),
            "exam-postgres-20260301T020000123Z-incr.bak"
        );
        assert_eq!(
            path_of(Path::new("/b/x.bak")),
            PathBuf::from("/b/x.bak.json")
        );
    }
}
