//! The check-in core: identity → bookings (online, else the offline cache)
//! → eligibility → journal. Pure decisions in [`assess`]; I/O at the edges.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use exam_domain::IdentityQuery;
use exam_domain::slot::{Eligibility, eligibility};
use exam_protocol::{BookingRecord, CheckIn, Event, PhotoRecord};
use offline_store::{SharedJournal, StoreError};
use sync_client::SyncClient;
use tokio::sync::Notify;

pub use crate::flow::model::{Candidate, Identified, Source};

#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    #[error("kiosk journal: {0}")]
    Store(#[from] StoreError),
    #[error("this booking cannot be checked in now: {0:?}")]
    NotEligible(Eligibility),
}

/// Pure: each booking with what may be done with it now. A booking this
/// kiosk already checked in counts as checked in, whatever the (possibly
/// not yet informed) server said.
pub fn assess(
    records: Vec<BookingRecord>,
    checked_in_here: impl Fn(i64) -> bool,
    campus: &str,
    now_local: NaiveDateTime,
) -> Vec<Candidate> {
    records
        .into_iter()
        .map(|mut record| {
            if checked_in_here(record.booking.id) {
                record.booking.state = exam_domain::BookingState::CheckedIn;
            }
            let eligibility = eligibility(&record.booking, campus, now_local);
            Candidate {
                record,
                eligibility,
            }
        })
        .collect()
}

#[derive(Clone)]
pub struct CheckinCore {
    journal: SharedJournal,
    client: Option<SyncClient>,
    campus: String,
    wake: Option<Arc<Notify>>,
    lookup_timeout: Duration,
    /// When set, each check-in journals its guide sheet, signed with this kiosk id.
    guide_sheets: Option<String>,
    /// Lab labels go with the guide sheet, in this label printer language.
    labels: Option<device_drivers::label::Language>,
    print_bell: Option<Arc<crate::spool::Doorbell>>,
    /// A report printer (CUPS) is configured: reports print here, and
    /// this rings its spooler.
    report_bell: Option<Arc<crate::spool::Doorbell>>,
}

impl std::fmt::Debug for CheckinCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckinCore")
            .field("campus", &self.campus)
            .field("online", &self.client.is_some())
            .finish()
    }
}

impl CheckinCore {
    /// `client` is `None` before enrolment; `wake` nudges the sync agent.
    pub fn new(
        journal: SharedJournal,
        client: Option<SyncClient>,
        campus: &str,
        wake: Option<Arc<Notify>>,
    ) -> Self {
        Self {
            journal,
            client,
            campus: campus.into(),
            wake,
            lookup_timeout: Duration::from_millis(1500),
            guide_sheets: None,
            labels: None,
            print_bell: None,
            report_bell: None,
        }
    }

    /// Journal a guide sheet with every check-in (a receipt printer is configured).
    pub fn with_guide_sheets(mut self, kiosk_id: &str, bell: Arc<crate::spool::Doorbell>) -> Self {
        self.guide_sheets = Some(kiosk_id.into());
        self.print_bell = Some(bell);
        self
    }

    /// The signed client, when the kiosk is enrolled (booking needs it).
    pub fn client(&self) -> Option<&SyncClient> {
        self.client.as_ref()
    }

    /// Journals the booking slip of a booking just made or moved here and
    /// wakes the spooler; None when no receipt printer is configured.
    pub fn print_booking_slip(
        &self,
        name: &str,
        outcome: &crate::flow::Outcome,
        now: DateTime<Utc>,
    ) -> Result<Option<uuid::Uuid>, offline_store::StoreError> {
        let Some(kiosk_id) = self.guide_sheets.as_deref() else {
            return Ok(None);
        };
        let Some(job) = crate::print::booking_slip(name, outcome, kiosk_id, now) else {
            return Ok(None);
        };
        self.journal.lock().add_print_job(&job, now)?;
        if let Some(b) = &self.print_bell {
            b.ring();
        }
        Ok(Some(job.id))
    }

    /// Reports print here (a report printer is configured); `bell`
    /// wakes its spooler.
    pub fn with_reports(mut self, bell: Arc<crate::spool::Doorbell>) -> Self {
        self.report_bell = Some(bell);
        self
    }

    /// Can a patient print their report at this kiosk?
    pub fn prints_reports(&self) -> bool {
        self.report_bell.is_some()
    }

    /// Wakes the report spooler: a report was journaled.
    pub(crate) fn ring_reports(&self) {
        if let Some(b) = &self.report_bell {
            b.ring();
        }
    }

    pub(crate) fn journal(&self) -> &SharedJournal {
        &self.journal
    }

    /// Nudges the sync agent: something new is in the outbox.
    pub(crate) fn wake_sync(&self) {
        if let Some(w) = &self.wake {
            w.notify_one();
        }
    }

    /// Does each check-in print (a receipt printer is configured)?
    pub fn prints(&self) -> bool {
        self.guide_sheets.is_some()
    }

