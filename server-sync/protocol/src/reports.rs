//! K9 / E9 at the kiosk: after the exam, the person prints their published
//! report (体检报告, A4). The kiosk has read the person's ID card (a report
//! is medical data: the card on the reader, not a code on a slip, is what
//! opens it); it lists the reports, fetches the PDF of those chosen, and
//! journals each print with a `report_printed` event in the same
//! transaction as its print job, so the centre knows who took which report
//! even when the kiosk was offline by the time it printed.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use exam_domain::IdNumber;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The largest report the service accepts and a kiosk prints (bytes).
pub const MAX_REPORT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsRequest {
    pub id_number: IdNumber,
}

/// A published report as the kiosk lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub id: i64,
    pub booking_id: i64,
    /// The booking's code: whose documents, should they wait for pickup.
    pub booking_code: String,
    pub exam_no: String,
    pub exam_date: NaiveDate,
    pub title: String,
    pub pages: i32,
    pub published_at: DateTime<Utc>,
    /// How often it was printed at a kiosk already.
    pub printed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsResponse {
    /// The person's name, for the kiosk to show masked.
    pub name: String,
    /// Published and not withdrawn, newest first.
    pub reports: Vec<ReportSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPdfRequest {
    pub id: i64,
    /// Whose card is on the reader: the service gives a report only to its
    /// own person.
    pub id_number: IdNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPdf {
    pub id: i64,
    /// The PDF, base64.
    pub pdf: String,
}

impl ReportPdf {
    pub fn new(id: i64, pdf: &[u8]) -> Self {
        Self {
            id,
            pdf: base64::engine::general_purpose::STANDARD.encode(pdf),
        }
    }

    /// The PDF's bytes, when the answer holds one (a PDF header, within
    /// the size limit).
    pub fn bytes(&self) -> Result<Vec<u8>, &'static str> {
        if self.pdf.len() > MAX_REPORT_BYTES / 3 * 4 + 4 {
            return Err("report too large");
        }
        let b = base64::engine::general_purpose::STANDARD
            .decode(&self.pdf)
            .map_err(|_| "report is not base64")?;
        if !b.starts_with(b"%PDF-") {
            return Err("report is not a PDF");
        }
        Ok(b)
    }
}

/// Journaled with the report's print job: the report went to this kiosk's
/// printer for its person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPrinted {
    pub report_id: i64,
    pub booking_id: i64,
    /// The kiosk's print job (its CUPS job names start with it).
    pub job_id: Uuid,
    pub pages: i32,
    pub printed_at: DateTime<Utc>,
}
