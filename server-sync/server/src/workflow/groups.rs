//! Group-desk JSON API (E2): companies, groups with a package and a
//! grouping rule, roster import (check, then all or — if the operator
//! chooses — only the good rows), automatic grouping, batch booking, batch
//! items and discounts, bans and restores. Exam first, pay later.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use exam_domain::catalogue::Marital;
use exam_domain::plan::{self, PlanRequest};
use exam_domain::roster::{self, GroupRule};
use serde::Deserialize;
use serde_json::{Value, json};

use super::desk::{campus_of, check_additions, package_name};
use super::{ImportProgress, bad, now_local};
use crate::AppState;
use crate::db::SessionUser;
use crate::db::{GroupSpec, ImportRecord, NewMember, NewVisit};
use crate::error::ApiErr;
use crate::roles::Capability;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/group/companies", get(companies).post(create_company))
        .route(
            "/api/group/companies/{id}/groups",
            get(groups).post(create_group),
        )
        .route(
            "/api/group/companies/{id}/roster",
            post(import).layer(DefaultBodyLimit::max(exam_roster::MAX_FILE_BYTES + 1024)),
        )
        .route("/api/group/progress/{token}", get(progress))
        .route(
            "/api/group/companies/{id}/imports/{import}/errors.csv",
            get(report),
        )
        .route("/api/group/companies/{id}/members", get(members))
        .route("/api/group/companies/{id}/regroup", post(regroup))
        .route("/api/group/companies/{id}/book", post(book))
        .route("/api/group/companies/{id}/items", post(batch_items))
        .route("/api/group/companies/{id}/ban", post(ban))
        .route("/api/group/companies/{id}/discount", post(discount_group))
}

type ApiResult = Result<Json<Value>, ApiErr>;

async fn companies(State(st): State<AppState>, user: SessionUser) -> ApiResult {
    user.require(Capability::ViewGroups)?;
    Ok(Json(json!({ "companies": st.db.companies().await? })))
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
) -> ApiResult {
    user.require(Capability::EditGroups)?;
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
    Ok(Json(json!({ "id": id })))
}

async fn groups(State(st): State<AppState>, user: SessionUser, Path(id): Path<i64>) -> ApiResult {
    user.require(Capability::ViewGroups)?;
    Ok(Json(json!({ "groups": st.db.groups(id).await? })))
}

async fn create_group(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(g): Json<GroupSpec>,
) -> ApiResult {
    user.require(Capability::EditGroups)?;
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
    let gid = st.db.create_group(&user.username, id, &g).await?;
    Ok(Json(json!({ "id": gid })))
}

#[derive(Debug, Deserialize)]
struct ImportQ {
    file_name: String,
    /// Import the good rows even when others have errors.
    #[serde(default)]
    partial: bool,
    /// Only check; store nothing.
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    token: String,
}

