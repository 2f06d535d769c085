//! K17 at the kiosk: self-service booking, rebooking and cancelling. The
//! person is the one whose ID card the kiosk read; the rules and the
//! refusals are the front desk's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use exam_domain::plan;
use exam_domain::{Booking, IdentityQuery};
use exam_protocol::{
    BookingOptions, BookingOptionsRequest, SelfBookRequest, SelfBooked, SelfCancelRequest,
    SelfRebookRequest, SlotOption,
};

use super::{SignedJson, actor, scope};
use crate::AppState;
use crate::db::{DeskError, KioskRow, NewVisit, VisitKind};
use crate::error::ApiErr;
use crate::workflow::{PersonIn, bad, campus_of, now_local, package_name, person_of, plan_err};

pub(super) async fn options(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<BookingOptionsRequest>,
) -> Result<Json<BookingOptions>, ApiErr> {
    let now = now_local();
    let rows = st
        .db
        .slots(&st.config.slots, &kiosk.campus, req.date)
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

pub(super) async fn book(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<SelfBookRequest>,
) -> Result<Json<SelfBooked>, ApiErr> {
    let person = person_of(&PersonIn {
        id_number: req.id_number.as_str().into(),
        name: req.name.clone(),
        mobile: req.mobile.clone(),
    })?;
    let cat = st.catalogue.get();
    let (campus, campus_prefix) =
        campus_of(&st, Some(&kiosk.campus)).map_err(|_| bad("campus", "本院区暂不支持自助预约"))?;
    let plan = plan::plan(&cat, person.sex, req.marital, &req.plan).map_err(plan_err)?;
    let end = exam_domain::slot::bookable(&st.config.slots, req.date, req.slot_start, now_local())
        .map_err(|e| bad("slot", e.to_string()))?;
    let v = NewVisit {
        initials: crate::workflow::initials(&person.name),
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
        kind: VisitKind::Individual,
        member_id: None,
        register_now: false,
        pay_later: false,
    };
    let created = st
        .db
        .create_visit(
            &actor(&kiosk),
            &st.config.exam_no_rule,
            &st.config.slots,
            &v,
        )
        .await
        .map_err(already_booked_without_number)?;
    let booking = st.db.visit(created.id).await?.record.booking;
    Ok(Json(SelfBooked { booking, plan }))
}

/// At the kiosk a same-day booking is named without its exam number: it
/// may be another campus's, which this kiosk is told nothing about.
fn already_booked_without_number(e: DeskError) -> ApiErr {
    match e {
        DeskError::AlreadyBooked { .. } => ApiErr::new(
            StatusCode::CONFLICT,
            "already_booked",
            "您当天已有预约，请改约或到服务台咨询",
        ),
        other => other.into(),
    }
}

/// The booking with this code, if it is this person's and of this kiosk's
/// campus: one of another campus is answered as not found (and audited).
async fn own_booking(
    st: &AppState,
    kiosk: &KioskRow,
    route: &str,
    code: &str,
    id: &exam_domain::IdNumber,
) -> Result<Booking, ApiErr> {
    let not_found = || ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有找到您的这条预约");
    let b = st
        .db
        .lookup(&IdentityQuery::BookingCode { code: code.into() })
        .await?
        .into_iter()
        .map(|r| r.booking)
        .find(|b| &b.id_number == id)
        .ok_or_else(not_found)?;
    if b.campus != kiosk.campus {
        scope::out_of_scope(st, kiosk, route, 1).await?;
        return Err(not_found());
    }
    Ok(b)
}

pub(super) async fn rebook(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<SelfRebookRequest>,
) -> Result<Json<Booking>, ApiErr> {
    let b = own_booking(&st, &kiosk, "rebook", &req.code, &req.id_number).await?;
    let end = exam_domain::slot::bookable(&st.config.slots, req.date, req.slot_start, now_local())
        .map_err(|e| bad("slot", e.to_string()))?;
    let v = st
        .db
        .rebook(
            &actor(&kiosk),
            &st.config.slots,
            b.id,
            req.date,
            (req.slot_start, end),
            "自助改约",
        )
        .await?;
    Ok(Json(v.record.booking))
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    SignedJson { kiosk, body: req }: SignedJson<SelfCancelRequest>,
) -> Result<Json<Booking>, ApiErr> {
    let b = own_booking(&st, &kiosk, "cancel", &req.code, &req.id_number).await?;
    let reason = req.reason.trim();
    let reason = if reason.is_empty() {
        "自助取消"
    } else {
        reason
    };
    let v = st
        .db
        .cancel(
            &actor(&kiosk),
            b.id,
            &reason.chars().take(200).collect::<String>(),
        )
        .await?;
    Ok(Json(v.record.booking))
}
