//! The company's group report book (团检报告): made from its members'
//! published reports (the chief physicians' conclusions) and their major
//! abnormal results.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use exam_domain::Sex;
use exam_report::model as m;
use sqlx::Row;

use super::store;
use crate::AppState;
use crate::db::{DbError, SessionUser};
use crate::error::ApiErr;

/// One examined member.
pub(crate) struct Examined {
    pub name: String,
    pub sex: Sex,
    pub age: u32,
    pub exam_no: String,
    pub conclusions: Vec<String>,
    /// Major abnormal results, as lines, with how far they are handled.
    pub majors: Vec<(String, String)>,
}

const BANDS: [(&str, u32, u32); 5] = [
    ("30 岁以下", 0, 30),
    ("30-39 岁", 30, 40),
    ("40-49 岁", 40, 50),
    ("50-59 岁", 50, 60),
    ("60 岁及以上", 60, 200),
];

/// The book's model (pure): counts by age band and sex, conclusions by
/// frequency and sex, the major results, the roster.
pub(crate) fn model(
    centre: m::Centre,
    company: &str,
    booked: u32,
    period: String,
    people: &[Examined],
) -> m::GroupBook {
    let by_age = BANDS
        .iter()
        .map(|(label, lo, hi)| {
            let inband = people.iter().filter(|p| (*lo..*hi).contains(&p.age));
            let (men, women) = inband.fold((0, 0), |(a, b), p| {
                if p.sex == Sex::Male {
                    (a + 1, b)
                } else {
                    (a, b + 1)
                }
            });
            (label.to_string(), men, women)
        })
        .collect();
    let mut counts: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for p in people {
        for c in &p.conclusions {
            let e = counts.entry(c.as_str()).or_default();
            if p.sex == Sex::Male {
                e.0 += 1
            } else {
                e.1 += 1
            }
        }
    }
    let mut findings: Vec<m::Count> = counts
        .into_iter()
        .map(|(label, (men, women))| m::Count {
            label: label.to_string(),
            men,
            women,
        })
        .collect();
    findings.sort_by_key(|c| std::cmp::Reverse(c.people()));
    findings.truncate(15);
    let majors = people
        .iter()
        .flat_map(|p| {
            p.majors.iter().map(|(finding, handled)| m::MajorLine {
                name: p.name.clone(),
                exam_no: p.exam_no.clone(),
                finding: finding.clone(),
                handled: handled.clone(),
            })
        })
        .collect();
    let mut advice = Vec::new();
    if let Some(top) = findings.first() {
        advice.push(format!(
            "“{}”检出最多（{} 人），建议单位组织相关健康讲座，并督促检出者按报告建议复查。",
            top.label,
            top.people()
        ));
    }
    advice.push("检出重要异常结果者已由体检中心逐一通知，请单位协助督促其及时专科就诊。".into());
    advice.push("建议每年定期组织员工体检，便于比较历年结果、早期发现疾病。".into());
    m::GroupBook {
        centre,
        company: company.to_string(),
        period,
        examined: u32::try_from(people.len()).unwrap_or(u32::MAX),
        booked,
        by_age,
        findings,
        majors,
        members: people
            .iter()
            .map(|p| m::Member {
                name: p.name.clone(),
                sex: if p.sex == Sex::Male { "男" } else { "女" }.into(),
                age: p.age,
                exam_no: p.exam_no.clone(),
                conclusions: if p.conclusions.is_empty() {
                    "未见明显异常".into()
                } else {
                    p.conclusions.join("；")
                },
            })
            .collect(),
        advice,
        reviewer: String::new(),
        date: Utc::now().date_naive().to_string(),
    }
}

/// A company's name, or 404.
pub(super) async fn company_name(st: &AppState, id: i64) -> Result<String, ApiErr> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM companies WHERE id = $1")
        .bind(id)
        .fetch_optional(&st.db.read)
        .await
        .map_err(DbError::from)?;
    name.ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有这个单位"))
}

/// `GET /api/group/companies/{id}/book.pdf`: the company's book from its
/// members' published reports.
pub(super) async fn pdf(
    State(st): State<AppState>,
    u: SessionUser,
    Path(company_id): Path<i64>,
) -> Result<Response, ApiErr> {
    let name = company_name(&st, company_id).await?;
    let rows = sqlx::query(
        // A campus-bound account (E14) makes its campus's part of the book.
        "SELECT m.booking_id FROM group_members m JOIN bookings b ON b.id = m.booking_id
          WHERE m.company_id = $1 AND ($2 IS NULL OR b.campus = $2)",
    )
    .bind(company_id)
    .bind(u.campus.as_deref())
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    let booked = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let mut people = Vec::new();
    let (mut first, mut last) = (None, None);
    for r in rows {
        let id: i64 = r.try_get(0).map_err(DbError::from)?;
        let Some(report) = store::get(&st.db, id).await? else {
            continue;
        };
        if report.state != exam_domain::results::chief::ReportState::Published {
            continue;
        }
        let v = match st.db.visit(id).await {
            Ok(v) => v,
            Err(e) => return Err(e.into()),
        };
        let date = v.record.booking.exam_date;
        first = Some(first.map_or(date, |f: chrono::NaiveDate| f.min(date)));
        last = Some(last.map_or(date, |l: chrono::NaiveDate| l.max(date)));
        let majors = st
            .db
            .visit_major_abnormal(id)
            .await?
            .into_iter()
            .map(|x| {
                (
                    format!(
                        "{} {} {}（{}类）",
                        x.analyte_name,
                        x.value,
                        x.unit,
                        x.category.as_str()
                    ),
                    x.state.label_zh().to_string(),
                )
            })
            .collect();
        people.push(Examined {
            name: v.record.person.name.clone(),
            sex: v.record.person.sex,
            age: exam_domain::roster::age_on(v.record.person.birth_date, date),
            exam_no: v.record.booking.exam_no.clone(),
            conclusions: report.conclusions.iter().map(|c| c.name.clone()).collect(),
            majors,
        });
    }
    if people.is_empty() {
        return Err(ApiErr::new(
            StatusCode::CONFLICT,
            "no_reports",
            "该单位还没有已发布的体检报告",
        ));
    }
    people.sort_by(|a, b| a.exam_no.cmp(&b.exam_no));
    let period = match (first, last) {
        (Some(a), Some(b)) if a != b => format!("{a} 至 {b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    let book = model(super::render::centre(&st), &name, booked, period, &people);
    let fonts = super::render::fonts(&st)?;
    let pdf = super::render::off_thread(move || exam_report::group_book(fonts, &book)).await?;
    st.db
        .audit_on(
            &u.username,
            "read.group_book",
            &format!("company:{company_id}"),
            &format!("{} people", people.len()),
        )
        .await?;
    Ok(super::api::pdf_response(pdf))
}
