//! Published exam reports (E9, K9): the report office publishes a visit's
//! PDF; the person prints it at a kiosk with their ID card on the reader.
//! One live report per visit: publishing again withdraws the earlier one.
//! Publishing, withdrawing and every fetch are in the audit log.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use exam_domain::IdNumber;
use exam_protocol::{Event, ReportPrinted, ReportSummary};
use sqlx::{Any, Row, Transaction};

use super::oplog::log;
use super::people::{person_key, person_of_row};
use super::{Db, DbError, Result, next_id, parse_ts, ts};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("没有这条预约")]
    NoVisit,
    #[error("已取消的预约不能发布报告")]
    Cancelled,
    #[error("没有已发布的报告")]
    NoReport,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ReportError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A visit's live report as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub booking_id: i64,
    pub title: String,
    /// 0 when the PDF does not tell (compressed object streams).
    pub pages: i32,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
    /// Prints at kiosks, oldest first.
    pub prints: Vec<ReportPrint>,
}

/// One print of a report at a kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPrint {
    pub kiosk_id: String,
    /// The kiosk's print job (its CUPS jobs are named `<job>-<part>`).
    pub job_id: String,
    pub printed_at: DateTime<Utc>,
}

/// A report's PDF is sealed, bound to its report id.
fn pdf_ad(id: i64) -> Vec<u8> {
    super::at_rest::ad("reports", "pdf", &[&id.to_string()])
}

/// Checks what the report office uploads: a PDF, not empty, not too large.
pub fn check_pdf(pdf: &[u8]) -> Result<i32, ReportError> {
    if pdf.len() > exam_protocol::MAX_REPORT_BYTES {
        return Err(ReportError::Invalid("报告文件过大（上限 20 MB）"));
    }
    if !pdf.starts_with(b"%PDF-") || !pdf.windows(5).any(|w| w == b"%%EOF") {
        return Err(ReportError::Invalid("报告须为完整的 PDF 文件"));
    }
    Ok(exam_domain::documents::pdf_pages(pdf).unwrap_or(0))
}

