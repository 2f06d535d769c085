//! The department page's JSON (E6): a visit as one room sees it, the
//! preview of an entry (flags, summary, conclusions, quality issues), and
//! saving it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, Utc};
use exam_domain::abnormal::Observed;
use exam_domain::changes::ItemStatus;
use exam_domain::results::summary::{self, DeptSummary, Issue, ItemEntry};
use exam_domain::results::{Field, FieldKind, Flag, Template, Value, judge, range_for, range_text};
use serde::{Deserialize, Serialize};

use super::knowledge;
use super::store::{self, Source, StoredEntry, StoredSummary};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::interfaces::abnormal::{ObservedValue, Raise, Source as RaiseSource, raise_in};

/// The person as a department sees them: masked name, sex and age.
#[derive(Debug, Serialize)]
pub(super) struct Person {
    id: i64,
    exam_no: String,
    name: String,
    sex: &'static str,
    age: u32,
    package: String,
    exam_date: chrono::NaiveDate,
}

#[derive(Debug, Serialize)]
pub(super) struct ItemView {
    code: String,
    name: String,
    status: ItemStatus,
    /// A laboratory, ECG or imaging item (its results normally arrive
    /// through an interface: typed here, it is marked manual).
    by_interface: bool,
    template: Template,
    /// The reference range that applies to this person, per numeric field.
    ranges: Vec<(String, String)>,
    entry: Option<StoredEntry>,
}

#[derive(Debug, Serialize)]
pub(super) struct RoomVisit {
    person: Person,
    room: String,
    department: String,
    department_name: String,
    items: Vec<ItemView>,
    /// This department's summary as saved.
    summary: Option<StoredSummary>,
    /// The other departments' summaries (item 29).
    others: Vec<StoredSummary>,
    /// Earlier years' values of these items (item 30).
    earlier: Vec<summary::Earlier>,
    /// The visit's medical history, taken once (item 31).
    history: Option<super::history::StoredHistory>,
    /// This department's questionnaire for the person, and the answers.
    asked: super::history::Asked,
    /// Extra items this department's conclusions suggest (item 40).
    suggested: Vec<super::extra::SuggestionView>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RoomQ {
    room: String,
}

fn not_found(what: &str) -> ApiErr {
    ApiErr::new(StatusCode::NOT_FOUND, "not_found", what.to_string())
}

struct Loaded {
    visit: crate::db::Visit,
    sex: exam_domain::Sex,
    age: u32,
}

async fn load(st: &AppState, id: i64) -> Result<Loaded, ApiErr> {
    let visit = match st.db.visit(id).await {
        Ok(v) => v,
        Err(crate::db::DeskError::NotFound) => return Err(not_found("没有这次体检")),
        Err(e) => return Err(e.into()),
    };
    let p = &visit.record.person;
    let (sex, age) = (
        p.sex,
        exam_domain::roster::age_on(p.birth_date, visit.record.booking.exam_date),
    );
    Ok(Loaded { visit, sex, age })
}

/// Finds a visit by what the scanner reads: the guide sheet's exam number,
/// a tube label (exam number and two digits) or the booking code.
pub(super) async fn find(st: &AppState, typed: &str) -> Result<i64, ApiErr> {
    let typed = typed.trim();
    let exam_no = |s: &str| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM bookings WHERE exam_no = $1 OR code = $1")
            .bind(s.to_string())
    };
    if let Some(id) = exam_no(typed)
        .fetch_optional(&st.db.read)
        .await
        .map_err(crate::db::DbError::from)?
    {
        return Ok(id);
    }
    // A tube label: the exam number and its sample's two digits.
    if let Some(number) = typed
        .get(..typed.len().saturating_sub(2))
        .filter(|n| !n.is_empty())
        && let Some(id) = exam_no(number)
            .fetch_optional(&st.db.read)
            .await
            .map_err(crate::db::DbError::from)?
    {
        return Ok(id);
    }
    Err(not_found("没有这个体检号"))
}

#[derive(Debug, Deserialize)]
pub(super) struct FindQ {
    q: String,
    room: String,
}

/// `GET /api/results/find?q=<scanned>&room=<room>`: the visit as the room
/// sees it.
pub(super) async fn find_visit(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<FindQ>,
) -> Result<Json<RoomVisit>, ApiErr> {
    let id = find(&st, &q.q).await?;
    room_visit(&st, &u, id, &q.room).await.map(Json)
}

