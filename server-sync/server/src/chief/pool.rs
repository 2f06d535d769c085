//! The pool of visits ready for the chief examination: entering them
//! (graded, the departments' conclusions as the draft), the worklists,
//! and assignment among the chief physicians.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use exam_domain::changes::ItemStatus;
use exam_domain::results::chief::{self, Physician, Readiness, ReportFacts, ReportState};
use serde::Serialize;

use super::api::{age, by_department, company, refused, sex_zh, visit};
use super::store::{self, Change, PhysicianRow, ReportRow};
use crate::AppState;
use crate::db::{DbError, SessionUser, Visit, VisitKind};
use crate::error::ApiErr;
use crate::results::knowledge;
use crate::results::store as results;

/// Whether a visit is ready, from its items and what has a result (an
/// entry at a department page, or a final result from an interface).
async fn readiness(st: &AppState, v: &Visit) -> Result<Readiness, ApiErr> {
    let id = v.record.booking.id;
    let mut done: Vec<String> = results::entries(&st.db, id)
        .await?
        .into_iter()
        .map(|e| e.item)
        .collect();
    let finals: Vec<String> = sqlx::query_scalar(
        "SELECT item_code FROM interface_items WHERE booking_id = $1 AND result = 'final'",
    )
    .bind(id)
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    done.extend(finals);
    let items: Vec<(String, ItemStatus, bool)> = v
        .items
        .iter()
        .map(|i| (i.code.clone(), i.status, done.contains(&i.code)))
        .collect();
    Ok(chief::readiness(&items))
}

pub(crate) async fn readiness_of(st: &AppState, id: i64) -> Result<Readiness, ApiErr> {
    readiness(st, &visit(st, id).await?).await
}

