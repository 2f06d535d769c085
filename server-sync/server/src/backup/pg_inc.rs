//! PostgreSQL's daily incremental backup: the rows inserted or changed
//! since the full backup (compared against its row index) and the keys
//! deleted, as JSON lines in foreign-key order (parents' inserts first,
//! children's deletes first); and applying one onto a restored full
//! backup in one transaction that checks every table before it commits.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

use super::pg::{BK, RowIndex, row_hash, snapshot_conn};
use super::rows::{self, Table, TableSum, Value};

/// The append-only audit trail: a restore only ever inserts into it.
const AUDIT_TABLE: &str = "audit_log";

fn rows_ident(name: &str) -> Result<(), super::BackupError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(rows::RowsError::Name(name.to_string()).into())
    }
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
        // An audit row is only ever inserted, then (PostgreSQL) given its
        // place in the chain once: the store's guard, on here, refuses any
        // other update, and a delete is refused before it is tried.
        let audit_row = matches!(&op, Op::Update { table, .. } | Op::Delete { table, .. } if table == AUDIT_TABLE);
        let altered = || {
            super::BackupError::Corrupt(
                "an audit row was changed or deleted after the full backup: the live trail \
                 was altered (restore the full backup alone and check the chain)"
                    .into(),
            )
        };
        if audit_row && matches!(op, Op::Delete { .. }) {
            return Err(altered());
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
        let done = match q.execute(&mut *tx).await {
            Err(_) if audit_row => return Err(altered()),
            r => r?,
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_deleted_rows_read_back() {
        let key = vec![
            Value::Text("110105194912310021".into()),
            Value::Int(-7),
            Value::Real(1.5),
            Value::Blob(vec![0, 1]),
        ];
        assert_eq!(decode_values(&rows::encode_row(&key)).unwrap(), key);
        assert!(decode_values(&[3, 0, 0]).is_err());
    }
}
