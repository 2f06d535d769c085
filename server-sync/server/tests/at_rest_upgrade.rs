//! Issue 17 item 9, for stores that already exist: a store written in clear
//! by the version before migration 0011 is sealed at the next start (and a
//! second start finds nothing to do), everything in it still found and
//! opened; after a key rotation, `rekey` reseals every value with the new
//! key. On SQLite and PostgreSQL.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use base64::Engine;
use common::id_number;
use exam_domain::{IdNumber, IdentityQuery};
use exam_server::db::{Db, Resealed, SearchKey};
use exam_vault::KeyRing;
use sqlx::Connection;

const NAME: &str = "欧阳晓岚";
const MOBILE: &str = "13690001122";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really-a-picture-";
const PDF: &[u8] = b"%PDF-1.4 a report %%EOF";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.db");
    upgrade(dir.path(), &format!("sqlite://{}", file.display()), || {
        let wal = file.with_extension("db-wal");
        [
            std::fs::read(&file).unwrap(),
            std::fs::read(&wal).unwrap_or_default(),
        ]
        .concat()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let dir = tempfile::tempdir().unwrap();
    let (url, name) = common::fresh_pg().await;
    let dump_url = url.clone();
    upgrade(dir.path(), &url, move || {
        let out = std::process::Command::new("pg_dump")
            .arg("--dbname")
            .arg(&dump_url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    })
    .await;
    let mut admin = sqlx::AnyConnection::connect(&common::pg_admin_url())
        .await
        .unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}

/// Rows as the store before 0011 held them: in clear.
async fn write_clear_rows(url: &str, id: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let now = "2026-01-02T03:04:05.000Z";
    let sqls: Vec<(String, Vec<String>)> = vec![
        (
            "INSERT INTO people(id_number, name, sex, birth_date, mobile, created_at, initials) VALUES ($1, $2, 'male', '1983-03-15', $3, $4, 'oyxl')".into(),
            vec![id.into(), NAME.into(), MOBILE.into(), now.into()],
        ),
        (
            "INSERT INTO bookings(id, code, exam_no, id_number, campus, package, exam_date, slot_start, slot_end, amount_due_fen, state, change_seq) VALUES (7001, 'BKOLD1', '900001', $1, 'main', '入职套餐', '2026-01-02', '08:00:00', '08:30:00', 0, 'booked', 1)".into(),
            vec![id.into()],
        ),
        (
            "INSERT INTO booking_items(booking_id, item_code, price_fen, from_package, paid, status, signature, changed_at, changed_by) VALUES (7001, 'X1', 100, 1, 0, 'waived', $1, $2, 'desk')".into(),
            vec![b64(PNG), now.into()],
        ),
        (
            "INSERT INTO visit_photos(booking_id, kiosk_id, event_id, outcome, png, taken_at) VALUES (7001, 'K-1', 'e1', 'camera', $1, $2)".into(),
            vec![b64(PNG), now.into()],
        ),
        (
            "INSERT INTO reports(id, booking_id, title, pages, pdf, published_at, published_by) VALUES (8001, 7001, '报告', 1, $1, $2, 'office')".into(),
            vec![b64(PDF), now.into()],
        ),
        (
            "INSERT INTO kiosk_events(event_id, kiosk_id, seq, kind, payload, created_at, received_at) VALUES ('e0', 'K-1', 1, 'check_in', $1, $2, $2)".into(),
            vec![format!("{{\"booking_id\":7001,\"id_number\":\"{id}\"}}"), now.into()],
        ),
        (
            "INSERT INTO companies(id, name, contact, created_at) VALUES (9001, '旧公司', '人事', $1)".into(),
            vec![now.into()],
        ),
        (
            "INSERT INTO group_members(id, company_id, group_id, id_number, marital, banned, import_id, created_at) VALUES (9101, 9001, NULL, $1, 'married', 0, 9201, $2)".into(),
            vec![id.into(), now.into()],
        ),
        (
            "INSERT INTO roster_imports(id, company_id, file_name, actor, at, data_rows, errors, imported, report) VALUES (9201, 9001, 'r.csv', 'group', $1, 2, 1, 1, $2)".into(),
            vec![now.into(), format!("行,姓名,错误\n3,{NAME},{MOBILE} 重复\n")],
        ),
    ];
    for (sql, args) in sqls {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for a in args {
            q = q.bind(a);
        }
        q.execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn hits(hay: &[u8], needle: &str) -> usize {
    let n = needle.as_bytes();
    hay.windows(n.len()).filter(|w| *w == n).count()
}

async fn upgrade(dir: &std::path::Path, url: &str, raw: impl Fn() -> Vec<u8>) {
    let id = id_number(1983, 733);
    let idn = IdNumber::parse(&id).unwrap();
    let key_file = dir.join("data.key");
    KeyRing::generate()
        .unwrap()
        .write_new_file(&key_file)
        .unwrap();
    let keys = Arc::new(KeyRing::load_file(&key_file).unwrap());

    // The old version's store, in clear.
    let db = Db::connect(url, keys.clone()).await.unwrap();
    db.migrate_only_until(10).await.unwrap();
    write_clear_rows(url, &id).await;
    assert!(
        hits(&raw(), &id) > 0,
        "the old store holds the ID number in clear"
    );

    // The next start: migrated and sealed; a second pass finds nothing.
    db.migrate().await.unwrap();
    assert_eq!(db.seal_clear_rows().await.unwrap(), Resealed::default());
    let check = |db: Db| {
        let idn = idn.clone();
        async move {
            let found = db
                .lookup(&IdentityQuery::IdNumberAndMobile {
                    id_number: idn.clone(),
                    mobile: MOBILE.into(),
                })
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].person.name, NAME);
            let by_name = db
                .search(&SearchKey::Name("欧阳晓".into()), 10)
                .await
                .unwrap();
            assert_eq!(by_name.len(), 1);
            let by_initials = db
                .search(&SearchKey::Initials("oyx".into()), 10)
                .await
                .unwrap();
            assert_eq!(by_initials.len(), 1);
            let photo = db.visit_photo(7001, "test").await.unwrap().unwrap();
            assert_eq!(photo.png.as_deref(), Some(PNG));
            assert_eq!(
                db.visit_report_pdf("test", 7001).await.unwrap().as_deref(),
                Some(PDF)
            );
            let members = db.members(9001).await.unwrap();
            assert_eq!(members[0].person.id_number, idn);
            let report = db.import_report(9001, 9201).await.unwrap().unwrap();
            assert!(report.contains(NAME));
            db
        }
    };
    let db = check(db).await;
    let bytes = raw();
    for secret in [id.as_str(), NAME, MOBILE] {
        assert_eq!(
            hits(&bytes, secret),
            0,
            "{secret:?} left in clear after the upgrade"
        );
    }
    assert_eq!(hits(&bytes, "%PDF-1.4"), 0);
    db.close().await;

    // Rotation: a second data key; rekey reseals everything with it.
    let mut rotated = KeyRing::load_file(&key_file).unwrap();
    assert_eq!(rotated.rotate().unwrap(), 2);
    rotated.replace_file(&key_file).unwrap();
    let db = Db::connect(url, Arc::new(KeyRing::load_file(&key_file).unwrap()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let done = db.rekey().await.unwrap();
    assert_eq!(done.people, 1, "{done:?}");
    assert_eq!(
        done.values, 5,
        "photo, signature, report, event, roster report: {done:?}"
    );
    assert_eq!(
        db.rekey().await.unwrap(),
        Resealed::default(),
        "nothing left under key 1"
    );
    let db = check(db).await;
    db.close().await;
}
