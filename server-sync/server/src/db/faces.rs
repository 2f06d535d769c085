//! K3 face check-in: the face templates of people who agreed to it, and
//! today's gallery a kiosk fetches for its campus.
//!
//! Invariant: a row of `face_templates` exists only while the person's
//! consent to `Purpose::FaceRecognition` is in force. It is written only
//! when the consent allows it at the photo's time (the check-in event
//! that carries the answer is applied before its photo), and a "no" or a
//! withdrawal deletes it in the answer's own transaction
//! (`privacy::stop`, `Withdrawal::DeleteFaceTemplates`). So the gallery
//! needs no consent lookup per person. A template is also dropped one year
//! after the person's last visit that brought one (`RETENTION_DAYS`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use exam_domain::IdNumber;
use exam_domain::privacy::{self, Purpose};
use exam_protocol::{Event, FaceEntry, FaceTemplate, FacesResponse, PhotoRecord};
use exam_vault::KeyRing;
use sqlx::{Any, Row, Transaction};

use super::at_rest::ad;
use super::privacy::{ConsentRow, consents_of, person_of_visit};
use super::{Db, DbError, Result, ts};

/// How long a template is kept after the last visit (the notice says so).
pub const RETENTION_DAYS: i64 = 365;

use exam_protocol::FACE_MODEL as MODEL;

fn embedding_ad(key: &str) -> Vec<u8> {
    ad("face_templates", "embedding", &[key])
}

/// Deletes a person's template (a "no", a withdrawal, an erasure).
pub(crate) const DELETE_FACE_TEMPLATES: &str = "DELETE FROM face_templates WHERE person_key = $1";

/// Stores the template a photo record carries, when the person's consent
/// to face check-in allows it at the photo's time; otherwise drops it
/// (nothing is kept without the consent).
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    kiosk_id: &str,
    event: &Event,
    p: &PhotoRecord,
    t: &FaceTemplate,
) -> Result<bool> {
    if t.model != MODEL || t.numbers().is_none() {
        tracing::warn!(model = %t.model, "a face template of another model or shape: dropped");
        return Ok(false);
    }
    let Some(key) = person_of_visit(tx, p.booking_id).await? else {
        return Ok(false);
    };
    let answers = consents_of(tx, &key)
        .await?
        .iter()
        .map(ConsentRow::consent)
        .collect::<Result<Vec<_>>>()?;
    // The answer in force, and given no later than the photo.
    let allowed = privacy::current(&answers, Purpose::FaceRecognition)
        .is_some_and(|c| c.granted && c.withdrawn_at.is_none() && c.at <= p.taken_at);
    if !allowed {
        return Ok(false);
    }
    let sealed = keys.seal_str(&t.embedding, &embedding_ad(&key))?;
    let at = ts(p.taken_at);
    sqlx::query(
        "INSERT INTO face_templates(person_key, model, embedding, booking_id, kiosk_id, event_id,
                                    created_at, last_visit_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (person_key) DO UPDATE SET model = excluded.model,
           embedding = excluded.embedding, booking_id = excluded.booking_id,
           kiosk_id = excluded.kiosk_id, event_id = excluded.event_id,
           last_visit_at = excluded.last_visit_at
         WHERE excluded.last_visit_at > face_templates.last_visit_at",
    )
    .bind(&key)
    .bind(&t.model)
    .bind(sealed)
    .bind(p.booking_id)
    .bind(kiosk_id)
    .bind(event.id.to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// The person came again under the consent: the year runs from now.
pub(crate) async fn renew(
    tx: &mut Transaction<'_, Any>,
    key: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE face_templates SET last_visit_at = $2 WHERE person_key = $1 AND last_visit_at < $2",
    )
    .bind(key)
    .bind(ts(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Today's gallery: the templates of people booked at `campus` on `day`
/// and not yet checked in, kept within the retention.
pub(crate) const GALLERY: &str = "SELECT f.person_key, f.model, f.embedding, p.id_number
     FROM face_templates f JOIN people p ON p.person_key = f.person_key
     WHERE f.last_visit_at >= $3
       AND f.person_key IN (SELECT person_key FROM bookings
                            WHERE campus = $1 AND exam_date = $2 AND state = 'booked')";

impl Db {
    /// The gallery for a kiosk of `campus` on `day` (the centre's local
    /// date); `kiosk_id` fetching it is audited with the count.
    pub async fn face_gallery(
        &self,
        campus: &str,
        day: NaiveDate,
        kiosk_id: &str,
        now: DateTime<Utc>,
    ) -> Result<FacesResponse> {
        let since = ts(now - Duration::days(RETENTION_DAYS));
        let rows = sqlx::query(GALLERY)
            .bind(campus)
            .bind(day.to_string())
            .bind(since)
            .fetch_all(&self.read)
            .await?;
        let mut faces = Vec::with_capacity(rows.len());
        for r in &rows {
            let key: String = r.try_get("person_key")?;
            let model: String = r.try_get("model")?;
            if model != MODEL {
                continue;
            }
            let sealed: String = r.try_get("embedding")?;
            let embedding = self.keys.open_string(&sealed, &embedding_ad(&key))?;
            let id_sealed: String = r.try_get("id_number")?;
            let id = super::people::open_field(&self.keys, "id_number", &key, &id_sealed)?;
            let id_number = IdNumber::parse(&id)
                .map_err(|e| DbError::Corrupt(format!("person id number: {e}")))?;
            faces.push(FaceEntry {
                id_number,
                embedding,
            });
        }
        self.audit_on(
            &format!("kiosk:{kiosk_id}"),
            "face.gallery",
            &format!("campus:{campus}"),
            &format!("{} templates for {day}", faces.len()),
        )
        .await?;
        Ok(FacesResponse {
            model: MODEL.into(),
            faces,
            policy: Default::default(),
        })
    }

    /// Deletes templates past their retention; how many.
    pub async fn prune_face_templates(&self, now: DateTime<Utc>) -> Result<u64> {
        let since = ts(now - Duration::days(RETENTION_DAYS));
        Ok(
            sqlx::query("DELETE FROM face_templates WHERE last_visit_at < $1")
                .bind(since)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Whether the person of visit `visit` has a face template stored (the
    /// desk's privacy panel, the tests).
    pub async fn has_face_template(&self, visit: i64) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 FROM face_templates f JOIN bookings b ON b.person_key = f.person_key
             WHERE b.id = $1",
        )
        .bind(visit)
        .fetch_optional(&self.read)
        .await?
        .is_some())
    }
}
