//! PostgreSQL backups.
//!
//! Full: `pg_dump -Fc` run as a subprocess on a snapshot exported from a
//! `REPEATABLE READ` transaction, inside which the table checksums and a
//! row index (per table: each row's key and SHA-256) are read too, so
//! dump, checksums and index describe one state. The password goes to the
//! tools in `PGPASSWORD`, never on their command line.
//!
//! Incremental (daily, `pg_inc`): the rows changed since the full backup,
//! against its row index. This is a logical incremental taken once a day; continuous
//! protection in between is PostgreSQL's own base backup + WAL archiving
//! (pgBackRest), documented in the README.
//!
//! Plain text of a full file: `"EXPGIDX1" | index length u64 | index | dump`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

use super::rows::{self, Table, TableSum, Value};
use crate::db::Backend;

const IDX_MAGIC: &[u8; 8] = b"EXPGIDX1";
pub(super) const BK: Backend = Backend::Postgres;
/// The URL without its password, and the password (for `PGPASSWORD`).
pub fn split_password(database_url: &str) -> io::Result<(String, Option<String>)> {
    let mut u = url::Url::parse(database_url)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("database URL: {e}")))?;
    let pw = u.password().map(percent_decode);
    let _ = u.set_password(None);
    Ok((u.to_string(), pw))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A PostgreSQL tool (`pg_dump`, `pg_restore`) with the connection set up.
fn tool(name: &str, database_url: &str) -> io::Result<Command> {
    let (url, pw) = split_password(database_url)?;
    let mut c = Command::new(name);
    c.arg(format!("--dbname={url}"));
    if let Some(pw) = pw {
        c.env("PGPASSWORD", pw);
    }
    Ok(c)
}

/// The row index of a full backup: per table, each row's key encoding and
/// the SHA-256 of the row.
pub type RowIndex = HashMap<String, HashMap<Vec<u8>, [u8; 32]>>;

pub(super) fn row_hash(values: &[Value]) -> [u8; 32] {
    Sha256::digest(rows::encode_row(values)).into()
}

fn encode_index(index: &RowIndex) -> Vec<u8> {
    let mut out = Vec::new();
    let mut names: Vec<&String> = index.keys().collect();
    names.sort();
    for name in names {
        let t = &index[name];
        out.extend_from_slice(&(name.len() as u32).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(t.len() as u64).to_be_bytes());
        for (k, h) in t {
            out.extend_from_slice(&(k.len() as u32).to_be_bytes());
            out.extend_from_slice(k);
            out.extend_from_slice(h);
        }
    }
    out
}

fn decode_index(mut b: &[u8]) -> io::Result<RowIndex> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
        if b.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "row index cut short",
            ));
        }
        let (h, t) = b.split_at(n);
        *b = t;
        Ok(h)
    }
    let u32_of = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
    let mut index = RowIndex::new();
    while !b.is_empty() {
        let n = u32_of(take(&mut b, 4)?);
        let name = String::from_utf8_lossy(take(&mut b, n)?).into_owned();
        let mut count = [0u8; 8];
        count.copy_from_slice(take(&mut b, 8)?);
        let mut t = HashMap::new();
        for _ in 0..u64::from_be_bytes(count) {
            let k = u32_of(take(&mut b, 4)?);
            let key = take(&mut b, k)?.to_vec();
            let mut h = [0u8; 32];
            h.copy_from_slice(take(&mut b, 32)?);
            t.insert(key, h);
        }
        index.insert(name, t);
    }
    Ok(index)
}

/// Opens a connection holding one snapshot (read only, repeatable read).
pub(super) async fn snapshot_conn(database_url: &str) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = AnyConnection::connect(database_url).await?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// What a full backup read in its snapshot.
pub struct FullScan {
    pub tables: Vec<Table>,
    pub sums: Vec<TableSum>,
}

