//! A child process writes through the VFS and dies without warning; what
//! survives is exactly what was synced.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use rusqlite::Connection;

const ROLE: &str = "POWER_CUT_VFS_CHILD";

/// Runs in the child: commits row 1 synced, row 2 unsynced, then dies.
fn child(db: &Path, through_vfs: bool) -> ! {
    if through_vfs {
        power_cut_vfs::register("powercut", true).unwrap();
    }
    let c = Connection::open(db).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    c.execute_batch("PRAGMA synchronous=FULL; CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    c.execute_batch("PRAGMA synchronous=OFF; INSERT INTO t VALUES (2);")
        .unwrap();
    // Another connection sees the unsynced row, as it would the page cache.
    let other = Connection::open(db).unwrap();
    let n: i64 = other
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    if through_vfs {
        assert!(power_cut_vfs::unsynced_bytes() > 0);
    }
    std::process::abort(); // no destructors, no flush: like SIGKILL
}

fn rows_after_crash(through_vfs: bool) -> Vec<i64> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_role", "--nocapture"])
        .env(ROLE, if through_vfs { "vfs" } else { "plain" })
        .env("POWER_CUT_VFS_DB", &db)
        .status()
        .unwrap();
    assert!(!status.success(), "the child dies");
    let c = Connection::open(&db).unwrap();
    let mut stmt = c.prepare("SELECT x FROM t ORDER BY x").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn child_role() {
    if let Ok(role) = std::env::var(ROLE) {
        let db = std::env::var("POWER_CUT_VFS_DB").unwrap();
        child(Path::new(&db), role == "vfs");
    }
}

#[test]
fn a_crash_keeps_the_page_cache_but_a_power_cut_does_not() {
    // Killed process, plain VFS: the kernel still writes the unsynced row.
    assert_eq!(rows_after_crash(false), vec![1, 2]);
    // Through the VFS: only the synced commit survives.
    assert_eq!(rows_after_crash(true), vec![1]);
}

#[test]
fn in_process_cut_drops_unsynced_writes_and_reads_see_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    // Registered as a named VFS in this process (not the default).
    let _ = power_cut_vfs::register("powercut-named", false);
    let flags = rusqlite::OpenFlags::default();
    let c = Connection::open_with_flags_and_vfs(&db, flags, c"powercut-named").unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;
         CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);",
    )
    .unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
    assert!(power_cut_vfs::unsynced_bytes() > 0);
    // Nothing was synced: the real file on disk is still empty.
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
    c.execute_batch("PRAGMA synchronous=FULL; INSERT INTO t VALUES (4);")
        .unwrap();
    assert!(std::fs::metadata(&db).unwrap().len() > 0);
    drop(c);
    let plain = Connection::open(&db).unwrap();
    let n: i64 = plain
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
    power_cut_vfs::cut_power();
}

/// Runs in the child: inserts `rows` synced rows through the VFS, then
/// exits cleanly or dies.
fn child_rows(db: &Path, rows: i64, die: bool) {
    power_cut_vfs::register("powercut", true).unwrap();
    let c = Connection::open(db).unwrap();
    c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    c.execute_batch("PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t(x);")
        .unwrap();
    for i in 0..rows {
        c.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
    }
    if die {
        std::process::abort();
    }
}

#[test]
fn rows_child_role() {
    if let Ok(role) = std::env::var("POWER_CUT_VFS_ROWS") {
        let db = std::env::var("POWER_CUT_VFS_DB").unwrap();
        let (rows, die) = role.split_once(':').unwrap();
        child_rows(Path::new(&db), rows.parse().unwrap(), die == "die");
    }
}

fn run_rows(db: &Path, rows: i64, die: bool) {
    let _ = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "rows_child_role", "--nocapture"])
        .env(
            "POWER_CUT_VFS_ROWS",
            format!("{rows}:{}", if die { "die" } else { "exit" }),
        )
        .env("POWER_CUT_VFS_DB", db)
        .status()
        .unwrap();
}

fn count(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn synced_commits_survive_clean_exits_cuts_and_plain_readers_between() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    run_rows(&db, 5, false);
    assert_eq!(count(&db), 5);
    run_rows(&db, 5, true);
    assert_eq!(count(&db), 10);
    run_rows(&db, 1200, true); // past a checkpoint: the WAL restarts
    assert_eq!(count(&db), 1210);
    run_rows(&db, 3, true);
    run_rows(&db, 3, false);
    assert_eq!(count(&db), 1216);
}
