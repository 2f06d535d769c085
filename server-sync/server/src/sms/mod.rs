//! SMS to the people examined (I5): booking confirmed, report ready,
//! abnormal result, critical value — through the interfaces queue's `Sms`
//! counterpart and an SMS platform with Tencent Cloud SMS API 3.0 semantics
//! (`exam-sms`).
//!
//! The path of one message:
//! 1. **Requested with its fact** ([`request`]): in the fact's own
//!    transaction (a booking made at the desk or from a group roster, a
//!    report published, a result raised), one `sms_messages` row under a
//!    unique key (`sms.booking:<visit>`, ...), its number and facts sealed.
//!    A fact done twice requests nothing twice.
//! 2. **Released under the limits** ([`store::release`], the worker's
//!    round): our own per-number and overall limits (`exam_sms::Limiter`,
//!    counted from what was released in the last day) decide when each
//!    waiting message goes; released ones are enqueued in the interfaces
//!    queue under the same key. Confirmations and report notices go only
//!    with the person's consent to text messages (`store::needs_consent`,
//!    held 10 minutes for one not yet recorded, then dropped). Over a limit, a message waits (its
//!    `due_at` moved, the reason kept); a booking confirmation still
//!    waiting when its exam day is over is dropped with the reason
//!    recorded, a report notice after 7 days; abnormal results never
//!    expire; critical values go past our limits at once and are never
//!    dropped (the platform refusing one shows on `/sms` as a failure to
//!    be phoned through).
//! 3. **Sent by the queue** ([`adapter::TencentSmsAdapter`], adapter
//!    `tencent_sms`): rendered from the template of its kind, checked
//!    (length, segments), sent; the platform's serial number kept as the
//!    message's `remote_ref` (state `sent`).
//! 4. **Reported** ([`adapter::Worker`]): the platform's status reports
//!    (`PullSmsSendStatus`) matched by serial number: `delivered` or
//!    `failed` on the row, the queue's message acknowledged; duplicates
//!    counted, not applied twice; reports for unknown numbers kept aside.
//!
//! Numbers are personal data: sealed in both tables' payloads, found by
//! the mobile's blind index (the limiter's key), shown masked
//! (`138****5678`), never logged.

pub mod adapter;
mod page;
pub mod store;

pub(crate) use page::routes;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use exam_sms::TemplateKind;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::db::Result;

/// What a message says, before the configuration adds its own parts (the
/// centre's telephone, the signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SmsFacts {
    BookingConfirmed {
        salutation: String,
        date: NaiveDate,
        time: String,
        campus: String,
    },
    ReportReady {
        salutation: String,
        exam_no: String,
    },
    AbnormalResult {
        salutation: String,
    },
    CriticalValue {
        salutation: String,
    },
}

impl SmsFacts {
    pub fn kind(&self) -> TemplateKind {
        match self {
            Self::BookingConfirmed { .. } => TemplateKind::BookingConfirmed,
            Self::ReportReady { .. } => TemplateKind::ReportReady,
            Self::AbnormalResult { .. } => TemplateKind::AbnormalResult,
            Self::CriticalValue { .. } => TemplateKind::CriticalValue,
        }
    }

    /// The template's parameters, in order.
    pub fn params(&self, centre_phone: &str) -> Vec<String> {
        match self {
            Self::BookingConfirmed {
                salutation,
                date,
                time,
                campus,
            } => vec![
                salutation.clone(),
                date.format("%-m月%-d日").to_string(),
                time.clone(),
                campus.clone(),
            ],
            Self::ReportReady {
                salutation,
                exam_no,
            } => vec![salutation.clone(), exam_no.clone()],
            Self::AbnormalResult { salutation } | Self::CriticalValue { salutation } => {
                vec![salutation.clone(), centre_phone.to_string()]
            }
        }
    }
}

/// What the queue carries for one SMS (sealed there as in `sms_messages`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsPayload {
    pub sms_id: i64,
    /// As the person gave it; the adapter writes +86 E.164.
    pub phone: String,
    pub facts: SmsFacts,
}

/// Masked: a payload may end up in a log line.
impl std::fmt::Debug for SmsPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsPayload")
            .field("sms_id", &self.sms_id)
            .field("phone", &exam_sms::model::mask_phone(&self.phone))
            .field("kind", &self.facts.kind())
            .finish()
    }
}

/// A message's state in `sms_messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsState {
    /// Held by our limits (or not yet looked at).
    Waiting,
    /// In the interfaces queue (sent, or on its way).
    Queued,
    Delivered,
    /// The report said FAIL, or the queue gave it up (dead letter).
    Failed,
    /// Not sent, on purpose, with the reason kept (expired while waiting,
    /// no usable number).
    Dropped,
}

impl SmsState {
    pub const ALL: [SmsState; 5] = [
        Self::Waiting,
        Self::Queued,
        Self::Delivered,
        Self::Failed,
        Self::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Queued => "queued",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Whether a waiting message is still worth sending (pure): booking
/// confirmations until their exam day is over (centre time), report
/// notices for 7 days; result notices always.
pub fn expires_at(facts: &SmsFacts, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match facts {
        SmsFacts::BookingConfirmed { date, .. } => date
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(exam_domain::centre_offset()).single())
            .map(|t| t.with_timezone(&Utc)),
        SmsFacts::ReportReady { .. } => Some(now + Duration::days(7)),
        SmsFacts::AbnormalResult { .. } | SmsFacts::CriticalValue { .. } => None,
    }
}

/// Which goes first when several wait (critical values first).
pub fn priority(k: TemplateKind) -> i64 {
    match k {
        TemplateKind::CriticalValue => 3,
        TemplateKind::AbnormalResult => 2,
        TemplateKind::ReportReady => 1,
        TemplateKind::BookingConfirmed => 0,
    }
}

/// A message to request for a visit.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    /// Unique for the fact (`sms.booking:<visit>`, ...).
    pub key: String,
    pub booking_id: i64,
    pub facts: SmsFacts,
}

