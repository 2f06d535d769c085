//! PIPL (个人信息保护法; S6, 002 §(九) 6.5) over HTTP:
//!
//! - `/privacy`: the privacy notice (隐私政策), public, for phones and
//!   anyone; the same text and version the kiosk shows
//!   (`exam_domain::privacy::NOTICE`).
//! - the person's rights at the desk, for the person present with their ID
//!   card, staff acting for them (`Capability::ServeDataRights`), named by
//!   one of their visits: everything held about them
//!   (`/desk/visits/{id}/privacy`, and as JSON), masked on screen; their
//!   own copy as a JSON file, in full (`…/privacy/export`); consents
//!   recorded or withdrawn (`…/consents`, `…/withdraw`), a withdrawal
//!   carrying out what it stops (a withdrawn photo consent deletes the
//!   photos); erasure as far as the medical-record retention rule allows
//!   (`…/erase`). Corrections of name and mobile are the desk's identity
//!   correction (`POST /api/desk/visits/{id}/identity`), not repeated here.
//!
//! Every view and export is written to the audit trail as a read of
//! personal data; every change with its audit line in its own transaction
//! (`db/privacy.rs`, `db/person.rs`).

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use exam_domain::privacy::{Channel, Erasure, NOTICE, NOTICE_VERSION, NoticeSection, Purpose};
use serde::{Deserialize, Serialize};

use super::render;
use crate::AppState;
use crate::db::{ConsentRow, Erased, PersonRecord, PrivacyError, SessionUser};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

mod views;

use views::{ExportFile, PhotoExport, RecordView, VisitHeld, retention};

pub(crate) fn routes(t: &mut RouteTable) {
    let rights = Access::Can(Capability::ServeDataRights);
    t.get("/privacy", Access::Public, notice_page)
        .get("/desk/visits/{id}/privacy", rights, rights_page)
        .get("/api/desk/visits/{id}/privacy", rights, record)
        .get("/api/desk/visits/{id}/privacy/export", rights, export)
        .post("/api/desk/visits/{id}/privacy/consents", rights, consent)
        .post("/api/desk/visits/{id}/privacy/withdraw", rights, withdraw)
        .post("/api/desk/visits/{id}/privacy/erase", rights, erase);
}

impl From<PrivacyError> for ApiErr {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NoVisit => ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            PrivacyError::Withdraw(w) => {
                ApiErr::new(StatusCode::CONFLICT, "not_withdrawable", w.to_string())
            }
            PrivacyError::Erasure(r) => {
                ApiErr::new(StatusCode::CONFLICT, "retention", r.to_string())
            }
            PrivacyError::Db(e) => e.into(),
        }
    }
}

