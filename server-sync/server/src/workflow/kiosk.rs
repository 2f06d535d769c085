//! K17 at the kiosk: self-service booking, rebooking and cancelling, signed
//! like every kiosk request. The person is the one whose ID card the kiosk
//! read; the rules and the refusals are the front desk's.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::{Json, Router, routing::post};
use exam_domain::plan;
use exam_domain::{Booking, IdentityQuery};
use exam_protocol::{
    BookingOptions, BookingOptionsRequest, SelfBookRequest, SelfBooked, SelfCancelRequest,
    SelfRebookRequest, SlotOption, paths,
};

use super::desk::{PersonIn, campus_of, package_name, person_of, plan_err};
use super::{bad, now_local};
use crate::AppState;
use crate::api::{authenticate, parse};
use crate::db::NewVisit;
use crate::error::ApiErr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::BOOKING_OPTIONS, post(options))
        .route(paths::BOOK, post(book))
        .route(paths::REBOOK, post(rebook))
        .route(paths::CANCEL, post(cancel))
}

fn actor(kiosk: &str) -> String {
    format!("kiosk:{kiosk}")
}

async fn options(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BookingOptions>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let req: BookingOptionsRequest = parse(&st, &s.body)?;
    let now = now_local();
    let rows = st
        .db
        .slots(&st.config.slots, &s.kiosk.campus, req.date)
        .await?;
    let slots = rows
        .iter()
        .filter_map(|r| {
            let start = chrono::NaiveTime::parse_from_str(&r.start, "%H:%M:%S").ok()?;
            let end = exam_domain::slot::bookable(&st.config.slots, req.date, start, now).ok()?;
            Some(SlotOption {
                start,
                end,
                left: (r.capacity - r.booked).max(0),
            })
        })
        .collect();
    Ok(Json(BookingOptions::new(
        &st.catalogue.get(),
        req.date,
        slots,
    )))
}

async fn book(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SelfBooked>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let req: SelfBookRequest = parse(&st, &s.body)?;
    let person = person_of(&PersonIn {
        id_number: req.id_number.as_str().into(),
        name: req.name.clone(),
        mobile: req.mobile.clone(),
    })?;
    let cat = st.catalogue.get();
    let (campus, campus_prefix) = campus_of(&st, Some(&s.kiosk.campus))
        .map_err(|_| bad("campus", "本院区暂不支持自助预约"))?;
    let plan = plan::plan(&cat, person.sex, req.marital, &req.plan).map_err(plan_err)?;
    let end = exam_domain::slot::bookable(&st.config.slots, req.date, req.slot_start, now_local())
        .map_err(|e| bad("slot", e.to_string()))?;
    let v = NewVisit {
        initials: super::initials(&person.name),
        person,
        marital: req.marital,
        campus,
        campus_prefix,
        date: req.date,
        slot: (req.slot_start, end),
        take_slot: true,
        package_name: package_name(&cat, &plan),
        plan: plan.clone(),
        flags: vec![],
        kind: "individual",
        member_id: None,
        register_now: false,
        pay_later: false,
    };
    let created = st
        .db
        .create_visit(
            &actor(&s.kiosk.id),
            &st.config.exam_no_rule,
            &st.config.slots,
            &v,
        )
        .await?;
    let booking = st.db.visit(created.id).await?.record.booking;
    Ok(Json(SelfBooked { booking, plan }))
}

/// The booking with this code, if it is this person's.
async fn own_booking(
    st: &AppState,
    code: &str,
    id: &exam_domain::IdNumber,
) -> Result<Booking, ApiErr> {
    st.db
        .lookup(&IdentityQuery::BookingCode { code: code.into() })
        .await?
        .into_iter()
        .map(|r| r.booking)
        .find(|b| &b.id_number == id)
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有找到您的这条预约"))
}

async fn rebook(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Booking>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let req: SelfRebookRequest = parse(&st, &s.body)?;
    let b = own_booking(&st, &req.code, &req.id_number).await?;
    let end = exam_domain::slot::bookable(&st.config.slots, req.date, req.slot_start, now_local())
        .map_err(|e| bad("slot", e.to_string()))?;
    let v = st
        .db
        .rebook(
            &actor(&s.kiosk.id),
            &st.config.slots,
            b.id,
            req.date,
            (req.slot_start, end),
            "自助改约",
        )
        .await?;
    Ok(Json(v.record.booking))
}

async fn cancel(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Booking>, ApiErr> {
    let s = authenticate(&st, &method, &uri, &headers, body).await?;
    let req: SelfCancelRequest = parse(&st, &s.body)?;
    let b = own_booking(&st, &req.code, &req.id_number).await?;
    let reason = req.reason.trim();
    let reason = if reason.is_empty() {
        "自助取消"
    } else {
        reason
    };
    let v = st
        .db
        .cancel(
            &actor(&s.kiosk.id),
            b.id,
            &reason.chars().take(200).collect::<String>(),
        )
        .await?;
    Ok(Json(v.record.booking))
}
