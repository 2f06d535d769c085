//! K3: today's face gallery for a kiosk's campus — the templates of the
//! people booked there today who agreed to face check-in (see
//! `db::faces` for why a stored template implies the consent). The kiosk
//! holds it in memory only; each fetch is audited with its count.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use exam_protocol::{Event, EventBody, FacesResponse};
use serde::Deserialize;

use super::SignedQuery;
use crate::AppState;
use crate::error::ApiErr;

/// No parameters: the campus is the kiosk's own, the day today's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FacesQuery {}

pub(super) async fn gallery(
    State(st): State<AppState>,
    SignedQuery { kiosk, query: _ }: SignedQuery<FacesQuery>,
) -> Result<Json<FacesResponse>, ApiErr> {
    let now = Utc::now();
    let day = now
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let policy = st.config.face;
    // Templates go to kiosks only where the policy identifies by face
    // (least privilege: a card check needs none of them).
    let mut r = if policy.identify {
        st.db
            .face_gallery(&kiosk.campus, day, &kiosk.id, now)
            .await?
    } else {
        FacesResponse {
            model: exam_protocol::FACE_MODEL.into(),
            faces: Vec::new(),
            policy,
        }
    };
    r.policy = policy;
    Ok(Json(r))
}

/// Takes the face template out of every photo record (the policy keeps
/// none); the photo itself is stored as before.
pub(super) fn drop_templates(kiosk: &str, events: &mut [(Event, EventBody)]) {
    let mut dropped = 0;
    for (_, body) in events.iter_mut() {
        if let EventBody::Photo(p) = body
            && p.face.take().is_some()
        {
            dropped += 1;
        }
    }
    if dropped > 0 {
        tracing::warn!(
            kiosk,
            dropped,
            "face templates dropped: the policy keeps none"
        );
    }
}
