//! Batches over a company's members: regrouping by the groups' rules,
//! booking everyone eligible in one transaction, item changes for a group's
//! booked members, and a new discount re-pricing their unpaid items. Who a
//! batch takes and at what price is `exam_domain::group_exam`.

use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use exam_domain::changes::ItemChange;
use exam_domain::group_exam::{self, Standing, discounted};
use exam_domain::roster::{self, GroupRule};
use serde::{Deserialize, Serialize};

use super::Skipped;
use crate::AppState;
use crate::db::{GroupRow, MemberRow, NewVisit, SessionUser, VisitKind};
use crate::error::ApiErr;
use crate::workflow::{bad, check_additions, initials, now_local, package_name, staff_campus};

/// Where a member stands for a batch, their group's ban included.
fn standing(m: &MemberRow, group: &GroupRow) -> Standing {
    Standing {
        banned: m.banned || group.banned,
        booked: m.booking_id.is_some(),
        state: m.state,
    }
}

/// The company's group `id`, or 422.
async fn group_of(st: &AppState, company: i64, id: i64) -> Result<GroupRow, ApiErr> {
    st.db
        .groups(company)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| bad("group", "没有这个分组"))
}

#[derive(Debug, Serialize)]
pub(super) struct Regrouped {
    grouped: usize,
    ungrouped: usize,
}

