//! A visit's medical history and the departments' questionnaires (E6,
//! item 31): taken at the department page, sealed, printed on the report.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use exam_domain::results::history::{self, Answer, History, Question};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::AppState;
use crate::db::{Db, DbError, Result, SessionUser, ad, parse_ts, ts};
use crate::error::ApiErr;

fn history_ad(booking: i64) -> Vec<u8> {
    ad("medical_histories", "history", &[&booking.to_string()])
}

fn answers_ad(booking: i64, dept: &str) -> Vec<u8> {
    ad(
        "questionnaire_answers",
        "answers",
        &[&booking.to_string(), dept],
    )
}

/// The history as stored, with who wrote it when.
#[derive(Debug, Clone, Serialize)]
pub struct StoredHistory {
    pub history: History,
    pub written_by: String,
    pub written_at: DateTime<Utc>,
}

pub(crate) async fn get(db: &Db, booking: i64) -> Result<Option<StoredHistory>> {
    let row = sqlx::query(
        "SELECT history, written_by, written_at FROM medical_histories WHERE booking_id = $1",
    )
    .bind(booking)
    .fetch_optional(&db.read)
    .await?;
    row.map(|r| {
        let json = db
            .keys
            .open_string(&r.try_get::<String, _>("history")?, &history_ad(booking))?;
        Ok(StoredHistory {
            history: serde_json::from_str(&json).map_err(|e| DbError::Corrupt(e.to_string()))?,
            written_by: r.try_get("written_by")?,
            written_at: parse_ts(&r.try_get::<String, _>("written_at")?)?,
        })
    })
    .transpose()
}

/// Every department's answers of a visit.
pub(crate) async fn answers(db: &Db, booking: i64) -> Result<Vec<(String, Vec<(String, Answer)>)>> {
    let rows = sqlx::query(
        "SELECT department, answers FROM questionnaire_answers WHERE booking_id = $1 ORDER BY department",
    )
    .bind(booking)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            let dept: String = r.try_get("department")?;
            let json = db.keys.open_string(
                &r.try_get::<String, _>("answers")?,
                &answers_ad(booking, &dept),
            )?;
            Ok((
                dept,
                serde_json::from_str(&json).map_err(|e| DbError::Corrupt(e.to_string()))?,
            ))
        })
        .collect()
}

/// The questionnaire of `dept` for this person, with their answers so far.
#[derive(Debug, Serialize)]
pub struct Asked {
    pub questions: Vec<Question>,
    pub answers: Vec<(String, Answer)>,
}

pub(crate) async fn asked(
    db: &Db,
    booking: i64,
    dept: &str,
    sex: exam_domain::Sex,
) -> Result<Asked> {
    let questions = history::questionnaires()
        .into_iter()
        .find(|q| q.department == dept)
        .map(|q| q.for_sex(sex).into_iter().cloned().collect())
        .unwrap_or_default();
    let answers = answers(db, booking)
        .await?
        .into_iter()
        .find(|(d, _)| d == dept)
        .map(|(_, a)| a)
        .unwrap_or_default();
    Ok(Asked { questions, answers })
}

fn unprocessable(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_history",
        e.to_string(),
    )
}

async fn subject(st: &AppState, id: i64) -> std::result::Result<String, ApiErr> {
    match st.db.visit(id).await {
        Ok(v) => Ok(st.db.subject_of(v.record.person.id_number.as_str())),
        Err(crate::db::DeskError::NotFound) => Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有这次体检",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/results/visits/{id}/history`: the visit's medical history.
pub(super) async fn save_history(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(h): Json<History>,
) -> std::result::Result<Json<StoredHistory>, ApiErr> {
    h.check().map_err(unprocessable)?;
    let subject = subject(&st, id).await?;
    let json = serde_json::to_string(&h).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let now = Utc::now();
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO medical_histories(booking_id, history, written_by, written_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (booking_id) DO UPDATE SET history = $2, written_by = $3, written_at = $4",
    )
    .bind(id)
    .bind(st.db.keys.seal_str(&json, &history_ad(id)).map_err(DbError::from)?)
    .bind(&u.username)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(DbError::from)?;
    crate::db::log_line(
        &mut tx,
        &u.username,
        "result.history",
        &subject,
        &format!("booking={id}"),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(get(&st.db, id).await?.expect("just written")))
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswersIn {
    answers: Vec<(String, Answer)>,
}

/// `POST /api/results/visits/{id}/departments/{dept}/questionnaire`.
pub(super) async fn save_answers(
    State(st): State<AppState>,
    u: SessionUser,
    Path((id, dept)): Path<(i64, String)>,
    Json(body): Json<AnswersIn>,
) -> std::result::Result<Json<Vec<String>>, ApiErr> {
    let q = history::questionnaires()
        .into_iter()
        .find(|q| q.department == dept)
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "这个科室没有问卷"))?;
    let lines = history::answered(&q, &body.answers).map_err(unprocessable)?;
    let subject = subject(&st, id).await?;
    let json = serde_json::to_string(&body.answers).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let now = Utc::now();
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO questionnaire_answers(booking_id, department, answers, written_by, written_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (booking_id, department) DO UPDATE SET answers = $3, written_by = $4, written_at = $5",
    )
    .bind(id)
    .bind(&dept)
    .bind(st.db.keys.seal_str(&json, &answers_ad(id, &dept)).map_err(DbError::from)?)
    .bind(&u.username)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(DbError::from)?;
    crate::db::log_line(
        &mut tx,
        &u.username,
        "result.questionnaire",
        &subject,
        &format!("booking={id} department={dept}"),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(lines))
}

/// The history and the questionnaires' lines as the report prints them.
pub(crate) async fn report_lines(
    db: &Db,
    booking: i64,
    dept_name: impl Fn(&str) -> String,
) -> Result<Vec<(String, String)>> {
    let mut out = match get(db, booking).await? {
        Some(h) => h.history.lines(),
        None => Vec::new(),
    };
    let all = history::questionnaires();
    for (dept, answers) in answers(db, booking).await? {
        let Some(q) = all.iter().find(|q| q.department == dept) else {
            continue;
        };
        let lines = history::answered(q, &answers).unwrap_or_default();
        if !lines.is_empty() {
            out.push((format!("{}问诊", dept_name(&dept)), lines.join("；")));
        }
    }
    Ok(out)
}
