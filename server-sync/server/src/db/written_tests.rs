//! A walk-in's visit as `create_visit_unlogged` wrote it is the visit read
//! back (its messages are worked out from the one in memory: five reads
//! fewer a walk-in), and what it sent is all a sync finds to send.

use std::sync::Arc;

use chrono::{NaiveTime, Utc};
use exam_domain::catalogue::Marital;
use exam_domain::exam_no::ExamNoRule;
use exam_domain::plan::{self, PlanRequest};
use exam_domain::slot::SlotTemplate;
use exam_domain::{IdNumber, Person, Sex};

use exam_vault::KeyRing;

use super::Written;
use crate::db::desk::{NewVisit, VisitKind};
use crate::db::{Db, ts};

async fn store() -> (tempfile::TempDir, Db, exam_domain::catalogue::Catalogue) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let db = Db::connect(&url, Arc::new(KeyRing::generate().unwrap()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let cat = exam_domain::catalogue::seed::catalogue();
    db.seed_catalogue(&cat).await.unwrap();
    (dir, db, cat)
}

fn walk_in(
    cat: &exam_domain::catalogue::Catalogue,
    person: Person,
    date: chrono::NaiveDate,
) -> NewVisit {
    let request = PlanRequest {
        package: Some("P-M-BASIC".into()),
        add: vec![],
        remove: vec![],
    };
    let plan = plan::plan(cat, Sex::Male, Marital::Married, &request).unwrap();
    let start = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
    NewVisit {
        initials: crate::workflow::initials(&person.name),
        person,
        marital: Marital::Married,
        campus: "main".into(),
        campus_prefix: "1".into(),
        date,
        slot: (start, start + chrono::Duration::minutes(30)),
        take_slot: false,
        package_name: crate::workflow::desk::package_name(cat, &plan),
        plan,
        flags: vec!["vip".into()],
        kind: VisitKind::Individual,
        member_id: None,
        register_now: true,
        pay_later: false,
    }
}

/// The visit as written, beside the one read back (change numbers aside).
/// The person is the one the visit's own transaction will find (asked
/// the same way first, then rolled back): new as given, or as stored.
async fn both(db: &Db, v: &NewVisit) -> (serde_json::Value, serde_json::Value) {
    let mut tx = db.pool.begin().await.unwrap();
    let (found, same_day) = crate::db::people::ensure_person_for_day(
        &mut tx,
        &db.keys,
        &v.person,
        &v.initials,
        &crate::db::slots::day(v.date),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(same_day, None);
    let stored = found.person(&v.person).expect("known exactly");
    let rule = ExamNoRule::default();
    let created = db
        .create_visit("desk", &rule, &SlotTemplate::default(), v)
        .await
        .unwrap();
    let mut read = db.visit(created.id).await.unwrap();
    read.record.change_seq = 0;
    let written = Written {
        id: created.id,
        code: &created.code,
        exam_no: &created.exam_no,
        due: read.record.booking.amount_due_fen,
        at: &ts(read.registered_at.unwrap()),
    }
    .visit(v, stored)
    .unwrap();
    assert_eq!(written.record.booking.amount_due_fen, v.plan.total_fen);
    (
        serde_json::to_value(&written).unwrap(),
        serde_json::to_value(&read).unwrap(),
    )
}

#[tokio::test]
async fn a_walk_in_written_is_the_walk_in_read_back_and_leaves_nothing_to_send() {
    let (_dir, db, cat) = store().await;
    let today = Utc::now().date_naive();
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 3, 1).unwrap();
    let id = IdNumber::compose("110105", birth, 13).unwrap();
    let first = Person {
        sex: id.sex(),
        birth_date: id.birth_date(),
        id_number: id.clone(),
        name: "王 小明".into(),
        mobile: "13800138000".into(),
    };
    // New: as given.
    let (written, read) = both(&db, &walk_in(&cat, first.clone(), today)).await;
    assert_eq!(written, read);
    // Known, the name typed otherwise and no mobile given: the stored
    // identity (with its mobile) is the visit's, and its messages'.
    let again = Person {
        name: "王小明".into(),
        mobile: String::new(),
        ..first.clone()
    };
    let tomorrow = today + chrono::Duration::days(1);
    let (written, read) = both(&db, &walk_in(&cat, again, tomorrow)).await;
    assert_eq!(written, read);
    assert_eq!(read["record"]["person"]["mobile"], "13800138000");
    assert_eq!(read["record"]["person"]["name"], "王 小明");

    // Everything due was sent: a sync from the store finds nothing more.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM bookings")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let mut tx = db.pool.begin().await.unwrap();
    let more = crate::interfaces::facts::sync_visits(
        &mut tx,
        &db.keys,
        &ids,
        crate::interfaces::facts::Locked::No,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(more, 0);
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM interface_messages")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    // Each visit's registration, the person's record once.
    assert_eq!(sent, 3);
}
