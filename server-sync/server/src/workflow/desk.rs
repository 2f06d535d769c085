//! Front-desk JSON API (E1, E4, K17): search, slots, plan preview, booking,
//! walk-in registration, rebook / cancel, item changes, payment, the
//! operation log.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use exam_domain::catalogue::Marital;
use exam_domain::changes::{ItemChange, ItemStatus};
use exam_domain::documents::{self, DocItem};
use exam_domain::plan::{self, Plan, PlanRequest};
use exam_domain::{IdNumber, Person, mask};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{bad, now_local};
use crate::AppState;
use crate::db::SessionUser;
use crate::db::{NewVisit, OpQuery, SearchKey, Visit};
use crate::error::ApiErr;
use crate::roles::Capability;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/desk/catalogue", get(catalogue))
        .route("/api/desk/slots", get(slots))
        .route("/api/desk/search", get(search))
        .route("/api/desk/plan", post(preview))
        .route("/api/desk/visits", post(create))
        .route("/api/desk/visits/{id}", get(detail))
        .route("/api/desk/visits/{id}/register", post(register))
        .route("/api/desk/visits/{id}/rebook", post(rebook))
        .route("/api/desk/visits/{id}/cancel", post(cancel))
        .route("/api/desk/visits/{id}/items", post(add_items))
        .route("/api/desk/visits/{id}/items/{code}", post(change_item))
        .route(
            "/api/desk/visits/{id}/items/{code}/signature",
            get(signature),
        )
        .route("/api/desk/visits/{id}/pay", post(pay))
        .route("/api/desk/visits/{id}/photo", get(photo))
        .route("/api/desk/operations", get(operations))
}

type ApiResult = Result<Json<Value>, ApiErr>;

#[derive(Debug, Deserialize)]
pub(crate) struct PersonIn {
    pub id_number: String,
    pub name: String,
    #[serde(default)]
    pub mobile: String,
}

/// A person as the desk typed them: the ID number decides sex and birth date.
pub(crate) fn person_of(p: &PersonIn) -> Result<Person, ApiErr> {
    let id_number = IdNumber::parse(&p.id_number)
        .map_err(|e| bad("id_number", format!("身份证号有误：{e}")))?;
    let name = p.name.trim();
    let n = name.chars().count();
    if n == 0 || n > 30 || name.chars().any(|c| c.is_ascii_digit() || c.is_control()) {
        return Err(bad("name", "姓名须为 1–30 个字，不含数字"));
    }
    let mobile = if p.mobile.trim().is_empty() {
        String::new()
    } else {
        exam_domain::roster::parse_mobile(&p.mobile)
            .ok_or_else(|| bad("mobile", "手机号须为 11 位大陆手机号"))?
    };
    Ok(Person {
        sex: id_number.sex(),
        birth_date: id_number.birth_date(),
        id_number,
        name: name.to_string(),
        mobile,
    })
}

fn flags_of(flags: &[String]) -> Result<Vec<String>, ApiErr> {
    for f in flags {
        if !["vip", "complaint", "proxy"].contains(&f.as_str()) {
            return Err(bad(
                "flags",
                format!("未知标记 {f:?}（vip / complaint / proxy）"),
            ));
        }
    }
    let mut v = flags.to_vec();
    v.sort();
    v.dedup();
    Ok(v)
}

async fn catalogue(State(st): State<AppState>, user: SessionUser) -> ApiResult {
    user.require(Capability::LookUpVisits)?;
    let cat = st.catalogue.get();
    Ok(Json(json!({
        "campuses": cat.campuses,
        "packages": cat.packages,
        "items": cat.items,
        "departments": cat.departments,
        "exam_types": cat.exam_types,
    })))
}

#[derive(Debug, Deserialize)]
struct SlotsQ {
    campus: Option<String>,
    date: NaiveDate,
}

async fn slots(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<SlotsQ>,
) -> ApiResult {
    user.require(Capability::LookUpVisits)?;
    let campus = campus_of(&st, q.campus.as_deref())?;
    let rows = st.db.slots(&st.config.slots, &campus.0, q.date).await?;
    Ok(Json(
        json!({ "campus": campus.0, "date": q.date, "slots": rows }),
    ))
}

