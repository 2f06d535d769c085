//! Every table of a store as rows: the list of tables, their columns and
//! primary keys from the catalogue, each row's values as stored, and the
//! checksum that says two stores hold the same rows.
//!
//! A table's checksum is SHA-256 over a canonical encoding of its rows in
//! primary-key order (text keys compared bytewise on both stores, so the
//! order is the same everywhere); values are encoded by what they are
//! (integer, real, text, blob, null), not how a backend types the column.
//! Ciphertext is text like any other: a restore copies rows as stored.

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AnyConnection, Row, ValueRef};

use crate::db::Backend;

/// A column: its name, the type the catalogue gives, and whether it is read
/// as text because sqlx's `Any` driver has no type for it (PostgreSQL
/// timestamps: only sqlx's own migration table has one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Col {
    pub name: String,
    pub data_type: String,
    pub as_text: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Col>,
    /// Indexes into `columns`, in key order (every column when no key).
    pub key: Vec<usize>,
}

/// The row count and checksum of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSum {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

/// A value as stored. `Null` keeps the column's kind where the backend
/// says it (a restore binds a typed NULL on PostgreSQL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null(NullKind),
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(#[serde(with = "b64")] Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NullKind {
    Unknown,
    Bool,
    Int,
    Real,
    Text,
    Blob,
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// Appends the canonical encoding of one value: a tag byte, then the value
/// (integers as i64 and booleans as 0/1 on every backend).
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null(_) => out.push(0),
        Value::Bool(b) => {
            out.push(1);
            out.extend_from_slice(&i64::from(*b).to_be_bytes());
        }
        Value::Int(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_bits().to_be_bytes());
        }
        Value::Text(s) => {
            out.push(3);
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

pub fn encode_row(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode_value(v, &mut out);
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("table or column name {0:?} is not a plain identifier")]
    Name(String),
}

fn ident(name: String) -> Result<String, RowsError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(name)
    } else {
        Err(RowsError::Name(name))
    }
}

/// PostgreSQL types the `Any` driver reads directly; others are read as text.
const PG_NATIVE: &[&str] = &[
    "bigint",
    "integer",
    "smallint",
    "text",
    "character varying",
    "bytea",
    "boolean",
    "double precision",
    "real",
];

/// Every table of the store (sqlx's migration table included: a restored
/// store must know which migrations it has), by name.
pub async fn tables(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<Table>, RowsError> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await?,
        Backend::Postgres => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        )
        .fetch_all(&mut *conn)
        .await?,
    };
    let mut out = Vec::new();
    for name in names {
        let name = ident(name)?;
        let (columns, key_names) = match backend {
            Backend::Sqlite => {
                let rows =
                    sqlx::query("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                        .bind(&name)
                        .fetch_all(&mut *conn)
                        .await?;
                let mut cols = Vec::new();
                let mut keys: Vec<(i64, String)> = Vec::new();
                for r in rows {
                    let col = ident(r.try_get::<String, _>("name")?)?;
                    let pk: i64 = r.try_get("pk")?;
                    if pk > 0 {
                        keys.push((pk, col.clone()));
                    }
                    cols.push(Col {
                        name: col,
                        data_type: r.try_get("type")?,
                        as_text: false,
                    });
                }
                keys.sort();
                (cols, keys.into_iter().map(|(_, c)| c).collect::<Vec<_>>())
            }
            Backend::Postgres => {
                let rows = sqlx::query(
                    "SELECT column_name::text AS name, data_type::text AS type
                     FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1
                     ORDER BY ordinal_position",
                )
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
                let mut cols = Vec::new();
                for r in rows {
                    let data_type: String = r.try_get("type")?;
                    cols.push(Col {
                        name: ident(r.try_get::<String, _>("name")?)?,
                        as_text: !PG_NATIVE.contains(&data_type.as_str()),
                        data_type,
                    });
                }
                let keys: Vec<String> = sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indisprimary
                       AND i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass
                     ORDER BY array_position(i.indkey::int2[], a.attnum)",
                )
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
                (cols, keys)
            }
        };
        let mut key: Vec<usize> = key_names
            .iter()
            .filter_map(|k| columns.iter().position(|c| &c.name == k))
            .collect();
        if key.is_empty() {
            key = (0..columns.len()).collect();
        }
        out.push(Table { name, columns, key });
    }
    Ok(out)
}

