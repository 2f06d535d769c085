//! The major-abnormal-results board (重要异常结果, E7, items 34–36 and
//! 95–97): every open case with its category's timer, oldest first; a
//! case's value, the person and every step so far; review (confirm or
//! dismiss with a reason), notification (whom, by phone, SMS through the
//! SMS interface or in person, reached or not), follow-up (advice,
//! referral, outcome: the outcome closes it); a case reported by hand at
//! any step (item 34); statistics per category.
//!
//! Cases are raised by the laboratory's results (`interfaces::abnormal`)
//! and by the department page (`crate::results`); their way is
//! `exam_domain::abnormal_case` (pure); rows and steps in `store`.

mod store;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use exam_domain::abnormal::Category;
use exam_domain::abnormal_case::{self as case, CaseAction, CaseFacts, CaseState, Timers};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::interfaces::abnormal::{ObservedValue, Raise, Source, rule_zh};
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};
use store::{BoardRow, StepError, StepRow};

pub(crate) fn routes(t: &mut RouteTable) {
    let m = Access::Can(Capability::ManageAbnormal);
    t.get("/abnormal", m, page)
        .get("/api/abnormal", m, board)
        .get("/api/abnormal/{id}", m, detail)
        .post("/api/abnormal/{id}/steps", m, act)
        .post("/api/abnormal/report", m, report);
}

impl From<StepError> for ApiErr {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Db(e) => e.into(),
            StepError::NotFound => ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            StepError::Refused(_) => ApiErr::new(StatusCode::CONFLICT, "refused", e.to_string()),
            StepError::Moved => ApiErr::new(StatusCode::CONFLICT, "moved", e.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "abnormal.html")]
struct BoardPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
}

async fn page(u: SessionUser) -> Response {
    crate::workflow::render(&BoardPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    })
}

#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    row: BoardRow,
    state_zh: &'static str,
    /// What the timer runs against now: reaching the patient, then the
    /// outcome; None once done.
    deadline: Option<DateTime<Utc>>,
    overdue: bool,
}

#[derive(Debug, Serialize)]
struct Board {
    rows: Vec<Row>,
    stats: case::Stats,
    now: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct BoardQ {
    /// Also the cases closed in the last 30 days.
    #[serde(default)]
    all: bool,
}

fn view(t: &Timers, r: BoardRow, now: DateTime<Utc>) -> Row {
    let deadline = case::deadline(t, r.category, r.state, r.raised_at, r.notified_at);
    Row {
        state_zh: r.state.label_zh(),
        overdue: deadline.is_some_and(|d| now > d),
        deadline,
        row: r,
    }
}

async fn board(State(st): State<AppState>, Query(q): Query<BoardQ>) -> Result<Json<Board>, ApiErr> {
    let now = Utc::now();
    let t = Timers::default();
    let month = store::board(&st.db, true, now - Duration::days(30)).await?;
    let facts: Vec<CaseFacts> = month
        .iter()
        .map(|r| CaseFacts {
            category: r.category,
            state: r.state,
            raised_at: r.raised_at,
            notified_at: r.notified_at,
        })
        .collect();
    let stats = case::stats(&t, &facts, now);
    let rows = month
        .into_iter()
        .filter(|r| q.all || r.state.open())
        .map(|r| view(&t, r, now))
        .collect();
    Ok(Json(Board { rows, stats, now }))
}

#[derive(Debug, Serialize)]
struct Detail {
    case: Row,
    name: String,
    sex: &'static str,
    age: u32,
    mobile: String,
    value: String,
    unit: String,
    rule_zh: String,
    steps: Vec<StepRow>,
}

async fn detail(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<Detail>, ApiErr> {
    let now = Utc::now();
    let Some(row) = store::case(&st.db, id).await? else {
        return Err(StepError::NotFound.into());
    };
    let visit = st.db.visit(row.booking_id).await?;
    let found = st
        .db
        .visit_major_abnormal(row.booking_id)
        .await?
        .into_iter()
        .find(|v| v.id == id)
        .ok_or(StepError::NotFound)?;
    let p = &visit.record.person;
    // The value and the person: a read of medical data, audited.
    st.db
        .audit_on(
            &u.username,
            "read.abnormal",
            &st.db.subject_of(p.id_number.as_str()),
            &format!("id={id} booking={}", row.booking_id),
        )
        .await?;
    Ok(Json(Detail {
        name: exam_domain::mask::name(&p.name),
        sex: if p.sex == exam_domain::Sex::Male {
            "男"
        } else {
            "女"
        },
        age: exam_domain::roster::age_on(p.birth_date, now.date_naive()),
        // The doctor phones the patient: the number in full, on purpose.
        mobile: p.mobile.clone(),
        value: found.value,
        unit: found.unit,
        rule_zh: rule_zh(&found.rule),
        steps: store::steps(&st.db, id).await?,
        case: view(&Timers::default(), row, now),
    }))
}

#[derive(Debug, Serialize)]
struct Acted {
    state: CaseState,
    sms_requested: bool,
}

async fn act(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(action): Json<CaseAction>,
) -> Result<Json<Acted>, ApiErr> {
    let (state, sms_requested) = store::act(&st.db, id, &action, &u.username, Utc::now()).await?;
    Ok(Json(Acted {
        state,
        sms_requested,
    }))
}

/// A case reported by hand at any step (item 34): by exam number, the
/// item, what was found and its category.
#[derive(Debug, Deserialize)]
struct ReportIn {
    exam_no: String,
    item_code: String,
    finding: String,
    category: Category,
}

#[derive(Debug, Serialize)]
struct Reported {
    id: Option<i64>,
}

async fn report(
    State(st): State<AppState>,
    u: SessionUser,
    Json(r): Json<ReportIn>,
) -> Result<Json<Reported>, ApiErr> {
    let finding = r.finding.trim();
    if finding.is_empty() || finding.chars().count() > 200 {
        return Err(ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_finding",
            "请填写所见（200 字以内）",
        ));
    }
    let booking = crate::results::find_visit(&st, &r.exam_no).await?;
    let visit = st.db.visit(booking).await?;
    if !visit.items.iter().any(|i| i.code == r.item_code) {
        return Err(ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_item",
            "此次体检没有这个项目",
        ));
    }
    let o = ObservedValue {
        // One manual report per item and category (the store's key).
        code: "manual".into(),
        name: finding.to_string(),
        value: finding.to_string(),
        unit: String::new(),
        reference_range: String::new(),
        flag: None,
    };
    let id = st
        .db
        .raise_major_abnormal(
            &Raise {
                booking_id: booking,
                item_code: &r.item_code,
                inbound_id: None,
                observed: &o,
                category: r.category,
                rule: "reported".into(),
                source: Source::Manual,
                by: &u.username,
            },
            Utc::now(),
        )
        .await?;
    Ok(Json(Reported { id }))
}
