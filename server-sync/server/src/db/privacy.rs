//! Consents (PIPL, S6; 002 §(九) 6.5.1, 6.5.3): one row per answer a person
//! gave about one purpose, from a kiosk's check-in or at the desk, with the
//! notice version shown; withdrawals, and what they stop. The rules (what
//! is in force, what may be withdrawn, what a withdrawal does) are
//! `exam_domain::privacy`; this module stores answers and carries the
//! effects out in the same transaction as the answer and its audit line.
//!
//! A person is always named here through one of their visits: the row's
//! `person_key` is copied from `bookings.person_key` in SQL, so no ID
//! number or key is ever typed in or passed around.

use chrono::{DateTime, Utc};
use exam_domain::privacy::{self, Channel, Consent, Purpose, WithdrawError, Withdrawal};
use exam_protocol::CheckIn;
use sqlx::{Any, Row, Transaction};

use super::{Db, DbError, Result, next_id, parse_ts, ts};
use crate::audit::{AuditEvent, Category};

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsentRow {
    pub id: i64,
    pub purpose: Purpose,
    pub purpose_zh: &'static str,
    pub granted: bool,
    pub channel: Channel,
    pub notice_version: String,
    pub given_at: String,
    pub recorded_by: String,
    pub booking_id: Option<i64>,
    pub withdrawn_at: Option<String>,
    pub withdrawn_by: Option<String>,
}

