//! The hot paths' query plans, on both stores: every statement of
//! `exam_server::db::hot_queries` must reach the tables it names through an
//! index, so that an index cannot go missing (or a query drift past it)
//! without a failing test.
//!
//! - SQLite: `EXPLAIN QUERY PLAN`; `SCAN t` (the table, or the whole of an
//!   index of it, walked) fails, `SEARCH t USING ... INDEX` passes.
//! - PostgreSQL: `EXPLAIN (FORMAT JSON)` in a transaction with
//!   `enable_seqscan` off: the test's tables are nearly empty, so costs
//!   alone would pick sequential scans; with them disabled the planner
//!   still takes one only when no index can serve. A `Seq Scan` node on a
//!   named table fails.
//! - Both: a statement that follows a cursor or a date must have an index
//!   searched by that column (`searched_by`), not walked by its prefix.
//!
//! What this cannot see: which of several usable indexes the planner takes
//! under real statistics (the test's tables are small and not analyzed;
//! analyzed at this size, PostgreSQL would rather walk whole indexes than
//! search them), PostgreSQL's generic plans of prepared statements, and a
//! search whose range is itself large (a cursor of 0 reads all after it).

#![allow(clippy::unwrap_used)]

mod common;

use common::Harness;
use exam_server::db::hot_queries::{self, Bind, HotQuery};
use sqlx::{Connection, Row};

on_both_stores!(hot_paths_search_their_tables, the_check_sees_a_scan);

