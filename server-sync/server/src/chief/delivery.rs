//! Getting published reports to people (E9 items 63–66): batch printing
//! by company or exam date (the published PDFs themselves, merged), the
//! company's batch pickup slip, and the hand-over of a report at the desk
//! to the person, a proxy or the company, with the receiver's signature.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::AppState;
use crate::db::{DbError, SessionUser, ad, next_id, parse_ts, ts};
use crate::error::ApiErr;

/// The most reports one batch file holds (a printer's afternoon).
const BATCH_MAX: usize = 300;

fn bad(code: &str, m: impl Into<String>) -> ApiErr {
    ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, code, m)
}

/// Live reports' visits of a company's members, or of an exam date; for a
/// campus-bound account (E14), at its campus only (a company's members may
/// be examined at several).
async fn visits_with_reports(
    st: &AppState,
    campus: Option<&str>,
    company: Option<i64>,
    date: Option<NaiveDate>,
) -> Result<Vec<i64>, ApiErr> {
    let rows: Vec<i64> = match (company, date) {
        (Some(c), _) => sqlx::query_scalar(
            "SELECT r.booking_id FROM reports r JOIN group_members m ON m.booking_id = r.booking_id
              JOIN bookings b ON b.id = r.booking_id
              WHERE m.company_id = $1 AND r.withdrawn_at IS NULL
                AND ($2 IS NULL OR b.campus = $2) ORDER BY b.exam_no",
        )
        .bind(c)
        .bind(campus)
        .fetch_all(&st.db.read)
        .await,
        (None, Some(d)) => {
            sqlx::query_scalar(
                "SELECT r.booking_id FROM reports r JOIN bookings b ON b.id = r.booking_id
              WHERE b.exam_date = $1 AND r.withdrawn_at IS NULL
                AND ($2 IS NULL OR b.campus = $2) ORDER BY b.exam_no",
            )
            .bind(d.to_string())
            .bind(campus)
            .fetch_all(&st.db.read)
            .await
        }
        (None, None) => return Err(bad("no_filter", "请指定单位（company）或体检日期（date）")),
    }
    .map_err(DbError::from)?;
    Ok(rows)
}

#[derive(Debug, Deserialize)]
pub(super) struct BatchQ {
    company: Option<i64>,
    date: Option<NaiveDate>,
}

/// `GET /api/desk/reports/batch.pdf?company=<id>` or `?date=<YYYY-MM-DD>`:
/// every live report of the company's members or of the day, as published,
/// in one file (each fetch audited like a preview).
pub(super) async fn batch(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<BatchQ>,
) -> Result<Response, ApiErr> {
    let ids = visits_with_reports(&st, u.campus.as_deref(), q.company, q.date).await?;
    if ids.is_empty() {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_reports",
            "没有已发布的报告",
        ));
    }
    if ids.len() > BATCH_MAX {
        return Err(bad(
            "too_many",
            format!(
                "一次最多批量打印 {BATCH_MAX} 份（此条件下 {} 份），请按日期分批",
                ids.len()
            ),
        ));
    }
    let mut pdfs = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(pdf) = st.db.visit_report_pdf(&u.username, id).await? {
            pdfs.push(pdf);
        }
    }
    let merged = super::render::off_thread(move || exam_report::merge(&pdfs)).await?;
    Ok(super::api::pdf_response(merged))
}

