//! The restore drill (S9, issue 17 "Must show"), on SQLite and on
//! PostgreSQL, in CI: a store filled through the real API (desk visits, a
//! kiosk check-in, a group roster import, a published report), a full
//! backup, more changes (bookings, a cancellation, another check-in,
//! deleted nonces), an incremental backup, then full + incremental restored
//! into an EMPTY store and every table's row count and checksum compared
//! with the live store: equal. A store with tables is refused as a target,
//! and a damaged backup file is refused with a message that names it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{Backend, Harness, Staff, id_number};
use exam_protocol::{BookingRecord, CheckIn, Event, EventBody, paths};
use exam_server::backup::{self, BackupError, Kind, TableDiff};
use serde_json::json;
use uuid::Uuid;

on_both_stores!(the_restore_drill);

/// A one-page PDF, as a report office sends.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

async fn walk_in(s: &Staff, id: &str, name: &str) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": "13912345678" },
                    "marital": "married", "package": "P-EMP", "add": [], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

async fn book_tomorrow(s: &Staff, id: &str, name: &str) -> i64 {
    let tomorrow = exam_server::workflow::now_local().date() + Duration::days(1);
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": name, "mobile": "13912345679" },
                    "marital": "married", "package": "P-EMP", "date": tomorrow.to_string(),
                    "slot_start": "08:00:00" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

async fn publish(s: &Staff, visit: i64) {
    let r = s
        .http
        .put(format!("{}/api/desk/visits/{visit}/report", s.url))
        .header("cookie", &s.cookie)
        .header("x-csrf", &s.csrf)
        .header("content-type", "application/pdf")
        .body(pdf("Report"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
}

/// The kiosk's view of today's bookings, and a check-in of the `n`th.
async fn kiosk_check_in(h: &Harness, key: &exam_protocol::auth::KioskKey, n: usize, seq: i64) {
    let (s, v) = h
        .signed(
            key,
            "GET",
            &format!("{}?cursor=0&limit=1000", paths::CHANGES),
            b"",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let recs: Vec<BookingRecord> = serde_json::from_value(v["records"].clone()).unwrap();
    let rec = &recs[n];
    let body = EventBody::CheckIn(CheckIn {
        booking_id: rec.booking.id,
        booking_code: rec.booking.code.clone(),
        id_number: rec.person.id_number.clone(),
        identified_by: "id_card".into(),
        checked_in_at: Utc::now(),
        offline: false,
        privacy: None,
    });
    let ev = Event::new(Uuid::now_v7(), seq, Utc::now(), &body);
    let body = serde_json::to_vec(&json!({ "events": [ev] })).unwrap();
    let (s, v) = h.signed(key, "POST", paths::EVENTS, &body, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["acks"][0]["status"], "accepted", "{v}");
}

async fn group_import(g: &Staff) {
    let (st, c) = g
        .post(
            "/api/group/companies",
            json!({ "name": "备份演练科技有限公司", "contact": "人事部" }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let company = c["id"].as_i64().unwrap();
    let (st, r) = g
        .post(
            &format!("/api/group/companies/{company}/groups"),
            json!({ "name": "全员", "package_code": "P-GRP-A", "sex": null, "min_age": null,
                    "max_age": null, "marital": null, "discount_pct": 90, "pay_later": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let roster = format!(
        "备份演练科技有限公司员工体检名单\n序号,姓名,证件号码,性别,手机号码,婚否,部门\n\
         1,赵一,{},男,13800000011,已婚,研发部\n2,钱二,{},女,13800000012,已婚,财务部\n",
        id_number(1985, 301),
        id_number(1987, 302)
    );
    let (st, r) = g
        .post_bytes(
            &format!("/api/group/companies/{company}/roster?file_name=roster.csv&token=bk1"),
            roster.into_bytes(),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"].as_i64(), Some(2), "{r}");
}

/// An empty store for the restore, and what to drop afterwards.
async fn empty_target(h: &Harness, name: &str) -> (String, Option<String>) {
    if h.server.state.db.backend == exam_server::db::Backend::Postgres {
        let (url, db) = common::fresh_pg().await;
        (url, Some(db))
    } else {
        let dir = h.dir.as_ref().unwrap().path();
        (format!("sqlite://{}", dir.join(name).display()), None)
    }
}

async fn drop_pg(name: Option<String>) {
    use sqlx::Connection;
    if let Some(name) = name {
        let mut conn = sqlx::AnyConnection::connect(&common::pg_admin_url())
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

fn rows(diff: &[TableDiff], table: &str) -> u64 {
    diff.iter()
        .find(|d| d.table == table)
        .and_then(|d| d.left.as_ref())
        .map_or(0, |s| s.rows)
}

async fn the_restore_drill(h: &Harness) {
    let keys = Arc::new(
        exam_vault::KeyRing::load_file(&h.dir.as_ref().unwrap().path().join("data.key")).unwrap(),
    );
    let live = h.server.state.config.database_url.clone();
    let backups = tempfile::tempdir().unwrap();
    let desk = h.staff("bk-desk", "front_desk").await;
    let group = h.staff("bk-group", "group_desk").await;
    let kiosk = h.kiosk("K-BK").await;

    // Day one through the API: a walk-in with a published report, a
    // check-in at the kiosk, a company's roster.
    let first = walk_in(&desk, &id_number(1975, 201), "孙备份").await;
    publish(&desk, first).await;
    kiosk_check_in(h, &kiosk, 0, 1).await;
    group_import(&group).await;

    // The queue joins arrivals in the background (issue 19): settled
    // before each backup, so the live store stands still for the compare.
    exam_server::queue::sync_joins(&h.server.state)
        .await
        .unwrap();
    let t0 = Utc::now();
    let full = backup::take(&live, &keys, backups.path(), Kind::Full, t0)
        .await
        .unwrap();
    assert_eq!(full.kind, Kind::Full);

    // Day two: more bookings, a cancellation (updates), another check-in,
    // and the nonces pruned (deletes).
    let later = book_tomorrow(&desk, &id_number(1980, 203), "李后来").await;
    let (st, v) = desk
        .post(
            &format!("/api/desk/visits/{later}/cancel"),
            json!({ "reason": "临时出差" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    walk_in(&desk, &id_number(1966, 205), "周又一").await;
    kiosk_check_in(h, &kiosk, 1, 2).await;
    let pruned = h
        .db()
        .prune_nonces(Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert!(pruned > 0);

    exam_server::queue::sync_joins(&h.server.state)
        .await
        .unwrap();
    let inc = backup::take(
        &live,
        &keys,
        backups.path(),
        Kind::Incremental,
        t0 + Duration::days(1),
    )
    .await
    .unwrap();
    assert_eq!(inc.base.as_deref(), Some(full.file.as_str()));
    println!(
        "{}\n{}",
        backup::cli::describe(&full),
        backup::cli::describe(&inc)
    );
    assert!(
        inc.file_bytes < full.file_bytes,
        "{} vs {}",
        inc.file_bytes,
        full.file_bytes
    );
    if let Some(pg) = &inc.postgres {
        assert!(
            pg.inserted > 0 && pg.updated > 0 && pg.deleted > 0,
            "{pg:?}"
        );
    }

    // Restored into an empty store: every table equal to the live one.
    let (target, pg_name) = empty_target(h, "restored.db").await;
    let started = std::time::Instant::now();
    let restored = backup::restore(&backups.path().join(&inc.file), &keys, &target)
        .await
        .unwrap();
    assert_eq!(restored.file, inc.file);
    println!(
        "restored full + incremental in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let diff = backup::compare_stores(&live, &target).await.unwrap();
    let different: Vec<&TableDiff> = diff.iter().filter(|d| !d.equal()).collect();
    assert!(different.is_empty(), "{different:#?}");
    assert!(diff.len() >= 25, "{} tables", diff.len());
    for t in [
        "people",
        "bookings",
        "registrations",
        "group_members",
        "reports",
        "audit_log",
        "kiosk_events",
    ] {
        assert!(
            rows(&diff, t) > 0,
            "{t} is empty: the drill proves nothing about it"
        );
    }
    let (text, same) = backup::cli::render_comparison(&diff, "live", "restored");
    assert!(same, "{text}");

    // The restored store keeps the audit table's guard: rows are not changed.
    {
        use sqlx::Connection;
        let mut c = sqlx::AnyConnection::connect(&target).await.unwrap();
        let e = sqlx::query("UPDATE audit_log SET detail = 'x'")
            .execute(&mut c)
            .await;
        assert!(e.is_err(), "the restored audit table accepted an UPDATE");
        c.close().await.unwrap();
    }

    // Never over a store with tables.
    let e = backup::restore(&backups.path().join(&full.file), &keys, &target)
        .await
        .unwrap_err();
    assert!(matches!(e, BackupError::NotEmpty), "{e}");
    drop_pg(pg_name).await;

    // A damaged backup file is refused, naming it; nothing is restored.
    let path = backups.path().join(&inc.file);
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (target, pg_name) = empty_target(h, "damaged.db").await;
    let e = backup::restore(&path, &keys, &target).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("damaged") && msg.contains(&inc.file), "{msg}");
    let left = backup::store_sums(&target)
        .await
        .map(|s| s.len())
        .unwrap_or(0);
    assert_eq!(left, 0, "a refused restore left tables behind");
    drop_pg(pg_name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_backs_up_restores_and_verifies() {
    // The commands as an operator types them, on SQLite.
    let h = Harness::start(Backend::Sqlite).await;
    let dir = h.dir.as_ref().unwrap().path().to_path_buf();
    let config = dir.join("exam.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = {:?}\ndata_key_file = {:?}\nbackup_dir = {:?}\n",
            h.server.state.config.database_url,
            dir.join("data.key").display().to_string(),
            dir.join("backups").display().to_string()
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.join("backups")).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_exam-server"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("EXAM_DATA_KEY")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = run(&["backup", "--kind", "full"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("full backup exam-sqlite-"), "{out}");
    let file = std::fs::read_dir(dir.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bak"))
        .unwrap();
    let (code, out) = run(&["verify-backup", "--file", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let target = format!("sqlite://{}", dir.join("copy.db").display());
    let (code, out) = run(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--into",
        &target,
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&["verify-backup", "--against", &target]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("every table has the same rows"), "{out}");
    // A restore over it is refused, with the reason.
    let (code, out) = run(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--into",
        &target,
    ]);
    assert_ne!(code, Some(0));
    assert!(out.contains("not empty"), "{out}");
    // After a change the stores differ, and the exit status says so.
    h.db()
        .prune_nonces(Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    let desk = h.staff("cli-desk", "front_desk").await;
    walk_in(&desk, &id_number(1979, 207), "吴变更").await;
    let (code, out) = run(&["verify-backup", "--against", &target]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("DIFFERENT"), "{out}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_backs_itself_up_on_schedule() {
    // backup_time at midnight: today's backup is due from the start, and
    // with no full backup yet it is a full one.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_path_buf();
    let h = Harness::start_with(Backend::Sqlite, |c| {
        c.backup_dir = Some(target);
        c.backup_time = chrono::NaiveTime::MIN;
    })
    .await;
    let mut list = Vec::new();
    for _ in 0..100 {
        list = backup::manifest::list(dir.path()).unwrap();
        if !list.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(list.len(), 1, "one backup at the start");
    assert_eq!(list[0].kind, Kind::Full);
    let metrics = h
        .http
        .get(format!("{}/metrics", h.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("exam_backup_last_success_timestamp_seconds "))
        .unwrap();
    assert_eq!(
        line,
        format!(
            "exam_backup_last_success_timestamp_seconds {}",
            list[0].taken_at.timestamp()
        )
    );
    assert!(
        metrics.contains("exam_backup_consecutive_failures 0"),
        "{metrics}"
    );
    h.stop().await;

    // A backup_dir that is not there (an unmounted disk) is not created:
    // a failure, counted, and an alarm.
    let gone = dir.path().join("not-mounted");
    let missing = gone.clone();
    let h = Harness::start_with(Backend::Sqlite, |c| {
        c.backup_dir = Some(missing);
        c.backup_time = chrono::NaiveTime::MIN;
    })
    .await;
    let mut failures = String::new();
    for _ in 0..100 {
        let m = h
            .http
            .get(format!("{}/metrics", h.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if let Some(l) = m
            .lines()
            .find(|l| l.starts_with("exam_backup_consecutive_failures "))
        {
            failures = l.to_string();
            if l != "exam_backup_consecutive_failures 0" {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(failures, "exam_backup_consecutive_failures 1");
    assert!(!gone.exists(), "the missing directory was created");
    h.stop().await;
}
