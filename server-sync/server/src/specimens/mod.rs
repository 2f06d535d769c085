//! Specimens (检验采集, E5): the blood room's and the specimen desk's page
//! (`/specimens`): scan a guide sheet or a tube, see the visit's tubes
//! (one per label) with their state; record the draw with its notes
//! (晕针, 采血困难), the hand-over to the laboratory, its receipt or
//! refusal (haemolysed, clotted...), the draw again; the checks: tubes
//! drawn and not at the laboratory after an hour, tubes to draw again.
//! The way of a tube is `exam_domain::specimen` (pure).

mod store;

pub(crate) use store::settle_in;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use exam_domain::specimen::{Problem, TubeEvent, TubeState, problems};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};
use store::{EventError, EventRow};

/// Drawn and not at the laboratory after this long: missing.
const MISSING_AFTER_MINUTES: i64 = 60;

pub(crate) fn routes(t: &mut RouteTable) {
    let c = Access::Can(Capability::CollectSpecimens);
    t.get("/specimens", c, page)
        .get("/api/specimens/find", c, find)
        .get("/api/specimens/problems", c, problem_list)
        .post("/api/specimens/{barcode}/events", c, event);
}

impl From<EventError> for ApiErr {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Db(e) => e.into(),
            EventError::Refused(_) | EventError::Moved => {
                ApiErr::new(StatusCode::CONFLICT, "refused", e.to_string())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "specimens.html")]
struct SpecimensPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
}

async fn page(u: SessionUser) -> Response {
    crate::workflow::render(&SpecimensPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    })
}

#[derive(Debug, Serialize)]
struct TubeView {
    barcode: String,
    sample: String,
    sample_name: String,
    items: Vec<String>,
    state: TubeState,
    state_zh: &'static str,
    draws: i64,
    drawn_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
struct VisitTubes {
    id: i64,
    exam_no: String,
    name: String,
    sex: &'static str,
    age: u32,
    tubes: Vec<TubeView>,
    events: Vec<EventRow>,
}

#[derive(Debug, Deserialize)]
struct FindQ {
    q: String,
}

/// The visit's labels (from its items) with each tube's stored state.
async fn tubes_of(st: &AppState, id: i64) -> Result<VisitTubes, ApiErr> {
    let v = st.db.visit(id).await?;
    let mut records = vec![v.record.clone()];
    crate::workflow::attach_documents(st, &mut records).await?;
    let labels = records
        .remove(0)
        .documents
        .map(|d| d.labels)
        .unwrap_or_default();
    let stored = store::of_visit(&st.db, id).await?;
    let tubes = labels
        .into_iter()
        .map(|l| {
            let s = stored.iter().find(|t| t.barcode == l.barcode);
            let state = s.map_or(TubeState::Pending, |t| t.state);
            TubeView {
                sample: serde_json::to_value(l.sample)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                sample_name: l.sample_name,
                items: l.items,
                state,
                state_zh: state.label_zh(),
                draws: s.map_or(0, |t| t.draws),
                drawn_at: s.and_then(|t| t.drawn_at),
                barcode: l.barcode,
            }
        })
        .collect();
    let p = &v.record.person;
    Ok(VisitTubes {
        id,
        exam_no: v.record.booking.exam_no.clone(),
        name: exam_domain::mask::name(&p.name),
        sex: if p.sex == exam_domain::Sex::Male {
            "男"
        } else {
            "女"
        },
        age: exam_domain::roster::age_on(p.birth_date, v.record.booking.exam_date),
        tubes,
        events: store::events(&st.db, id).await?,
    })
}

async fn find(
    State(st): State<AppState>,
    Query(q): Query<FindQ>,
) -> Result<Json<VisitTubes>, ApiErr> {
    let id = crate::results::find_visit(&st, &q.q).await?;
    tubes_of(&st, id).await.map(Json)
}

#[derive(Debug, Serialize)]
struct Moved {
    state: TubeState,
    state_zh: &'static str,
}

async fn event(
    State(st): State<AppState>,
    u: SessionUser,
    Path(barcode): Path<String>,
    Json(e): Json<TubeEvent>,
) -> Result<Json<Moved>, ApiErr> {
    let state = record_event(&st, &barcode, &e, &u.username).await?;
    Ok(Json(Moved {
        state,
        state_zh: state.label_zh(),
    }))
}

/// Tube `barcode` takes `event` as `by` (the page's route, and the demo's
/// simulated blood room).
pub async fn record_event(
    st: &AppState,
    barcode: &str,
    e: &TubeEvent,
    by: &str,
) -> Result<TubeState, ApiErr> {
    let id = crate::results::find_visit(st, barcode).await?;
    let visit = tubes_of(st, id).await?;
    let Some(tube) = visit.tubes.iter().find(|t| t.barcode == barcode) else {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_tube",
            "此次体检没有这支试管（请扫描试管条码）",
        ));
    };
    Ok(store::apply(&st.db, id, barcode, &tube.sample, e, by, Utc::now()).await?)
}

async fn problem_list(State(st): State<AppState>) -> Result<Json<Vec<Problem>>, ApiErr> {
    let tubes = store::unsettled(&st.db).await?;
    Ok(Json(problems(
        &tubes,
        Utc::now(),
        Duration::minutes(MISSING_AFTER_MINUTES),
    )))
}
