//! Booking and registering at the desk: a booking in a slot or a walk-in
//! registered now (optionally a copy of the person's last exam), 开单登记
//! of a booking, rebooking and cancelling with a reason.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use exam_domain::catalogue::Marital;
use exam_domain::changes::ItemStatus;
use exam_domain::plan::{self, PlanRequest};
use exam_domain::{BookingState, IdNumber};
use serde::Deserialize;

use super::views::{CreatedView, VisitView};
use super::{PersonIn, flags_of, package_name, person_of, plan_err, reason_of, staff_campus};
use crate::AppState;
use crate::db::{NewVisit, SearchKey, SessionUser, VisitKind};
use crate::error::ApiErr;
use crate::workflow::{bad, now_local};

#[derive(Debug, Deserialize)]
pub(super) struct VisitIn {
    person: PersonIn,
    marital: Marital,
    campus: Option<String>,
    date: Option<NaiveDate>,
    slot_start: Option<NaiveTime>,
    #[serde(default)]
    walk_in: bool,
    #[serde(default)]
    copy_last: bool,
    #[serde(flatten)]
    plan: PlanRequest,
    #[serde(default)]
    flags: Vec<String>,
}

pub(super) async fn create(
    State(st): State<AppState>,
    user: SessionUser,
    Json(r): Json<VisitIn>,
) -> Result<Json<CreatedView>, ApiErr> {
    let person = person_of(&r.person)?;
    let flags = flags_of(&r.flags)?;
    let (campus, prefix) = staff_campus(&st, &user, r.campus.as_deref())?;
    let now = now_local();
    let request = if r.copy_last {
        copy_of_last(&st, &person.id_number).await?
    } else {
        r.plan.clone()
    };
    let cat = st.catalogue.get();
    let plan = plan::plan(&cat, person.sex, r.marital, &request).map_err(plan_err)?;
    let (date, slot, take_slot) = if r.walk_in {
        let start = now
            .time()
            .with_minute(now.time().minute() / 30 * 30)
            .and_then(|t| t.with_second(0));
        let start = start
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now.time());
        (now.date(), (start, start + Duration::minutes(30)), false)
    } else {
        let (Some(date), Some(start)) = (r.date, r.slot_start) else {
            return Err(bad("slot", "预约须选择日期和时段"));
        };
        let end = exam_domain::slot::bookable(&st.config.slots, date, start, now)
            .map_err(|e| bad("slot", e.to_string()))?;
        (date, (start, end), true)
    };
    let package_name = package_name(&cat, &plan);
    let v = NewVisit {
        initials: crate::workflow::initials(&person.name),
        person,
        marital: r.marital,
        campus,
        campus_prefix: prefix,
        date,
        slot,
        take_slot,
        plan: plan.clone(),
        package_name,
        flags,
        kind: VisitKind::Individual,
        member_id: None,
        register_now: r.walk_in,
        pay_later: false,
    };
    let visit = st
        .db
        .create_visit(
            &user.username,
            &st.config.exam_no_rule,
            &st.config.slots,
            &v,
        )
        .await?;
    if r.walk_in {
        crate::cluster::feed::publish(&st, crate::cluster::feed::Topic::Registrations).await;
    }
    Ok(Json(CreatedView { visit, plan }))
}

/// "Copy from the last exam": the package and the single items of the
/// person's latest visit that was not cancelled.
async fn copy_of_last(st: &AppState, id: &IdNumber) -> Result<PlanRequest, ApiErr> {
    let latest = st
        .db
        .search(&SearchKey::IdNumber(id.as_str().into()), 50)
        .await?
        .into_iter()
        .find(|h| h.record.booking.state != BookingState::Cancelled)
        .ok_or_else(|| bad("copy_last", "此人没有可复制的既往体检"))?;
    let last = st.db.visit(latest.record.booking.id).await?;
    Ok(PlanRequest {
        package: last.package_code.clone(),
        add: last
            .items
            .iter()
            .filter(|i| !i.from_package && i.status != ItemStatus::Refunded)
            .map(|i| i.code.clone())
            .collect(),
        remove: vec![],
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterIn {
    #[serde(default)]
    flags: Vec<String>,
}

pub(super) async fn register(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<RegisterIn>,
) -> Result<Json<VisitView>, ApiErr> {
    let v = st
        .db
        .register(&user.username, id, &flags_of(&r.flags)?)
        .await?;
    // Every instance's staff pages and queue joiner (issue 21).
    crate::cluster::feed::publish(&st, crate::cluster::feed::Topic::Registrations).await;
    Ok(Json(VisitView::new(&st.catalogue.get(), &v)))
}

#[derive(Debug, Deserialize)]
pub(super) struct RebookIn {
    date: NaiveDate,
    slot_start: NaiveTime,
    reason: String,
}

pub(super) async fn rebook(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<RebookIn>,
) -> Result<Json<VisitView>, ApiErr> {
    let end = exam_domain::slot::bookable(&st.config.slots, r.date, r.slot_start, now_local())
        .map_err(|e| bad("slot", e.to_string()))?;
    let v = st
        .db
        .rebook(
            &user.username,
            &st.config.slots,
            id,
            r.date,
            (r.slot_start, end),
            reason_of(&r.reason)?,
        )
        .await?;
    Ok(Json(VisitView::new(&st.catalogue.get(), &v)))
}

#[derive(Debug, Deserialize)]
pub(super) struct CancelIn {
    reason: String,
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<CancelIn>,
) -> Result<Json<VisitView>, ApiErr> {
    let v = st
        .db
        .cancel(&user.username, id, reason_of(&r.reason)?)
        .await?;
    Ok(Json(VisitView::new(&st.catalogue.get(), &v)))
}
