//! What the desk looks up: the dictionaries, a day's slots, the search
//! box (every patient, or group members only), a plan's price before
//! booking, one visit with the person's earlier visits, and the caller's
//! own work of today in the operation log.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use exam_domain::IdNumber;
use exam_domain::catalogue::Marital;
use exam_domain::plan::{self, Plan, PlanRequest};
use serde::Deserialize;

use super::views::{
    CatalogueView, HistoryRow, Hits, Operations, SearchHit, SlotsView, VisitDetail, VisitView,
};
use super::{plan_err, staff_campus};
use crate::AppState;
use crate::db::{OpQuery, SearchKey, SessionUser, VisitKind};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::workflow::bad;

pub(super) async fn catalogue(State(st): State<AppState>) -> Result<Json<CatalogueView>, ApiErr> {
    Ok(Json(CatalogueView::new(&st.catalogue.get())))
}

#[derive(Debug, Deserialize)]
pub(super) struct SlotsQ {
    campus: Option<String>,
    date: NaiveDate,
}

pub(super) async fn slots(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<SlotsQ>,
) -> Result<Json<SlotsView>, ApiErr> {
    let (campus, _) = staff_campus(&st, &user, q.campus.as_deref())?;
    let slots = st.db.slots(&st.config.slots, &campus, q.date).await?;
    Ok(Json(SlotsView {
        campus,
        date: q.date,
        slots,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchQ {
    q: String,
}

/// What a search asked for, as its audit row says it: the kind of key and
/// the key masked (S5: the trail holds no full ID number or mobile).
pub(crate) fn searched(key: &SearchKey) -> String {
    use exam_domain::mask;
    match key {
        SearchKey::IdNumber(s) => format!("id_number {}", mask::id_number(s)),
        SearchKey::Mobile(s) => format!("mobile {}", mask::mobile(s)),
        // Booking codes are bearer identifiers at the kiosk: kept partly.
        SearchKey::Number(s) => format!("number {}", mask::id_number(s)),
        SearchKey::Initials(s) => format!("initials {s}"),
        SearchKey::Name(s) => format!("name {}", mask::name(s)),
    }
}

/// S5, 6.2.3, 8.7.5: a search is a read of personal data, one audit row
/// per request (who, by what, how many shown); no row, no answer.
async fn audit_search(
    st: &AppState,
    user: &SessionUser,
    action: &str,
    key: Option<&SearchKey>,
    shown: usize,
) -> Result<(), ApiErr> {
    let what = key.map_or_else(|| "nothing searchable".into(), searched);
    crate::audit::read_personal(
        &st.db,
        &user.username,
        action,
        "",
        format!("by {what}: {shown} shown"),
    )
    .await?;
    Ok(())
}

/// Up to 50 hits for `key` that `keep` keeps: when it may drop some, more
/// are read than shown and dropped after the read.
async fn hits(
    st: &AppState,
    key: Option<&SearchKey>,
    filtered: bool,
    keep: impl Fn(&crate::db::Hit) -> bool,
) -> Result<Vec<SearchHit>, ApiErr> {
    let Some(key) = key else { return Ok(vec![]) };
    Ok(st
        .db
        .search(key, if filtered { 500 } else { 50 })
        .await?
        .iter()
        .filter(|h| keep(h))
        .take(50)
        .map(SearchHit::from)
        .collect())
}

/// The search box over every patient (front desk); a campus-bound
/// account's over its campus's visits.
pub(super) async fn search(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<SearchQ>,
) -> Result<Json<Hits>, ApiErr> {
    let key = SearchKey::parse(&q.q);
    let hits = hits(&st, key.as_ref(), user.campus.is_some(), |h| {
        user.sees_campus(&h.record.booking.campus)
    })
    .await?;
    audit_search(&st, &user, "search.patients", key.as_ref(), hits.len()).await?;
    Ok(Json(Hits { hits }))
}

/// The same box over group members' visits only (the group desk at a
/// company's exam day): anyone else's visit is not among the answers.
pub(super) async fn group_search(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<SearchQ>,
) -> Result<Json<Hits>, ApiErr> {
    let key = SearchKey::parse(&q.q);
    let hits = hits(&st, key.as_ref(), true, |h| {
        h.kind == VisitKind::Group.as_str() && user.sees_campus(&h.record.booking.campus)
    })
    .await?;
    audit_search(&st, &user, "search.members", key.as_ref(), hits.len()).await?;
    Ok(Json(Hits { hits }))
}

#[derive(Debug, Deserialize)]
pub(super) struct PreviewIn {
    id_number: String,
    marital: Marital,
    #[serde(flatten)]
    plan: PlanRequest,
}

pub(super) async fn preview(
    State(st): State<AppState>,
    Json(r): Json<PreviewIn>,
) -> Result<Json<Plan>, ApiErr> {
    let id = IdNumber::parse(&r.id_number)
        .map_err(|e| bad("id_number", format!("身份证号有误：{e}")))?;
    let p = plan::plan(&st.catalogue.get(), id.sex(), r.marital, &r.plan).map_err(plan_err)?;
    Ok(Json(p))
}

pub(super) async fn detail(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<VisitDetail>, ApiErr> {
    let v = st.db.visit(id).await?;
    // The person's earlier visits are for who may search every patient:
    // the group desk sees the member's visit it serves, nothing before it.
    let history = if user.role.may(Capability::SearchPatients) {
        // As one list query, not each visit with its items.
        let key = SearchKey::IdNumber(v.record.person.id_number.as_str().into());
        st.db
            .search(&key, 50)
            .await?
            .iter()
            .filter(|h| h.record.booking.id != id)
            .map(HistoryRow::from)
            .collect()
    } else {
        vec![]
    };
    // S5: opening a visit reads its person's data (and their history).
    crate::audit::read_personal(
        &st.db,
        &user.username,
        "read.visit",
        &st.db.subject_of(v.record.person.id_number.as_str()),
        format!(
            "visit {id} of {}; {} earlier visits shown",
            exam_domain::mask::id_number(v.record.person.id_number.as_str()),
            history.len()
        ),
    )
    .await?;
    Ok(Json(VisitDetail {
        visit: VisitView::new(&st.catalogue.get(), &v),
        history,
    }))
}

pub(super) async fn operations(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<OpQuery>,
) -> Result<Json<Operations>, ApiErr> {
    // The caller's own work of today, masked (see `workflow::audit`).
    let q = crate::workflow::audit::desk_query(&user.username, q, chrono::Utc::now());
    let operations = st
        .db
        .operations(&q, 200)
        .await?
        .into_iter()
        .map(crate::workflow::audit::masked)
        .collect();
    Ok(Json(Operations { operations }))
}
