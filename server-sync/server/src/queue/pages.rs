//! The queue's pages: the guide desk (`/guide`, 导诊台), the doctor
//! station (`/station`, 医生站), a room's screen (`/screen/{token}`, a TV
//! without login) and the patient's phone page (`/m/{token}`). The staff
//! pages render a shell and draw from the JSON (`api`), woken by the live
//! stream; the screen and the phone page have their own JSON and stream,
//! behind their signed link.

use std::convert::Infallible;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::api::changes;
use super::board::{PersonRow, PersonView, build_board, person_view};
use super::link::{self, Subject};
use super::{Announcement, store, voice};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    t.get("/guide", Access::Can(Capability::GuideQueue), guide)
        .get("/station", Access::Can(Capability::CallPatients), station)
        .get("/screen/{token}", Access::Public, screen)
        .get("/api/screen/{token}", Access::Public, screen_json)
        .get("/api/screen/{token}/stream", Access::Public, screen_stream)
        .get(
            "/api/screen/{token}/voice/{seq}",
            Access::Public,
            screen_voice,
        )
        .get("/m/{token}", Access::Public, phone)
        .get("/api/m/{token}", Access::Public, phone_json)
        .get("/api/m/{token}/stream", Access::Public, phone_stream)
        .post("/api/m/{token}/rating", Access::Public, rate);
}

/// A room screen's look (Q4, items 16–18), per campus on `/admin`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenLook {
    /// The centre's name or logo text in the header.
    pub logo: String,
    /// CSS colours (#rgb or #rrggbb).
    pub background: String,
    pub foreground: String,
    pub accent: String,
    /// Base font size in pixels.
    pub font_px: u32,
    /// Waiting rows shown.
    pub rows: u32,
    /// Two columns of waiting people (双屏) instead of queue + next-room
    /// notices (单屏).
    pub double: bool,
    /// Scroll the waiting list when it is longer than `rows`.
    pub scroll: bool,
}

impl Default for ScreenLook {
    fn default() -> Self {
        Self {
            logo: "体检中心".into(),
            background: "#0b2a4a".into(),
            foreground: "#ffffff".into(),
            accent: "#ffd24a".into(),
            font_px: 40,
            rows: 8,
            double: false,
            scroll: true,
        }
    }
}

impl ScreenLook {
    pub fn check(&self) -> Result<(), String> {
        let colour = |c: &str| {
            (c.len() == 4 || c.len() == 7)
                && c.starts_with('#')
                && c[1..].chars().all(|x| x.is_ascii_hexdigit())
        };
        if ![&self.background, &self.foreground, &self.accent]
            .iter()
            .all(|c| colour(c))
        {
            return Err("颜色用 #rgb 或 #rrggbb / colours as #rgb or #rrggbb".into());
        }
        if !(16..=120).contains(&self.font_px) || !(1..=30).contains(&self.rows) {
            return Err("字号 16–120，行数 1–30 / font 16–120 px, 1–30 rows".into());
        }
        if self.logo.chars().count() > 40 {
            return Err("标题最多 40 字 / logo text up to 40 characters".into());
        }
        Ok(())
    }
}

pub(crate) async fn screen_look(
    st: &AppState,
    campus: &str,
) -> Result<ScreenLook, crate::db::DbError> {
    Ok(store::setting(&st.db, campus, "screen")
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    campus: String,
}

async fn guide(State(st): State<AppState>, u: SessionUser) -> Response {
    crate::workflow::render(&GuidePage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        campus: u
            .campus
            .clone()
            .unwrap_or_else(|| st.config.demo_campus.clone()),
        username: u.username,
        csrf: u.csrf,
    })
}

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    campus: String,
    rooms: Vec<(String, String)>,
}

async fn station(State(st): State<AppState>, u: SessionUser) -> Response {
    // A campus-bound account's rooms are its campus's (E14).
    let campus = u
        .campus
        .clone()
        .unwrap_or_else(|| st.config.demo_campus.clone());
    let rooms = st
        .catalogue
        .get()
        .rooms
        .iter()
        .filter(|r| r.campus == campus)
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    crate::workflow::render(&StationPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        campus,
        rooms,
        username: u.username,
        csrf: u.csrf,
    })
}

fn refused(e: link::LinkError) -> ApiErr {
    ApiErr::new(StatusCode::FORBIDDEN, "bad_link", e.to_string())
}

fn screen_subject(st: &AppState, token: &str) -> Result<(String, String), ApiErr> {
    match link::verify(&st.db.keys, token, Utc::now()).map_err(refused)? {
        Subject::Screen { campus, room } => Ok((campus, room)),
        Subject::Visit(_) => Err(refused(link::LinkError::Invalid)),
    }
}

fn visit_subject(st: &AppState, token: &str) -> Result<i64, ApiErr> {
    match link::verify(&st.db.keys, token, Utc::now()).map_err(refused)? {
        Subject::Visit(id) => Ok(id),
        Subject::Screen { .. } => Err(refused(link::LinkError::Invalid)),
    }
}

