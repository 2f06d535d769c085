//! Bulk exports as CSV (S5; 002 §(九) 6.2.5, 6.3.2): a company's members
//! (the group desk) and today's kiosk check-ins (the desk). Each carries
//! what its page shows, masked the same way; each is counted against the
//! user's limits (`Config::exports`, `db::ExportLimits`: rows per export,
//! rows per day) and written to the audit trail, a refusal too (`429`,
//! `export_limit`). The audit trail's own export (`auditor`) is limited by
//! the same rule.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use exam_domain::{BookingState, Sex, mask, roster};

use super::auditor::csv_field;
use super::now_local;
use crate::AppState;
use crate::db::{ExportKind, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    t.get(
        "/api/group/companies/{id}/members.csv",
        Access::Can(Capability::ViewGroups),
        members_csv,
    )
    .get(
        "/registrations.csv",
        Access::Can(Capability::ViewRegistrations),
        registrations_csv,
    );
}

/// Midnight today, centre time, in UTC: where a user's export day begins.
pub(crate) fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&exam_domain::centre_offset());
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(exam_domain::centre_offset()).single())
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// Applies the export limits to `rows` rows for `user` and records the
/// export or its refusal (audited either way); a refusal as `429`.
pub(crate) async fn allow(
    st: &AppState,
    user: &SessionUser,
    kind: ExportKind,
    rows: usize,
    what: &str,
) -> Result<(), ApiErr> {
    let now = Utc::now();
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    st.db
        .record_export(
            &user.username,
            kind,
            rows,
            what,
            &st.config.exports,
            day_start(now),
            now,
        )
        .await?
        .map_err(|why| {
            ApiErr::new(
                StatusCode::TOO_MANY_REQUESTS,
                "export_limit",
                why.to_string(),
            )
        })
}

/// Rows as CSV: UTF-8 with a BOM (spreadsheets then read the Chinese),
/// each cell quoted and kept from being read as a formula.
pub(crate) fn csv(header_row: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{FEFF}");
    let line = |cells: Vec<String>| {
        let mut l = cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",");
        l.push_str("\r\n");
        l
    };
    out.push_str(&line(header_row.iter().map(|h| h.to_string()).collect()));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

/// A CSV file download, never cached.
pub(crate) fn attachment(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

fn sex_zh(s: Sex) -> &'static str {
    if s == Sex::Male { "男" } else { "女" }
}

fn state_zh(s: Option<BookingState>) -> &'static str {
    match s {
        None => "未预约",
        Some(BookingState::Booked) => "已预约",
        Some(BookingState::CheckedIn) => "已登记",
        Some(BookingState::Cancelled) => "已取消",
    }
}

/// A company's members as the group page lists them (ID numbers masked).
async fn members_csv(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
) -> Result<Response, ApiErr> {
    let members = super::groups::members_for(&st, &user, company).await?;
    let groups = st.db.groups(company).await?;
    allow(
        &st,
        &user,
        ExportKind::Members,
        members.len(),
        &format!("company:{company}"),
    )
    .await?;
    let today = now_local().date();
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                m.person.name.clone(),
                sex_zh(m.person.sex).into(),
                roster::age_on(m.person.birth_date, today).to_string(),
                mask::id_number(m.person.id_number.as_str()),
                m.department.clone().unwrap_or_default(),
                m.group_id
                    .and_then(|g| groups.iter().find(|x| x.id == g))
                    .map(|g| g.spec.name.clone())
                    .unwrap_or_default(),
                m.exam_no.clone().unwrap_or_default(),
                if m.banned {
                    "禁检"
                } else {
                    state_zh(m.state)
                }
                .into(),
            ]
        })
        .collect();
    let body = csv(
        &[
            "姓名",
            "性别",
            "年龄",
            "身份证号",
            "部门",
            "分组",
            "体检号",
            "状态",
        ],
        &rows,
    );
    Ok(attachment(&format!("members-{company}.csv"), body))
}

/// Today's kiosk check-ins as the registrations page lists them (names
/// and ID numbers masked).
async fn registrations_csv(
    State(st): State<AppState>,
    user: SessionUser,
) -> Result<Response, ApiErr> {
    let now = Utc::now();
    // One more than an export may carry: enough to know it is too many.
    let cap = usize::try_from(st.config.exports.max_rows).unwrap_or(0) + 1;
    let regs = st
        .db
        .registrations(day_start(now), 0, i64::try_from(cap).unwrap_or(i64::MAX))
        .await?;
    allow(&st, &user, ExportKind::Registrations, regs.len(), "today").await?;
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&exam_domain::centre_offset())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let rows: Vec<Vec<String>> = regs
        .iter()
        .map(|r| {
            vec![
                local(r.checked_in_at),
                r.kiosk_id.clone(),
                r.name.as_deref().map(mask::name).unwrap_or_default(),
                r.id_number
                    .as_deref()
                    .map(mask::id_number)
                    .unwrap_or_default(),
                r.booking_code.clone().unwrap_or_default(),
                r.package.clone().unwrap_or_default(),
                r.outcome.clone(),
                if r.offline { "离线" } else { "在线" }.into(),
            ]
        })
        .collect();
    let body = csv(
        &[
            "签到时间",
            "自助机",
            "姓名",
            "身份证号",
            "预约号",
            "套餐",
            "结果",
            "方式",
        ],
        &rows,
    );
    let name = format!(
        "registrations-{}.csv",
        now.with_timezone(&exam_domain::centre_offset())
            .format("%Y%m%d-%H%M%S")
    );
    Ok(attachment(&name, body))
}