    /// Journal the booking's lab labels with its guide sheet (a label printer is configured).
    pub fn with_lab_labels(mut self, lang: device_drivers::label::Language) -> Self {
        self.labels = Some(lang);
        self
    }

    pub fn with_lookup_timeout(mut self, t: Duration) -> Self {
        self.lookup_timeout = t;
        self
    }

    /// K5: matches the identity against the exam system in real time; when
    /// the server cannot answer, against the offline cache (K18).
    pub async fn identify(
        &self,
        query: &IdentityQuery,
        now: DateTime<Utc>,
    ) -> Result<Identified, CheckinError> {
        let online = match &self.client {
            Some(c) => match c.lookup(query, self.lookup_timeout).await {
                Ok(r) => Some(r.records),
                Err(e) => {
                    tracing::info!(error = %e, "online lookup failed; using the offline cache");
                    None
                }
            },
            None => None,
        };
        let (source, records) = match online {
            Some(r) => (Source::Online, r),
            None => (
                Source::OfflineCache,
                self.journal.lock().find_bookings(query)?,
            ),
        };
        let person = records.first().map(|r| r.person.clone());
        let now_local = now
            .with_timezone(&exam_domain::centre_offset())
            .naive_local();
        let here: Vec<i64> = {
            let j = self.journal.lock();
            let mut v = Vec::new();
            for r in &records {
                if j.checked_in_locally(r.booking.id)? {
                    v.push(r.booking.id);
                }
            }
            v
        };
        let candidates = assess(records, |id| here.contains(&id), &self.campus, now_local);
        Ok(Identified {
            source,
            person,
            candidates,
        })
    }

    /// Journals the check-in (fsync'd before this returns) and wakes the
    /// sync agent. Refuses a booking that is not eligible now.
    pub fn check_in(
        &self,
        candidate: &Candidate,
        identified_by: &str,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<Event, CheckinError> {
        self.check_in_printing(candidate, identified_by, source, false, None, now)
            .map(|(ev, _)| ev)
    }

    /// [`Self::check_in`], also giving the id of the guide sheet's print
    /// job, so the screen can follow its printing.
    pub fn check_in_printing(
        &self,
        candidate: &Candidate,
        identified_by: &str,
        source: Source,
        paid_at_kiosk: bool,
        photo: Option<PhotoStep<'_>>,
        now: DateTime<Utc>,
    ) -> Result<(Event, Option<uuid::Uuid>), CheckinError> {
        let frame = photo.as_ref().and_then(|p| p.frame);
        let privacy = photo.as_ref().and_then(|p| p.privacy.cloned());
        if candidate.eligibility != Eligibility::Ready {
            return Err(CheckinError::NotEligible(candidate.eligibility.clone()));
        }
        let b = &candidate.record.booking;
        // Encoded before the journal is locked: other front ends wait on it.
        let record = photo
            .and_then(|p| Some((p.outcome?, p)))
            .map(|(outcome, p)| PhotoRecord {
                booking_id: b.id,
                booking_code: b.code.clone(),
                outcome: outcome.into(),
                png: p.frame.map(|f| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.encode(f.to_png(320))
                }),
                taken_at: now,
                face: p
                    .face
                    .map(|v| exam_protocol::FaceTemplate::new(crate::face::MODEL, v)),
            });
        let event = {
            let mut j = self.journal.lock();
            // Re-checked under the writer lock: two front ends cannot both check in.
            if j.checked_in_locally(b.id)? {
                return Err(CheckinError::NotEligible(Eligibility::AlreadyCheckedIn));
            }
            // The guide sheet is journaled with the check-in: one commit.
            // The queue's first station, from the lookup just made; from
            // the offline cache it may be stale: the guide desk decides.
            let live = (source == Source::Online)
                .then_some(candidate.record.documents.as_ref())
                .flatten();
            let first = live.and_then(|d| d.guide.first.as_ref()).map(|f| f.label());
            // The phone link likewise: a cached one may have expired.
            let phone = live.and_then(|d| d.guide.phone.as_deref());
            let job = self.guide_sheets.as_deref().map(|kiosk_id| {
                crate::print::guide_sheet_job(&crate::print::GuideSheet {
                    kiosk_id,
                    record: &candidate.record,
                    checked_in_at: now,
                    first_station: first.as_deref(),
                    phone_link: phone,
                    paid_at_kiosk,
                    labels: self.labels,
                    photo: frame,
                })
            });
            let job_id = job.as_ref().map(|j| j.id);
            let ev = j.record_check_in_with_photo(
                &CheckIn {
                    booking_id: b.id,
                    booking_code: b.code.clone(),
                    id_number: b.id_number.clone(),
                    identified_by: identified_by.into(),
                    checked_in_at: now,
                    offline: source == Source::OfflineCache,
                    privacy,
                },
                job.as_ref(),
                record.as_ref(),
            )?;
            (ev, job_id)
        };
        if let (Some(b), Some(_)) = (&self.print_bell, event.1) {
            b.ring();
        }
        if let Some(w) = &self.wake {
            w.notify_one();
        }
        Ok(event)
    }
}