/// `GET /api/results/visits/{id}?room=<room>`.
pub(super) async fn visit(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<RoomQ>,
) -> Result<Json<RoomVisit>, ApiErr> {
    room_visit(&st, &u, id, &q.room).await.map(Json)
}

async fn room_visit(
    st: &AppState,
    u: &SessionUser,
    id: i64,
    room: &str,
) -> Result<RoomVisit, ApiErr> {
    let l = load(st, id).await?;
    let cat = st.catalogue.get();
    let b = &l.visit.record.booking;
    let r = cat
        .room(&b.campus, room)
        .ok_or_else(|| not_found("没有这个诊室"))?;
    let k = knowledge();
    let mut entries = store::by_item(store::entries(&st.db, id).await?);
    let items: Vec<ItemView> = l
        .visit
        .items
        .iter()
        .filter(|i| cat.item(&i.code).is_some_and(|c| c.room == room))
        .filter(|i| {
            matches!(
                i.status,
                ItemStatus::Active | ItemStatus::MakeUp | ItemStatus::Deferred
            )
        })
        .map(|i| {
            let c = cat.item(&i.code).expect("filtered");
            let template = k.template(&i.code);
            let ranges = template
                .fields
                .iter()
                .filter_map(|f| match &f.kind {
                    FieldKind::Numeric { ranges, .. } => {
                        Some((f.code.clone(), range_text(range_for(ranges, l.sex, l.age))))
                    }
                    _ => None,
                })
                .collect();
            ItemView {
                code: i.code.clone(),
                name: c.name.clone(),
                status: i.status,
                by_interface: by_interface(&c.department),
                template,
                ranges,
                entry: entries.remove(&i.code),
            }
        })
        .collect();
    let codes: Vec<String> = items.iter().map(|i| i.code.clone()).collect();
    let (mut mine, mut others) = (None, Vec::new());
    for s in store::summaries(&st.db, id).await? {
        if s.department == r.department {
            mine = Some(s);
        } else {
            others.push(s);
        }
    }
    let earlier = store::earlier(&st.db, id, &codes).await?;
    // Medical data opened: the read is audited (who, whose, which room).
    st.db
        .audit_on(
            &u.username,
            "read.results",
            &st.db.subject_of(l.visit.record.person.id_number.as_str()),
            &format!("booking={id} room={room}"),
        )
        .await?;
    let suggested = super::extra::suggestions(
        st,
        mine.as_ref().map_or(&[][..], |m| &m.conclusions[..]),
        &l.visit
            .items
            .iter()
            .map(|i| i.code.clone())
            .collect::<Vec<_>>(),
    );
    let p = &l.visit.record.person;
    Ok(RoomVisit {
        person: Person {
            id,
            exam_no: b.exam_no.clone(),
            name: exam_domain::mask::name(&p.name),
            sex: if l.sex == exam_domain::Sex::Male {
                "男"
            } else {
                "女"
            },
            age: l.age,
            package: b.package.clone(),
            exam_date: b.exam_date,
        },
        room: room.to_string(),
        department_name: cat
            .departments
            .iter()
            .find(|d| d.code == r.department)
            .map_or(r.department.clone(), |d| d.name.clone()),
        department: r.department.clone(),
        items,
        summary: mine,
        others,
        earlier,
        suggested,
        history: super::history::get(&st.db, id).await?,
        asked: super::history::asked(&st.db, id, &r.department, l.sex).await?,
    })
}

/// Departments whose results normally come from a system of their own.
fn by_interface(department: &str) -> bool {
    matches!(department, "lab" | "ecg" | "rad" | "us")
}

/// A department's entries as the page (or the demo) sends them.
#[derive(Debug, Deserialize)]
pub struct EntryIn {
    pub entries: Vec<ItemEntry>,
    /// The summary as the doctor left it; None: as written automatically.
    #[serde(default)]
    pub summary: Option<String>,
    /// Save although the quality checks found something.
    #[serde(default)]
    pub confirm: bool,
}

#[derive(Debug, Serialize)]
pub struct FieldFlag {
    item: String,
    field: String,
    flag: Flag,
}

