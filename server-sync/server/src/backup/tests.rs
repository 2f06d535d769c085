//! The formats on a small SQLite store made here (the drill through the
//! service's API, on both stores, is `tests/backup_restore.rs`).

use std::sync::Arc;

use sqlx::{AnyConnection, Connection};

use super::*;

async fn exec(conn: &mut AnyConnection, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// A store with a text key, a blob, declared types `Any` cannot read, and
/// an append-only table (updates and deletes refused by a trigger).
async fn store(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    let mut c = AnyConnection::connect(url).await.unwrap();
    exec(
        &mut c,
        "PRAGMA journal_mode = WAL;
         CREATE TABLE people (id_number TEXT PRIMARY KEY, name TEXT NOT NULL, photo BLOB, ok BOOLEAN, at TIMESTAMP);
         CREATE TABLE audit (id BIGINT PRIMARY KEY, detail TEXT NOT NULL);
         CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'append only'); END;
         CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'append only'); END;",
    )
    .await;
    exec(&mut c, "BEGIN").await;
    for i in 0..2000 {
        sqlx::query("INSERT INTO people VALUES ($1, $2, $3, 1, '2026-03-01 02:00:00')")
            .bind(format!("32100219800315{i:04}"))
            .bind(format!("sealed:v1:1:{}", "x".repeat(200)))
            .bind(vec![i as u8; 64])
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO audit VALUES ($1, $2)")
            .bind(i as i64)
            .bind(format!("line {i}"))
            .execute(&mut c)
            .await
            .unwrap();
    }
    exec(&mut c, "COMMIT").await;
    c
}

#[tokio::test]
async fn sqlite_full_then_incremental_restores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let backups = dir.path().join("backups");
    let keys = Arc::new(KeyRing::generate().unwrap());
    let mut c = store(&live).await;
    let t0: DateTime<Utc> = "2026-03-01T02:30:00Z".parse().unwrap();

    let full = take(&live, &keys, &backups, Kind::Full, t0).await.unwrap();
    assert_eq!(full.kind, Kind::Full);
    let people = full.tables.iter().find(|t| t.table == "people").unwrap();
    assert_eq!(people.rows, 2000);

    // The day's changes, while the connection stays open (WAL not checkpointed).
    exec(
        &mut c,
        "UPDATE people SET name = 'sealed:v1:2:changed' WHERE id_number = '321002198003150007';
         DELETE FROM people WHERE id_number = '321002198003151999';
         INSERT INTO people VALUES ('32100219900101002X', 'sealed:v1:1:new', NULL, 0, NULL);
         INSERT INTO audit VALUES (5000, 'after the full backup');",
    )
    .await;
    let t1 = t0 + chrono::Duration::days(1);
    let inc = take(&live, &keys, &backups, Kind::Incremental, t1)
        .await
        .unwrap();
    assert_eq!(inc.base.as_deref(), Some(full.file.as_str()));
    let facts = inc.sqlite.clone().unwrap();
    // A few pages changed: the incremental holds those, not the store.
    assert!(
        facts.pages_stored * 10 < facts.pages,
        "{} of {} pages stored",
        facts.pages_stored,
        facts.pages
    );
    assert!(
        inc.file_bytes * 5 < full.file_bytes,
        "{} vs {}",
        inc.file_bytes,
        full.file_bytes
    );

    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let r = restore(&backups.join(&inc.file), &keys, &restored)
        .await
        .unwrap();
    assert_eq!(r.file, inc.file);
    let diff = compare_stores(&live, &restored).await.unwrap();
    assert!(diff.iter().all(TableDiff::equal), "{diff:#?}");
    assert_eq!(diff.len(), 2);

    // The restored store still refuses to change its audit lines.
    let mut rc = AnyConnection::connect(&restored).await.unwrap();
    assert!(
        sqlx::query("DELETE FROM audit WHERE id = 1")
            .execute(&mut rc)
            .await
            .is_err()
    );
    rc.close().await.unwrap();

    // A store with tables is never overwritten.
    let e = restore(&backups.join(&full.file), &keys, &restored)
        .await
        .unwrap_err();
    assert!(matches!(e, BackupError::NotEmpty), "{e}");

    // Restoring the full backup alone gives the state before the changes.
    let only_full = format!("sqlite://{}", dir.path().join("full.db").display());
    restore(&backups.join(&full.file), &keys, &only_full)
        .await
        .unwrap();
    let diff = compare_stores(&live, &only_full).await.unwrap();
    assert!(
        diff.iter().all(|d| !d.equal()),
        "both tables changed since: {diff:#?}"
    );

    // A damaged byte: refused by the checksum, with the file named.
    let path = backups.join(&inc.file);
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() - 40;
    bytes[i] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let again = format!("sqlite://{}", dir.path().join("again.db").display());
    let e = restore(&path, &keys, &again).await.unwrap_err();
    assert!(
        matches!(&e, BackupError::Damaged { file, .. } if *file == inc.file),
        "{e}"
    );
    assert!(e.to_string().contains("damaged"), "{e}");
    assert!(check(&path, &keys).await.is_err());
    assert!(!dir.path().join("again.db").exists());

    // The wrong key does not open a backup whose checksum is fine.
    let other = Arc::new(KeyRing::generate().unwrap());
    let e = restore(&backups.join(&full.file), &other, &again)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not open"), "{e}");
    c.close().await.unwrap();
}

#[tokio::test]
async fn no_personal_data_in_the_backup_files() {
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let backups = dir.path().join("b");
    let keys = Arc::new(KeyRing::generate().unwrap());
    let c = store(&live).await;
    let m = take(&live, &keys, &backups, Kind::Full, Utc::now())
        .await
        .unwrap();
    let raw = std::fs::read(backups.join(&m.file)).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("321002198003150007") && !text.contains("line 17"));
    // Opened with the key, the image is the store.
    let plain = open_all(&keys, &backups.join(&m.file)).unwrap();
    assert!(plain.starts_with(b"SQLite format 3\0"));
    // Nothing of the snapshot is left beside the store.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("snapshot") || n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_incremental_needs_a_full_backup() {
    let dir = tempfile::tempdir().unwrap();
    let live = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let keys = Arc::new(KeyRing::generate().unwrap());
    let c = store(&live).await;
    let e = take(
        &live,
        &keys,
        &dir.path().join("b"),
        Kind::Incremental,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(e.wants_full(), "{e}");
    c.close().await.unwrap();
}