/// The photo step of a check-in (K6), when the kiosk has one: what the
/// patient chose ("camera", "id_card", "skipped", "declined") and the
/// picture, only with consent; and the consent step's answers with the
/// privacy notice version shown (PIPL), journaled in the check-in event.
#[derive(Debug, Clone, Copy)]
pub struct PhotoStep<'a> {
    /// None where the kiosk has no photo step (the answers still travel:
    /// face check-in's consent).
    pub outcome: Option<&'static str>,
    pub frame: Option<&'a device_drivers::camera::Frame>,
    pub privacy: Option<&'a exam_protocol::PrivacyAnswers>,
    /// K3: the face template of the person, computed at the kiosk, only
    /// when they agreed to face check-in (sent with the photo record).
    pub face: Option<&'a [f32]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};
    use exam_domain::BookingState;
    use offline_store::Journal;

    fn records() -> Vec<BookingRecord> {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let d = exam_domain::demo::generate(
            3,
            8,
            day,
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            "main",
        );
        d.bookings
            .iter()
            .map(|b| BookingRecord {
                booking: b.clone(),
                person: d
                    .people
                    .iter()
                    .find(|p| p.id_number == b.id_number)
                    .unwrap()
                    .clone(),
                change_seq: 1,
                documents: None,
            })
            .collect()
    }

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn assess_applies_slot_campus_and_local_check_ins() {
        let recs = records();
        let first = recs[0].booking.id;
        let c = assess(recs.clone(), |id| id == first, "main", at(9, 0));
        assert_eq!(
            c[0].eligibility,
            Eligibility::AlreadyCheckedIn,
            "checked in here, whatever the server said"
        );
        assert_eq!(c[0].record.booking.state, BookingState::CheckedIn);
        assert!(c[1..].iter().all(|c| c.eligibility == Eligibility::Ready));
        let early = assess(recs.clone(), |_| false, "main", at(8, 0));
        assert!(
            early
                .iter()
                .all(|c| matches!(c.eligibility, Eligibility::TooEarly { .. }))
        );
        let elsewhere = assess(recs, |_| false, "east", at(9, 0));
        assert!(
            elsewhere
                .iter()
                .all(|c| matches!(c.eligibility, Eligibility::OtherCampus { .. }))
        );
    }

    /// PIPL: the consent step's answers and the notice version shown are
    /// journaled in the check-in event the service records them from.
    #[test]
    fn the_consent_answers_travel_in_the_check_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path().join("j.db")).unwrap();
        let recs = records();
        j.apply_changes(&recs, 1).unwrap();
        let core = CheckinCore::new(SharedJournal::new(j), None, "main", None);
        let now = at(9, 0)
            .and_local_timezone(exam_domain::centre_offset())
            .unwrap()
            .with_timezone(&Utc);
        let c = assess(recs, |_| false, "main", at(9, 0)).remove(0);
        let answers = exam_protocol::PrivacyAnswers {
            notice_version: exam_domain::privacy::NOTICE_VERSION.into(),
            consents: vec![exam_protocol::ConsentAnswer {
                purpose: exam_domain::privacy::Purpose::PhotoIdentity,
                granted: false,
            }],
        };
        let step = PhotoStep {
            outcome: Some("declined"),
            frame: None,
            privacy: Some(&answers),
            face: None,
        };
        let (ev, _) = core
            .check_in_printing(&c, "id_card", Source::Online, false, Some(step), now)
            .unwrap();
        match ev.body().unwrap() {
            exam_protocol::EventBody::CheckIn(ci) => assert_eq!(ci.privacy, Some(answers)),
            other => panic!("a check-in, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn without_a_server_the_cache_answers_and_a_booking_checks_in_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path().join("j.db")).unwrap();
        let recs = records();
        j.apply_changes(&recs, 1).unwrap();
        let core = CheckinCore::new(SharedJournal::new(j), None, "main", None);
        let q = IdentityQuery::BookingCode {
            code: recs[0].booking.code.clone(),
        };
        let now = at(9, 0)
            .and_local_timezone(exam_domain::centre_offset())
            .unwrap()
            .with_timezone(&Utc);
        let found = core.identify(&q, now).await.unwrap();
        assert_eq!(found.source, Source::OfflineCache);
        let c = found.ready().next().unwrap().clone();
        let ev = core.check_in(&c, q.method(), found.source, now).unwrap();
        assert_eq!(ev.kind, "check_in");
        assert!(matches!(
            core.check_in(&c, q.method(), found.source, now),
            Err(CheckinError::NotEligible(Eligibility::AlreadyCheckedIn))
        ));
        let again = core.identify(&q, now).await.unwrap();
        assert_eq!(
            again.candidates[0].eligibility,
            Eligibility::AlreadyCheckedIn
        );
        let nobody = IdentityQuery::ExamNo {
            exam_no: "99999999".into(),
        };
        assert!(
            core.identify(&nobody, now)
                .await
                .unwrap()
                .candidates
                .is_empty()
        );
    }
}
