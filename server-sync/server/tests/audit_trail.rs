//! S7, issue 17 "Must show": audit rows are chained by hash and the store
//! itself refuses to change or delete them. UPDATE, DELETE (and TRUNCATE on
//! PostgreSQL) through plain SQL are refused on both stores; an edit of
//! the raw SQLite file is found by the chain check, which names the row;
//! concurrent appends on many connections never fork the chain; rows from
//! before the chain are chained by the migration.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::Harness;
use exam_server::audit::chain::Break;
use exam_server::audit::{AuditEvent, Category, Outcome};
use exam_server::db::Db;
use sqlx::Connection;

on_both_stores!(
    the_store_refuses_update_and_delete,
    concurrent_appends_make_one_chain,
    lines_are_placed_after_their_commit
);

async fn raw(h: &Harness) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&h.server.state.config.database_url)
        .await
        .unwrap()
}

/// What a plain SQL statement on its own connection answers.
async fn try_sql(conn: &mut sqlx::AnyConnection, sql: &'static str) -> Result<u64, String> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
        .map_err(|e| e.to_string())
}

async fn the_store_refuses_update_and_delete(h: &Harness) {
    // Rows of every kind the server writes: its start, a sign-in, a denial.
    let staff = h.staff("desk1", "front_desk").await;
    assert_eq!(staff.get("/api/admin/accounts").await.0, 403);
    let before = h.db().verify_audit_chain().await.unwrap();
    assert!(before.is_intact(), "{before}");
    assert!(before.report.verified >= 3, "{before}");

    let mut conn = raw(h).await;
    for sql in [
        "UPDATE audit_log SET detail = 'nothing happened'",
        "UPDATE audit_log SET actor = 'someone' WHERE seq = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE seq = 2",
        // The chain's counter only ever moves forward by one.
        "UPDATE counters SET value = 0 WHERE name = 'audit_seq'",
        "DELETE FROM counters WHERE name = 'audit_seq'",
    ] {
        let r = try_sql(&mut conn, sql).await;
        let e = r.expect_err(sql);
        assert!(
            e.contains("append-only") || e.contains("audit_seq"),
            "{sql}: {e}"
        );
    }
    if h.db().backend == exam_server::db::Backend::Postgres {
        let e = try_sql(&mut conn, "TRUNCATE audit_log").await.unwrap_err();
        assert!(e.contains("append-only"), "{e}");
        let e = try_sql(&mut conn, "TRUNCATE counters").await.unwrap_err();
        assert!(e.contains("append-only"), "{e}");
    }
    // Appending stays possible (the service's one right on the table),
    // other counters move freely.
    assert_eq!(
        try_sql(
            &mut conn,
            "UPDATE counters SET value = value + 5 WHERE name = 'booking_change'"
        )
        .await,
        Ok(1)
    );
    conn.close().await.unwrap();
    let after = h.db().verify_audit_chain().await.unwrap();
    assert!(after.is_intact(), "{after}");
    assert_eq!(after.report.verified, before.report.verified);

    // A row written around the service: on SQLite it has no place in the
    // chain and the check names it; on PostgreSQL every line is written
    // without one and the chainer places it (the right to insert into the
    // trail could always append a chained line: the syslog copy on another
    // machine is what keeps history), once, with nothing else of it changed.
    let mut conn = raw(h).await;
    try_sql(
        &mut conn,
        "INSERT INTO audit_log(id, at, actor, action, detail) VALUES (1, '2026-01-01T00:00:00.000Z', 'x', 'y', 'z')",
    )
    .await
    .unwrap();
    if h.db().backend == exam_server::db::Backend::Postgres {
        let e = try_sql(
            &mut conn,
            "UPDATE audit_log SET seq = 999999, prev_hash = 'x', hash = 'y', detail = 'changed' WHERE id = 1",
        )
        .await
        .unwrap_err();
        assert!(e.contains("append-only"), "placed and changed: {e}");
        conn.close().await.unwrap();
        let check = h.db().verify_audit_chain().await.unwrap();
        assert!(check.is_intact(), "{check}");
        let placed = h
            .sql_text("SELECT CAST(seq AS TEXT) FROM audit_log WHERE id = 1")
            .await;
        assert!(placed.is_some_and(|s| s.parse::<i64>().unwrap() > after.report.verified));
        let mut conn = raw(h).await;
        let e = try_sql(
            &mut conn,
            "UPDATE audit_log SET seq = 1, prev_hash = 'x', hash = 'y' WHERE id = 1",
        )
        .await
        .unwrap_err();
        assert!(e.contains("append-only"), "placed twice: {e}");
        conn.close().await.unwrap();
    } else {
        conn.close().await.unwrap();
        let check = h.db().verify_audit_chain().await.unwrap();
        assert_eq!(check.unchained, 1, "{check}");
        assert!(!check.is_intact());
    }
}