impl ConsentRow {
    /// The answer as the rules read it.
    pub fn consent(&self) -> Result<Consent> {
        Ok(Consent {
            purpose: self.purpose,
            granted: self.granted,
            channel: self.channel,
            notice_version: self.notice_version.clone(),
            at: parse_ts(&self.given_at)?,
            withdrawn_at: self.withdrawn_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("没有这条记录")]
    NoVisit,
    #[error(transparent)]
    Withdraw(#[from] WithdrawError),
    #[error(transparent)]
    Erasure(#[from] privacy::ErasureError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PrivacyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

fn row_of(r: &sqlx::any::AnyRow) -> Result<ConsentRow> {
    let purpose: String = r.try_get("purpose")?;
    let purpose = Purpose::parse(&purpose)
        .ok_or_else(|| DbError::Corrupt(format!("consent purpose {purpose:?}")))?;
    let channel: String = r.try_get("channel")?;
    Ok(ConsentRow {
        id: r.try_get("id")?,
        purpose,
        purpose_zh: purpose.label_zh(),
        granted: r.try_get::<i64, _>("granted")? != 0,
        channel: Channel::parse(&channel)
            .ok_or_else(|| DbError::Corrupt(format!("consent channel {channel:?}")))?,
        notice_version: r.try_get("notice_version")?,
        given_at: r.try_get("given_at")?,
        recorded_by: r.try_get("recorded_by")?,
        booking_id: r.try_get("booking_id")?,
        withdrawn_at: r.try_get("withdrawn_at")?,
        withdrawn_by: r.try_get("withdrawn_by")?,
    })
}

const COLUMNS: &str = "id, purpose, granted, channel, notice_version, given_at, recorded_by, \
                       booking_id, withdrawn_at, withdrawn_by";

/// The person key of a visit.
pub(crate) const PERSON_OF_VISIT: &str = "SELECT person_key FROM bookings WHERE id = $1";

/// The person key of visit `visit`, inside `tx`.
pub(crate) async fn person_of_visit(
    tx: &mut Transaction<'_, Any>,
    visit: i64,
) -> Result<Option<String>> {
    Ok(sqlx::query(PERSON_OF_VISIT)
        .bind(visit)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("person_key"))
        .transpose()?)
}

/// Every answer of the person `key`, oldest first.
pub(crate) async fn consents_of(
    tx: &mut Transaction<'_, Any>,
    key: &str,
) -> Result<Vec<ConsentRow>> {
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE person_key = $1 ORDER BY given_at, id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(row_of)
        .collect()
}

/// One answer to store.
struct Answer<'a> {
    key: &'a str,
    purpose: Purpose,
    granted: bool,
    channel: Channel,
    notice_version: &'a str,
    at: DateTime<Utc>,
    recorded_by: &'a str,
    booking_id: Option<i64>,
    event_id: Option<&'a str>,
}

async fn insert(tx: &mut Transaction<'_, Any>, a: &Answer<'_>) -> Result<i64> {
    let id = next_id();
    sqlx::query(
        "INSERT INTO consents(id, person_key, purpose, granted, channel, notice_version, given_at,
            recorded_by, booking_id, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(a.key)
    .bind(a.purpose.as_str())
    .bind(i64::from(a.granted))
    .bind(a.channel.as_str())
    .bind(a.notice_version)
    .bind(ts(a.at))
    .bind(a.recorded_by)
    .bind(a.booking_id)
    .bind(a.event_id)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// A person's photos deleted (a "no" to photos, at the kiosk too).
pub(crate) const DELETE_PHOTOS: &str = "UPDATE visit_photos SET png = NULL, outcome = 'withdrawn'
                      WHERE png IS NOT NULL
                        AND booking_id IN (SELECT id FROM bookings WHERE person_key = $1)";

/// Carries out what stopping `purpose` means for the person `key`; the
/// number of stored things removed (photos deleted).
pub(crate) async fn stop(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    effects: &[Withdrawal],
) -> Result<u64> {
    let mut removed = 0;
    for e in effects {
        match e {
            Withdrawal::DeletePhotos => {
                removed += sqlx::query(DELETE_PHOTOS)
                    .bind(key)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
            }
            Withdrawal::DeleteFaceTemplates => {
                removed += sqlx::query(super::faces::DELETE_FACE_TEMPLATES)
                    .bind(key)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
            }
            // Nothing is stored for these: whatever sends text messages, a
            // report to an employer or a research extract asks
            // `Db::consent_allows` first, which the withdrawn row now
            // answers no.
            Withdrawal::StopSms
            | Withdrawal::StopEmployerReport
            | Withdrawal::ExcludeFromResearch => {}
        }
    }
    Ok(removed)
}

/// Records the consent step of a kiosk check-in (applied once, with the
/// check-in's event), for the booking's person only when the check-in's
/// ID number is theirs (an identity mismatch records nothing). A "no"
/// stops the purpose at once, as at the desk.
pub(crate) async fn record_check_in(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    kiosk_id: &str,
    event_id: &str,
    c: &CheckIn,
) -> Result<()> {
    let Some(answers) = &c.privacy else {
        return Ok(());
    };
    let key = super::people::person_key(keys, &c.id_number);
    if person_of_visit(tx, c.booking_id).await?.as_deref() != Some(key.as_str()) {
        return Ok(());
    }
    let by = format!("kiosk:{kiosk_id}");
    for a in &answers.consents {
        insert(
            tx,
            &Answer {
                key: &key,
                purpose: a.purpose,
                granted: a.granted,
                channel: Channel::Kiosk,
                notice_version: &answers.notice_version,
                at: c.checked_in_at,
                recorded_by: &by,
                booking_id: Some(c.booking_id),
                event_id: Some(event_id),
            },
        )
        .await?;
        if !a.granted {
            stop(tx, &key, a.purpose.on_withdrawal()).await?;
        } else if a.purpose == Purpose::FaceRecognition {
            // A visit renews the template's retention (a year after the
            // last visit), also when no new template comes with it.
            super::faces::renew(tx, &key, c.checked_in_at).await?;
        }
    }
    Ok(())
}

/// May a photo of visit `booking_id` taken at `taken_at` be kept? Not when
/// the person's latest answer about photos, given after it was taken, is
/// a no or was withdrawn (a kiosk that synced late must not bring back a
/// picture the person has taken back at the desk). With no answer stored
/// (kiosks older than the consent record), the kiosk's own consent step,
/// which the photo record carries, stands.
pub(crate) async fn photo_allowed(
    tx: &mut Transaction<'_, Any>,
    booking_id: i64,
    taken_at: DateTime<Utc>,
) -> Result<bool> {
    let Some(key) = person_of_visit(tx, booking_id).await? else {
        return Ok(true);
    };
    let rows = consents_of(tx, &key).await?;
    let answers = rows
        .iter()
        .map(ConsentRow::consent)
        .collect::<Result<Vec<_>>>()?;
    Ok(match privacy::current(&answers, Purpose::PhotoIdentity) {
        None => true,
        Some(c) if c.granted && c.withdrawn_at.is_none() => true,
        // Refused or withdrawn before the picture was taken: the kiosk asked
        // again since (its own answer is newer) or the record is stale.
        Some(c) => c.withdrawn_at.unwrap_or(c.at) < taken_at,
    })
}

impl Db {
    /// Every answer of the person of visit `visit`, oldest first.
    pub async fn consents(&self, visit: i64) -> Result<Vec<ConsentRow>, PrivacyError> {
        let mut tx = self.read.begin().await?;
        let key = person_of_visit(&mut tx, visit)
            .await?
            .ok_or(PrivacyError::NoVisit)?;
        let rows = consents_of(&mut tx, &key).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Whether the person of visit `visit` has a consent in force for
    /// `purpose` (what a sender of text messages, of a report to an
    /// employer or of a research extract must ask first).
    pub async fn consent_allows(&self, visit: i64, purpose: Purpose) -> Result<bool, PrivacyError> {
        let answers = self
            .consents(visit)
            .await?
            .iter()
            .map(ConsentRow::consent)
            .collect::<Result<Vec<_>>>()?;
        Ok(privacy::allows(&answers, purpose))
    }

    /// Records an answer given at the desk (or read out from the phone
    /// page) for the person of visit `visit`, with its audit line; a "no"
    /// stops the purpose at once (a refused photo is deleted).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_consent(
        &self,
        actor: &str,
        visit: i64,
        purpose: Purpose,
        granted: bool,
        channel: Channel,
        notice_version: &str,
        now: DateTime<Utc>,
    ) -> Result<ConsentRow, PrivacyError> {
        let mut tx = self.pool.begin().await?;
        let key = person_of_visit(&mut tx, visit)
            .await?
            .ok_or(PrivacyError::NoVisit)?;
        let id = insert(
            &mut tx,
            &Answer {
                key: &key,
                purpose,
                granted,
                channel,
                notice_version,
                at: now,
                recorded_by: actor,
                booking_id: Some(visit),
                event_id: None,
            },
        )
        .await?;
        let removed = if granted {
            0
        } else {
            stop(&mut tx, &key, purpose.on_withdrawal()).await?
        };
        let row = consents_of(&mut tx, &key)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| DbError::Corrupt("a consent just written is missing".into()))?;
        super::audit::append(
            &mut tx,
            &AuditEvent::new(Category::Operation, actor, "privacy.consent")
                .subject(format!("person:{key}"))
                .detail(format!(
                    "visit={visit} purpose={} granted={granted} channel={} notice={notice_version} removed={removed}",
                    purpose.as_str(),
                    channel.as_str()
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Withdraws the person's consent in force for `purpose` and carries
    /// out what that stops, with its audit line; what it stopped.
    pub async fn withdraw_consent(
        &self,
        actor: &str,
        visit: i64,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Withdrawal>, u64), PrivacyError> {
        let mut tx = self.pool.begin().await?;
        let key = person_of_visit(&mut tx, visit)
            .await?
            .ok_or(PrivacyError::NoVisit)?;
        let answers = consents_of(&mut tx, &key)
            .await?
            .iter()
            .map(ConsentRow::consent)
            .collect::<Result<Vec<_>>>()?;
        let effects = privacy::withdraw(&answers, purpose)?;
        withdraw_in_force(&mut tx, &key, purpose, actor, now).await?;
        let removed = stop(&mut tx, &key, effects).await?;
        super::audit::append(
            &mut tx,
            &AuditEvent::new(Category::Operation, actor, "privacy.withdraw")
                .subject(format!("person:{key}"))
                .detail(format!(
                    "visit={visit} purpose={} effects={effects:?} removed={removed}",
                    purpose.as_str()
                )),
        )
        .await?;
        tx.commit().await?;
        Ok((effects.to_vec(), removed))
    }
}

/// Marks the person's granted, not yet withdrawn answers for `purpose` as
/// withdrawn now.
pub(crate) async fn withdraw_in_force(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    purpose: Purpose,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE consents SET withdrawn_at = $3, withdrawn_by = $4
          WHERE person_key = $1 AND purpose = $2 AND granted = 1 AND withdrawn_at IS NULL",
    )
    .bind(key)
    .bind(purpose.as_str())
    .bind(ts(now))
    .bind(actor)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
