//! The interfaces page (`/interfaces`, `Capability::ManageInterfaces`):
//! every counterpart's line (sent, acknowledged, failing, waiting, dead,
//! the last error, whether an adapter is configured at all), one
//! counterpart's messages with a retry button on dead letters, a
//! visit's items ordered vs received with re-fetch and manual transfer,
//! the major abnormal results raised from results (open ones listed, a
//! visit's with their values), and HIS's prices (the last run, the change
//! log, the codes that do not match, a button to fetch them now).
//! The same data as JSON under `/api/interfaces/*` for scripts.
//!
//! Messages are listed by kind, exam number and item, never by name; the
//! visit view shows the masked name and is audited as a read of personal
//! data; the pages carry the watermark (S5).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::abnormal::{OpenResult, VisitResult};
use super::manual::{Manual, ManualError};
use super::price_sync::{PriceView, SyncOutcome};
use super::view::{ItemLink, LineSummary, MessageView};
use super::{Counterpart, MessageState};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::ManageInterfaces as M;
    t.get("/interfaces", Access::Can(M), page)
        .get("/interfaces/visits/{id}", Access::Can(M), visit_page)
        .get("/api/interfaces", Access::Can(M), lines_json)
        .get(
            "/api/interfaces/{counterpart}/messages",
            Access::Can(M),
            messages_json,
        )
        .post("/api/interfaces/messages/{id}/retry", Access::Can(M), retry)
        .get("/api/interfaces/visits/{id}", Access::Can(M), visit_json)
        .get("/api/interfaces/abnormal", Access::Can(M), abnormal_json)
        .get("/api/interfaces/his/prices", Access::Can(M), prices_json)
        .post(
            "/api/interfaces/his/prices/sync",
            Access::Can(Capability::EditCatalogue),
            prices_sync,
        )
        .post(
            "/api/interfaces/visits/{id}/items/{code}/refetch",
            Access::Can(M),
            refetch,
        )
        .post(
            "/api/interfaces/visits/{id}/items/{code}/transfer",
            Access::Can(M),
            transfer,
        );
}

/// One counterpart's line as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub counterpart: Counterpart,
    pub label: &'static str,
    /// The adapter's name, or None: messages wait until one is configured.
    pub adapter: Option<String>,
    #[serde(flatten)]
    pub numbers: LineSummary,
    pub open: i64,
    pub failing_minutes: Option<i64>,
}

async fn lines(st: &AppState) -> Result<Vec<LineView>, ApiErr> {
    let now = Utc::now();
    Ok(st
        .db
        .interface_lines()
        .await?
        .into_iter()
        .filter_map(|l| {
            let c = l.counterpart?;
            Some(LineView {
                counterpart: c,
                label: c.label_zh(),
                adapter: st
                    .config
                    .interfaces
                    .counterparts
                    .get(&c)
                    .map(|s| s.adapter.clone()),
                open: l.open(),
                failing_minutes: l.head_failing_since.map(|t| (now - t).num_minutes()),
                numbers: l,
            })
        })
        .collect())
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    c: Option<String>,
    state: Option<String>,
}

#[derive(Template)]
#[template(path = "interfaces.html")]
struct InterfacesPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    lines: Vec<LineView>,
    selected: Option<Counterpart>,
    state: String,
    messages: Vec<MessageView>,
    /// Open major abnormal results, category A first.
    abnormal: Vec<OpenResult>,
    /// HIS's prices: the last run, the change log.
    prices: PriceView,
}