async fn concurrent_appends_make_one_chain(h: &Harness) {
    let db = h.db().clone();
    let n = 64;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let e = AuditEvent::new(Category::Access, format!("desk{}", i % 4), "view.test")
                    .subject(format!("company:{i}"))
                    // Not ASCII: PostgreSQL hashes the encoding itself.
                    .detail(format!("row {i} 登记 ✓"))
                    .source("10.0.0.1")
                    .outcome(if i % 3 == 0 {
                        Outcome::Denied
                    } else {
                        Outcome::Allowed
                    });
                db.audit_event(&e).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let check = db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    let q = exam_server::db::AuditQuery {
        actions: vec!["view.test".into()],
        ..Default::default()
    };
    let rows = db.audit_rows(&q, 1000).await.unwrap();
    assert_eq!(rows.len(), n);
    assert!(
        rows.iter()
            .all(|r| r.category == "access" && r.source == "10.0.0.1")
    );
    assert_eq!(rows.iter().filter(|r| r.outcome == "denied").count(), 22);
    // One seq each, no two alike: one chain, not a fork.
    let mut seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n);
    assert_eq!(check.report.verified, *seqs.last().unwrap());
}

/// On PostgreSQL a line commits with its change unplaced and the chainer
/// gives it its place after the commit (a rolled-back change takes its
/// unplaced line with it). On SQLite it is placed as it is written. Either
/// way, once placed: one chain, nothing left waiting, nothing to redo.
async fn lines_are_placed_after_their_commit(h: &Harness) {
    let db = h.db().clone();
    probe_rows(&db, 3).await;
    db.chain_pending().await.unwrap();
    let waiting = h
        .sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE seq IS NULL")
        .await;
    assert_eq!(waiting.as_deref(), Some("0"));
    assert_eq!(db.chain_pending().await.unwrap(), 0, "nothing to redo");
    let check = db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    let top = h
        .sql_text("SELECT CAST(MAX(seq) AS TEXT) FROM audit_log")
        .await;
    assert_eq!(top, Some(check.report.verified.to_string()));
}

/// A store of its own, opened directly (no server), with fresh keys.
struct Store {
    url: String,
    keys: Arc<exam_vault::KeyRing>,
    _dir: tempfile::TempDir,
}