/// Records a kiosk's print of a report (applied once, by event id).
pub(crate) async fn printed(
    tx: &mut Transaction<'_, Any>,
    kiosk_id: &str,
    event: &Event,
    r: &ReportPrinted,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_prints(event_id, report_id, kiosk_id, job_id, pages, printed_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.id.to_string())
    .bind(r.report_id)
    .bind(kiosk_id)
    .bind(r.job_id.to_string())
    .bind(i64::from(r.pages))
    .bind(ts(r.printed_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn withdraw_live(
    tx: &mut Transaction<'_, Any>,
    booking_id: i64,
    actor: &str,
    reason: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE reports SET withdrawn_at = $2, withdrawn_by = $3, withdraw_reason = $4
          WHERE booking_id = $1 AND withdrawn_at IS NULL",
    )
    .bind(booking_id)
    .bind(ts(Utc::now()))
    .bind(actor)
    .bind(reason)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

impl Db {
    /// Publishes a visit's report; an earlier live one is withdrawn.
    pub async fn publish_report(
        &self,
        actor: &str,
        booking_id: i64,
        title: Option<&str>,
        pdf: &[u8],
    ) -> Result<ReportRow, ReportError> {
        let pages = check_pdf(pdf)?;
        let mut tx = self.pool.begin().await?;
        // A no-op update, not a plain SELECT: it locks the booking's row, so
        // that concurrent publishes of one visit run one after the other and
        // each withdraws what the one before it published (PostgreSQL's
        // READ COMMITTED would otherwise let both see no live report and
        // both insert one). Portable where `SELECT ... FOR UPDATE` is not.
        let row =
            sqlx::query("UPDATE bookings SET state = state WHERE id = $1 RETURNING state, package")
                .bind(booking_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(ReportError::NoVisit)?;
        if row.try_get::<String, _>("state")? == "cancelled" {
            return Err(ReportError::Cancelled);
        }
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.chars().take(60).collect(),
            None => format!("{} 体检报告", row.try_get::<String, _>("package")?),
        };
        withdraw_live(&mut tx, booking_id, actor, "发布了新版本").await?;
        // I5: "report ready" by SMS, once per visit (a new version of the
        // report sends nothing more).
        crate::sms::on_report_published(&mut tx, &self.keys, booking_id).await?;
        // As stored (milliseconds), so the answer equals what is read back.
        let (id, now) = (next_id(), Utc::now().trunc_subsecs(3));
        sqlx::query(
            "INSERT INTO reports(id, booking_id, title, pages, pdf, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(booking_id)
        .bind(&title)
        .bind(i64::from(pages))
        .bind(self.keys.seal(pdf, &pdf_ad(id)).map_err(DbError::from)?)
        .bind(ts(now))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        log(
            &mut tx,
            actor,
            "report.publish",
            &format!("booking:{booking_id}"),
            &format!("report {id}, {pages} pages, {} bytes", pdf.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(ReportRow {
            id,
            booking_id,
            title,
            pages,
            published_at: now,
            published_by: actor.into(),
            prints: Vec::new(),
        })
    }

    /// E9 "withdrawal of a published report": no kiosk lists it any more.
    pub async fn withdraw_report(
        &self,
        actor: &str,
        booking_id: i64,
        reason: &str,
    ) -> Result<(), ReportError> {
        let mut tx = self.pool.begin().await?;
        if withdraw_live(&mut tx, booking_id, actor, reason).await? == 0 {
            return Err(ReportError::NoReport);
        }
        log(
            &mut tx,
            actor,
            "report.withdraw",
            &format!("booking:{booking_id}"),
            reason,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A visit's live report with its kiosk prints.
    pub async fn visit_report(&self, booking_id: i64) -> Result<Option<ReportRow>> {
        let Some(r) = sqlx::query(
            "SELECT id, title, pages, published_at, published_by FROM reports
              WHERE booking_id = $1 AND withdrawn_at IS NULL",
        )
        .bind(booking_id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = r.try_get("id")?;
        let prints = sqlx::query(
            "SELECT kiosk_id, job_id, printed_at FROM report_prints WHERE report_id = $1 ORDER BY printed_at",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|p| {
            Ok(ReportPrint {
                kiosk_id: p.try_get("kiosk_id")?,
                job_id: p.try_get("job_id")?,
                printed_at: parse_ts(&p.try_get::<String, _>("printed_at")?)?,
            })
        })
        .collect::<Result<_>>()?;
        Ok(Some(ReportRow {
            id,
            booking_id,
            title: r.try_get("title")?,
            pages: r.try_get::<i64, _>("pages")? as i32,
            published_at: parse_ts(&r.try_get::<String, _>("published_at")?)?,
            published_by: r.try_get("published_by")?,
            prints,
        }))
    }

    /// A person's live reports, newest first, with their name.
    pub async fn person_reports(
        &self,
        id_number: &IdNumber,
    ) -> Result<Option<(String, Vec<ReportSummary>)>> {
        let key = person_key(&self.keys, id_number);
        let Some(p) = sqlx::query(
            "SELECT person_key, id_number, name, mobile FROM people WHERE person_key = $1",
        )
        .bind(&key)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT r.id, r.booking_id, b.code, b.exam_no, b.exam_date, r.title, r.pages, r.published_at,
                    (SELECT COUNT(*) FROM report_prints p WHERE p.report_id = r.id) AS printed
               FROM reports r JOIN bookings b ON b.id = r.booking_id
              WHERE b.person_key = $1 AND r.withdrawn_at IS NULL
              ORDER BY r.published_at DESC, r.id DESC",
        )
        .bind(&key)
        .fetch_all(&self.read)
        .await?;
        let reports = rows
            .iter()
            .map(|r| {
                let date: String = r.try_get("exam_date")?;
                Ok(ReportSummary {
                    id: r.try_get("id")?,
                    booking_id: r.try_get("booking_id")?,
                    booking_code: r.try_get("code")?,
                    exam_no: r.try_get("exam_no")?,
                    exam_date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                        .map_err(|e| DbError::Corrupt(format!("exam date {date:?}: {e}")))?,
                    title: r.try_get("title")?,
                    pages: r.try_get::<i64, _>("pages")? as i32,
                    published_at: parse_ts(&r.try_get::<String, _>("published_at")?)?,
                    printed: r.try_get::<i64, _>("printed")?.max(0) as u32,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some((person_of_row(&self.keys, &p)?.name, reports)))
    }

    /// The PDF of a live report of this person; the fetch is audited.
    pub async fn report_pdf(
        &self,
        actor: &str,
        report_id: i64,
        id_number: &IdNumber,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT r.id, r.booking_id, r.pdf FROM reports r JOIN bookings b ON b.id = r.booking_id
              WHERE r.id = $1 AND b.person_key = $2 AND r.withdrawn_at IS NULL",
        )
        .bind(report_id)
        .bind(person_key(&self.keys, id_number))
        .fetch_optional(&self.read)
        .await?;
        self.audited_pdf(actor, "report.fetch", row).await
    }

    /// The PDF of a visit's live report, for the desk's preview; audited.
    pub async fn visit_report_pdf(&self, actor: &str, booking_id: i64) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT id, booking_id, pdf FROM reports WHERE booking_id = $1 AND withdrawn_at IS NULL",
        )
        .bind(booking_id)
        .fetch_optional(&self.read)
        .await?;
        self.audited_pdf(actor, "report.view", row).await
    }

    /// A report row's PDF (columns id, booking_id, pdf), its reading
    /// written to the audit log as `action`.
    async fn audited_pdf(
        &self,
        actor: &str,
        action: &str,
        row: Option<sqlx::any::AnyRow>,
    ) -> Result<Option<Vec<u8>>> {
        let Some(r) = row else { return Ok(None) };
        let (id, booking): (i64, i64) = (r.try_get("id")?, r.try_get("booking_id")?);
        let pdf = self
            .keys
            .open(&r.try_get::<String, _>("pdf")?, &pdf_ad(id))?;
        self.audit_on(
            actor,
            action,
            &format!("booking:{booking}"),
            &format!("report {id}"),
        )
        .await?;
        Ok(Some(pdf))
    }
}
