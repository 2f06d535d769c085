//! Front-desk JSON API (E1, E4, K17), by sub-capability: `lookup`
//! (catalogue, slots, search, plan preview, a visit's details, the log),
//! `visits` (book, walk in, register, rebook, cancel), `items` (item
//! changes, waiver signatures, payment, the check-in photo). Every answer is
//! a type of `views`. The helpers here are shared with the group desk and
//! the kiosk's self-service booking.

use exam_domain::catalogue::Marital;
use exam_domain::changes::ItemStatus;
use exam_domain::plan::{self, Plan};
use exam_domain::{IdNumber, Person};
use serde::Deserialize;

use super::bad;
use crate::AppState;
use crate::db::Visit;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

mod identity;
mod items;
mod lookup;
mod views;
mod visits;

pub(crate) use views::Operations;

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::{Can, Visit};
    use Capability::*;
    // One visit: the front desk's any visit, the group desk's group members'.
    let visit = |any| Visit {
        any,
        group: ServeGroupVisits,
    };
    t.get("/api/desk/catalogue", Can(ViewCatalogue), lookup::catalogue)
        .get("/api/desk/slots", Can(ViewCatalogue), lookup::slots)
        .get("/api/desk/search", Can(SearchPatients), lookup::search)
        .get(
            "/api/group/members/search",
            Can(ServeGroupVisits),
            lookup::group_search,
        )
        .post("/api/desk/plan", Can(ViewCatalogue), lookup::preview)
        .post("/api/desk/visits", Can(BookVisit), visits::create)
        .get(
            "/api/desk/visits/{id}",
            visit(SearchPatients),
            lookup::detail,
        )
        .post(
            "/api/desk/visits/{id}/register",
            visit(RegisterVisit),
            visits::register,
        )
        .post(
            "/api/desk/visits/{id}/rebook",
            visit(BookVisit),
            visits::rebook,
        )
        .post(
            "/api/desk/visits/{id}/cancel",
            visit(BookVisit),
            visits::cancel,
        )
        .post(
            "/api/desk/visits/{id}/items",
            visit(ChangeItems),
            items::add_items,
        )
        // A refund among the changes also needs `Refund` (checked in the handler).
        .post(
            "/api/desk/visits/{id}/items/{code}",
            visit(ChangeItems),
            items::change_item,
        )
        .get(
            "/api/desk/visits/{id}/items/{code}/signature",
            Can(ViewSignatures),
            items::signature,
        )
        .post("/api/desk/visits/{id}/pay", Can(TakePayment), items::pay)
        // Name or mobile of the visit's person: named, with a reason, audited masked.
        .post(
            "/api/desk/visits/{id}/identity",
            Can(CorrectIdentity),
            identity::correct,
        )
        .get("/api/desk/visits/{id}/photo", Can(ViewPhoto), items::photo)
        .get("/api/desk/operations", Can(ViewDeskLog), lookup::operations);
}

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

fn reason_of(r: &str) -> Result<&str, ApiErr> {
    let r = r.trim();
    if r.is_empty() || r.chars().count() > 200 {
        return Err(bad("reason", "请填写原因（200 字以内）"));
    }
    Ok(r)
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

/// The campus a staff request acts for, with its prefix: the one asked
/// for, else the account's own (E14), else the configured one.
pub(crate) fn staff_campus(
    st: &AppState,
    u: &crate::db::SessionUser,
    asked: Option<&str>,
) -> Result<(String, String), ApiErr> {
    campus_of(st, u.campus_for(asked)?.as_deref())
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

pub(crate) fn package_name(cat: &exam_domain::Catalogue, plan: &Plan) -> String {
    plan.package
        .as_deref()
        .and_then(|c| cat.package(c))
        .map_or_else(|| "自选项目".to_string(), |p| p.name.clone())
}

/// The list prices of items to add to a visit, after the person rules and
/// a conflict check against what the visit already holds (refunded items
/// no longer count).
pub(crate) fn check_additions(
    cat: &exam_domain::Catalogue,
    v: &Visit,
    marital: Marital,
    add: &[String],
) -> Result<Vec<(String, i64)>, ApiErr> {
    let held: Vec<&str> = v
        .items
        .iter()
        .filter(|i| !matches!(i.status, ItemStatus::Refunded))
        .map(|i| i.code.as_str())
        .collect();
    let items = plan::additions(cat, v.record.person.sex, marital, &held, add).map_err(plan_err)?;
    Ok(items.into_iter().map(|i| (i.code, i.price_fen)).collect())
}