/// The person's salutation from a visit's person (surname and 先生 / 女士).
pub fn salutation_of(p: &exam_domain::Person) -> String {
    exam_sms::template::salutation(&p.name, p.sex == exam_domain::Sex::Female)
}

/// What a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Created,
    /// One with the same key exists (the fact was done before).
    Exists,
    /// The person gave no usable mobile number: nothing to send to (not an
    /// error of the fact).
    NoMobile,
    NoVisit,
}

/// Requests an SMS to the person of `req.booking_id`, in the caller's
/// transaction (before its audit line).
pub(crate) async fn request(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    req: &SmsRequest,
    mobile: &str,
    now: DateTime<Utc>,
) -> Result<Requested> {
    if exam_sms::model::e164_cn(mobile).is_err() {
        return Ok(Requested::NoMobile);
    }
    Ok(if store::insert(tx, keys, req, mobile, now).await? {
        Requested::Created
    } else {
        Requested::Exists
    })
}

/// The mobile and salutation of a visit's person, opened in `tx`.
pub(crate) async fn person_of_visit(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
) -> Result<Option<(exam_domain::Person, String)>> {
    let r = sqlx::query(
        "SELECT p.person_key, p.id_number, p.name, p.mobile, b.exam_no
           FROM bookings b JOIN people p ON p.person_key = b.person_key WHERE b.id = $1",
    )
    .bind(booking_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let p = crate::db::person_of_row(keys, &r)?;
    let exam_no: String = r.try_get("exam_no")?;
    Ok(Some((p, exam_no)))
}

/// A booking was made for `person` (desk or group roster): its
/// confirmation, when the person gave a mobile.
pub(crate) async fn on_booking(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
    person: &exam_domain::Person,
    date: NaiveDate,
    time: chrono::NaiveTime,
    campus: &str,
) -> Result<Requested> {
    let req = SmsRequest {
        key: format!("sms.booking:{booking_id}"),
        booking_id,
        facts: SmsFacts::BookingConfirmed {
            salutation: salutation_of(person),
            date,
            time: time.format("%H:%M").to_string(),
            campus: campus
                .chars()
                .take(exam_sms::template::MAX_PARAM_CHARS)
                .collect(),
        },
    };
    request(tx, keys, &req, &person.mobile, Utc::now()).await
}

/// A visit's report was published: "report ready", once per visit.
pub(crate) async fn on_report_published(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
) -> Result<Requested> {
    let Some((p, exam_no)) = person_of_visit(tx, keys, booking_id).await? else {
        return Ok(Requested::NoVisit);
    };
    let req = SmsRequest {
        key: format!("sms.report:{booking_id}"),
        booking_id,
        facts: SmsFacts::ReportReady {
            salutation: salutation_of(&p),
            exam_no,
        },
    };
    request(tx, keys, &req, &p.mobile, Utc::now()).await
}

/// Which result notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultNotice {
    Abnormal,
    Critical,
}

/// A visit's result needs the person to call (for issue 20's abnormal
/// results, and staff by hand): one SMS per `reference` (the result's id,
/// or the day for a manual notice), in the caller's transaction. Critical
/// values go past the rate limits.
pub(crate) async fn on_result(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    booking_id: i64,
    notice: ResultNotice,
    reference: &str,
) -> Result<Requested> {
    let Some((p, _)) = person_of_visit(tx, keys, booking_id).await? else {
        return Ok(Requested::NoVisit);
    };
    let salutation = salutation_of(&p);
    let (key, facts) = match notice {
        ResultNotice::Abnormal => (
            format!("sms.abnormal:{booking_id}:{reference}"),
            SmsFacts::AbnormalResult { salutation },
        ),
        ResultNotice::Critical => (
            format!("sms.critical:{booking_id}:{reference}"),
            SmsFacts::CriticalValue { salutation },
        ),
    };
    let req = SmsRequest {
        key,
        booking_id,
        facts,
    };
    request(tx, keys, &req, &p.mobile, Utc::now()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_expires_and_what_goes_first() {
        let now = Utc::now();
        let b = SmsFacts::BookingConfirmed {
            salutation: "张先生".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default(),
            time: "08:00".into(),
            campus: "本部".into(),
        };
        // The end of the exam day in the centre's time (UTC+8).
        assert_eq!(
            expires_at(&b, now).map(|t| t.to_rfc3339()),
            Some("2026-12-06T16:00:00+00:00".into())
        );
        let c = SmsFacts::CriticalValue {
            salutation: "张先生".into(),
        };
        assert_eq!(expires_at(&c, now), None);
        assert_eq!(
            b.params("x"),
            ["张先生", "12月6日", "08:00", "本部"].map(String::from)
        );
        assert_eq!(c.params("0571-1"), ["张先生", "0571-1"].map(String::from));
        assert!(priority(TemplateKind::CriticalValue) > priority(TemplateKind::AbnormalResult));
        assert!(
            !format!(
                "{:?}",
                SmsPayload {
                    sms_id: 1,
                    phone: "13812345678".into(),
                    facts: c
                }
            )
            .contains("12345678")
        );
    }
}