async fn import(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Query(q): Query<ImportQ>,
    body: Bytes,
) -> ApiResult {
    user.require(Capability::ImportRoster)?;
    let token = q.token.chars().take(64).collect::<String>();
    st.progress.set(
        &token,
        ImportProgress {
            stage: "checking",
            done: 0,
            total: 0,
        },
    );
    let file_name = q.file_name.clone();
    // Parsing a large workbook is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || exam_roster::import(&file_name, &body))
        .await
        .map_err(|_| bad("roster", "名单文件无法读取"))?
        .map_err(|e| bad("roster", e.to_string()))?;
    let today = now_local().date();
    let groups = st.db.groups(company).await?;
    let rules: Vec<GroupRule> = groups.iter().map(|g| g.spec.rule()).collect();
    let errors = checked.errors.len();
    let data_rows = checked.rows.len() + error_lines(&checked);
    let report = roster::error_report_csv(&checked);
    let base = json!({
        "rows": checked.rows.len(), "errors": errors, "empty_rows": checked.empty_rows,
        "error_list": checked.errors.iter().take(200).map(|e| json!({
            "line": e.line, "field": e.field.map(|f| f.label_zh()), "value": e.value, "message": e.message
        })).collect::<Vec<_>>(),
    });
    let record = ImportRecord {
        file_name: &q.file_name,
        data_rows,
        errors,
        report: &report,
    };
    if q.dry_run || (errors > 0 && !q.partial) {
        // Keep the report downloadable: record the refused import (nothing stored).
        let import_id = st
            .db
            .import_members(&user.username, company, &record, &[], &|_| {})
            .await?;
        st.progress.set(
            &token,
            ImportProgress {
                stage: "refused",
                done: 0,
                total: 0,
            },
        );
        let mut out = base;
        out["import_id"] = json!(import_id);
        out["imported"] = json!(0);
        out["refused"] = json!(errors > 0 && !q.dry_run);
        return Ok(Json(out));
    }
    let members: Vec<NewMember> = checked
        .rows
        .iter()
        .map(|r| NewMember {
            initials: super::initials(&r.name),
            person: exam_domain::Person {
                id_number: r.id_number.clone(),
                name: r.name.clone(),
                sex: r.sex,
                birth_date: r.birth_date,
                mobile: r.mobile.clone().unwrap_or_default(),
            },
            marital: r.marital,
            department: r.department.clone(),
            employee_no: r.employee_no.clone(),
            note: r.note.clone(),
            group_id: roster::assign_group(&rules, r, today).map(|i| groups[i].id),
        })
        .collect();
    let total = members.len();
    st.progress.set(
        &token,
        ImportProgress {
            stage: "saving",
            done: 0,
            total,
        },
    );
    let prog = st.progress.clone();
    let tok = token.clone();
    let import_id = st
        .db
        .import_members(&user.username, company, &record, &members, &move |done| {
            prog.set(
                &tok,
                ImportProgress {
                    stage: "saving",
                    done,
                    total,
                },
            );
        })
        .await?;
    st.progress.set(
        &token,
        ImportProgress {
            stage: "done",
            done: total,
            total,
        },
    );
    let grouped = members.iter().filter(|m| m.group_id.is_some()).count();
    let mut out = base;
    out["import_id"] = json!(import_id);
    out["imported"] = json!(total);
    out["grouped"] = json!(grouped);
    Ok(Json(out))
}

/// Distinct lines with an error (a row may have several).
fn error_lines(c: &roster::CheckedRoster) -> usize {
    let mut lines: Vec<usize> = c.errors.iter().map(|e| e.line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len()
}

async fn progress(
    State(st): State<AppState>,
    user: SessionUser,
    Path(token): Path<String>,
) -> ApiResult {
    user.require(Capability::ViewGroups)?;
    Ok(Json(json!(st.progress.get(&token).unwrap_or_default())))
}

async fn report(
    State(st): State<AppState>,
    user: SessionUser,
    Path((company, import)): Path<(i64, i64)>,
) -> Result<Response, ApiErr> {
    user.require(Capability::ViewGroups)?;
    let csv = st.db.import_report(company, import).await?.ok_or_else(|| {
        ApiErr::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "没有这次导入",
        )
    })?;
    st.db
        .audit_on(
            &user.username,
            "group.report_download",
            &format!("company:{company}"),
            &format!("import={import}"),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"roster-errors-{import}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

async fn members(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
) -> ApiResult {
    user.require(Capability::ViewGroups)?;
    let rows: Vec<Value> = st
        .db
        .members(company)
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "name": r.person.name, "sex": r.person.sex,
                "age": roster::age_on(r.person.birth_date, now_local().date()),
                "id_number": exam_domain::mask::id_number(r.person.id_number.as_str()),
                "marital": r.marital, "department": r.department, "group_id": r.group_id,
                "banned": r.banned, "booking_id": r.booking_id, "exam_no": r.exam_no, "state": r.state,
            })
        })
        .collect();
    Ok(Json(json!({ "members": rows })))
}