/// A stored time as the centre's clock shows it (templates call it).
pub(crate) fn local(stored: &str) -> String {
    crate::db::parse_ts(stored).map_or_else(
        |_| stored.to_string(),
        |t| {
            t.with_timezone(&exam_domain::centre_offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}

#[derive(Template)]
#[template(path = "privacy_notice.html")]
struct NoticePage {
    version: &'static str,
    sections: &'static [NoticeSection],
}

/// The privacy notice: public, no sign-in, for a phone as for a screen.
async fn notice_page() -> Response {
    render(&NoticePage {
        version: NOTICE_VERSION,
        sections: NOTICE,
    })
}

/// Reads the record of the person of `visit` and writes the read to the
/// audit trail (a read of personal data, S5), as `action`.
async fn read(
    st: &AppState,
    user: &SessionUser,
    visit: i64,
    action: &str,
) -> Result<PersonRecord, ApiErr> {
    let r = st.db.person_record(visit).await?;
    crate::audit::read_personal(
        &st.db,
        &user.username,
        action,
        &st.db.subject_of(r.person.id_number.as_str()),
        format!("visit={visit} visits={}", r.visits.len()),
    )
    .await?;
    Ok(r)
}

async fn record(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<RecordView>, ApiErr> {
    let r = read(&st, &user, id, "read.person_record").await?;
    Ok(Json(RecordView::new(&st.catalogue.get(), &r)))
}

#[derive(Template)]
#[template(path = "privacy_rights.html")]
struct RightsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    visit: i64,
    v: RecordView,
}

async fn rights_page(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let r = read(&st, &user, id, "read.person_record").await?;
    Ok(render(&RightsPage {
        nav: crate::roles::Nav::of(user.role),
        v: RecordView::new(&st.catalogue.get(), &r),
        username: user.username,
        csrf: user.csrf,
        visit: id,
    }))
}

/// The person's own copy, every value in full (it is for them), as a JSON
/// file; the export is audited like any read.
async fn export(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    let r = read(&st, &user, id, "export.person_record").await?;
    let mut photos = Vec::new();
    for p in &r.photos {
        // Each picture opened is a photo view, audited as the desk's are.
        let png = if p.held {
            st.db
                .visit_photo(p.booking_id, &user.username)
                .await?
                .and_then(|v| v.png)
                .map(|b| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.encode(b)
                })
        } else {
            None
        };
        photos.push(PhotoExport {
            photo: p.clone(),
            png_base64: png,
        });
    }
    let cat = st.catalogue.get();
    let now = Utc::now();
    let file = ExportFile {
        exported_at: crate::db::ts(now),
        exported_by: user.username.clone(),
        notice_version: NOTICE_VERSION,
        person: r.person.clone(),
        visits: r.visits.iter().map(|v| VisitHeld::new(&cat, v)).collect(),
        reports: r.reports.clone(),
        photos,
        face: r.face.clone(),
        consents: r.consents.clone(),
        memberships: r.memberships.clone(),
        accesses: r.accesses.clone(),
        retention: retention(&r),
    };
    let body = serde_json::to_vec_pretty(&file)
        .map_err(|e| ApiErr::new(StatusCode::INTERNAL_SERVER_ERROR, "export", e.to_string()))?;
    let name = format!(
        "personal-data-{}.json",
        now.with_timezone(&exam_domain::centre_offset())
            .format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ConsentIn {
    purpose: Purpose,
    granted: bool,
    /// Where the person answered: at the desk (default), or on the phone
    /// page and read out at the desk.
    #[serde(default = "desk")]
    channel: Channel,
}

fn desk() -> Channel {
    Channel::Desk
}

/// An answer given at the desk (the kiosk's come with its check-ins).
async fn consent(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(c): Json<ConsentIn>,
) -> Result<Json<ConsentRow>, ApiErr> {
    if c.channel == Channel::Kiosk {
        return Err(super::bad(
            "channel",
            "自助机的授权随签到记录，服务台请选 desk 或 phone",
        ));
    }
    let row = st
        .db
        .record_consent(
            &user.username,
            id,
            c.purpose,
            c.granted,
            c.channel,
            NOTICE_VERSION,
            Utc::now(),
        )
        .await?;
    Ok(Json(row))
}

#[derive(Debug, Deserialize)]
struct WithdrawIn {
    purpose: Purpose,
}

#[derive(Debug, Serialize)]
struct Withdrawn {
    purpose: Purpose,
    stopped: Vec<exam_domain::privacy::Withdrawal>,
    /// Stored things removed (photos deleted).
    removed: u64,
}

async fn withdraw(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(w): Json<WithdrawIn>,
) -> Result<Json<Withdrawn>, ApiErr> {
    let (stopped, removed) = st
        .db
        .withdraw_consent(&user.username, id, w.purpose, Utc::now())
        .await?;
    Ok(Json(Withdrawn {
        purpose: w.purpose,
        stopped,
        removed,
    }))
}

#[derive(Debug, Deserialize)]
struct EraseIn {
    erasure: Erasure,
}

async fn erase(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(e): Json<EraseIn>,
) -> Result<Json<Erased>, ApiErr> {
    Ok(Json(
        st.db
            .erase_person(&user.username, id, e.erasure, Utc::now())
            .await?,
    ))
}
