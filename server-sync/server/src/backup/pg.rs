//! PostgreSQL backups.
//!
//! Full: `pg_dump -Fc` run as a subprocess on a snapshot exported from a
//! `REPEATABLE READ` transaction, inside which the table checksums and a
//! row index (per table: each row's key and SHA-256) are read too, so
//! dump, checksums and index describe one state. The password goes to the
//! tools in `PGPASSWORD`, never on their command line.
//!
//! Incremental (daily): the rows inserted or changed since the full backup
//! (compared against its row index) and the keys deleted, as JSON lines,
//! in foreign-key order (parents' inserts first, children's deletes
//! first). This is a logical incremental taken once a day; continuous
//! protection in between is PostgreSQL's own base backup + WAL archiving
//! (pgBackRest), documented in the README.
//!
//! Plain text of a full file: `"EXPGIDX1" | index length u64 | index | dump`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

use super::rows::{self, Table, TableSum, Value};
use crate::db::Backend;

const IDX_MAGIC: &[u8; 8] = b"EXPGIDX1";
const BK: Backend = Backend::Postgres;
/// The append-only audit trail: a restore only ever inserts into it.
const AUDIT_TABLE: &str = "audit_log";

fn rows_ident(name: &str) -> Result<(), super::BackupError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(rows::RowsError::Name(name.to_string()).into())
    }
}

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

fn row_hash(values: &[Value]) -> [u8; 32] {
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
async fn snapshot_conn(database_url: &str) -> Result<AnyConnection, sqlx::Error> {
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

/// One line of an incremental backup.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Insert { table: String, values: Vec<Value> },
    Update { table: String, values: Vec<Value> },
    Delete { table: String, key: Vec<Value> },
}

/// Tables parents first (by their foreign keys), then the rest by name.
async fn fk_order(conn: &mut AnyConnection, tables: &[Table]) -> Result<Vec<usize>, sqlx::Error> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut order = Vec::new();
    let mut left: Vec<usize> = (0..tables.len()).collect();
    while !left.is_empty() {
        let ready: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| {
                let name = &tables[i].name;
                !edges.iter().any(|(child, parent)| {
                    child == name
                        && parent != name
                        && left.iter().any(|&j| &tables[j].name == parent)
                })
            })
            .collect();
        // A cycle (none in this schema) would leave nothing ready: take the rest as is.
        let take = if ready.is_empty() {
            left.clone()
        } else {
            ready
        };
        left.retain(|i| !take.contains(i));
        order.extend(take);
    }
    Ok(order)
}

/// What an incremental backup found.
pub struct IncScan {
    pub tables: Vec<Table>,
    pub sums: Vec<TableSum>,
    pub facts: super::manifest::PgFacts,
}

/// Writes the changes since `base` (its row index) as JSON lines into `out`.
pub async fn take_incremental<W: Write>(
    database_url: &str,
    mut base: RowIndex,
    out: &mut W,
) -> Result<IncScan, super::BackupError> {
    let mut conn = snapshot_conn(database_url).await?;
    let tables = rows::tables(&mut conn, BK).await?;
    let order = fk_order(&mut conn, &tables).await?;
    let mut facts = super::manifest::PgFacts::default();
    let mut sums = Vec::new();
    let mut deletes: Vec<Op> = Vec::new();
    let mut failure: Option<io::Error> = None;
    for &i in &order {
        let t = &tables[i];
        let mut old = base.remove(&t.name).unwrap_or_default();
        let mut h = Sha256::new();
        let mut n = 0u64;
        rows::scan(&mut conn, BK, t, |v| {
            h.update(rows::encode_row(&v));
            n += 1;
            let key = rows::encode_row(&t.key_values(&v));
            let op = match old.remove(&key) {
                Some(was) if was == row_hash(&v) => return,
                Some(_) => {
                    facts.updated += 1;
                    Op::Update {
                        table: t.name.clone(),
                        values: v,
                    }
                }
                None => {
                    facts.inserted += 1;
                    Op::Insert {
                        table: t.name.clone(),
                        values: v,
                    }
                }
            };
            if failure.is_none()
                && let Err(e) = write_op(out, &op)
            {
                failure = Some(e);
            }
        })
        .await?;
        if let Some(e) = failure.take() {
            return Err(e.into());
        }
        for key in old.into_keys() {
            facts.deleted += 1;
            deletes.push(Op::Delete {
                table: t.name.clone(),
                key: decode_values(&key)?,
            });
        }
        sums.push(TableSum {
            table: t.name.clone(),
            rows: n,
            sha256: hex::encode(h.finalize()),
        });
    }
    // Children's deletes before their parents'.
    let pos = |name: &str| order.iter().position(|&i| tables[i].name == name);
    deletes.sort_by_key(|op| match op {
        Op::Delete { table, .. } => std::cmp::Reverse(pos(table)),
        _ => std::cmp::Reverse(None),
    });
    for op in &deletes {
        write_op(out, op)?;
    }
    sqlx::query("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    sums.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(IncScan {
        tables,
        sums,
        facts,
    })
}

