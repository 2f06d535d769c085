//! The network side of report printing (K9): the card holder's published
//! reports, and the chosen ones fetched and journaled for the report
//! spooler. Listing and fetching need the central service; without it the
//! screen says so calmly. Once journaled, a report prints whatever happens
//! to the network or the power (K15).

use chrono::{DateTime, Utc};
use exam_domain::IdNumber;
use exam_protocol::{ReportPdfRequest, ReportPrinted, ReportSummary, ReportsRequest};
use offline_store::{NewPart, NewPrintJob};
use uuid::Uuid;

use crate::booking::unavailable;
use crate::checkin::CheckinCore;
use crate::flow::Unavailable;

/// The card holder's published reports.
pub async fn load(
    core: &CheckinCore,
    id_number: IdNumber,
) -> Result<exam_protocol::ReportsResponse, Unavailable> {
    let client = core.client().ok_or(Unavailable::Offline)?;
    client
        .reports(&ReportsRequest { id_number })
        .await
        .map_err(unavailable)
}

/// The print job of one fetched report, and its event.
pub fn job(r: &ReportSummary, pdf: Vec<u8>, now: DateTime<Utc>) -> (ReportPrinted, NewPrintJob) {
    let job_id = Uuid::now_v7();
    let pages = exam_domain::documents::pdf_pages(&pdf).unwrap_or(r.pages);
    (
        ReportPrinted {
            report_id: r.id,
            booking_id: r.booking_id,
            job_id,
            pages,
            printed_at: now,
        },
        NewPrintJob {
            id: job_id,
            kind: "report".into(),
            person: r.booking_code.clone(),
            parts: vec![NewPart {
                printer: exam_protocol::PrinterKind::Report,
                body: pdf,
            }],
        },
    )
}

/// Fetches every chosen report, then journals one print job per report
/// with its `report_printed` event. Nothing is journaled unless every PDF
/// arrived whole: the patient is not sent off with half of what they chose.
pub async fn queue(
    core: &CheckinCore,
    id_number: IdNumber,
    chosen: Vec<ReportSummary>,
) -> Result<Vec<Uuid>, Unavailable> {
    let client = core.client().ok_or(Unavailable::Offline)?;
    let mut fetched = Vec::with_capacity(chosen.len());
    for r in chosen {
        let answer = client
            .report_pdf(&ReportPdfRequest {
                id: r.id,
                id_number: id_number.clone(),
            })
            .await
            .map_err(unavailable)?;
        let pdf = answer.bytes().map_err(|why| {
            tracing::error!(
                report = r.id,
                why,
                "the service sent a report that is not a PDF"
            );
            Unavailable::Refused("报告文件有误，请到服务台领取".into())
        })?;
        fetched.push((r, pdf));
    }
    let now = Utc::now();
    let mut jobs = Vec::with_capacity(fetched.len());
    let mut journal = core.journal().lock();
    for (r, pdf) in fetched {
        let (printed, job) = job(&r, pdf, now);
        journal.record_report_print(&printed, &job).map_err(|e| {
            tracing::error!(error = %e, "journaling a report");
            Unavailable::Refused("本机暂时不能打印报告，请到服务台领取".into())
        })?;
        tracing::info!(report = r.id, job = %job.id, pages = printed.pages, "report journaled");
        jobs.push(job.id);
    }
    drop(journal);
    core.ring_reports();
    core.wake_sync();
    Ok(jobs)
}