/// `GET /api/group/companies/{id}/pickup-slip.pdf`: the company's batch
/// pickup slip for its members' live reports.
pub(super) async fn pickup_slip(
    State(st): State<AppState>,
    u: SessionUser,
    Path(company): Path<i64>,
) -> Result<Response, ApiErr> {
    let name = super::book::company_name(&st, company).await?;
    let rows = sqlx::query(
        "SELECT r.booking_id, r.pages, m.department FROM reports r
           JOIN group_members m ON m.booking_id = r.booking_id
           JOIN bookings b ON b.id = r.booking_id
          WHERE m.company_id = $1 AND r.withdrawn_at IS NULL
            AND ($2 IS NULL OR b.campus = $2) ORDER BY b.exam_no",
    )
    .bind(company)
    .bind(u.campus.as_deref())
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    if rows.is_empty() {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_reports",
            "该单位还没有已发布的报告",
        ));
    }
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("booking_id").map_err(DbError::from)?;
        let v = st.db.visit(id).await?;
        lines.push(exam_report::model::PickupLine {
            exam_no: v.record.booking.exam_no.clone(),
            // On paper for the company's clerk: masked like every list.
            name: exam_domain::mask::name(&v.record.person.name),
            sex: if v.record.person.sex == exam_domain::Sex::Male {
                "男"
            } else {
                "女"
            }
            .into(),
            department: r
                .try_get::<Option<String>, _>("department")
                .map_err(DbError::from)?
                .unwrap_or_default(),
            pages: u32::try_from(r.try_get::<i64, _>("pages").map_err(DbError::from)?).unwrap_or(0),
        });
    }
    let slip = exam_report::model::PickupSlip {
        centre: super::render::centre(&st),
        company: name,
        date: Utc::now()
            .with_timezone(&exam_domain::centre_offset())
            .date_naive()
            .to_string(),
        lines,
    };
    let fonts = super::render::fonts(&st)?;
    let n = slip.lines.len();
    let pdf = super::render::off_thread(move || exam_report::pickup_slip(fonts, &slip)).await?;
    st.db
        .audit_on(
            &u.username,
            "read.pickup_slip",
            &format!("company:{company}"),
            &format!("{n} reports"),
        )
        .await?;
    Ok(super::api::pdf_response(pdf))
}

/// Who took a report away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Receiver {
    /// 本人
    Person,
    /// 代领: someone the person sent, named, with the last digits of
    /// their ID.
    Proxy,
    /// 单位统一领取: the company's clerk.
    Company,
    /// 邮寄
    Post,
}

#[derive(Debug, Deserialize)]
pub(super) struct HandoverIn {
    to: Receiver,
    #[serde(default)]
    proxy_name: String,
    /// The proxy's ID number's last four characters.
    #[serde(default)]
    proxy_id_tail: String,
    /// The receiver's signature, PNG (data URL or base64); not for post.
    #[serde(default)]
    signature_png: Option<String>,
    #[serde(default)]
    note: String,
}

/// One hand-over as the desk lists it (the signature is fetched apart).
#[derive(Debug, Serialize)]
pub struct Handover {
    pub id: i64,
    pub report_id: i64,
    pub to: Receiver,
    pub proxy_name: String,
    pub proxy_id_tail: String,
    pub note: String,
    pub signed: bool,
    pub by: String,
    pub at: DateTime<Utc>,
}

fn detail_ad(id: i64) -> Vec<u8> {
    ad("report_handovers", "detail", &[&id.to_string()])
}

fn signature_ad(id: i64) -> Vec<u8> {
    ad("report_handovers", "signature", &[&id.to_string()])
}

/// The PNG of a data URL or base64, checked to be a PNG.
fn png(s: &str) -> Result<Vec<u8>, ApiErr> {
    use base64::Engine as _;
    let b64 = s.strip_prefix("data:image/png;base64,").unwrap_or(s);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad("bad_signature", "签名须为 PNG 图片"))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.len() > 512 * 1024 {
        return Err(bad("bad_signature", "签名须为 PNG 图片，且不超过 512 KB"));
    }
    Ok(bytes)
}