/// Puts members without a group into the first group whose rule fits them.
async fn regroup(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
) -> ApiResult {
    user.require(Capability::EditGroups)?;
    let groups = st.db.groups(company).await?;
    let rules: Vec<GroupRule> = groups.iter().map(|g| g.spec.rule()).collect();
    let today = now_local().date();
    let mut moves = Vec::new();
    let mut left = 0;
    for mem in st
        .db
        .members(company)
        .await?
        .iter()
        .filter(|m| m.group_id.is_none())
    {
        let row = roster::RosterRow {
            line: 0,
            name: mem.person.name.clone(),
            id_number: mem.person.id_number.clone(),
            sex: mem.person.sex,
            birth_date: mem.person.birth_date,
            mobile: None,
            marital: mem.marital,
            department: None,
            employee_no: None,
            note: None,
        };
        match roster::assign_group(&rules, &row, today) {
            Some(i) => moves.push((mem.id, groups[i].id)),
            None => left += 1,
        }
    }
    st.db.assign_groups(&user.username, company, &moves).await?;
    Ok(Json(json!({ "grouped": moves.len(), "ungrouped": left })))
}

#[derive(Debug, Deserialize)]
struct BookIn {
    campus: Option<String>,
    date: NaiveDate,
    group_id: Option<i64>,
}

