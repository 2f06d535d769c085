//! Group-desk JSON API (E2): companies, groups with a package and a
//! grouping rule, members and bans (here), roster import (`import`: check,
//! then all or — if the operator chooses — only the good rows), and the
//! batches over a company's members (`batch`: regrouping, booking, item
//! changes, discounts). Exam first, pay later. The pricing and who a batch
//! takes are `exam_domain::group_exam`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use exam_domain::catalogue::Marital;
use exam_domain::{BookingState, Sex, mask, roster};
use serde::{Deserialize, Serialize};

use super::{bad, now_local};
use crate::AppState;
use crate::db::{CompanyRow, GroupRow, GroupSpec, MemberRow, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

mod batch;
mod demo;
mod import;

pub use demo::seed_demo_company;

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::Can;
    use Capability::*;
    t.get("/api/group/companies", Can(ViewGroups), companies)
        .post("/api/group/companies", Can(EditGroups), create_company)
        .get("/api/group/companies/{id}/groups", Can(ViewGroups), groups)
        .post(
            "/api/group/companies/{id}/groups",
            Can(EditGroups),
            create_group,
        )
        .with_body_limit(
            Method::POST,
            "/api/group/companies/{id}/roster",
            Can(ImportRoster),
            exam_roster::MAX_FILE_BYTES + 1024,
            import::import,
        )
        .get(
            "/api/group/progress/{token}",
            Can(ViewGroups),
            import::progress,
        )
        .get(
            "/api/group/companies/{id}/imports/{import}/errors.csv",
            Can(ViewGroups),
            import::report,
        )
        .get(
            "/api/group/companies/{id}/members",
            Can(ViewGroups),
            members,
        )
        .post(
            "/api/group/companies/{id}/regroup",
            Can(EditGroups),
            batch::regroup,
        )
        .post(
            "/api/group/companies/{id}/book",
            Can(BookGroup),
            batch::book,
        )
        .post(
            "/api/group/companies/{id}/items",
            Can(EditGroups),
            batch::batch_items,
        )
        .post("/api/group/companies/{id}/ban", Can(BanMembers), ban)
        .post(
            "/api/group/companies/{id}/discount",
            Can(EditGroups),
            batch::discount_group,
        );
}

/// A new row's id.
#[derive(Debug, Serialize)]
struct Id {
    id: i64,
}

/// How many rows a change touched.
#[derive(Debug, Serialize)]
struct Changed {
    changed: usize,
}

/// A member a batch passed over, and why.
#[derive(Debug, Serialize)]
struct Skipped {
    name: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Companies {
    companies: Vec<CompanyRow>,
}

async fn companies(State(st): State<AppState>) -> Result<Json<Companies>, ApiErr> {
    Ok(Json(Companies {
        companies: st.db.companies().await?,
    }))
}

#[derive(Debug, Deserialize)]
struct CompanyIn {
    name: String,
    #[serde(default)]
    contact: String,
}

async fn create_company(
    State(st): State<AppState>,
    user: SessionUser,
    Json(c): Json<CompanyIn>,
) -> Result<Json<Id>, ApiErr> {
    let name = c.name.trim();
    if name.is_empty() || name.chars().count() > 100 || c.contact.chars().count() > 100 {
        return Err(bad("name", "单位名称须为 1–100 个字"));
    }
    if st.db.companies().await?.iter().any(|x| x.name == name) {
        return Err(bad("name", "已有同名单位"));
    }
    let id = st
        .db
        .create_company(&user.username, name, c.contact.trim())
        .await?;
    Ok(Json(Id { id }))
}

/// 404 unless the company exists: the group desk names it in the path.
async fn company_must_exist(st: &AppState, company: i64) -> Result<(), ApiErr> {
    if st.db.company_exists(company).await? {
        Ok(())
    } else {
        Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_company",
            format!("没有编号为 {company} 的单位，请先在团检页面新建单位"),
        ))
    }
}