/// `POST /api/desk/visits/{id}/report/handover`: the live report handed
/// to the person, a proxy (named, with the last four of their ID, signed)
/// or the company's clerk (signed), or posted.
pub(super) async fn hand_over(
    State(st): State<AppState>,
    u: SessionUser,
    Path(booking): Path<i64>,
    Json(b): Json<HandoverIn>,
) -> Result<Json<Vec<Handover>>, ApiErr> {
    use base64::Engine as _;
    let report = st.db.visit_report(booking).await?.ok_or_else(|| {
        ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_report",
            "这次体检还没有已发布的报告",
        )
    })?;
    let proxy_name = b.proxy_name.trim().to_string();
    let tail = b.proxy_id_tail.trim().to_uppercase();
    if b.to == Receiver::Proxy {
        if proxy_name.is_empty() || proxy_name.chars().count() > 30 {
            return Err(bad("proxy", "代领须登记代领人姓名"));
        }
        if tail.len() != 4 || !tail.chars().all(|c| c.is_ascii_digit() || c == 'X') {
            return Err(bad("proxy", "代领须登记代领人身份证号后四位"));
        }
    }
    let signature = match (&b.signature_png, b.to) {
        (Some(s), _) => Some(png(s)?),
        (None, Receiver::Post) => None,
        (None, _) => return Err(bad("no_signature", "领取须由领取人签名")),
    };
    if b.note.chars().count() > 200 {
        return Err(bad("note", "备注上限 200 字"));
    }
    let v = st.db.visit(booking).await?;
    let subject = st.db.subject_of(v.record.person.id_number.as_str());
    let id = next_id();
    let detail = serde_json::json!({ "proxy_name": proxy_name, "proxy_id_tail": tail, "note": b.note.trim() });
    let mut tx = st.db.pool.begin().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO report_handovers(id, booking_id, report_id, receiver, detail, signature, by_user, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(booking)
    .bind(report.id)
    .bind(serde_json::to_value(b.to).ok().and_then(|x| x.as_str().map(str::to_string)))
    .bind(st.db.keys.seal_str(&detail.to_string(), &detail_ad(id)).map_err(DbError::from)?)
    .bind(
        signature
            .map(|s| {
                st.db.keys.seal_str(
                    &base64::engine::general_purpose::STANDARD.encode(s),
                    &signature_ad(id),
                )
            })
            .transpose()
            .map_err(DbError::from)?,
    )
    .bind(&u.username)
    .bind(ts(Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(DbError::from)?;
    crate::db::log_line(
        &mut tx,
        &u.username,
        "report.handover",
        &subject,
        &format!("booking={booking} report={} to={:?}", report.id, b.to),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    handovers_of(&st, booking).await.map(Json)
}

async fn handovers_of(st: &AppState, booking: i64) -> Result<Vec<Handover>, ApiErr> {
    let rows = sqlx::query(
        "SELECT id, report_id, receiver, detail, CASE WHEN signature IS NULL THEN 0 ELSE 1 END AS signed, by_user, at
           FROM report_handovers WHERE booking_id = $1 ORDER BY at, id",
    )
    .bind(booking)
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let detail: serde_json::Value = serde_json::from_str(
                &st.db
                    .keys
                    .open_string(&r.try_get::<String, _>("detail")?, &detail_ad(id))?,
            )
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
            let text = |k: &str| detail[k].as_str().unwrap_or_default().to_string();
            let receiver: String = r.try_get("receiver")?;
            Ok(Handover {
                id,
                report_id: r.try_get("report_id")?,
                to: serde_json::from_value(serde_json::Value::String(receiver))
                    .map_err(|e| DbError::Corrupt(e.to_string()))?,
                proxy_name: text("proxy_name"),
                proxy_id_tail: text("proxy_id_tail"),
                note: text("note"),
                signed: r.try_get::<i64, _>("signed")? != 0,
                by: r.try_get("by_user")?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect::<Result<_, DbError>>()
        .map_err(ApiErr::from)
}

/// `GET /api/desk/visits/{id}/report/handovers`.
pub(super) async fn handovers(
    State(st): State<AppState>,
    Path(booking): Path<i64>,
) -> Result<Json<Vec<Handover>>, ApiErr> {
    handovers_of(&st, booking).await.map(Json)
}

/// A company with published reports, for the desk's batch panel.
#[derive(Debug, Serialize)]
pub(super) struct CompanyReports {
    id: i64,
    name: String,
    reports: i64,
}

/// `GET /api/desk/reports/companies`: companies whose members have
/// published reports, with how many.
pub(super) async fn companies(
    State(st): State<AppState>,
    u: SessionUser,
) -> Result<Json<Vec<CompanyReports>>, ApiErr> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, COUNT(*) AS n FROM reports r
           JOIN group_members m ON m.booking_id = r.booking_id
           JOIN companies c ON c.id = m.company_id
           JOIN bookings b ON b.id = r.booking_id
          WHERE r.withdrawn_at IS NULL AND ($1 IS NULL OR b.campus = $1)
          GROUP BY c.id, c.name ORDER BY c.name",
    )
    .bind(u.campus.as_deref())
    .fetch_all(&st.db.read)
    .await
    .map_err(DbError::from)?;
    rows.iter()
        .map(|r| {
            Ok(CompanyReports {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                reports: r.try_get("n")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| DbError::from(e).into())
        .map(Json)
}
