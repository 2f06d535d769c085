//! K3: today's face gallery for a kiosk's campus — the templates of the
//! people booked there today who agreed to face check-in (see
//! `db::faces` for why a stored template implies the consent). The kiosk
//! holds it in memory only; each fetch is audited with its count.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use exam_protocol::FacesResponse;
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
    Ok(Json(
        st.db
            .face_gallery(&kiosk.campus, day, &kiosk.id, now)
            .await?,
    ))
}