/// Puts members without a group into the first group whose rule fits them.
pub(super) async fn regroup(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
) -> Result<Json<Regrouped>, ApiErr> {
    let groups = st.db.groups(company).await?;
    let rules: Vec<GroupRule> = groups.iter().map(|g| g.spec.rule()).collect();
    let today = now_local().date();
    let mut moves = Vec::new();
    let mut ungrouped = 0;
    for m in st.db.members(company).await? {
        if m.group_id.is_some() {
            continue;
        }
        match roster::assign_person(&rules, &m.person, m.marital, today) {
            Some(i) => moves.push((m.id, groups[i].id)),
            None => ungrouped += 1,
        }
    }
    st.db.assign_groups(&user.username, company, &moves).await?;
    Ok(Json(Regrouped {
        grouped: moves.len(),
        ungrouped,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct BookIn {
    campus: Option<String>,
    date: NaiveDate,
    group_id: Option<i64>,
}

#[derive(Debug, Serialize)]
pub(super) struct Booked {
    booked: usize,
    skipped: Vec<Skipped>,
}

/// Books every member of the company (or one group) who has a group, is
/// not banned and has no visit yet: all in one go, or none.
pub(super) async fn book(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<BookIn>,
) -> Result<Json<Booked>, ApiErr> {
    let cat = st.catalogue.get();
    let (campus, prefix) = staff_campus(&st, &user, r.campus.as_deref())?;
    if r.date < now_local().date() {
        return Err(bad("date", "不能预约过去的日期"));
    }
    let groups = st.db.groups(company).await?;
    let first = st.config.slots.times()[0];
    let mut visits = Vec::new();
    let mut skipped = Vec::new();
    for m in st.db.members(company).await? {
        let Some(g) = m.group_id.and_then(|id| groups.iter().find(|g| g.id == id)) else {
            continue;
        };
        if r.group_id.is_some_and(|want| want != g.id) || !standing(&m, g).may_be_booked() {
            continue;
        }
        let spec = &g.spec;
        let plan = match group_exam::member_plan(
            &cat,
            m.person.sex,
            m.marital,
            &spec.package_code,
            spec.discount_pct,
        ) {
            Ok(p) => p,
            Err(e) => {
                skipped.push(Skipped {
                    name: m.person.name.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        visits.push(NewVisit {
            initials: initials(&m.person.name),
            person: m.person.clone(),
            marital: m.marital,
            campus: campus.clone(),
            campus_prefix: prefix.clone(),
            date: r.date,
            slot: first,
            take_slot: true,
            package_name: package_name(&cat, &plan),
            plan,
            flags: vec![],
            kind: VisitKind::Group,
            member_id: Some(m.id),
            register_now: false,
            pay_later: spec.pay_later,
        });
    }
    let created = st
        .db
        .book_members(
            &user.username,
            company,
            &st.config.exam_no_rule,
            &st.config.slots,
            &visits,
        )
        .await?;
    Ok(Json(Booked {
        booked: created.len(),
        skipped,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct BatchItemsIn {
    group_id: i64,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct BatchChanged {
    changed: usize,
    skipped: Vec<Skipped>,
}

/// Adds or removes items for every booked member of a group; members the
/// change does not fit (sex, marital status, conflicts, paid items) are
/// listed with the reason and left unchanged.
pub(super) async fn batch_items(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<BatchItemsIn>,
) -> Result<Json<BatchChanged>, ApiErr> {
    let group = group_of(&st, company, r.group_id).await?;
    let (mut changed, mut skipped) = (0, Vec::new());
    // A campus-bound account changes its campus's visits (E14).
    for m in super::members_for(&st, &user, company).await? {
        let Some(bid) = m.booking_id.filter(|_| m.group_id == Some(group.id)) else {
            continue;
        };
        if !standing(&m, &group).has_live_visit() {
            continue;
        }
        match change_items(&st, &user, &group, bid, &r).await {
            Ok(()) => changed += 1,
            Err(e) => skipped.push(Skipped {
                name: m.person.name.clone(),
                reason: e.body.message,
            }),
        }
    }
    Ok(Json(BatchChanged { changed, skipped }))
}

/// One member's part of a batch item change, at the group's discount.
async fn change_items(
    st: &AppState,
    user: &SessionUser,
    group: &GroupRow,
    booking: i64,
    r: &BatchItemsIn,
) -> Result<(), ApiErr> {
    let v = st.db.visit(booking).await?;
    let held: Vec<&str> = v.items.iter().map(|i| i.code.as_str()).collect();
    let (add, remove) = group_exam::batch_changes(&held, &r.add, &r.remove);
    let pay_later = group.spec.pay_later;
    if !add.is_empty() {
        let mut priced = check_additions(&st.catalogue.get(), &v, v.marital, &add)?;
        for p in &mut priced {
            p.1 = discounted(p.1, group.spec.discount_pct);
        }
        st.db
            .add_items(&user.username, booking, &priced, pay_later)
            .await?;
    }
    for code in &remove {
        st.db
            .change_item(
                &user.username,
                booking,
                code,
                &ItemChange::Remove,
                pay_later,
            )
            .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub(super) struct DiscountIn {
    group_id: i64,
    discount_pct: u32,
}

#[derive(Debug, Serialize)]
pub(super) struct Discounted {
    changed: usize,
    discount_pct: u32,
}

/// 批量打折: a new discount for a group, applied to the unpaid items of
/// its members' visits (package items at their share of the package
/// price, added items at list price, both times the discount).
pub(super) async fn discount_group(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<DiscountIn>,
) -> Result<Json<Discounted>, ApiErr> {
    if !(1..=100).contains(&r.discount_pct) {
        return Err(bad("discount", "折扣须在 1–100% 之间"));
    }
    let group = group_of(&st, company, r.group_id).await?;
    let live: Vec<_> = st
        .db
        .members(company)
        .await?
        .into_iter()
        .filter(|m| m.group_id == Some(group.id) && standing(m, &group).has_live_visit())
        .collect();
    // The group's discount is the company's, at every campus: an account
    // bound to one campus (E14) may not change what another campus charges.
    user.must_serve(
        &st,
        live.iter().filter_map(|m| m.campus.as_deref()),
        &format!("POST /api/group/companies/{company}/discount"),
    )
    .await?;
    st.db
        .set_group_discount(&user.username, company, group.id, r.discount_pct)
        .await?;
    let cat = st.catalogue.get();
    let mut changed = 0;
    for m in live {
        let Some(bid) = m.booking_id else {
            continue;
        };
        let Ok(base) =
            group_exam::base_plan(&cat, m.person.sex, m.marital, &group.spec.package_code)
        else {
            continue;
        };
        let v = st.db.visit(bid).await?;
        let items: Vec<(&str, i64)> = v
            .items
            .iter()
            .map(|i| (i.code.as_str(), i.price_fen))
            .collect();
        let prices = group_exam::repriced(&cat, &base, &items, r.discount_pct);
        st.db
            .reprice_items(&user.username, bid, &prices, group.spec.pay_later)
            .await?;
        changed += 1;
    }
    Ok(Json(Discounted {
        changed,
        discount_pct: r.discount_pct,
    }))
}