/// Enters visits that became ready into the pool (graded, with the
/// departments' conclusions as the first draft). Looks at the last 60
/// days' checked-in visits that have results and no report yet.
pub(crate) async fn enter_ready(st: &AppState) -> Result<usize, ApiErr> {
    let since = (Utc::now() - Duration::days(60)).date_naive().to_string();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT b.id FROM bookings b
          WHERE b.state = 'checked_in' AND b.exam_date >= $1
            AND NOT EXISTS (SELECT 1 FROM chief_reports c WHERE c.booking_id = b.id)
            AND EXISTS (SELECT 1 FROM item_results r WHERE r.booking_id = b.id)",
    )
    .bind(since)
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    let k = knowledge();
    let mut entered = 0;
    for id in ids {
        let v = visit(st, id).await?;
        if readiness(st, &v).await? != Readiness::Ready {
            continue;
        }
        let summaries = results::summaries(&st.db, id).await?;
        let draft = chief::aggregate(k, &by_department(&summaries));
        let facts = ReportFacts {
            group: v.kind == VisitKind::Group,
            vip: v.flags.iter().any(|f| f == "vip"),
            amount_fen: v
                .items
                .iter()
                .filter(|i| i.status == ItemStatus::Active)
                .map(|i| i.price_fen)
                .sum(),
            age: age(&v),
            conclusion_weights: draft.iter().map(|c| c.weight).collect(),
            major: !st.db.visit_major_abnormal(id).await?.is_empty(),
        };
        let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
        if store::enter(
            &mut tx,
            &st.db.keys,
            id,
            chief::grade(&facts),
            &draft,
            Utc::now(),
        )
        .await?
        {
            entered += 1;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(entered)
}

/// One line of a worklist.
#[derive(Debug, Serialize)]
pub(super) struct WorkRow {
    booking_id: i64,
    exam_no: String,
    name: String,
    sex: &'static str,
    age: u32,
    company: Option<String>,
    grade: u8,
    state: ReportState,
    physician: Option<String>,
    locked_by: Option<String>,
    updated_at: DateTime<Utc>,
}

async fn work_rows(st: &AppState, rows: Vec<ReportRow>) -> Result<Vec<WorkRow>, ApiErr> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let v = visit(st, r.booking_id).await?;
        out.push(WorkRow {
            booking_id: r.booking_id,
            exam_no: v.record.booking.exam_no.clone(),
            name: exam_domain::mask::name(&v.record.person.name),
            sex: sex_zh(&v),
            age: age(&v),
            company: company(st, r.booking_id).await?,
            grade: r.grade,
            state: r.state,
            physician: r.physician,
            locked_by: r.locked_by,
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub(super) struct Worklist {
    me: Option<PhysicianRow>,
    /// Reports given to me, not yet locked.
    mine: Vec<WorkRow>,
    /// Ready, given to nobody yet.
    pool: Vec<WorkRow>,
    /// Locked by others, for a reviewer.
    review: Vec<WorkRow>,
    physicians: Vec<PhysicianRow>,
}

pub(super) async fn me(st: &AppState, login: &str) -> Result<Option<PhysicianRow>, ApiErr> {
    Ok(store::physicians(&st.db)
        .await?
        .into_iter()
        .find(|p| p.login == login))
}

/// `GET /api/chief/worklist`.
pub(super) async fn worklist(
    State(st): State<AppState>,
    u: SessionUser,
) -> Result<Json<Worklist>, ApiErr> {
    enter_ready(&st).await?;
    let me = me(&st, &u.username).await?;
    let mine = store::list(
        &st.db,
        &[
            ReportState::Assigned,
            ReportState::Draft,
            ReportState::Locked,
        ],
        Some(&u.username),
    )
    .await?;
    let pool = store::list(&st.db, &[ReportState::Assigned], None)
        .await?
        .into_iter()
        .filter(|r| r.physician.is_none())
        .collect();
    let review = if me.as_ref().is_some_and(|p| p.reviewer) {
        store::list(&st.db, &[ReportState::Locked], None)
            .await?
            .into_iter()
            .filter(|r| r.locked_by.as_deref() != Some(u.username.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(Worklist {
        me,
        mine: work_rows(&st, mine).await?,
        pool: work_rows(&st, pool).await?,
        review: work_rows(&st, review).await?,
        physicians: store::physicians(&st.db).await?,
    }))
}

#[derive(Debug, Serialize)]
pub(super) struct Assigned {
    assigned: usize,
    /// Reports no physician may take (a grade above every level).
    left: usize,
}

/// `POST /api/chief/assign`: gives the pool out (a reviewer's task).
pub(super) async fn assign(
    State(st): State<AppState>,
    u: SessionUser,
) -> Result<Json<Assigned>, ApiErr> {
    if !me(&st, &u.username).await?.is_some_and(|p| p.reviewer) {
        return Err(refused("not_reviewer", "只有总审医生可以分配总检任务"));
    }
    enter_ready(&st).await?;
    let physicians = store::physicians(&st.db).await?;
    let open = store::list(&st.db, &[ReportState::Assigned, ReportState::Draft], None).await?;
    let (pool, held): (Vec<_>, Vec<_>) = open.into_iter().partition(|r| r.physician.is_none());
    let load: Vec<usize> = physicians
        .iter()
        .map(|p| {
            held.iter()
                .filter(|r| r.physician.as_deref() == Some(&p.login))
                .count()
        })
        .collect();
    let who: Vec<Physician> = physicians
        .iter()
        .map(|p| Physician {
            id: p.login.clone(),
            level: p.level,
        })
        .collect();
    let reports: Vec<(i64, u8)> = pool.iter().map(|r| (r.booking_id, r.grade)).collect();
    let seed = Utc::now().timestamp_micros().unsigned_abs();
    let given = chief::assign(&reports, &who, &load, seed);
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    let now = Utc::now();
    let mut assigned = 0;
    for (booking, p) in &given {
        let r = pool
            .iter()
            .find(|r| r.booking_id == *booking)
            .expect("from the pool");
        let change = Change {
            physician: Some(&who[*p].id),
            ..Change::default()
        };
        if store::update(
            &mut tx,
            &st.db.keys,
            *booking,
            r.version,
            ReportState::Assigned,
            &change,
            &u.username,
            now,
        )
        .await?
        {
            assigned += 1;
        }
    }
    crate::db::log_line(
        &mut tx,
        &u.username,
        "chief.assign",
        "chief",
        &format!("{assigned} reports to {} physicians", who.len()),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(Assigned {
        assigned,
        left: reports.len() - given.len(),
    }))
}
