//! PostgreSQL's own account of where a run's time went: the statements by
//! total execution time (lock waits included), from `pg_stat_statements`
//! when the server loads it (`scripts/pg-bench` does). A load figure then
//! names the statement to look at, not a guess.

use sqlx::{Connection, Row};

/// Empties the statistics before the run; false when the server does not
/// keep them (the module is not in `shared_preload_libraries`).
pub async fn reset(url: &str) -> bool {
    let Ok(mut c) = sqlx::AnyConnection::connect(url).await else {
        return false;
    };
    let ok = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut c)
        .await
        .is_ok()
        && sqlx::query("SELECT pg_stat_statements_reset()::text")
            .execute(&mut c)
            .await
            .is_ok();
    let _ = c.close().await;
    ok
}

/// Prints the `n` statements that took the most time since [`reset`].
pub async fn print(url: &str, n: i64) -> anyhow::Result<()> {
    let mut c = sqlx::AnyConnection::connect(url).await?;
    let rows = sqlx::query(
        "SELECT calls, total_exec_time::float8 AS total, mean_exec_time::float8 AS mean,
                max_exec_time::float8 AS max, rows,
                regexp_replace(query, '\\s+', ' ', 'g') AS query
           FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          ORDER BY total_exec_time DESC LIMIT $1",
    )
    .bind(n)
    .fetch_all(&mut c)
    .await?;
    println!(
        "PostgreSQL statements by time (pg_stat_statements):\n{:>9} {:>10} {:>9} {:>9} {:>9}  statement",
        "calls", "total s", "mean ms", "max ms", "rows/call"
    );
    for r in rows {
        let calls: i64 = r.try_get("calls")?;
        let q: String = r.try_get("query")?;
        println!(
            "{:>9} {:>10.1} {:>9.2} {:>9.1} {:>9.1}  {}",
            calls,
            r.try_get::<f64, _>("total")? / 1000.0,
            r.try_get::<f64, _>("mean")?,
            r.try_get::<f64, _>("max")?,
            r.try_get::<i64, _>("rows")? as f64 / calls.max(1) as f64,
            q.chars().take(110).collect::<String>()
        );
    }
    let _ = c.close().await;
    Ok(())
}