/// Books every member of the company (or one group) who has a group, is
/// not banned and has no visit yet: all in one go, or none.
async fn book(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<BookIn>,
) -> ApiResult {
    user.require(Capability::BookGroup)?;
    let cat = st.catalogue.get();
    let (campus, prefix) = campus_of(&st, r.campus.as_deref())?;
    if r.date < now_local().date() {
        return Err(bad("date", "不能预约过去的日期"));
    }
    let groups = st.db.groups(company).await?;
    let mut visits = Vec::new();
    let mut skipped = Vec::new();
    for mem in st.db.members(company).await? {
        let Some(g) = mem
            .group_id
            .and_then(|gid| groups.iter().find(|g| g.id == gid))
        else {
            continue;
        };
        if r.group_id.is_some_and(|want| want != g.id) || mem.banned || g.banned {
            continue;
        }
        if mem.booking_id.is_some() && mem.state.as_deref() != Some("cancelled") {
            continue;
        }
        let req = PlanRequest {
            package: Some(g.spec.package_code.clone()),
            ..PlanRequest::default()
        };
        let mut plan = match plan::plan(&cat, mem.person.sex, mem.marital, &req) {
            Ok(p) => p,
            Err(e) => {
                skipped.push(json!({ "name": mem.person.name, "reason": e.to_string() }));
                continue;
            }
        };
        discount(&mut plan, g.spec.discount_pct);
        let first = st.config.slots.times()[0];
        visits.push(NewVisit {
            initials: super::initials(&mem.person.name),
            person: mem.person.clone(),
            marital: mem.marital,
            campus: campus.clone(),
            campus_prefix: prefix.clone(),
            date: r.date,
            slot: first,
            take_slot: true,
            package_name: package_name(&cat, &plan),
            plan,
            flags: vec![],
            kind: "group",
            member_id: Some(mem.id),
            register_now: false,
            pay_later: g.spec.pay_later,
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
    Ok(Json(json!({ "booked": created.len(), "skipped": skipped })))
}

/// `pct` percent of `fen`, rounded to the fen.
fn discounted(fen: i64, pct: u32) -> i64 {
    (fen * i64::from(pct) + 50) / 100
}

/// The company's price: each item at `pct` percent, rounded to the fen.
fn discount(plan: &mut exam_domain::plan::Plan, pct: u32) {
    for i in &mut plan.items {
        i.price_fen = discounted(i.price_fen, pct);
    }
    plan.total_fen = plan.items.iter().map(|i| i.price_fen).sum();
}

#[derive(Debug, Deserialize)]
struct BatchItemsIn {
    group_id: i64,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// Adds or removes items for every booked member of a group; members the
/// change does not fit (sex, marital status, conflicts, paid items) are
/// listed with the reason and left unchanged.
async fn batch_items(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<BatchItemsIn>,
) -> ApiResult {
    user.require(Capability::EditGroups)?;
    let cat = st.catalogue.get();
    let group = st
        .db
        .groups(company)
        .await?
        .into_iter()
        .find(|g| g.id == r.group_id)
        .ok_or_else(|| bad("group", "没有这个分组"))?;
    let (mut changed, mut skipped) = (0, Vec::new());
    for mem in st.db.members(company).await? {
        let Some(bid) = mem.booking_id.filter(|_| mem.group_id == Some(group.id)) else {
            continue;
        };
        if mem.state.as_deref() == Some("cancelled") {
            continue;
        }
        let v = st.db.visit(bid).await?;
        let marital = Marital::parse(&v.marital).unwrap_or(Marital::Unknown);
        let add: Vec<String> = r
            .add
            .iter()
            .filter(|c| !v.items.iter().any(|i| &i.code == *c))
            .cloned()
            .collect();
        let result = async {
            if !add.is_empty() {
                let mut priced = check_additions(&cat, &v, marital, &add)?;
                for p in &mut priced {
                    p.1 = discounted(p.1, group.spec.discount_pct);
                }
                st.db
                    .add_items(&user.username, bid, &priced, group.spec.pay_later)
                    .await?;
            }
            for code in r
                .remove
                .iter()
                .filter(|c| v.items.iter().any(|i| &i.code == *c))
            {
                st.db
                    .change_item(
                        &user.username,
                        bid,
                        code,
                        &exam_domain::changes::ItemChange::Remove,
                        group.spec.pay_later,
                    )
                    .await?;
            }
            Ok::<(), ApiErr>(())
        }
        .await;
        match result {
            Ok(()) => changed += 1,
            Err(e) => skipped.push(json!({ "name": mem.person.name, "reason": e.body.message })),
        }
    }
    Ok(Json(json!({ "changed": changed, "skipped": skipped })))
}

#[derive(Debug, Deserialize)]
struct DiscountIn {
    group_id: i64,
    discount_pct: u32,
}

/// 批量打折: a new discount for a group, applied to the unpaid items of
/// its members' visits (package items at their share of the package
/// price, added items at list price, both times the discount).
async fn discount_group(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Json(r): Json<DiscountIn>,
) -> ApiResult {
    user.require(Capability::EditGroups)?;
    if !(1..=100).contains(&r.discount_pct) {
        return Err(bad("discount", "折扣须在 1–100% 之间"));
    }
    let group = st
        .db
        .groups(company)
        .await?
        .into_iter()
        .find(|g| g.id == r.group_id)
        .ok_or_else(|| bad("group", "没有这个分组"))?;
    st.db
        .set_group_discount(&user.username, company, group.id, r.discount_pct)
        .await?;
    let cat = st.catalogue.get();
    let mut changed = 0;
    for mem in st.db.members(company).await? {
        let Some(bid) = mem.booking_id.filter(|_| mem.group_id == Some(group.id)) else {
            continue;
        };
        if mem.state.as_deref() == Some("cancelled") {
            continue;
        }
        let req = PlanRequest {
            package: Some(group.spec.package_code.clone()),
            ..PlanRequest::default()
        };
        let Ok(base) = plan::plan(&cat, mem.person.sex, mem.marital, &req) else {
            continue;
        };
        let v = st.db.visit(bid).await?;
        let prices: Vec<(String, i64)> = v
            .items
            .iter()
            .map(|i| {
                let list = base
                    .items
                    .iter()
                    .find(|b| b.code == i.code)
                    .map(|b| b.price_fen)
                    .or_else(|| cat.item(&i.code).map(|c| c.price_fen))
                    .unwrap_or(i.price_fen);
                (i.code.clone(), discounted(list, r.discount_pct))
            })
            .collect();
        st.db
            .reprice_items(&user.username, bid, &prices, group.spec.pay_later)
            .await?;
        changed += 1;
    }
    Ok(Json(
        json!({ "changed": changed, "discount_pct": r.discount_pct }),
    ))
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
) -> ApiResult {
    user.require(Capability::BanMembers)?;
    if r.member_ids.len() > 20_000 {
        return Err(bad("members", "一次最多 20000 人"));
    }
    let n = st
        .db
        .ban_members(&user.username, company, &r.member_ids, r.banned)
        .await?;
    Ok(Json(json!({ "changed": n })))
}