const LIST: i64 = 200;

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiErr> {
    let selected = q.c.as_deref().and_then(Counterpart::parse);
    let state = q.state.as_deref().and_then(MessageState::parse);
    let messages = match selected {
        Some(c) => st.db.interface_messages(c, state, LIST).await?,
        None => Vec::new(),
    };
    let abnormal = open_abnormal(&st, &u, None).await?;
    let prices = st.db.his_price_view(his_configured(&st)).await?;
    Ok(crate::workflow::render(&InterfacesPage {
        abnormal,
        prices,
        lines: lines(&st).await?,
        selected,
        state: state.map_or("", MessageState::as_str).to_string(),
        messages,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}

async fn lines_json(State(st): State<AppState>) -> Result<Json<Vec<LineView>>, ApiErr> {
    Ok(Json(lines(&st).await?))
}

/// Open major abnormal results (category A first, then oldest first),
/// the read audited: a visit with a category and an analyte is health
/// data even without a name.
async fn open_abnormal(
    st: &AppState,
    u: &SessionUser,
    of: Option<exam_domain::abnormal::Category>,
) -> Result<Vec<OpenResult>, ApiErr> {
    let mut list = st.db.open_major_abnormal(of, Utc::now()).await?;
    list.sort_by_key(|r| r.category);
    if list.is_empty() {
        return Ok(list);
    }
    crate::audit::read_personal(
        &st.db,
        &u.username,
        "read.abnormal",
        "abnormal:open",
        format!(
            "category={} shown={}",
            of.map_or("all", exam_domain::abnormal::Category::as_str),
            list.len()
        ),
    )
    .await?;
    Ok(list)
}

#[derive(Debug, Deserialize)]
struct CategoryQuery {
    category: Option<String>,
}

async fn abnormal_json(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<CategoryQuery>,
) -> Result<Json<Vec<OpenResult>>, ApiErr> {
    let of = match q.category.as_deref() {
        None | Some("") => None,
        Some(c) => Some(exam_domain::abnormal::Category::parse(c).ok_or_else(|| {
            ApiErr::new(StatusCode::BAD_REQUEST, "bad_category", "类别只能是 A 或 B")
        })?),
    };
    Ok(Json(open_abnormal(&st, &u, of).await?))
}

fn his_configured(st: &AppState) -> bool {
    matches!(
        super::price_sync::source(&st.config.interfaces),
        Ok(Some(_))
    )
}

async fn prices_json(State(st): State<AppState>) -> Result<Json<PriceView>, ApiErr> {
    Ok(Json(st.db.his_price_view(his_configured(&st)).await?))
}

/// An administrator fetches HIS's prices now (the job does it every
/// `price_sync_minutes`); audited with the run.
async fn prices_sync(
    State(st): State<AppState>,
    u: SessionUser,
) -> Result<Json<SyncOutcome>, ApiErr> {
    let src = super::price_sync::source(&st.config.interfaces)
        .map_err(|e| ApiErr::new(StatusCode::CONFLICT, "his_misconfigured", e))?
        .ok_or_else(|| {
            ApiErr::new(
                StatusCode::CONFLICT,
                "his_not_configured",
                "未配置 HIS 接口（[interfaces.counterparts.his]）",
            )
        })?;
    Ok(Json(super::price_sync::run(&st, &src, &u.username).await?))
}

#[derive(Debug, Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn messages_json(
    State(st): State<AppState>,
    Path(c): Path<String>,
    Query(q): Query<StateQuery>,
) -> Result<Json<Vec<MessageView>>, ApiErr> {
    let c = Counterpart::parse(&c)
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口"))?;
    let state = q.state.as_deref().and_then(MessageState::parse);
    Ok(Json(st.db.interface_messages(c, state, LIST).await?))
}

#[derive(Debug, Serialize)]
struct Retried {
    id: i64,
    counterpart: Counterpart,
    key: String,
}

async fn retry(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<Retried>, ApiErr> {
    match st.db.retry_dead_letter(&u.username, id, Utc::now()).await? {
        Some((counterpart, key)) => Ok(Json(Retried {
            id,
            counterpart,
            key,
        })),
        None => Err(ApiErr::new(
            StatusCode::CONFLICT,
            "not_dead",
            "这条消息不是死信（可能已被重试）",
        )),
    }
}

/// A visit's items and messages.
#[derive(Debug, Serialize)]
pub struct VisitInterfaces {
    pub booking_id: i64,
    pub exam_no: String,
    /// Masked.
    pub name: String,
    pub items: Vec<ItemLink>,
    pub messages: Vec<MessageView>,
    /// Its major abnormal results, values opened.
    pub abnormal: Vec<VisitResult>,
}

async fn visit_data(st: &AppState, u: &SessionUser, id: i64) -> Result<VisitInterfaces, ApiErr> {
    let v = st.db.visit(id).await?;
    let (items, messages) = st.db.interface_visit(id).await?;
    let abnormal = st.db.visit_major_abnormal(id).await?;
    crate::audit::read_personal(
        &st.db,
        &u.username,
        "read.interfaces",
        &st.db.subject_of(v.record.person.id_number.as_str()),
        format!(
            "exam_no={} major_abnormal={}",
            v.record.booking.exam_no,
            abnormal.len()
        ),
    )
    .await?;
    Ok(VisitInterfaces {
        booking_id: id,
        exam_no: v.record.booking.exam_no.clone(),
        name: exam_domain::mask::name(&v.record.person.name),
        items,
        messages,
        abnormal,
    })
}

async fn visit_json(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<VisitInterfaces>, ApiErr> {
    Ok(Json(visit_data(&st, &u, id).await?))
}

#[derive(Template)]
#[template(path = "interfaces_visit.html")]
struct VisitPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    v: VisitInterfaces,
}

async fn visit_page(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let v = visit_data(&st, &u, id).await?;
    Ok(crate::workflow::render(&VisitPage {
        v,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}

#[derive(Debug, Serialize)]
struct Enqueued {
    counterpart: Counterpart,
    key: String,
}

async fn refetch(
    State(st): State<AppState>,
    u: SessionUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Json<Enqueued>, ApiErr> {
    manual(&st, &u, id, &code, Manual::Refetch).await
}

async fn transfer(
    State(st): State<AppState>,
    u: SessionUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Json<Enqueued>, ApiErr> {
    manual(&st, &u, id, &code, Manual::Transfer).await
}

async fn manual(
    st: &AppState,
    u: &SessionUser,
    id: i64,
    code: &str,
    what: Manual,
) -> Result<Json<Enqueued>, ApiErr> {
    match st
        .db
        .interface_manual(&u.username, id, code, what, Utc::now())
        .await
    {
        Ok((counterpart, key)) => Ok(Json(Enqueued { counterpart, key })),
        Err(ManualError::NoOrder) => Err(ApiErr::new(
            StatusCode::CONFLICT,
            "no_order",
            ManualError::NoOrder.to_string(),
        )),
        Err(ManualError::NotFound) => Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            ManualError::NotFound.to_string(),
        )),
        Err(ManualError::Db(e)) => Err(e.into()),
    }
}