fn write_op(out: &mut impl Write, op: &Op) -> io::Result<()> {
    serde_json::to_writer(&mut *out, op).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Values back from their canonical encoding (keys of deleted rows).
fn decode_values(mut b: &[u8]) -> io::Result<Vec<Value>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "row key encoding");
    let mut out = Vec::new();
    while let Some((&tag, rest)) = b.split_first() {
        b = rest;
        let fixed = |b: &mut &[u8]| -> io::Result<[u8; 8]> {
            let (h, t) = b.split_at_checked(8).ok_or_else(bad)?;
            *b = t;
            h.try_into().map_err(|_| bad())
        };
        out.push(match tag {
            0 => Value::Null(rows::NullKind::Unknown),
            1 => Value::Int(i64::from_be_bytes(fixed(&mut b)?)),
            2 => Value::Real(f64::from_bits(u64::from_be_bytes(fixed(&mut b)?))),
            3 | 4 => {
                let n = usize::try_from(u64::from_be_bytes(fixed(&mut b)?)).map_err(|_| bad())?;
                let (h, t) = b.split_at_checked(n).ok_or_else(bad)?;
                b = t;
                if tag == 3 {
                    Value::Text(String::from_utf8(h.to_vec()).map_err(|_| bad())?)
                } else {
                    Value::Blob(h.to_vec())
                }
            }
            _ => return Err(bad()),
        });
    }
    Ok(out)
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