/// Takes a full backup into `out`: index section, then the dump.
pub async fn take_full<W: Write + Send + 'static>(
    database_url: &str,
    mut out: W,
) -> Result<(W, FullScan), super::BackupError> {
    let mut conn = snapshot_conn(database_url).await?;
    let snap: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await?;
    let tables = rows::tables(&mut conn, BK).await?;
    let mut index = RowIndex::new();
    let mut sums = Vec::new();
    for t in &tables {
        let mut h = Sha256::new();
        let mut n = 0u64;
        let mut entries = HashMap::new();
        rows::scan(&mut conn, BK, t, |v| {
            let enc = rows::encode_row(&v);
            h.update(&enc);
            n += 1;
            entries.insert(rows::encode_row(&t.key_values(&v)), row_hash(&v));
        })
        .await?;
        index.insert(t.name.clone(), entries);
        sums.push(TableSum {
            table: t.name.clone(),
            rows: n,
            sha256: hex::encode(h.finalize()),
        });
    }
    let idx = encode_index(&index);
    drop(index);
    let mut cmd = tool("pg_dump", database_url)?;
    cmd.args(["--format=custom", "--no-owner", "--no-privileges"])
        .arg(format!("--snapshot={snap}"));
    // pg_dump reads the exported snapshot while this transaction is open.
    let out = tokio::task::spawn_blocking(move || -> io::Result<W> {
        out.write_all(IDX_MAGIC)?;
        out.write_all(&(idx.len() as u64).to_be_bytes())?;
        out.write_all(&idx)?;
        run_into(cmd, &mut out)?;
        Ok(out)
    })
    .await
    .map_err(|e| io::Error::other(e.to_string()))??;
    sqlx::query("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    Ok((out, FullScan { tables, sums }))
}

/// Runs a tool, copying its standard output into `out`; its standard error
/// becomes the error when it fails.
fn run_into(mut cmd: Command, out: &mut impl Write) -> io::Result<()> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run pg_dump: {e} (install the PostgreSQL client)"),
            )
        })?;
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    if let Some(mut so) = child.stdout.take() {
        io::copy(&mut so, out)?;
    }
    let status = child.wait()?;
    let err = err_reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "pg_dump failed ({status}): {}",
            err.trim()
        )))
    }
}

/// Reads the row index section at the start of a full backup's plain text.
pub fn read_index(r: &mut impl Read) -> io::Result<RowIndex> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != IDX_MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a PostgreSQL full backup",
        ));
    }
    let mut n = [0u8; 8];
    r.read_exact(&mut n)?;
    let n = usize::try_from(u64::from_be_bytes(n)).map_err(io::Error::other)?;
    let mut idx = vec![0u8; n];
    r.read_exact(&mut idx)?;
    decode_index(&idx)
}

/// Whether the store has no tables in its schema.
pub async fn is_empty_store(database_url: &str) -> Result<bool, sqlx::Error> {
    let mut conn = AnyConnection::connect(database_url).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(n == 0)
}

/// Feeds the dump (what follows the index in `plain`) to `pg_restore`.
pub fn restore_dump(database_url: &str, plain: &mut impl Read) -> io::Result<()> {
    read_index(plain)?;
    let mut cmd = tool("pg_restore", database_url)?;
    cmd.args([
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run pg_restore: {e} (install the PostgreSQL client)"),
            )
        })?;
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let copied = match child.stdin.take() {
        Some(mut stdin) => io::copy(plain, &mut stdin).map(|_| ()),
        None => Ok(()),
    };
    let status = child.wait()?;
    let err = err_reader.join().unwrap_or_default();
    copied?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "pg_restore failed ({status}): {}",
            err.trim()
        )))
    }
}

/// Table sums of a PostgreSQL store, in one snapshot.
pub async fn sums(database_url: &str) -> Result<Vec<TableSum>, super::BackupError> {
    let mut conn = snapshot_conn(database_url).await?;
    let s = rows::sums(&mut conn, BK).await?;
    sqlx::query("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, pw) =
            split_password("postgres://exam:s%40cret%3Ax@db.local:5432/exam?sslmode=verify-full")
                .unwrap();
        assert_eq!(
            url,
            "postgres://exam@db.local:5432/exam?sslmode=verify-full"
        );
        assert_eq!(pw.as_deref(), Some("s@cret:x"));
        let (url, pw) = split_password("postgres://postgres@127.0.0.1/x").unwrap();
        assert_eq!(
            (url.as_str(), pw),
            ("postgres://postgres@127.0.0.1/x", None)
        );
    }

    #[test]
    fn keys_and_the_index_round_trip() {
        let key = vec![
            Value::Text("110105194912310021".into()),
            Value::Int(-7),
            Value::Blob(vec![0, 1]),
        ];
        let mut idx = RowIndex::new();
        idx.entry("people".into())
            .or_default()
            .insert(rows::encode_row(&key), [9u8; 32]);
        idx.entry("empty".into()).or_default();
        assert_eq!(decode_index(&encode_index(&idx)).unwrap(), idx);
        assert!(decode_index(&encode_index(&idx)[..10]).is_err());
    }
}
