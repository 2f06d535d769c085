//! A person's rights at the desk (PIPL art. 44–47; 002 §(九) 6.5.2): what is
//! held about them, gathered in one place, and erasure as far as the
//! medical-record retention rule allows (`exam_domain::privacy`: outpatient
//! records are kept ≥ 15 years after the last visit, 《医疗机构病历管理规定》
//! 第二十九条).
//!
//! Erasure keeps the exam record (visits, items, reports) and removes the
//! mobile number, every check-in photo and the optional consents. A person
//! with bookings only (no exam performed) is anonymised: their bookings and
//! group memberships move to a pseudonym (a made-up ID number under the
//! area code `000000`, which no real person has, keeping sex and birth year
//! for the centre's counts), open bookings are cancelled (their places go
//! back), photos, waiver signatures, consents and the person's own row are
//! deleted. Every booking touched gets a new change number, so kiosks'
//! offline caches receive the erased mobile or the pseudonym too. The audit
//! trail is not rewritten (nobody may change it, S7; 网络安全法 第二十一条
//! keeps logs at least six months): it names the person by key only.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use exam_domain::privacy::{self, Erasure, ErasurePlan, Held, Purpose};
use exam_domain::{BookingState, IdNumber, Person, Sex};
use sqlx::{Any, Row, Transaction};

use super::bookings::next_change_seq;
use super::desk::{Visit, cancel_in};
use super::privacy::{ConsentRow, PrivacyError, consents_of, person_of_visit, stop};
use super::visits::visit_in;
use super::{Db, DbError, Result, people};
use crate::audit::{AuditEvent, Category};

/// A check-in photo: whether the picture is still held.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhotoHeld {
    pub booking_id: i64,
    pub kiosk_id: String,
    pub outcome: String,
    pub held: bool,
    pub taken_at: String,
}

/// The face template kept for face check-in (K3), if any: when and where
/// it was taken and the visit that last renewed it (the numbers stay
/// sealed: they mean nothing to a person and are their biometric data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FaceHeld {
    pub kiosk_id: String,
    pub created_at: String,
    pub last_visit_at: String,
}

/// A published report (the PDF itself is printed at the kiosk or the desk).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReportHeld {
    pub id: i64,
    pub booking_id: i64,
    pub title: String,
    pub pages: i64,
    pub published_at: String,
    pub withdrawn: bool,
}

/// A company roster the person is on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MembershipHeld {
    pub company: String,
    pub department: Option<String>,
    pub employee_no: Option<String>,
    pub banned: bool,
    pub added_at: String,
}

/// One line of the audit trail about the person: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessLine {
    pub at: String,
    pub actor: String,
    pub category: String,
    pub action: String,
    pub outcome: String,
}

/// Everything held about one person (full values: the caller masks what a
/// screen shows).
#[derive(Debug, Clone)]
pub struct PersonRecord {
    pub person: Person,
    pub visits: Vec<Visit>,
    pub photos: Vec<PhotoHeld>,
    pub face: Option<FaceHeld>,
    pub reports: Vec<ReportHeld>,
    pub consents: Vec<ConsentRow>,
    pub memberships: Vec<MembershipHeld>,
    pub accesses: Vec<AccessLine>,
    pub held: Held,
}

/// The most visits and trail lines gathered for one person.
const MAX_VISITS: i64 = 500;
const MAX_ACCESSES: i64 = 2000;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub plan: ErasurePlan,
    pub photos_deleted: u64,
    pub consents_withdrawn: u64,
    pub bookings_cancelled: usize,
    pub bookings_moved: usize,
}

/// The person's visits in `tx`, newest first.
async fn visit_ids(tx: &mut Transaction<'_, Any>, key: &str) -> Result<Vec<i64>> {
    sqlx::query(
        "SELECT id FROM bookings WHERE person_key = $1 ORDER BY exam_date DESC, id DESC LIMIT $2",
    )
    .bind(key)
    .bind(MAX_VISITS)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok(r.try_get::<i64, _>("id")?))
    .collect()
}

/// What the retention rule depends on, from the visits and reports.
fn held_of(visits: &[Visit], reports: &[ReportHeld]) -> Held {
    let performed: Vec<NaiveDate> = visits
        .iter()
        .filter(|v| v.record.booking.state == BookingState::CheckedIn || v.registered_at.is_some())
        .map(|v| v.record.booking.exam_date)
        .collect();
    Held {
        exams_performed: performed.len(),
        last_exam: performed.into_iter().max(),
        reports: reports.len(),
    }
}

async fn reports_of(tx: &mut Transaction<'_, Any>, key: &str) -> Result<Vec<ReportHeld>> {
    sqlx::query(
        "SELECT r.id, r.booking_id, r.title, r.pages, r.published_at, r.withdrawn_at
           FROM reports r JOIN bookings b ON b.id = r.booking_id
          WHERE b.person_key = $1 ORDER BY r.published_at DESC, r.id DESC",
    )
    .bind(key)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok(ReportHeld {
            id: r.try_get("id")?,
            booking_id: r.try_get("booking_id")?,
            title: r.try_get("title")?,
            pages: r.try_get("pages")?,
            published_at: r.try_get("published_at")?,
            withdrawn: r.try_get::<Option<String>, _>("withdrawn_at")?.is_some(),
        })
    })
    .collect()
}