/// Applies an incremental backup's lines in one transaction, then checks
/// the result against `expected` before committing.
pub async fn apply_incremental(
    database_url: &str,
    lines: impl Iterator<Item = io::Result<String>>,
    expected: &[TableSum],
) -> Result<(), super::BackupError> {
    let mut conn = AnyConnection::connect(database_url).await?;
    let mut tx = conn.begin().await?;
    let tables = rows::tables(&mut tx, BK).await?;
    // The store's own guards stay on for the audit trail (its rows are only
    // ever inserted; a line that changes one is refused below). Other
    // guarded rows (the audit sequence counter moves by one at a time) are
    // set to their backed-up values with their triggers off, inside this
    // transaction only: the checksums below prove the result is the backup.
    let guarded: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.relname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *tx)
    .await?;
    let lifted: Vec<&String> = guarded.iter().filter(|t| *t != AUDIT_TABLE).collect();
    for t in &lifted {
        rows_ident(t)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE \"{t}\" DISABLE TRIGGER USER"
        )))
        .execute(&mut *tx)
        .await?;
    }
    let find = |name: &str| {
        tables.iter().find(|t| t.name == name).ok_or_else(|| {
            super::BackupError::Corrupt(format!(
                "the incremental names table {name:?}, which the full backup lacks"
            ))
        })
    };
    for line in lines {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let op: Op = serde_json::from_str(&line)
            .map_err(|e| super::BackupError::Corrupt(format!("incremental line: {e}")))?;
        if let Op::Update { table, .. } | Op::Delete { table, .. } = &op
            && table == AUDIT_TABLE
        {
            return Err(super::BackupError::Corrupt(
                "an audit row was changed or deleted after the full backup: the live trail \
                 was altered (restore the full backup alone and check the chain)"
                    .into(),
            ));
        }
        let (sql, binds) = match &op {
            Op::Insert { table, values } => {
                let t = find(table)?;
                let cols: Vec<String> = t
                    .columns
                    .iter()
                    .map(|c| format!("\"{}\"", c.name))
                    .collect();
                let params: Vec<String> =
                    (0..t.columns.len()).map(|i| param(t, i, i + 1)).collect();
                (
                    format!(
                        "INSERT INTO \"{}\" ({}) VALUES ({})",
                        t.name,
                        cols.join(", "),
                        params.join(", ")
                    ),
                    values.clone(),
                )
            }
            Op::Update { table, values } => {
                let t = find(table)?;
                let sets: Vec<String> = (0..t.columns.len())
                    .map(|i| format!("\"{}\" = {}", t.columns[i].name, param(t, i, i + 1)))
                    .collect();
                let n = t.columns.len();
                let wh: Vec<String> = t
                    .key
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| {
                        format!("\"{}\" = {}", t.columns[i].name, param(t, i, n + k + 1))
                    })
                    .collect();
                let mut b = values.clone();
                b.extend(t.key_values(values));
                (
                    format!(
                        "UPDATE \"{}\" SET {} WHERE {}",
                        t.name,
                        sets.join(", "),
                        wh.join(" AND ")
                    ),
                    b,
                )
            }
            Op::Delete { table, key } => {
                let t = find(table)?;
                let wh: Vec<String> = t
                    .key
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| format!("\"{}\" = {}", t.columns[i].name, param(t, i, k + 1)))
                    .collect();
                (
                    format!("DELETE FROM \"{}\" WHERE {}", t.name, wh.join(" AND ")),
                    key.clone(),
                )
            }
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in binds {
            q = match v {
                Value::Null(k) => match k {
                    rows::NullKind::Int => q.bind(None::<i64>),
                    rows::NullKind::Real => q.bind(None::<f64>),
                    rows::NullKind::Bool => q.bind(None::<bool>),
                    rows::NullKind::Blob => q.bind(None::<Vec<u8>>),
                    rows::NullKind::Text | rows::NullKind::Unknown => q.bind(None::<String>),
                },
                Value::Bool(b) => q.bind(b),
                Value::Int(i) => q.bind(i),
                Value::Real(r) => q.bind(r),
                Value::Text(s) => q.bind(s),
                Value::Blob(b) => q.bind(b),
            };
        }
        let done = q.execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(super::BackupError::Corrupt(format!(
                "an incremental line changed {} rows, not 1 (the target is not its full backup)",
                done.rows_affected()
            )));
        }
    }
    for t in &lifted {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE \"{t}\" ENABLE TRIGGER USER"
        )))
        .execute(&mut *tx)
        .await?;
    }
    let got = rows::sums(&mut tx, BK).await?;
    let diff: Vec<String> = rows::compare(expected, &got)
        .into_iter()
        .filter(|d| !d.equal())
        .map(|d| d.table)
        .collect();
    if !diff.is_empty() {
        return Err(super::BackupError::Mismatch(diff));
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

/// A parameter, cast to the column's type where it was read as text.
fn param(t: &Table, col: usize, n: usize) -> String {
    let c = &t.columns[col];
    if c.as_text
        && c.data_type
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b' ')
    {
        format!("CAST(${n} AS {})", c.data_type)
    } else {
        format!("${n}")
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
        assert_eq!(decode_values(&rows::encode_row(&key)).unwrap(), key);
        let mut idx = RowIndex::new();
        idx.entry("people".into())
            .or_default()
            .insert(rows::encode_row(&key), [9u8; 32]);
        idx.entry("empty".into()).or_default();
        assert_eq!(decode_index(&encode_index(&idx)).unwrap(), idx);
        assert!(decode_index(&encode_index(&idx)[..10]).is_err());
    }
}