#[derive(Debug, Serialize)]
pub struct Conclusion {
    code: String,
    name: String,
    advice: String,
}

#[derive(Debug, Serialize)]
pub struct Preview {
    pub summary: DeptSummary,
    pub flags: Vec<FieldFlag>,
    pub conclusions: Vec<Conclusion>,
    pub issues: Vec<IssueView>,
    /// Saved (false: the issues wait for the doctor's confirmation).
    pub saved: bool,
    pub majors_raised: usize,
}

#[derive(Debug, Serialize)]
pub struct IssueView {
    #[serde(flatten)]
    issue: Issue,
    message: String,
}

fn unprocessable(e: impl std::fmt::Display) -> ApiErr {
    ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_entry", e.to_string())
}

/// Judges and summarises `entries` of a department for this visit; the
/// items must be the visit's, in this department.
fn assess(
    st: &AppState,
    l: &Loaded,
    department: &str,
    input: &EntryIn,
    earlier: &[summary::Earlier],
) -> Result<Preview, ApiErr> {
    let cat = st.catalogue.get();
    let k = knowledge();
    for e in &input.entries {
        let ok = l.visit.items.iter().any(|i| i.code == e.item)
            && cat
                .item(&e.item)
                .is_some_and(|c| c.department == department);
        if !ok {
            return Err(unprocessable(format!(
                "{} 不是本科室此次体检的项目",
                e.item
            )));
        }
    }
    let s = summary::department(k, &input.entries, l.sex, l.age).map_err(unprocessable)?;
    let mut flags = Vec::new();
    for e in &input.entries {
        let t = k.template(&e.item);
        for (code, v) in &e.values {
            if let Some(f) = t.field(code) {
                flags.push(FieldFlag {
                    item: e.item.clone(),
                    field: code.clone(),
                    flag: judge(f, v, l.sex, l.age).map_err(unprocessable)?,
                });
            }
        }
    }
    let text = input.summary.clone().unwrap_or_else(|| s.text.clone());
    let year = l.visit.record.booking.exam_date.year();
    let issues = summary::quality(k, &input.entries, &text, l.sex, year, earlier)
        .into_iter()
        .map(|issue| IssueView {
            message: issue.message(),
            issue,
        })
        .collect();
    let conclusions = s
        .conclusions
        .iter()
        .map(|c| {
            let d = k.conclusion(c);
            Conclusion {
                code: c.clone(),
                name: d.map_or(c.clone(), |d| d.name.clone()),
                advice: d.map_or(String::new(), |d| d.advice.clone()),
            }
        })
        .collect();
    Ok(Preview {
        summary: s,
        flags,
        conclusions,
        issues,
        saved: false,
        majors_raised: 0,
    })
}

/// `POST /api/results/visits/{id}/departments/{dept}/preview`.
pub(super) async fn preview(
    State(st): State<AppState>,
    Path((id, dept)): Path<(i64, String)>,
    Json(input): Json<EntryIn>,
) -> Result<Json<Preview>, ApiErr> {
    let l = load(&st, id).await?;
    let items: Vec<String> = input.entries.iter().map(|e| e.item.clone()).collect();
    let earlier = store::earlier(&st.db, id, &items).await?;
    assess(&st, &l, &dept, &input, &earlier).map(Json)
}

/// `POST /api/results/visits/{id}/departments/{dept}`: saves the entries
/// and the department's summary in one transaction, raising the major
/// abnormal results they hold (a finding such as a mass; a value typed by
/// hand that meets the consensus's table), audited. With quality issues
/// and no `confirm`, nothing is saved and the issues come back.
pub(super) async fn save(
    State(st): State<AppState>,
    u: SessionUser,
    Path((id, dept)): Path<(i64, String)>,
    Json(input): Json<EntryIn>,
) -> Result<Json<Preview>, ApiErr> {
    save_entries(&st, id, &dept, &input, &u.username)
        .await
        .map(Json)
}