#[derive(Debug, Serialize)]
struct Groups {
    groups: Vec<GroupRow>,
}

async fn groups(State(st): State<AppState>, Path(id): Path<i64>) -> Result<Json<Groups>, ApiErr> {
    Ok(Json(Groups {
        groups: st.db.groups(id).await?,
    }))
}

async fn create_group(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(g): Json<GroupSpec>,
) -> Result<Json<Id>, ApiErr> {
    company_must_exist(&st, id).await?;
    if g.name.trim().is_empty() || g.name.chars().count() > 50 {
        return Err(bad("name", "分组名称须为 1–50 个字"));
    }
    if st.catalogue.get().package(&g.package_code).is_none() {
        return Err(bad("package", format!("没有套餐 {}", g.package_code)));
    }
    if !(1..=100).contains(&g.discount_pct) {
        return Err(bad("discount", "折扣须在 1–100% 之间"));
    }
    if let (Some(a), Some(b)) = (g.min_age, g.max_age)
        && a > b
    {
        return Err(bad("age", "最小年龄不能大于最大年龄"));
    }
    let id = st.db.create_group(&user.username, id, &g).await?;
    Ok(Json(Id { id }))
}

/// A member as the group desk lists them (ID number masked).
#[derive(Debug, Serialize)]
struct MemberView {
    id: i64,
    name: String,
    sex: Sex,
    age: u32,
    id_number: String,
    marital: Marital,
    department: Option<String>,
    group_id: Option<i64>,
    banned: bool,
    booking_id: Option<i64>,
    exam_no: Option<String>,
    state: Option<BookingState>,
}

impl MemberView {
    fn new(r: &MemberRow, today: NaiveDate) -> Self {
        Self {
            id: r.id,
            name: r.person.name.clone(),
            sex: r.person.sex,
            age: roster::age_on(r.person.birth_date, today),
            id_number: mask::id_number(r.person.id_number.as_str()),
            marital: r.marital,
            department: r.department.clone(),
            group_id: r.group_id,
            banned: r.banned,
            booking_id: r.booking_id,
            exam_no: r.exam_no.clone(),
            state: r.state,
        }
    }
}

#[derive(Debug, Serialize)]
struct Members {
    members: Vec<MemberView>,
}

/// A company's members as `user` works with them: a campus-bound account
/// (E14) sees those not booked yet (it may book them at its campus) and
/// those booked at its campus, not those examined at another.
pub(crate) async fn members_for(
    st: &AppState,
    user: &SessionUser,
    company: i64,
) -> Result<Vec<MemberRow>, ApiErr> {
    let mut members = st.db.members(company).await?;
    if user.campus.is_some() {
        members.retain(|m| m.campus.as_deref().is_none_or(|c| user.sees_campus(c)));
    }
    Ok(members)
}

async fn members(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
) -> Result<Json<Members>, ApiErr> {
    let today = now_local().date();
    let members: Vec<_> = members_for(&st, &user, company)
        .await?
        .iter()
        .map(|r| MemberView::new(r, today))
        .collect();
    // S5, 6.3.2: a company's roster is a bulk read of personal data.
    crate::audit::read_personal(
        &st.db,
        &user.username,
        "read.members",
        &format!("company:{company}"),
        format!("{} members shown", members.len()),
    )
    .await?;
    Ok(Json(Members { members }))
}

#[derive(Debug, Deserialize)]
struct BanIn {
    member_ids: Vec<i64>,
    banned: bool,
}

async fn ban(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<BanIn>,
) -> Result<Json<Changed>, ApiErr> {
    if r.member_ids.len() > 20_000 {
        return Err(bad("members", "一次最多 20000 人"));
    }
    let changed = st
        .db
        .ban_members(&user.username, company, &r.member_ids, r.banned)
        .await?;
    Ok(Json(Changed { changed }))
}