async fn hot_paths_search_their_tables(h: &Harness) {
    let backend = h.db().backend;
    let queries: Vec<HotQuery> = hot_queries::all()
        .into_iter()
        .filter(|q| q.only.is_none_or(|b| b == backend))
        .collect();
    let mut failures = Vec::new();
    for (q, plan) in plans(h, &queries).await {
        // Each plan, for `--nocapture`.
        println!("{backend:?} {}:\n{}", q.name, plan.text);
        failures.extend(violations(q, &plan));
    }
    assert!(
        failures.is_empty(),
        "{} hot statement(s) on {backend:?} read a growing table without an index:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The check itself fires: a statement no index serves, one whose index
/// is searched by its first column only, and one that sorts every match
/// for its first are all reported.
async fn the_check_sees_a_scan(h: &Harness) {
    let scan = HotQuery {
        name: "bookings by package",
        sql: "SELECT id FROM bookings WHERE package = $1".into(),
        binds: &[Bind::Text("P-EMP")],
        indexed: &["bookings"],
        searched_by: &[],
        only: None,
        in_order: false,
    };
    let prefix_only = HotQuery {
        name: "booked by slot end",
        sql: "SELECT id FROM bookings WHERE state = 'booked' AND slot_end <= $1".into(),
        binds: &[Bind::Text("10:00:00")],
        indexed: &["bookings"],
        searched_by: &["exam_date"],
        only: None,
        in_order: false,
    };
    // An open state and a closed one: not the open messages' index, so
    // the line's index per state and a sort of them all for the first.
    let sorted = HotQuery {
        name: "first pending or dead",
        sql: "SELECT id FROM interface_messages WHERE counterpart = $1
               AND state IN ('pending', 'dead') ORDER BY seq LIMIT 1"
            .into(),
        binds: &[Bind::Text("his")],
        indexed: &["interface_messages"],
        searched_by: &[],
        only: None,
        in_order: true,
    };
    let queries = [scan, prefix_only, sorted];
    let found: Vec<Vec<String>> = plans(h, &queries)
        .await
        .into_iter()
        .map(|(q, plan)| violations(q, &plan))
        .collect();
    assert!(
        found[0].len() == 1
            && found[0][0].contains("bookings by package")
            && found[0][0].contains("bookings is read whole"),
        "{found:?}"
    );
    assert!(
        found[1].len() == 1 && found[1][0].contains("no index is searched by exam_date"),
        "{found:?}"
    );
    assert!(
        found[2].len() == 1 && found[2][0].contains("sorts its matches"),
        "{found:?}"
    );
}

/// A plan as the checks read it, whatever the store.
struct Plan {
    /// Each table read: the names it goes by (table, alias), and whether
    /// it was read whole.
    reads: Vec<(Vec<String>, bool)>,
    /// The conditions indexes were searched by.
    index_conds: Vec<String>,
    /// The plan as the store printed it, for the failure message.
    text: String,
}

/// What is wrong with `plan` for `q` (nothing: empty).
fn violations(q: &HotQuery, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let fail = |what: String| format!("{}: {what}\n  {}\n{}", q.name, q.sql, plan.text);
    for entry in q.indexed {
        let names: Vec<&str> = entry.split_whitespace().collect();
        let table = names[0];
        let reads: Vec<bool> = plan
            .reads
            .iter()
            .filter(|(n, _)| n.iter().any(|n| names.contains(&n.as_str())))
            .map(|(_, whole)| *whole)
            .collect();
        if reads.is_empty() {
            // A name the list got wrong would make the check vacuous.
            out.push(fail(format!("{entry} does not appear in the plan")));
        } else if reads.contains(&true) {
            out.push(fail(format!("{table} is read whole")));
        }
    }
    // A sort node (PostgreSQL) or a temporary b-tree for the order
    // (SQLite): every match read and sorted for the first.
    if q.in_order && (plan.text.contains("Sort") || plan.text.contains("TEMP B-TREE")) {
        out.push(fail("sorts its matches: no index gives their order".into()));
    }
    for column in q.searched_by {
        if !plan.index_conds.iter().any(|c| mentions(c, column)) {
            out.push(fail(format!("no index is searched by {column}")));
        }
    }
    out
}

/// Whether `cond` names the column `column` (not a longer one ending so).
fn mentions(cond: &str, column: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    cond.match_indices(column)
        .any(|(i, _)| !cond[..i].ends_with(ident) && !cond[i + column.len()..].starts_with(ident))
}

/// Binds the sample values in order.
macro_rules! bound {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match *b {
                Bind::Int(v) => q.bind(v),
                Bind::Text(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Each statement's plan, asked of the harness's store.
async fn plans<'a>(h: &Harness, queries: &'a [HotQuery]) -> Vec<(&'a HotQuery, Plan)> {
    let mut out = Vec::new();
    match h.pg_url() {
        None => {
            let file = h.dir.as_ref().unwrap().path().join("exam.db");
            let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            for q in queries {
                let sql = format!("EXPLAIN QUERY PLAN {}", q.sql);
                let rows = bound!(sqlx::query(sqlx::AssertSqlSafe(sql)), q.binds)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}\n  {}", q.name, q.sql));
                let rows: Vec<(i64, i64, String)> = rows
                    .iter()
                    .map(|r| (r.get("id"), r.get("parent"), r.get("detail")))
                    .collect();
                out.push((q, sqlite_plan(&rows)));
            }
        }
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .unwrap();
            for q in queries {
                let sql = format!("EXPLAIN (FORMAT JSON) {}", q.sql);
                let row = bound!(sqlx::query(sqlx::AssertSqlSafe(sql)), q.binds)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}\n  {}", q.name, q.sql));
                // JSON, which sqlx reads without its `json` feature as text.
                let json: serde_json::Value =
                    serde_json::from_str(row.try_get_raw(0).unwrap().as_str().unwrap()).unwrap();
                out.push((q, pg_plan(&json[0]["Plan"])));
            }
            tx.rollback().await.unwrap();
        }
    }
    out
}

/// SQLite's rows (id, parent, detail): `SCAN t [USING [COVERING] INDEX i]`
/// reads t whole, `SEARCH t USING ... (a=? AND b>?)` searches an index.
fn sqlite_plan(rows: &[(i64, i64, String)]) -> Plan {
    let mut depth = std::collections::HashMap::new();
    let mut plan = Plan {
        reads: Vec::new(),
        index_conds: Vec::new(),
        text: String::new(),
    };
    for (id, parent, detail) in rows {
        let d = depth.get(parent).map_or(0, |d| d + 1);
        depth.insert(*id, d);
        plan.text += &format!("    {}{detail}\n", "  ".repeat(d));
        let mut words = detail.split_whitespace();
        let whole = match words.next() {
            Some("SCAN") => true,
            Some("SEARCH") => false,
            _ => continue,
        };
        let name = match words.next() {
            Some("TABLE") => words.next(),
            n => n,
        };
        plan.reads
            .push((name.into_iter().map(String::from).collect(), whole));
        if !whole && let (Some(a), Some(b)) = (detail.rfind('('), detail.rfind(')')) {
            plan.index_conds.push(detail[a..=b].to_string());
        }
    }
    plan
}

/// PostgreSQL's JSON plan: every node on a relation, `Seq Scan` ones read
/// it whole; index conditions of index and bitmap scans. An index scan
/// without a condition is not counted: with sequential scans off it is the
/// planner's way to read a table the size of the test's, and SQLite's
/// check sees a whole index walked (`SCAN t USING INDEX`).
fn pg_plan(root: &serde_json::Value) -> Plan {
    fn walk(n: &serde_json::Value, depth: usize, plan: &mut Plan) {
        let s = |k: &str| n[k].as_str().unwrap_or_default();
        let mut line = format!("    {}{}", "  ".repeat(depth), s("Node Type"));
        if !s("Relation Name").is_empty() {
            line += &format!(" on {} {}", s("Relation Name"), s("Alias"));
            plan.reads.push((
                vec![s("Relation Name").to_string(), s("Alias").to_string()],
                s("Node Type") == "Seq Scan",
            ));
        }
        if !s("Index Name").is_empty() {
            line += &format!(" using {}", s("Index Name"));
        }
        for k in ["Index Cond", "Recheck Cond"] {
            if !s(k).is_empty() {
                line += &format!(" [{k}: {}]", s(k));
                plan.index_conds.push(s(k).to_string());
            }
        }
        if !s("Filter").is_empty() {
            line += &format!(" [Filter: {}]", s("Filter"));
        }
        plan.text += &line;
        plan.text += "\n";
        for child in n["Plans"].as_array().into_iter().flatten() {
            walk(child, depth + 1, plan);
        }
    }
    let mut plan = Plan {
        reads: Vec::new(),
        index_conds: Vec::new(),
        text: String::new(),
    };
    walk(root, 0, &mut plan);
    plan
}