impl Table {
    /// `SELECT` of every column in key order, each read as stored.
    pub fn select(&self, backend: Backend) -> String {
        let expr = |c: &Col| match backend {
            // `+x` is SQLite's no-op: it returns the stored value without
            // the column's declared type, which `Any` may not know.
            Backend::Sqlite => format!("+\"{}\"", c.name),
            Backend::Postgres if c.as_text => format!("CAST(\"{}\" AS TEXT)", c.name),
            Backend::Postgres => format!("\"{}\"", c.name),
        };
        let cols: Vec<String> = self.columns.iter().map(expr).collect();
        let order: Vec<String> = self
            .key
            .iter()
            .map(|&i| {
                let c = &self.columns[i];
                let text = matches!(c.data_type.as_str(), "text" | "character varying");
                match backend {
                    // Bytewise, as SQLite compares text.
                    Backend::Postgres if text => format!("\"{}\" COLLATE \"C\"", c.name),
                    _ => expr(c),
                }
            })
            .collect();
        format!(
            "SELECT {} FROM \"{}\" ORDER BY {}",
            cols.join(", "),
            self.name,
            order.join(", ")
        )
    }

    pub fn key_values(&self, row: &[Value]) -> Vec<Value> {
        self.key.iter().map(|&i| row[i].clone()).collect()
    }
}

fn null_kind(k: AnyTypeInfoKind) -> NullKind {
    match k {
        AnyTypeInfoKind::Bool => NullKind::Bool,
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            NullKind::Int
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => NullKind::Real,
        AnyTypeInfoKind::Text => NullKind::Text,
        AnyTypeInfoKind::Blob => NullKind::Blob,
        AnyTypeInfoKind::Null => NullKind::Unknown,
    }
}

/// The values of one row as stored.
pub fn values(row: &AnyRow) -> Result<Vec<Value>, sqlx::Error> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i)?;
        let kind = raw.type_info().kind();
        if raw.is_null() {
            // The column's type, where the value's is not known.
            let col = sqlx::Column::type_info(&row.columns()[i]).kind();
            let k = if kind == AnyTypeInfoKind::Null {
                col
            } else {
                kind
            };
            out.push(Value::Null(null_kind(k)));
            continue;
        }
        out.push(match kind {
            AnyTypeInfoKind::Bool => Value::Bool(row.try_get(i)?),
            k if k.is_integer() => Value::Int(row.try_get(i)?),
            AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => Value::Real(row.try_get(i)?),
            AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i)?),
            _ => Value::Text(row.try_get(i)?),
        });
    }
    Ok(out)
}

/// Reads every row of `table` in key order, handing each to `each`.
pub async fn scan(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &Table,
    mut each: impl FnMut(Vec<Value>),
) -> Result<(), sqlx::Error> {
    let sql = table.select(backend);
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        each(values(&row)?);
    }
    Ok(())
}

/// Row count and checksum of every table, read on `conn` (call inside a
/// transaction so all tables come from one snapshot).
pub async fn sums(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<TableSum>, RowsError> {
    let mut out = Vec::new();
    for t in tables(conn, backend).await? {
        let mut h = Sha256::new();
        let mut rows = 0u64;
        scan(conn, backend, &t, |v| {
            h.update(encode_row(&v));
            rows += 1;
        })
        .await?;
        out.push(TableSum {
            table: t.name,
            rows,
            sha256: hex::encode(h.finalize()),
        });
    }
    Ok(out)
}

/// One line of a comparison of two stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    pub table: String,
    pub left: Option<TableSum>,
    pub right: Option<TableSum>,
}

impl TableDiff {
    pub fn equal(&self) -> bool {
        matches!((&self.left, &self.right), (Some(l), Some(r)) if l.rows == r.rows && l.sha256 == r.sha256)
    }
}

/// Table by table, side by side (a table on one side only is a difference).
pub fn compare(left: &[TableSum], right: &[TableSum]) -> Vec<TableDiff> {
    let mut names: Vec<&str> = left.iter().chain(right).map(|s| s.table.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|n| TableDiff {
            table: n.to_string(),
            left: left.iter().find(|s| s.table == n).cloned(),
            right: right.iter().find(|s| s.table == n).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_booleans_encode_alike_on_every_backend() {
        assert_eq!(
            encode_row(&[Value::Bool(true)]),
            encode_row(&[Value::Int(1)])
        );
        assert_eq!(
            encode_row(&[Value::Null(NullKind::Int)]),
            encode_row(&[Value::Null(NullKind::Text)])
        );
        // Lengths keep ("ab", "c") apart from ("a", "bc").
        assert_ne!(
            encode_row(&[Value::Text("ab".into()), Value::Text("c".into())]),
            encode_row(&[Value::Text("a".into()), Value::Text("bc".into())])
        );
        assert_ne!(
            encode_row(&[Value::Text("1".into())]),
            encode_row(&[Value::Int(1)])
        );
    }

    #[test]
    fn comparison_names_each_table_once() {
        let s = |t: &str, rows, h: &str| TableSum {
            table: t.into(),
            rows,
            sha256: h.into(),
        };
        let d = compare(
            &[s("a", 1, "x"), s("b", 2, "y")],
            &[s("b", 2, "y"), s("c", 0, "z")],
        );
        let verdict: Vec<(&str, bool)> = d.iter().map(|d| (d.table.as_str(), d.equal())).collect();
        assert_eq!(verdict, [("a", false), ("b", true), ("c", false)]);
    }
}
