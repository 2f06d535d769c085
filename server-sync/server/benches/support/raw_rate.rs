//! The store's physical limit, measured beside a benchmark's own figures
//! (issue 21: a load figure is quoted beside the raw rate of the same
//! disk in the same run, so it cannot depend on the machine it came from).

use std::time::Instant;

use anyhow::Context;
use sqlx::Row;
use sqlx::any::AnyPoolOptions;

/// A payload of a journaled check-in's size (sealed and encoded, ~600 B).
fn payload(i: usize) -> String {
    format!("{i:08}{}", "x".repeat(600))
}

/// The store's physical limit: durable single-row commits per second and
/// rows per second in commits of 100, one connection, as the service's
/// writer would do them.
pub async fn raw_rates(url: &str, single: usize, batched: usize) -> anyhow::Result<(f64, f64)> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    sqlx::query("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let t = Instant::now();
    for i in 0..single {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO bench_raw(id, payload) VALUES ($1, $2)")
            .bind(i as i64)
            .bind(payload(i))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let one = single as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for chunk in (single..single + batched).collect::<Vec<_>>().chunks(100) {
        let mut tx = pool.begin().await?;
        for i in chunk {
            sqlx::query("INSERT INTO bench_raw(id, payload) VALUES ($1, $2)")
                .bind(*i as i64)
                .bind(payload(*i))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    let hundred = batched as f64 / t.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw").execute(&pool).await?;
    pool.close().await;
    Ok((one, hundred))
}

/// Whether `url` is a PostgreSQL store (else SQLite).
fn is_pg(url: &str) -> bool {
    url.starts_with("postgres")
}

/// Copies of `tables` (`raw_<table>`) with the same columns, keys and
/// indexes, empty.
async fn copy_tables(pool: &sqlx::AnyPool, url: &str, tables: &[&str]) -> anyhow::Result<()> {
    for t in tables {
        if is_pg(url) {
            // Columns, defaults, keys and indexes; not the foreign keys or
            // triggers (fewer checks: a higher limit, never a lower one).
            let sql = format!("CREATE TABLE raw_{t} (LIKE {t} INCLUDING ALL)");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
            continue;
        }
        // SQLite keeps each table's and index's own statement: the same
        // with the names changed.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = '{t}' AND sql IS NOT NULL
              ORDER BY type DESC"
        )))
        .fetch_all(pool)
        .await?;
        for r in rows {
            let (kind, name, sql): (String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let sql = if kind == "table" {
                let at = sql.find(t).context("the table's name in its statement")?;
                format!("{}raw_{}", &sql[..at], &sql[at..])
            } else {
                let sql = sql.replacen(&name, &format!("raw_{name}"), 1);
                let on = sql.find(" ON ").context("an index's table")?;
                let at = on + sql[on..].find(t).context("the index's table name")?;
                format!("{}raw_{}", &sql[..at], &sql[at..])
            };
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
        }
    }
    Ok(())
}

async fn columns(pool: &sqlx::AnyPool, url: &str, t: &str) -> anyhow::Result<String> {
    let sql = if is_pg(url) {
        format!(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
              WHERE table_name = '{t}' AND table_schema = current_schema() ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid")
    };
    let names: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    anyhow::ensure!(!names.is_empty(), "no columns in {t}");
    Ok(names.join(", "))
}

/// The physical limit of a check-in's own writes (issue 21: "batched
/// commits of the same rows"): the very rows the service wrote for
/// `check_ins` check-ins in `tables`, and their bookings' change of state,
/// written again by plain set-wise statements — one INSERT per table and
/// one UPDATE per commit of 100 check-ins, one connection — into copies of
/// those tables with the same keys and indexes. Check-ins per second.
/// The rows are read from numbered copies made beforehand (untimed) by an
/// index on their batch; a table's rows are spread over the batches in
/// their key order (its share of a hundred check-ins).
#[allow(dead_code)] // the ingest bench's; desk_load shares this file
pub async fn same_rows_rate(url: &str, tables: &[&str], check_ins: usize) -> anyhow::Result<f64> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let batches = check_ins.div_ceil(100).max(1);
    copy_tables(&pool, url, tables).await?;
    let mut cols = Vec::new();
    for t in tables {
        let c = columns(&pool, url, t).await?;
        let first = c.split(", ").next().unwrap_or("id").to_string();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {t}"
        )))
        .fetch_one(&pool)
        .await?;
        let n = n.max(1);
        for sql in [
            format!(
                "CREATE TABLE src_{t} AS SELECT {c},
                   CAST((ROW_NUMBER() OVER (ORDER BY {first}) - 1) * {batches} / {n} AS BIGINT) AS batch_no
                   FROM {t}"
            ),
            format!("CREATE INDEX src_{t}_batch ON src_{t}(batch_no)"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
        }
        cols.push((t, c));
    }
    // The bookings a check-in changes, as they were before.
    for sql in [
        "CREATE TABLE src_booked AS SELECT id,
           CAST(ROW_NUMBER() OVER (ORDER BY id) - 1 AS BIGINT) AS n
           FROM bookings WHERE state = 'checked_in'"
            .to_string(),
        "CREATE INDEX src_booked_n ON src_booked(n)".into(),
        "UPDATE bookings SET state = 'booked' WHERE id IN (SELECT id FROM src_booked)".into(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
    }
    let t0 = Instant::now();
    for b in 0..batches {
        let mut tx = pool.begin().await?;
        for (t, c) in &cols {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO raw_{t} ({c}) SELECT {c} FROM src_{t} WHERE batch_no = $1"
            )))
            .bind(b as i64)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE bookings SET state = 'checked_in'
              WHERE id IN (SELECT id FROM src_booked WHERE n >= $1 AND n < $2)",
        )
        .bind((b * 100) as i64)
        .bind((b * 100 + 100) as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let rate = check_ins as f64 / t0.elapsed().as_secs_f64();
    for t in tables {
        for sql in [format!("DROP TABLE raw_{t}"), format!("DROP TABLE src_{t}")] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
        }
    }
    sqlx::query("DROP TABLE src_booked").execute(&pool).await?;
    pool.close().await;
    Ok(rate)
}