/// The campus code and its exam-number prefix; the configured one by default.
pub(crate) fn campus_of(st: &AppState, code: Option<&str>) -> Result<(String, String), ApiErr> {
    let code = code.unwrap_or(&st.config.demo_campus);
    st.catalogue
        .get()
        .campuses
        .iter()
        .find(|c| c.code == code)
        .map(|c| (c.code.clone(), c.exam_no_prefix.clone()))
        .ok_or_else(|| bad("campus", format!("没有院区 {code:?}")))
}

#[derive(Debug, Deserialize)]
struct SearchQ {
    q: String,
}

async fn search(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<SearchQ>,
) -> ApiResult {
    user.require(Capability::LookUpVisits)?;
    let Some(key) = SearchKey::parse(&q.q) else {
        return Ok(Json(json!({ "hits": [] })));
    };
    let hits = st.db.search(&key, 50).await?;
    let rows: Vec<Value> = hits
        .iter()
        .map(|h| {
            let b = &h.record.booking;
            let p = &h.record.person;
            json!({
                "id": b.id, "exam_no": b.exam_no, "code": b.code,
                "name": p.name, "sex": p.sex, "id_number": mask::id_number(p.id_number.as_str()),
                "mobile": mask::mobile(&p.mobile), "date": b.exam_date, "slot": b.slot_start.format("%H:%M").to_string(),
                "package": b.package, "state": b.state, "kind": h.kind, "flags": h.flags,
            })
        })
        .collect();
    Ok(Json(json!({ "hits": rows })))
}

#[derive(Debug, Deserialize)]
struct PreviewIn {
    id_number: String,
    marital: Marital,
    #[serde(flatten)]
    plan: PlanRequest,
}

async fn preview(
    State(st): State<AppState>,
    user: SessionUser,
    Json(r): Json<PreviewIn>,
) -> ApiResult {
    user.require(Capability::LookUpVisits)?;
    let id = IdNumber::parse(&r.id_number)
        .map_err(|e| bad("id_number", format!("身份证号有误：{e}")))?;
    let p = plan::plan(&st.catalogue.get(), id.sex(), r.marital, &r.plan).map_err(plan_err)?;
    Ok(Json(json!(p)))
}

pub(crate) fn plan_err(e: plan::PlanError) -> ApiErr {
    let mut err = bad("plan", e.to_string());
    err.body.error = match e {
        plan::PlanError::Conflict { .. } => "conflict",
        plan::PlanError::NotFor { .. } => "not_for_person",
        _ => "plan",
    }
    .into();
    err
}

#[derive(Debug, Deserialize)]
struct VisitIn {
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

async fn create(
    State(st): State<AppState>,
    user: SessionUser,
    Json(r): Json<VisitIn>,
) -> ApiResult {
    user.require(Capability::BookVisit)?;
    let person = person_of(&r.person)?;
    let flags = flags_of(&r.flags)?;
    let (campus, prefix) = campus_of(&st, r.campus.as_deref())?;
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
        initials: super::initials(&person.name),
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
        kind: "individual",
        member_id: None,
        register_now: r.walk_in,
        pay_later: false,
    };
    let created = st
        .db
        .create_visit(
            &user.username,
            &st.config.exam_no_rule,
            &st.config.slots,
            &v,
        )
        .await?;
    Ok(Json(json!({ "visit": created, "plan": plan })))
}

pub(crate) fn package_name(cat: &exam_domain::Catalogue, plan: &Plan) -> String {
    plan.package
        .as_deref()
        .and_then(|c| cat.package(c))
        .map_or_else(|| "自选项目".to_string(), |p| p.name.clone())
}