impl Db {
    /// Everything held about the person of visit `visit`.
    pub async fn person_record(&self, visit: i64) -> Result<PersonRecord, PrivacyError> {
        let mut tx = self.read.begin().await?;
        let key = person_of_visit(&mut tx, visit)
            .await?
            .ok_or(PrivacyError::NoVisit)?;
        let mut visits = Vec::new();
        for id in visit_ids(&mut tx, &key).await? {
            visits.push(visit_in(&mut tx, &self.keys, id).await.map_err(desk_err)?);
        }
        let person = visits
            .first()
            .map(|v| v.record.person.clone())
            .ok_or(PrivacyError::NoVisit)?;
        let photos = sqlx::query(
            "SELECT booking_id, kiosk_id, outcome, png, taken_at FROM visit_photos
              WHERE booking_id IN (SELECT id FROM bookings WHERE person_key = $1)
              ORDER BY taken_at DESC",
        )
        .bind(&key)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(PhotoHeld {
                booking_id: r.try_get("booking_id")?,
                kiosk_id: r.try_get("kiosk_id")?,
                outcome: r.try_get("outcome")?,
                held: r.try_get::<Option<String>, _>("png")?.is_some(),
                taken_at: r.try_get("taken_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let face = sqlx::query(
            "SELECT kiosk_id, created_at, last_visit_at FROM face_templates WHERE person_key = $1",
        )
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<FaceHeld> {
            Ok(FaceHeld {
                kiosk_id: r.try_get("kiosk_id")?,
                created_at: r.try_get("created_at")?,
                last_visit_at: r.try_get("last_visit_at")?,
            })
        })
        .transpose()?;
        let reports = reports_of(&mut tx, &key).await?;
        let consents = consents_of(&mut tx, &key).await?;
        let memberships = sqlx::query(
            "SELECT c.name, m.department, m.employee_no, m.banned, m.created_at
               FROM group_members m JOIN companies c ON c.id = m.company_id
              WHERE m.person_key = $1 ORDER BY m.created_at",
        )
        .bind(&key)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(MembershipHeld {
                company: r.try_get("name")?,
                department: r.try_get("department")?,
                employee_no: r.try_get("employee_no")?,
                banned: r.try_get::<i64, _>("banned")? != 0,
                added_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        // Who looked at or changed the record: lines about the person and
        // about any of their visits (photo views name the visit).
        let accesses = sqlx::query(
            "SELECT at, actor, category, action, outcome FROM audit_log
              WHERE subject = $1
                 OR subject IN (SELECT 'booking:' || CAST(id AS TEXT) FROM bookings WHERE person_key = $2)
              ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(format!("person:{key}"))
        .bind(&key)
        .bind(MAX_ACCESSES)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(AccessLine {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                category: r.try_get("category")?,
                action: r.try_get("action")?,
                outcome: r.try_get("outcome")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        let held = held_of(&visits, &reports);
        Ok(PersonRecord {
            person,
            visits,
            photos,
            face,
            reports,
            consents,
            memberships,
            accesses,
            held,
        })
    }

    /// Erases what `ask` asks for of the person of visit `visit`, as far as
    /// the retention rule allows (refused whole otherwise), in one
    /// transaction with its audit line.
    pub async fn erase_person(
        &self,
        actor: &str,
        visit: i64,
        ask: Erasure,
        now: DateTime<Utc>,
    ) -> Result<Erased, PrivacyError> {
        let keys = &*self.keys;
        let mut tx = self.pool.begin().await?;
        let key = person_of_visit(&mut tx, visit)
            .await?
            .ok_or(PrivacyError::NoVisit)?;
        let mut visits = Vec::new();
        for id in visit_ids(&mut tx, &key).await? {
            visits.push(visit_in(&mut tx, keys, id).await.map_err(desk_err)?);
        }
        let reports = reports_of(&mut tx, &key).await?;
        let plan = privacy::plan_erasure(&held_of(&visits, &reports), ask)?;
        let mut consents_withdrawn = 0;
        for p in &plan.withdraw {
            consents_withdrawn +=
                super::privacy::withdraw_in_force(&mut tx, &key, *p, actor, now).await?;
        }
        // The face template is optional data like the photo: any erasure
        // takes it (and it must go before the person's row can).
        stop(&mut tx, &key, Purpose::FaceRecognition.on_withdrawal()).await?;
        let photos_deleted = if plan.delete_photos {
            stop(&mut tx, &key, Purpose::PhotoIdentity.on_withdrawal()).await?
        } else {
            0
        };
        let (mut cancelled, mut moved) = (0, 0);
        if plan.anonymise {
            let person = visits
                .first()
                .map(|v| v.record.person.clone())
                .ok_or(PrivacyError::NoVisit)?;
            let pseudo = pseudonym(&mut tx, keys, &person).await?;
            let new_key = people::person_key(keys, &pseudo.id_number);
            people::ensure_person(&mut tx, keys, &pseudo, "").await?;
            for v in &visits {
                if v.record.booking.state == BookingState::Booked {
                    cancel_in(&mut tx, v, "本人要求删除个人信息")
                        .await
                        .map_err(desk_err)?;
                    cancelled += 1;
                }
            }
            for v in &visits {
                let seq = next_change_seq(&mut tx).await?;
                sqlx::query("UPDATE bookings SET person_key = $2, change_seq = $3 WHERE id = $1")
                    .bind(v.record.booking.id)
                    .bind(&new_key)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE booking_items SET signature = NULL WHERE booking_id = $1")
                    .bind(v.record.booking.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM visit_photos WHERE booking_id = $1")
                    .bind(v.record.booking.id)
                    .execute(&mut *tx)
                    .await?;
                moved += 1;
            }
            sqlx::query(
                "UPDATE group_members SET person_key = $2, employee_no = NULL, note = NULL
                  WHERE person_key = $1",
            )
            .bind(&key)
            .bind(&new_key)
            .execute(&mut *tx)
            .await?;
            for sql in [
                "DELETE FROM consents WHERE person_key = $1",
                "DELETE FROM person_name_tokens WHERE person_key = $1",
                "DELETE FROM people WHERE person_key = $1",
            ] {
                sqlx::query(sql).bind(&key).execute(&mut *tx).await?;
            }
        } else if plan.erase_mobile {
            sqlx::query("UPDATE people SET mobile = $2, mobile_idx = $3 WHERE person_key = $1")
                .bind(&key)
                .bind(people::seal_field(keys, "mobile", &key, "")?)
                .bind(people::mobile_index(keys, ""))
                .execute(&mut *tx)
                .await?;
            // Kiosks' offline caches hold the mobile too: send them the change.
            for v in &visits {
                let seq = next_change_seq(&mut tx).await?;
                sqlx::query("UPDATE bookings SET change_seq = $2 WHERE id = $1")
                    .bind(v.record.booking.id)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let done = Erased {
            plan,
            photos_deleted,
            consents_withdrawn,
            bookings_cancelled: cancelled,
            bookings_moved: moved,
        };
        let action = if done.plan.anonymise {
            "privacy.anonymise"
        } else {
            "privacy.erase"
        };
        super::audit::append(
            &mut tx,
            &AuditEvent::new(Category::Operation, actor, action)
                .subject(format!("person:{key}"))
                .detail(format!(
                    "visit={visit} photos_deleted={photos_deleted} consents_withdrawn={consents_withdrawn} \
                     bookings_cancelled={cancelled} bookings_anonymised={moved} keep_until={}",
                    done.plan
                        .keep_until
                        .map_or_else(|| "-".to_string(), |d| d.to_string())
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}

fn desk_err(e: super::DeskError) -> PrivacyError {
    match e {
        super::DeskError::NotFound => PrivacyError::NoVisit,
        super::DeskError::Db(e) => PrivacyError::Db(e),
        other => PrivacyError::Db(DbError::Corrupt(other.to_string())),
    }
}

/// The area code of pseudonyms: no region has it, so no real person does.
pub const PSEUDONYM_AREA: &str = "000000";

/// A person no one is: a fresh made-up ID number of the same sex and
/// birth year under [`PSEUDONYM_AREA`], named 已匿名, without a mobile.
async fn pseudonym(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    real: &Person,
) -> Result<Person> {
    let year = real.birth_date.year();
    for _ in 0..50 {
        let [a, b, c, d] = exam_protocol::auth::random_bytes::<4>();
        let day = u32::from(u16::from_le_bytes([a, b])) % 365;
        let birth = NaiveDate::from_yo_opt(year, day + 1)
            .or_else(|| NaiveDate::from_ymd_opt(year, 1, 1))
            .ok_or_else(|| DbError::Corrupt(format!("birth year {year}")))?;
        // The sequence's parity is the sex (odd: male), as in a real number.
        let seq = u16::from_le_bytes([c, d]) % 500 * 2 + u16::from(real.sex == Sex::Male);
        let id = IdNumber::compose(PSEUDONYM_AREA, birth, seq)
            .map_err(|e| DbError::Corrupt(format!("pseudonym: {e}")))?;
        let taken = sqlx::query("SELECT 1 FROM people WHERE person_key = $1")
            .bind(people::person_key(keys, &id))
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        if !taken {
            return Ok(Person {
                sex: id.sex(),
                birth_date: id.birth_date(),
                id_number: id,
                name: "已匿名".into(),
                mobile: String::new(),
            });
        }
    }
    Err(DbError::Corrupt("no free pseudonym after 50 tries".into()))
}
