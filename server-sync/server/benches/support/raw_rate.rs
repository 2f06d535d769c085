//! The store's physical limit, measured beside a benchmark's own figures
//! (issue 21: a load figure is quoted beside the raw rate of the same
//! disk in the same run, so it cannot depend on the machine it came from).

use std::time::Instant;

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
