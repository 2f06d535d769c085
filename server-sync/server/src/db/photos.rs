//! The photo step of kiosk check-ins (K6): what each patient chose and,
//! with their consent, the picture, kept with the registration for the
//! desk to see who is who. Viewing one is audited.

use exam_protocol::{Event, PhotoRecord};
use exam_vault::KeyRing;
use sqlx::{Any, Row, Transaction};

use super::at_rest::ad;
use super::items::base64_decode;
use super::{Db, DbError, Result, ts};

fn png_ad(booking_id: i64) -> Vec<u8> {
    ad("visit_photos", "png", &[&booking_id.to_string()])
}

/// Records a kiosk's photo event (applied once, by event id); a later
/// photo of the same booking (checked in again elsewhere) replaces it.
pub(crate) async fn record(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    kiosk_id: &str,
    event: &Event,
    p: &PhotoRecord,
) -> Result<()> {
    // The kiosk sends base64; the store keeps the picture's bytes sealed.
    let sealed_png = match p.png.as_deref().map(base64_decode) {
        Some(Some(png)) => Some(keys.seal(&png, &png_ad(p.booking_id))?),
        Some(None) => {
            return Err(DbError::Corrupt(format!(
                "photo of booking {} is not base64",
                p.booking_id
            )));
        }
        None => None,
    };
    // PIPL: not a picture the person has refused or taken back since.
    let (outcome, sealed_png) =
        if super::privacy::photo_allowed(tx, p.booking_id, p.taken_at).await? {
            (p.outcome.as_str(), sealed_png)
        } else {
            ("withdrawn", None)
        };
    sqlx::query(
        "INSERT INTO visit_photos(booking_id, kiosk_id, event_id, outcome, png, taken_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (booking_id) DO UPDATE SET kiosk_id = excluded.kiosk_id,
           event_id = excluded.event_id, outcome = excluded.outcome, png = excluded.png,
           taken_at = excluded.taken_at
         WHERE excluded.taken_at > visit_photos.taken_at",
    )
    .bind(p.booking_id)
    .bind(kiosk_id)
    .bind(event.id.to_string())
    .bind(outcome)
    .bind(sealed_png)
    .bind(ts(p.taken_at))
    .execute(&mut **tx)
    .await?;
    // K3: the face template, under its own consent (not the photo's).
    if let Some(t) = &p.face {
        super::faces::record(tx, keys, kiosk_id, event, p, t).await?;
    }
    Ok(())
}

/// A visit's photo step, as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPhoto {
    pub outcome: String,
    pub kiosk_id: String,
    pub png: Option<Vec<u8>>,
}

impl Db {
    /// The photo step of a visit, if it was checked in at a kiosk with one;
    /// `actor` viewing it is written to the audit log.
    pub async fn visit_photo(&self, booking_id: i64, actor: &str) -> Result<Option<VisitPhoto>> {
        let row =
            sqlx::query("SELECT outcome, kiosk_id, png FROM visit_photos WHERE booking_id = $1")
                .bind(booking_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(r) = row else { return Ok(None) };
        let photo = VisitPhoto {
            outcome: r.try_get("outcome")?,
            kiosk_id: r.try_get("kiosk_id")?,
            png: r
                .try_get::<Option<String>, _>("png")?
                .map(|s| self.keys.open(&s, &png_ad(booking_id)))
                .transpose()?,
        };
        if photo.png.is_some() {
            self.audit_on(
                actor,
                "photo.view",
                &format!("booking:{booking_id}"),
                "kiosk photo",
            )
            .await?;
        }
        Ok(Some(photo))
    }
}
