//! Roster import (E2): the file is read and checked whole first; with
//! errors nothing is stored unless the operator asked for the good rows
//! (`partial`), and the error report is kept with the import either way.
//! The page follows the stages through `progress`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use exam_domain::roster::{self, CheckedRoster, GroupRule};
use serde::{Deserialize, Serialize};

use super::company_must_exist;
use crate::AppState;
use crate::db::{GroupRow, ImportRecord, NewMember, SessionUser};
use crate::error::ApiErr;
use crate::workflow::{ImportProgress, Stage, bad, initials, now_local};

#[derive(Debug, Deserialize)]
pub(super) struct ImportQ {
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

/// One error of the check, for the page's table (the first 200).
#[derive(Debug, Serialize)]
struct RowError {
    line: usize,
    field: Option<&'static str>,
    value: String,
    message: String,
}

/// What an import found and did.
#[derive(Debug, Serialize)]
pub(super) struct ImportResult {
    rows: usize,
    errors: usize,
    empty_rows: usize,
    error_list: Vec<RowError>,
    import_id: i64,
    imported: usize,
    /// Refused for its errors (nothing stored); absent when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<bool>,
    /// Members put into a group; absent when nothing was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    grouped: Option<usize>,
}

impl ImportResult {
    fn checked(c: &CheckedRoster) -> Self {
        Self {
            rows: c.rows.len(),
            errors: c.errors.len(),
            empty_rows: c.empty_rows,
            error_list: c
                .errors
                .iter()
                .take(200)
                .map(|e| RowError {
                    line: e.line,
                    field: e.field.map(|f| f.label_zh()),
                    value: e.value.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            import_id: 0,
            imported: 0,
            refused: None,
            grouped: None,
        }
    }
}

/// The page's progress for `token` (what it chose; at most 64 characters).
struct Tracker<'a> {
    st: &'a AppState,
    token: String,
}

impl Tracker<'_> {
    fn set(&self, stage: Stage, done: usize, total: usize) {
        self.st
            .progress
            .set(&self.token, ImportProgress { stage, done, total });
    }
}

pub(super) async fn import(
    State(st): State<AppState>,
    user: SessionUser,
    Path(company): Path<i64>,
    Query(q): Query<ImportQ>,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiErr> {
    company_must_exist(&st, company).await?;
    let track = Tracker {
        st: &st,
        token: q.token.chars().take(64).collect(),
    };
    track.set(Stage::Checking, 0, 0);
    let checked = check(&q.file_name, body).await?;
    let mut out = ImportResult::checked(&checked);
    let report = roster::error_report_csv(&checked);
    let record = ImportRecord {
        file_name: &q.file_name,
        data_rows: checked.rows.len() + error_lines(&checked),
        errors: out.errors,
        report: &report,
    };
    if q.dry_run || (out.errors > 0 && !q.partial) {
        // Keep the report downloadable: record the refused import (nothing stored).
        out.import_id = st
            .db
            .import_members(&user.username, company, &record, &[], &|_| {})
            .await?;
        out.refused = Some(out.errors > 0 && !q.dry_run);
        track.set(Stage::Refused, 0, 0);
        return Ok(Json(out));
    }
    let groups = st.db.groups(company).await?;
    let members = members_of(&checked, &groups);
    let total = members.len();
    track.set(Stage::Saving, 0, total);
    let progress = st.progress.clone();
    let token = track.token.clone();
    out.import_id = st
        .db
        .import_members(&user.username, company, &record, &members, &move |done| {
            progress.set(
                &token,
                ImportProgress {
                    stage: Stage::Saving,
                    done,
                    total,
                },
            );
        })
        .await?;
    track.set(Stage::Done, total, total);
    out.imported = total;
    out.grouped = Some(members.iter().filter(|m| m.group_id.is_some()).count());
    Ok(Json(out))
}

/// Reads and checks the file; parsing a large workbook is CPU work, so it
/// runs off the async workers.
async fn check(file_name: &str, body: Bytes) -> Result<CheckedRoster, ApiErr> {
    let file_name = file_name.to_string();
    tokio::task::spawn_blocking(move || exam_roster::import(&file_name, &body))
        .await
        .map_err(|_| bad("roster", "名单文件无法读取"))?
        .map_err(|e| bad("roster", e.to_string()))
}

/// The good rows as members, each in the first group whose rule fits.
fn members_of(checked: &CheckedRoster, groups: &[GroupRow]) -> Vec<NewMember> {
    let today = now_local().date();
    let rules: Vec<GroupRule> = groups.iter().map(|g| g.spec.rule()).collect();
    checked
        .rows
        .iter()
        .map(|r| NewMember {
            initials: initials(&r.name),
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
        .collect()
}

/// Distinct lines with an error (a row may have several).
fn error_lines(c: &CheckedRoster) -> usize {
    let mut lines: Vec<usize> = c.errors.iter().map(|e| e.line).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.len()
}

pub(super) async fn progress(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<ImportProgress>, ApiErr> {
    Ok(Json(st.progress.get(&token).unwrap_or_default()))
}

/// The error report of an import, as CSV (audited).
pub(super) async fn report(
    State(st): State<AppState>,
    user: SessionUser,
    Path((company, import)): Path<(i64, i64)>,
) -> Result<Response, ApiErr> {
    let csv = st
        .db
        .import_report(company, import)
        .await?
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有这次导入"))?;
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