#[derive(Template)]
#[template(path = "screen.html")]
struct ScreenPage {
    token: String,
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage {
    token: String,
}

async fn screen(State(st): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiErr> {
    screen_subject(&st, &token)?;
    Ok(crate::workflow::render(&ScreenPage { token }))
}

async fn phone(State(st): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiErr> {
    visit_subject(&st, &token)?;
    Ok(crate::workflow::render(&PhonePage { token }))
}

/// What a room screen shows.
#[derive(Debug, Serialize)]
struct ScreenState {
    room: String,
    room_name: String,
    floor_label: String,
    look: ScreenLook,
    /// Being seen now.
    serving: Vec<PersonRow>,
    /// The first `api::SHOWN` waiting.
    waiting: Vec<PersonRow>,
    waiting_count: usize,
    /// The room's calls and next-room notices, oldest first.
    announcements: Vec<Announcement>,
}

#[derive(Debug, Deserialize, Default)]
struct AfterQ {
    #[serde(default)]
    after: u64,
}

async fn screen_json(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<AfterQ>,
) -> Result<Json<ScreenState>, ApiErr> {
    let (campus, room) = screen_subject(&st, &token)?;
    let board = build_board(&st, &campus, Some(&room)).await?;
    let r = board
        .rooms
        .into_iter()
        .find(|r| r.code == room)
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "no_room", "no such room"))?;
    // Screens show masked names only; not even the exam number.
    let strip = |mut p: PersonRow| {
        p.exam_no.clear();
        p
    };
    Ok(Json(ScreenState {
        floor_label: voice::floor_label(r.floor),
        room_name: r.name,
        room,
        look: screen_look(&st, &campus).await?,
        serving: r.serving.into_iter().map(strip).collect(),
        waiting_count: r.waiting_count,
        waiting: r.waiting.into_iter().map(strip).collect(),
        announcements: super::announcements(&st, &campus, Some(&r.code), q.after).await?,
    }))
}

async fn screen_stream(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiErr> {
    let (campus, _) = screen_subject(&st, &token)?;
    Ok(changes(st, campus, None))
}

/// An announcement's sentence as WAV (espeak-ng, cached).
async fn screen_voice(
    State(st): State<AppState>,
    Path((token, seq)): Path<(String, String)>,
) -> Result<Response, ApiErr> {
    let (campus, room) = screen_subject(&st, &token)?;
    let seq: u64 = seq
        .trim_end_matches(".wav")
        .parse()
        .map_err(|_| ApiErr::new(StatusCode::NOT_FOUND, "no_call", "no such call"))?;
    let Some(a) = super::announcements(&st, &campus, Some(&room), seq - seq.min(1))
        .await?
        .into_iter()
        .find(|a| a.seq == seq)
    else {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_call",
            "no such call",
        ));
    };
    let wav = voice::wav(&voice::cache_dir(), &a.text)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "announcement voice");
            ApiErr::new(StatusCode::SERVICE_UNAVAILABLE, "no_voice", e.to_string())
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        wav,
    )
        .into_response())
}

/// The phone page's facts: masked, and what may be rated.
#[derive(Debug, Serialize)]
struct PhoneState {
    person: PersonView,
    /// Rooms done and not yet rated.
    to_rate: Vec<String>,
}

async fn phone_json(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<PhoneState>, ApiErr> {
    let id = visit_subject(&st, &token)?;
    let mut person = person_view(&st, id).await?;
    // The phone shows the masked name and no history of times.
    person.entries.clear();
    let rated = store::rated(&st.db, id).await?;
    let to_rate = person
        .done
        .iter()
        .map(|d| d.room.clone())
        .filter(|r| !rated.contains(r))
        .collect();
    Ok(Json(PhoneState { person, to_rate }))
}

async fn phone_stream(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiErr> {
    let id = visit_subject(&st, &token)?;
    let campus = store::needs(&st.db, id)
        .await?
        .map(|n| n.campus)
        .unwrap_or_default();
    Ok(changes(st, campus, None))
}

#[derive(Debug, Deserialize)]
struct Rating {
    room: String,
    stars: u8,
    #[serde(default)]
    remark: String,
}

#[derive(Debug, Serialize)]
struct Rated {
    ok: bool,
}

/// A rating of the doctor of a room this visit has done, once.
async fn rate(
    State(st): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Rated>, ApiErr> {
    // The link first: nothing about the body is said to a bad link.
    let id = visit_subject(&st, &token)?;
    let r: Rating = serde_json::from_slice(&body).map_err(ApiErr::bad_json)?;
    if !(1..=5).contains(&r.stars) || r.remark.chars().count() > 200 {
        return Err(crate::workflow::bad(
            "bad_rating",
            "评分 1–5 星，评价最多 200 字 / 1–5 stars, a remark up to 200 characters",
        ));
    }
    let done = store::entries(&st.db, id, super::today())
        .await?
        .iter()
        .any(|e| e.room == r.room && e.state == "done");
    if !done {
        return Err(crate::workflow::bad(
            "not_done",
            "这个科室还没有检查完 / this room is not done yet",
        ));
    }
    if !store::rate(&st.db, id, &r.room, r.stars, r.remark.trim(), Utc::now()).await? {
        return Err(ApiErr::new(
            StatusCode::CONFLICT,
            "rated",
            "已经评价过了 / already rated",
        ));
    }
    Ok(Json(Rated { ok: true }))
}