/// Saves a department's entries for visit `id` as `by` (the page's route,
/// and the demo's simulated doctors).
pub async fn save_entries(
    st: &AppState,
    id: i64,
    dept: &str,
    input: &EntryIn,
    by: &str,
) -> Result<Preview, ApiErr> {
    let l = load(st, id).await?;
    let items: Vec<String> = input.entries.iter().map(|e| e.item.clone()).collect();
    let earlier = store::earlier(&st.db, id, &items).await?;
    let mut p = assess(st, &l, dept, input, &earlier)?;
    if !p.issues.is_empty() && !input.confirm {
        return Ok(p);
    }
    let k = knowledge();
    let now = Utc::now();
    let source = if by_interface(dept) {
        Source::Manual
    } else {
        Source::Department
    };
    let mut tx = st.db.pool.begin().await.map_err(crate::db::DbError::from)?;
    for e in &input.entries {
        let abnormal = p
            .flags
            .iter()
            .filter(|f| f.item == e.item && f.flag.abnormal())
            .count();
        store::put_entry(&mut tx, &st.db.keys, id, dept, e, abnormal, source, by, now).await?;
    }
    // The department's summary from all its entries (other rooms' too).
    let all = store::department_entries(&mut tx, &st.db.keys, id, dept).await?;
    let whole = summary::department(k, &all, l.sex, l.age).map_err(unprocessable)?;
    let text = input.summary.clone().unwrap_or_else(|| whole.text.clone());
    let weights: Vec<u8> = whole
        .conclusions
        .iter()
        .map(|c| k.conclusion(c).map_or(1, |c| c.weight))
        .collect();
    store::put_summary(
        &mut tx,
        &st.db.keys,
        id,
        dept,
        &text,
        &whole.conclusions,
        &weights,
        by,
        now,
    )
    .await?;
    let raised = raise_majors(&mut tx, st, &l, &input.entries, &p.summary, by).await?;
    crate::db::log_line(
        &mut tx,
        by,
        "result.save",
        &st.db.subject_of(l.visit.record.person.id_number.as_str()),
        &format!(
            "booking={id} department={dept} items={} source={} abnormal={} confirmed_issues={}",
            items.join(","),
            source.as_str(),
            p.summary.abnormal.len(),
            p.issues.len()
        ),
    )
    .await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    p.saved = true;
    p.majors_raised = raised;
    Ok(p)
}

/// Raises the entry's major abnormal results in `tx`: findings the
/// knowledge base marks major, and numbers that meet the consensus's
/// laboratory table (a potassium typed by hand).
async fn raise_majors(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    st: &AppState,
    l: &Loaded,
    entries: &[ItemEntry],
    s: &DeptSummary,
    by: &str,
) -> Result<usize, ApiErr> {
    let k = knowledge();
    let now = Utc::now();
    let id = l.visit.record.booking.id;
    let mut n = 0;
    for m in &s.majors {
        let o = ObservedValue {
            code: m.finding.clone(),
            name: m.text.clone(),
            value: m.text.clone(),
            unit: String::new(),
            reference_range: String::new(),
            flag: None,
        };
        let r = Raise {
            booking_id: id,
            item_code: &m.item,
            inbound_id: None,
            observed: &o,
            category: m.category,
            rule: format!("finding_{}", m.finding),
            source: RaiseSource::Manual,
            by,
        };
        n += usize::from(raise_in(tx, &st.db.keys, &r, now).await?.is_some());
    }
    for e in entries {
        let t = k.template(&e.item);
        for (code, v) in &e.values {
            let (
                Some(Field {
                    kind: FieldKind::Numeric { unit, ranges, .. },
                    name,
                    ..
                }),
                Value::Number(x),
            ) = (t.field(code), v)
            else {
                continue;
            };
            let value = x.to_string();
            let range = range_text(range_for(ranges, l.sex, l.age));
            let a = exam_domain::abnormal::assess(&Observed {
                code,
                value: &value,
                unit,
                reference_range: &range,
                flag: None,
            });
            let Some(f) = a.finding else { continue };
            let o = ObservedValue {
                code: code.clone(),
                name: name.clone(),
                value,
                unit: unit.clone(),
                reference_range: range,
                flag: None,
            };
            let r = Raise {
                booking_id: id,
                item_code: &e.item,
                inbound_id: None,
                observed: &o,
                category: f.category,
                rule: f.reason.as_str(),
                source: RaiseSource::Manual,
                by,
            };
            n += usize::from(raise_in(tx, &st.db.keys, &r, now).await?.is_some());
        }
    }
    Ok(n)
}