impl Store {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            url: format!("sqlite://{}", dir.path().join("exam.db").display()),
            keys: Arc::new(exam_vault::KeyRing::generate().unwrap()),
            _dir: dir,
        }
    }

    async fn postgres() -> Self {
        sqlx::any::install_default_drivers();
        let admin = std::env::var("EXAM_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin}: {e}"));
        let name = format!(
            "exam_audit_{}",
            hex::encode(exam_protocol::auth::random_bytes::<6>())
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        Self {
            url: format!("{base}/{name}"),
            keys: Arc::new(exam_vault::KeyRing::generate().unwrap()),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    async fn open(&self) -> Db {
        Db::connect(&self.url, self.keys.clone()).await.unwrap()
    }

    /// Drops the PostgreSQL database (nothing for SQLite: the folder goes).
    async fn drop_pg(&self) {
        let Some((base, name)) = self
            .url
            .starts_with("postgres")
            .then(|| self.url.rsplit_once('/'))
            .flatten()
        else {
            return;
        };
        let admin =
            std::env::var("EXAM_TEST_PG_URL").unwrap_or_else(|_| format!("{base}/postgres"));
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }

    fn path(&self) -> std::path::PathBuf {
        self.url.trim_start_matches("sqlite://").into()
    }
}

async fn probe_rows(db: &Db, n: usize) {
    for i in 1..=n {
        db.audit_event(
            &AuditEvent::new(Category::Operation, "desk1", "visit.register")
                .subject(format!("company:{i}"))
                .detail(format!("audit-probe-AAAA-{i:04}")),
        )
        .await
        .unwrap();
    }
}

/// The "Must show" test: a row's detail is edited in the raw database file
/// (same length, so SQLite reads the file as valid) and the chain check,
/// from the library and from `exam-server audit-verify`, names that row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_the_raw_sqlite_file_is_found() {
    let store = Store::sqlite();
    let db = store.open().await;
    db.migrate().await.unwrap();
    probe_rows(&db, 5).await;
    let check = db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    let target = db
        .audit_rows(
            &exam_server::db::AuditQuery {
                text: Some("audit-probe-AAAA-0003".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(target.len(), 1);
    let target_seq = target[0].seq;
    db.close().await;

    // The closed store checkpointed its WAL into the file: edit the file.
    let path = store.path();
    assert!(
        !path.with_extension("db-wal").exists()
            || std::fs::metadata(path.with_extension("db-wal"))
                .unwrap()
                .len()
                == 0
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"audit-probe-AAAA-0003";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the detail is in the file");
    assert_eq!(
        bytes[at + 1..]
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count(),
        0,
        "the detail is in the file once"
    );
    bytes[at + 12..at + 16].copy_from_slice(b"BBBB");
    std::fs::write(&path, &bytes).unwrap();

    let db = store.open().await;
    // The edit took: SQLite reads the changed text.
    let edited = db
        .audit_rows(
            &exam_server::db::AuditQuery {
                text: Some("audit-probe-BBBB-0003".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(edited.len(), 1);
    let check = db.verify_audit_chain().await.unwrap();
    assert_eq!(
        check.report.broken,
        Some(Break::Altered {
            seq: target_seq,
            id: target[0].id
        }),
        "{check}"
    );
    assert_eq!(check.report.verified, target_seq - 1);
    db.close().await;

    // The command line says the same, and fails.
    let cfg = store._dir.path().join("exam.toml");
    let key_file = store._dir.path().join("data.key");
    store.keys.write_new_file(&key_file).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "database_url = \"{}\"\ndata_key_file = \"{}\"\n",
            store.url,
            key_file.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exam-server"))
        .args(["--config", cfg.to_str().unwrap(), "audit-verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("BROKEN at row {target_seq}")),
        "{text}"
    );
}

/// The command line on an intact chain: status 0, and the check itself is
/// a row of the trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_passes_an_intact_chain() {
    let store = Store::sqlite();
    let db = store.open().await;
    db.migrate().await.unwrap();
    probe_rows(&db, 3).await;
    db.close().await;
    let cfg = store._dir.path().join("exam.toml");
    let key_file = store._dir.path().join("data.key");
    store.keys.write_new_file(&key_file).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "database_url = \"{}\"\ndata_key_file = \"{}\"\n",
            store.url,
            key_file.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exam-server"))
        .args(["--config", cfg.to_str().unwrap(), "audit-verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("intact: rows 1..3 verified"), "{text}");
    let db = store.open().await;
    let rows = db
        .audit_rows(
            &exam_server::db::AuditQuery {
                actions: vec!["audit.verify".into()],
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor, "cli");
    assert!(rows[0].detail.contains("intact"), "{:?}", rows[0]);
    db.close().await;
}

/// Rows an older release wrote (before migration 9) are chained in their
/// order by the migration, and new rows continue the chain.
async fn old_rows_are_chained(store: Store) {
    let db = store.open().await;
    db.migrate_sql_to(8).await.unwrap();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    for (id, at, action) in [
        (30, "2026-01-01T08:00:02.000Z", "visit.cancel"),
        (10, "2026-01-01T08:00:00.000Z", "user.create"),
        (20, "2026-01-01T08:00:01.000Z", "login.ok"),
    ] {
        sqlx::query(
            "INSERT INTO audit_log(id, at, actor, action, detail, subject) VALUES ($1, $2, 'admin', $3, 'old', '')",
        )
        .bind(id)
        .bind(at)
        .bind(action)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();
    db.migrate().await.unwrap();
    let check = db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    assert_eq!(check.report.verified, 3);
    let mut rows = db
        .audit_rows(&exam_server::db::AuditQuery::default(), 10)
        .await
        .unwrap();
    rows.reverse();
    let got: Vec<(i64, i64, &str)> = rows
        .iter()
        .map(|r| (r.seq, r.id, r.category.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 10, "permission"),
            (2, 20, "security"),
            (3, 30, "operation")
        ]
    );
    // Migrating again changes nothing; new rows follow on.
    db.migrate().await.unwrap();
    probe_rows(&db, 1).await;
    let check = db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    assert_eq!(check.report.verified, 4);
    db.close().await;
    store.drop_pg().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_rows_are_chained_sqlite() {
    old_rows_are_chained(Store::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_rows_are_chained_postgres() {
    old_rows_are_chained(Store::postgres().await).await;
}

/// The production role split (README, ARCHITECTURE "Triggers, for the
/// audit trail only"): the owner migrates; the service runs as a role with
/// SELECT and INSERT only on the trail, does not migrate, and can neither
/// change a row nor drop or disable the guard. A store not brought up to
/// date is refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_role_cannot_touch_the_trail_postgres() {
    let store = Store::postgres().await;
    let key_file = store._dir.path().join("data.key");
    store.keys.write_new_file(&key_file).unwrap();
    let (base, dbname) = store.url.rsplit_once('/').unwrap();
    let role = format!("exam_svc_{}", &dbname[11..]);
    let svc_url = format!(
        "{}://{role}:svc-test@{}/{dbname}",
        base.split_once("://").unwrap().0,
        base.split_once("://")
            .unwrap()
            .1
            .rsplit_once('@')
            .map_or(base.split_once("://").unwrap().1, |(_, host)| host)
    );
    let config = |url: &str| exam_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: url.to_string(),
        data_key_file: Some(key_file.clone()),
        migrate_on_start: false,
        ..exam_server::Config::default()
    };
    // Not migrated yet: the service that may not migrate refuses to start.
    let e = exam_server::start(config(&store.url)).await.unwrap_err();
    assert!(e.to_string().contains("exam-server migrate"), "{e}");

    let owner = store.open().await;
    owner.migrate().await.unwrap();
    owner.close().await;
    let mut admin = sqlx::AnyConnection::connect(&store.url).await.unwrap();
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'svc-test'"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role}"),
        // The chainer's one update: a line's place (the trigger allows it
        // once, with nothing else of the row changed).
        format!("GRANT UPDATE (seq, prev_hash, hash) ON audit_log TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let server = exam_server::start(config(&svc_url)).await.unwrap();
    probe_rows(&server.state.db, 2).await;
    let mut svc = sqlx::AnyConnection::connect(&svc_url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET detail = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP FUNCTION exam_audit_refuse() CASCADE",
    ] {
        let e = try_sql(&mut svc, sql).await.expect_err(sql);
        assert!(
            e.contains("permission denied") || e.contains("must be owner"),
            "{sql}: {e}"
        );
    }
    svc.close().await.unwrap();
    let check = server.state.db.verify_audit_chain().await.unwrap();
    assert!(check.is_intact(), "{check}");
    server.stop().await;

    // A guard the owner disabled is noticed at the next start.
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        .execute(&mut admin)
        .await
        .unwrap();
    let e = exam_server::start(config(&svc_url)).await.unwrap_err();
    assert!(e.to_string().contains("guard"), "{e}");
    admin.close().await.unwrap();
    store.drop_pg().await;
    let admin_url = std::env::var("EXAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut c = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut c)
        .await
        .unwrap();
}
