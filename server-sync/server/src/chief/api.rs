//! The chief examination's JSON: the worklist (entering ready visits into
//! the pool on the way), assignment, a report with everything the chief
//! physician reads, acting on it, the PDF preview, statistics.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use exam_domain::results::chief::{
    self, ReportAction, ReportConclusion, ReportState, ReturnReason,
};
use serde::{Deserialize, Serialize};

use super::pool::me;
use super::render::{self, Input};
use super::store::{self, Change, PhysicianRow, ReportRow, ReturnRow};
use crate::AppState;
use crate::db::{DbError, SessionUser, Visit};
use crate::error::ApiErr;
use crate::results::knowledge;
use crate::results::store::{self as results, StoredSummary};

pub(super) fn refused(code: &str, message: impl Into<String>) -> ApiErr {
    ApiErr::new(StatusCode::CONFLICT, code, message)
}

pub(super) fn not_found(what: &str) -> ApiErr {
    ApiErr::new(StatusCode::NOT_FOUND, "not_found", what.to_string())
}

pub(super) async fn visit(st: &AppState, id: i64) -> Result<Visit, ApiErr> {
    match st.db.visit(id).await {
        Ok(v) => Ok(v),
        Err(crate::db::DeskError::NotFound) => Err(not_found("没有这次体检")),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn age(v: &Visit) -> u32 {
    exam_domain::roster::age_on(v.record.person.birth_date, v.record.booking.exam_date)
}

pub(super) fn sex_zh(v: &Visit) -> &'static str {
    if v.record.person.sex == exam_domain::Sex::Male {
        "男"
    } else {
        "女"
    }
}

pub(super) async fn company(st: &AppState, booking: i64) -> Result<Option<String>, ApiErr> {
    Ok(sqlx::query_scalar(
        "SELECT c.name FROM group_members m JOIN companies c ON c.id = m.company_id
          WHERE m.booking_id = $1",
    )
    .bind(booking)
    .fetch_optional(&st.db.read)
    .await
    .map_err(DbError::from)?)
}

/// The department conclusions of a visit, as the draft's source.
pub(super) fn by_department(s: &[StoredSummary]) -> Vec<(String, Vec<String>)> {
    s.iter()
        .map(|s| (s.department.clone(), s.conclusions.clone()))
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchQ {
    q: String,
}

/// `GET /api/chief/conclusions?q=`: the dictionary by name or pinyin
/// initials (item 53).
pub(super) async fn conclusions(
    Query(q): Query<SearchQ>,
) -> Json<Vec<exam_domain::results::Conclusion>> {
    Json(
        knowledge()
            .search(&q.q)
            .into_iter()
            .take(20)
            .cloned()
            .collect(),
    )
}

/// A department's part as the chief physician reads it.
#[derive(Debug, Serialize)]
pub(super) struct DeptView {
    department: String,
    name: String,
    summary: String,
    conclusions: Vec<String>,
    written_by: String,
}

/// An image report, by its place among the visit's documents.
#[derive(Debug, Serialize)]
pub(super) struct DocView {
    n: usize,
    item: String,
    name: String,
    /// Embedded (`/api/chief/reports/{id}/documents/{n}`) or a link.
    url: String,
}

fn doc_views(
    cat: &exam_domain::catalogue::Catalogue,
    id: i64,
    r: &[render::Received],
) -> Vec<DocView> {
    documents(r)
        .enumerate()
        .map(|(n, (item, d))| {
            let item_name = cat.item(item).map_or(item.to_string(), |c| c.name.clone());
            match d {
                render::Document::Embedded { name, .. } => DocView {
                    n,
                    item: item_name,
                    name: name.clone(),
                    url: format!("/api/chief/reports/{id}/documents/{n}"),
                },
                render::Document::Link { name, url } => DocView {
                    n,
                    item: item_name,
                    name: name.clone(),
                    url: url.clone(),
                },
            }
        })
        .collect()
}

/// Every document of the received results, with its item, in order.
fn documents(r: &[render::Received]) -> impl Iterator<Item = (&str, &render::Document)> {
    r.iter()
        .flat_map(|x| x.documents.iter().map(move |d| (x.item.as_str(), d)))
}

#[derive(Debug, Serialize)]
pub(super) struct ReportView {
    report: ReportRow,
    exam_no: String,
    name: String,
    sex: &'static str,
    age: u32,
    package: String,
    company: Option<String>,
    departments: Vec<DeptView>,
    /// The report's result rows as they will print (item 58), by section.
    sections: Vec<exam_report::model::Section>,
    abnormal: Vec<String>,
    majors: Vec<String>,
    returns: Vec<ReturnRow>,
    /// Image reports the systems sent (ECG, ultrasound, function tests).
    documents: Vec<DocView>,
    /// What I may do now.
    may: Vec<&'static str>,
}

async fn row_of(st: &AppState, id: i64) -> Result<ReportRow, ApiErr> {
    store::get(&st.db, id)
        .await?
        .ok_or_else(|| not_found("这次体检还没有进入总检"))
}

fn majors_lines(list: &[crate::interfaces::abnormal::VisitResult]) -> Vec<String> {
    list.iter()
        .map(|m| {
            format!(
                "{}类 {} {}{}（{}）",
                m.category.as_str(),
                m.analyte_name,
                m.value,
                if m.unit.is_empty() {
                    String::new()
                } else {
                    format!(" {}", m.unit)
                },
                m.rule_zh
            )
        })
        .collect()
}

/// Gathers a report's input; `reviewer` and `signature` as they print.
async fn input(
    st: &AppState,
    v: &Visit,
    row: &ReportRow,
    reviewer: String,
    signature: Option<Vec<u8>>,
) -> Result<Input, ApiErr> {
    let id = row.booking_id;
    let entries = results::entries(&st.db, id).await?;
    let codes: Vec<String> = entries.iter().map(|e| e.item.clone()).collect();
    let b = &v.record.booking;
    let p = &v.record.person;
    Ok(Input {
        centre: render::centre(st),
        kind: render::kind_of(&b.package),
        name: p.name.clone(),
        sex: p.sex,
        age: age(v),
        id_masked: exam_domain::mask::id_number(p.id_number.as_str()),
        exam_no: b.exam_no.clone(),
        company: company(st, id).await?,
        package: b.package.clone(),
        exam_date: b.exam_date,
        earlier: results::earlier(&st.db, id, &codes).await?,
        received: render::received(st, id).await?,
        history: crate::results::history::report_lines(&st.db, id, |d| {
            st.catalogue
                .get()
                .department(d)
                .map_or(d.to_string(), |x| x.name.clone())
        })
        .await?,
        entries,
        summaries: results::summaries(&st.db, id).await?,
        major: majors_lines(&st.db.visit_major_abnormal(id).await?),
        conclusions: row.conclusions.clone(),
        chief: row.physician.clone().unwrap_or_default(),
        reviewer,
        signature,
        review_date: Utc::now().date_naive(),
    })
}

fn may(me: Option<&PhysicianRow>, r: &ReportRow, username: &str) -> Vec<&'static str> {
    let Some(me) = me else { return Vec::new() };
    let mine = r.physician.as_deref() == Some(username);
    let free = r.physician.is_none();
    let locker = r.locked_by.as_deref() == Some(username);
    let mut out = Vec::new();
    match r.state {
        ReportState::Assigned | ReportState::Draft if mine || free => out.extend(["save", "lock"]),
        ReportState::Locked if locker => out.push("unlock"),
        ReportState::Locked if me.reviewer => out.extend(["approve", "return"]),
        _ => {}
    }
    out
}

/// `GET /api/chief/reports/{id}`.
pub(super) async fn report(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<ReportView>, ApiErr> {
    let row = row_of(&st, id).await?;
    let v = visit(&st, id).await?;
    let cat = st.catalogue.get();
    let summaries = results::summaries(&st.db, id).await?;
    let k = knowledge();
    let departments = summaries
        .iter()
        .map(|s| DeptView {
            name: cat
                .department(&s.department)
                .map_or(s.department.clone(), |d| d.name.clone()),
            department: s.department.clone(),
            summary: s.text.clone(),
            conclusions: s
                .conclusions
                .iter()
                .map(|c| k.conclusion(c).map_or(c.clone(), |c| c.name.clone()))
                .collect(),
            written_by: s.written_by.clone(),
        })
        .collect();
    let me = me(&st, &u.username).await?;
    let inp = input(&st, &v, &row, String::new(), None).await?;
    let documents = doc_views(&cat, id, &inp.received);
    let model = render::personal_model(k, &cat, inp);
    st.db
        .audit_on(
            &u.username,
            "read.chief_report",
            &st.db.subject_of(v.record.person.id_number.as_str()),
            &format!("booking={id}"),
        )
        .await?;
    Ok(Json(ReportView {
        may: may(me.as_ref(), &row, &u.username),
        exam_no: v.record.booking.exam_no.clone(),
        name: exam_domain::mask::name(&v.record.person.name),
        sex: sex_zh(&v),
        age: age(&v),
        package: v.record.booking.package.clone(),
        company: company(&st, id).await?,
        departments,
        sections: model.sections,
        abnormal: model.abnormal,
        majors: model.major,
        returns: store::returns_of(&st.db, id).await?,
        documents,
        report: row,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActIn {
    /// The version the page read (two people on one report: the second
    /// is told to reload, nothing is overwritten).
    pub version: i64,
    #[serde(flatten)]
    pub action: ReportAction,
    #[serde(default)]
    pub conclusions: Option<Vec<ReportConclusion>>,
}

fn check_conclusions(list: &[ReportConclusion]) -> Result<(), ApiErr> {
    let bad = |m: &str| {
        ApiErr::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_conclusions",
            m.to_string(),
        )
    };
    if list.len() > 60 {
        return Err(bad("结论过多（上限 60 条）"));
    }
    for c in list {
        if c.name.trim().is_empty() {
            return Err(bad("结论须有名称"));
        }
        if c.name.chars().count() > 60 || c.advice.chars().count() > 1000 {
            return Err(bad("结论名称上限 60 字，建议上限 1000 字"));
        }
        if !(1..=3).contains(&c.weight) {
            return Err(bad("结论权重须为 1–3"));
        }
    }
    Ok(())
}

/// `POST /api/chief/reports/{id}`: save, lock, unlock, return, approve.
pub(super) async fn act(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(body): Json<ActIn>,
) -> Result<Json<ReportRow>, ApiErr> {
    run(&st, &u.username, id, body).await.map(Json)
}

/// Acts on a report as `username` (the page's route and the demo's
/// simulated chief physicians).
pub(crate) async fn run(
    st: &AppState,
    username: &str,
    id: i64,
    body: ActIn,
) -> Result<ReportRow, ApiErr> {
    let row = row_of(st, id).await?;
    let me = me(st, username)
        .await?
        .ok_or_else(|| refused("not_chief", "当前账号不是总检医生"))?;
    if row.version != body.version {
        return Err(refused("moved", "报告已被他人修改，请刷新后再操作"));
    }
    let allowed = may(Some(&me), &row, username);
    let name = match &body.action {
        ReportAction::Save => "save",
        ReportAction::Lock => "lock",
        ReportAction::Unlock => "unlock",
        ReportAction::Return { .. } => "return",
        ReportAction::Approve => "approve",
        ReportAction::Ready | ReportAction::Withdraw => "",
    };
    let next =
        chief::step(row.state, &body.action).map_err(|e| refused("refused", e.to_string()))?;
    if !allowed.contains(&name) {
        return Err(refused(
            "not_yours",
            match name {
                "approve" | "return" => "只有未锁定本报告的总审医生可以审核",
                _ => "这份报告不在您的总检任务中",
            },
        ));
    }
    let now = Utc::now();
    let mut change = Change::default();
    let mut report_id = None;
    match &body.action {
        ReportAction::Save => {
            let list = body.conclusions.as_deref().ok_or_else(|| {
                ApiErr::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_conclusions",
                    "保存须带结论",
                )
            })?;
            check_conclusions(list)?;
            change.conclusions = Some(list);
            change.physician = Some(username);
        }
        ReportAction::Lock => change.locked_by = Some(Some(username)),
        ReportAction::Unlock => change.locked_by = Some(None),
        ReportAction::Return { reason, note } => {
            if *reason == ReturnReason::Other && note.trim().is_empty() {
                return Err(ApiErr::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "no_note",
                    "退回原因为“其他”时须写明说明",
                ));
            }
            change.locked_by = Some(None);
        }
        ReportAction::Approve => {
            let v = visit(st, id).await?;
            let sig = store::signature(&st.db, username).await?;
            let model = render::personal_model(
                knowledge(),
                &st.catalogue.get(),
                input(st, &v, &row, username.to_string(), sig).await?,
            );
            let fonts = render::fonts(st)?;
            let pdf = render::off_thread(move || exam_report::personal(fonts, &model)).await?;
            let title = format!(
                "{} {}",
                v.record.booking.package,
                render::kind_of(&v.record.booking.package).title()
            );
            let published = st
                .db
                .publish_report(username, id, Some(&title), &pdf)
                .await
                .map_err(|e| refused("publish", e.to_string()))?;
            report_id = Some(published.id);
            change.reviewed_by = Some(username);
            change.report_id = report_id;
        }
        ReportAction::Ready | ReportAction::Withdraw => unreachable!("refused above"),
    }
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    if !store::update(
        &mut tx,
        &st.db.keys,
        id,
        row.version,
        next,
        &change,
        username,
        now,
    )
    .await?
    {
        return Err(refused("moved", "报告已被他人修改，请刷新后再操作"));
    }
    if let ReportAction::Return { reason, note } = &body.action {
        let physician = row.physician.clone().unwrap_or_default();
        store::record_return(
            &mut tx,
            &st.db.keys,
            id,
            &store::Return {
                physician: &physician,
                reviewer: username,
                reason: *reason,
                note,
            },
            now,
        )
        .await?;
    }
    crate::db::log_line(
        &mut tx,
        username,
        &format!("chief.{name}"),
        &format!("booking:{id}"),
        &match report_id {
            Some(r) => format!("published report {r}"),
            None => store::state_str(next).to_string(),
        },
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    row_of(st, id).await
}

/// `GET /api/chief/reports/{id}/preview.pdf`: the report as it would print
/// now (item 59), before review.
pub(super) async fn preview(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let row = row_of(&st, id).await?;
    let v = visit(&st, id).await?;
    let model = render::personal_model(
        knowledge(),
        &st.catalogue.get(),
        input(&st, &v, &row, "（待审核）".into(), None).await?,
    );
    let fonts = render::fonts(&st)?;
    let pdf = render::off_thread(move || exam_report::personal(fonts, &model)).await?;
    st.db
        .audit_on(
            &u.username,
            "read.report_preview",
            &st.db.subject_of(v.record.person.id_number.as_str()),
            &format!("booking={id}"),
        )
        .await?;
    Ok(pdf_response(pdf))
}

pub(super) fn pdf_response(pdf: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/pdf")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(pdf))
        .expect("static headers")
}

#[derive(Debug, Deserialize)]
pub(super) struct EditIn {
    version: i64,
    #[serde(flatten)]
    edit: chief::Edit,
}

/// `POST /api/chief/reports/{id}/edits`: one edit of the conclusions
/// (order, merge, add, write, remove, advice), saved as the draft.
pub(super) async fn edit(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(body): Json<EditIn>,
) -> Result<Json<ReportRow>, ApiErr> {
    let row = row_of(&st, id).await?;
    let me = me(&st, &u.username)
        .await?
        .ok_or_else(|| refused("not_chief", "当前账号不是总检医生"))?;
    if row.version != body.version {
        return Err(refused("moved", "报告已被他人修改，请刷新后再操作"));
    }
    if !may(Some(&me), &row, &u.username).contains(&"save") {
        return Err(refused("not_yours", "这份报告不在您的总检任务中，或已锁定"));
    }
    let mut list = row.conclusions.clone();
    chief::apply(knowledge(), &mut list, &body.edit)
        .map_err(|e| ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_edit", e.to_string()))?;
    check_conclusions(&list)?;
    let next = chief::step(row.state, &ReportAction::Save)
        .map_err(|e| refused("refused", e.to_string()))?;
    let change = Change {
        conclusions: Some(&list),
        physician: Some(&u.username),
        ..Change::default()
    };
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    if !store::update(
        &mut tx,
        &st.db.keys,
        id,
        row.version,
        next,
        &change,
        &u.username,
        Utc::now(),
    )
    .await?
    {
        return Err(refused("moved", "报告已被他人修改，请刷新后再操作"));
    }
    let what = serde_json::to_value(&body.edit)
        .ok()
        .and_then(|v| v.get("op").and_then(|o| o.as_str().map(str::to_string)))
        .unwrap_or_default();
    crate::db::log_line(
        &mut tx,
        &u.username,
        "chief.edit",
        &format!("booking:{id}"),
        &what,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Json(row_of(&st, id).await?))
}

/// `GET /api/chief/reports/{id}/documents/{n}`: an image report a system
/// sent embedded (an ECG's PDF, an ultrasound's pictures); audited.
pub(super) async fn document(
    State(st): State<AppState>,
    u: SessionUser,
    Path((id, n)): Path<(i64, usize)>,
) -> Result<Response, ApiErr> {
    let received = render::received(&st, id).await?;
    let Some((_, render::Document::Embedded { mime, data, .. })) = documents(&received).nth(n)
    else {
        return Err(not_found("没有这份图文报告"));
    };
    let v = visit(&st, id).await?;
    st.db
        .audit_on(
            &u.username,
            "read.image_report",
            &st.db.subject_of(v.record.person.id_number.as_str()),
            &format!("booking={id} document={n}"),
        )
        .await?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, mime.as_str())
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(data.clone()))
        .expect("static headers"))
}