/// "Copy from the last exam": the package and the single items of the
/// person's latest visit that was not cancelled.
async fn copy_of_last(st: &AppState, id: &IdNumber) -> Result<PlanRequest, ApiErr> {
    let latest = st
        .db
        .search(&SearchKey::IdNumber(id.as_str().into()), 50)
        .await?
        .into_iter()
        .find(|h| h.record.booking.state.as_str() != "cancelled")
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

fn visit_json(st: &AppState, v: &Visit) -> Value {
    let cat = st.catalogue.get();
    let b = &v.record.booking;
    let p = &v.record.person;
    let items: Vec<DocItem> = v
        .items
        .iter()
        .filter(|i| !matches!(i.status, ItemStatus::Refunded | ItemStatus::Waived))
        .map(|i| DocItem {
            code: i.code.clone(),
            price_fen: i.price_fen,
            paid: i.paid,
        })
        .collect();
    let docs = documents::documents(&cat, &b.campus, &b.exam_no, &items);
    let item_rows: Vec<Value> = v
        .items
        .iter()
        .map(|i| {
            let name = cat.item(&i.code).map_or(i.code.as_str(), |it| it.name.as_str());
            json!({ "code": i.code, "name": name, "price_fen": i.price_fen, "from_package": i.from_package,
                    "paid": i.paid, "status": i.status, "status_zh": i.status.label_zh(), "signed": i.signed })
        })
        .collect();
    let statuses: Vec<ItemStatus> = v.items.iter().map(|i| i.status).collect();
    json!({
        "id": b.id, "code": b.code, "exam_no": b.exam_no, "campus": b.campus, "package": b.package,
        "package_code": v.package_code, "date": b.exam_date, "slot_start": b.slot_start.format("%H:%M").to_string(),
        "slot_end": b.slot_end.format("%H:%M").to_string(), "state": b.state, "state_reason": v.state_reason,
        "amount_due_fen": b.amount_due_fen, "kind": v.kind, "marital": v.marital, "flags": v.flags,
        "registered_at": v.registered_at, "excluded": v.excluded, "items": item_rows,
        "summary_blocked": exam_domain::changes::summary_blocked(&statuses),
        "person": { "name": p.name, "sex": p.sex, "birth_date": p.birth_date,
                    "id_number": mask::id_number(p.id_number.as_str()), "mobile": mask::mobile(&p.mobile) },
        "documents": docs,
    })
}

async fn detail(State(st): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> ApiResult {
    user.require(Capability::LookUpVisits)?;
    let v = st.db.visit(id).await?;
    // The earlier visits as one list query, not each visit with its items.
    let key = SearchKey::IdNumber(v.record.person.id_number.as_str().into());
    let history: Vec<Value> = st
        .db
        .search(&key, 50)
        .await?
        .iter()
        .filter(|h| h.record.booking.id != id)
        .map(|h| {
            let b = &h.record.booking;
            json!({ "id": b.id, "exam_no": b.exam_no, "date": b.exam_date, "package": b.package, "state": b.state })
        })
        .collect();
    let mut out = visit_json(&st, &v);
    out["history"] = json!(history);
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct RegisterIn {
    #[serde(default)]
    flags: Vec<String>,
}

async fn register(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<RegisterIn>,
) -> ApiResult {
    user.require(Capability::RegisterVisit)?;
    let v = st
        .db
        .register(&user.username, id, &flags_of(&r.flags)?)
        .await?;
    Ok(Json(visit_json(&st, &v)))
}

#[derive(Debug, Deserialize)]
struct RebookIn {
    date: NaiveDate,
    slot_start: NaiveTime,
    reason: String,
}

fn reason_of(r: &str) -> Result<&str, ApiErr> {
    let r = r.trim();
    if r.is_empty() || r.chars().count() > 200 {
        return Err(bad("reason", "请填写原因（200 字以内）"));
    }
    Ok(r)
}

async fn rebook(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<RebookIn>,
) -> ApiResult {
    user.require(Capability::BookVisit)?;
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
    Ok(Json(visit_json(&st, &v)))
}

#[derive(Debug, Deserialize)]
struct CancelIn {
    reason: String,
}

async fn cancel(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<CancelIn>,
) -> ApiResult {
    user.require(Capability::BookVisit)?;
    let v = st
        .db
        .cancel(&user.username, id, reason_of(&r.reason)?)
        .await?;
    Ok(Json(visit_json(&st, &v)))
}

#[derive(Debug, Deserialize)]
struct AddIn {
    add: Vec<String>,
}

async fn add_items(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<AddIn>,
) -> ApiResult {
    user.require(Capability::ChangeItems)?;
    let v = st.db.visit(id).await?;
    let cat = st.catalogue.get();
    let marital = Marital::parse(&v.marital).unwrap_or(Marital::Unknown);
    let priced = check_additions(&cat, &v, marital, &r.add)?;
    let v = st
        .db
        .add_items(&user.username, id, &priced, v.kind == "group")
        .await?;
    Ok(Json(visit_json(&st, &v)))
}

/// The list prices of items to add to a visit, after the person rules and
/// a conflict check against what the visit already holds.
pub(crate) fn check_additions(
    cat: &exam_domain::Catalogue,
    v: &Visit,
    marital: Marital,
    add: &[String],
) -> Result<Vec<(String, i64)>, ApiErr> {
    let sex = v.record.person.sex;
    let req = PlanRequest {
        package: None,
        add: add.to_vec(),
        remove: vec![],
    };
    let p = plan::plan(cat, sex, marital, &req).map_err(plan_err)?;
    let mut all: Vec<&str> = v
        .items
        .iter()
        .filter(|i| !matches!(i.status, ItemStatus::Refunded))
        .map(|i| i.code.as_str())
        .collect();
    all.extend(p.items.iter().map(|i| i.code.as_str()));
    plan::check_conflicts(cat, &all).map_err(plan_err)?;
    Ok(p.items.into_iter().map(|i| (i.code, i.price_fen)).collect())
}

#[derive(Debug, Deserialize)]
struct ChangeIn {
    change: String,
    /// Base64 PNG, for a waiver.
    signature_png: Option<String>,
}

async fn change_item(
    State(st): State<AppState>,
    user: SessionUser,
    Path((id, code)): Path<(i64, String)>,
    Json(r): Json<ChangeIn>,
) -> ApiResult {
    use base64::Engine;
    user.require(Capability::ChangeItems)?;
    let change = match r.change.as_str() {
        "remove" => ItemChange::Remove,
        "refund" => ItemChange::Refund,
        "make_up" => ItemChange::MakeUp,
        "deferred" => ItemChange::Deferred,
        "restore" => ItemChange::Restore,
        "waive" => {
            let raw = r.signature_png.unwrap_or_default();
            let raw = raw.strip_prefix("data:image/png;base64,").unwrap_or(&raw);
            if raw.len() > 512 * 1024 {
                return Err(bad("signature", "签名图片过大"));
            }
            let png = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| bad("signature", "签名不是有效的 PNG 图片"))?;
            ItemChange::Waive { signature_png: png }
        }
        other => return Err(bad("change", format!("未知的修改 {other:?}"))),
    };
    let kind_group = st.db.visit(id).await?.kind == "group";
    let (v, refund) = st
        .db
        .change_item(&user.username, id, &code, &change, kind_group)
        .await?;
    let mut out = visit_json(&st, &v);
    out["refund_fen"] = json!(refund);
    Ok(Json(out))
}

async fn signature(
    State(st): State<AppState>,
    user: SessionUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, ApiErr> {
    user.require(Capability::ChangeItems)?;
    match st.db.signature(id, &code).await? {
        Some(png) => Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
        None => Err(ApiErr::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "没有签名",
        )),
    }
}

/// The photo taken (or the ID card's) at the kiosk check-in, for the desk
/// to see who is who (K6); each view is audited. 404 when there is none,
/// with what the patient chose.
async fn photo(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    // Least privilege: the counter that sees the patient, not the group desk.
    user.require(Capability::ViewPhoto)?;
    match st.db.visit_photo(id, &user.username).await? {
        Some(crate::db::VisitPhoto { png: Some(png), .. }) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response()),
        Some(p) => Err(ApiErr::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_photo",
            if p.outcome == "declined" {
                "患者未同意拍照"
            } else {
                "患者跳过了拍照"
            },
        )),
        None => Err(ApiErr::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "没有自助机照片",
        )),
    }
}

#[derive(Debug, Deserialize)]
struct PayIn {
    method: String,
}

async fn pay(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<PayIn>,
) -> ApiResult {
    user.require(Capability::TakePayment)?;
    if !["cash", "card", "wechat", "alipay"].contains(&r.method.as_str()) {
        return Err(bad("method", "收费方式须为 cash / card / wechat / alipay"));
    }
    let (v, amount) = st.db.mark_paid(&user.username, id, &r.method).await?;
    let mut out = visit_json(&st, &v);
    out["paid_fen"] = json!(amount);
    Ok(Json(out))
}

async fn operations(
    State(st): State<AppState>,
    user: SessionUser,
    Query(q): Query<OpQuery>,
) -> ApiResult {
    user.require(Capability::ViewDeskLog)?;
    let lines = st.db.operations(&q, 200).await?;
    Ok(Json(json!({ "operations": lines })))
}
