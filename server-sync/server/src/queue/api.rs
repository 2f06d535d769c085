//! The queue's staff JSON: the guide desk's board and moves (`GuideQueue`,
//! the board itself built in `board`),
//! the doctor station's calls (`CallPatients`), the settings
//! (`ManageQueue`), and the live stream every queue page listens to.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use chrono::Utc;
use exam_domain::queue::{Decision, Event, PersonId, Priority, RoomState};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::board::{Board, PersonRow, PersonView, RoomRow, build_board, person_view};
use super::store::{self, RoomSettings};
use super::{QueueError, apply, today};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};
use crate::staff_auth::StaffCampus;

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::{CallPatients as C, GuideQueue as G, ManageQueue as M};
    t.get("/api/queue/board", Access::Can(G), board)
        .get("/api/queue/stream", Access::Staff, stream)
        .get("/api/queue/find", Access::Can(G), find)
        .get("/api/queue/visits/{id}", Access::Can(G), visit)
        .get("/api/queue/rooms/{room}", Access::Can(C), room)
        .post(
            "/api/queue/rooms/{room}/call-next",
            Access::Can(C),
            call_next,
        )
        .post(
            "/api/queue/rooms/{room}/call/{id}",
            Access::Can(C),
            call_person,
        )
        .post("/api/queue/visits/{id}/recall", Access::Can(C), recall)
        .post("/api/queue/visits/{id}/no-show", Access::Can(C), no_show)
        .post("/api/queue/visits/{id}/finish", Access::Can(C), finish)
        .post("/api/queue/visits/{id}/send", Access::Can(G), send_to)
        .post("/api/queue/visits/{id}/move", Access::Can(G), move_place)
        .post("/api/queue/visits/{id}/reroute", Access::Can(G), reroute)
        .post("/api/queue/visits/{id}/priority", Access::Can(G), priority)
        .post("/api/queue/visits/{id}/leave", Access::Can(G), leave)
        .post("/api/queue/visits/{id}/join", Access::Can(G), join)
        .post(
            "/api/queue/visits/{id}/phone-link",
            Access::Can(G),
            phone_link,
        )
        .post("/api/queue/rooms/{room}/state", Access::Can(G), room_state)
        .post("/api/queue/rooms/{room}/evacuate", Access::Can(G), evacuate)
        .post(
            "/api/queue/rooms/{room}/screen-link",
            Access::Can(G),
            screen_link,
        )
        .get("/api/queue/settings", Access::Can(M), settings)
        .post("/api/queue/settings", Access::Can(M), save_settings);
}

impl From<QueueError> for ApiErr {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Db(e) => e.into(),
            QueueError::Refused(m) => ApiErr::new(StatusCode::CONFLICT, "queue_refused", m),
        }
    }
}

async fn board(
    State(st): State<AppState>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<Board>, ApiErr> {
    Ok(Json(build_board(&st, &c, None).await?))
}

/// The queue pages' live stream: a `changed` event whenever the campus's
/// queue moves (and every 10 s, for moves made by another instance).
async fn stream(
    State(st): State<AppState>,
    headers: HeaderMap,
    StaffCampus(c): StaffCampus,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiErr> {
    let token = crate::staff_auth::session_token(&headers).unwrap_or_default();
    Ok(changes(st, c, Some(token)))
}

/// The shortest time between two `changed` events of one stream.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(300);

/// `changed` events for a campus; with a staff session's token, the
/// stream ends with the session.
pub(crate) fn changes(
    st: AppState,
    campus: String,
    session: Option<String>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = st.queue.changed.subscribe();
    let start = (st, rx, tokio::time::Instant::now());
    let stream = futures_util::stream::unfold(start, move |(st, mut rx, last)| {
        let campus = campus.clone();
        let session = session.clone();
        async move {
            loop {
                let woke = tokio::select! {
                    r = rx.recv() => match r {
                        Ok(c) => c == campus,
                        Err(_) => true,
                    },
                    () = tokio::time::sleep(std::time::Duration::from_secs(10)) => true,
                };
                if !woke {
                    continue;
                }
                // At most one `changed` per COALESCE: a busy morning moves
                // the queue many times a second, a page redraws once.
                tokio::time::sleep_until(last + COALESCE).await;
                while rx.try_recv().is_ok() {}
                if let Some(token) = &session
                    && !crate::staff_auth::session_alive(&st, token)
                        .await
                        .unwrap_or(false)
                {
                    return None;
                }
                let e = SseEvent::default().event("changed").data(campus.clone());
                return Some((Ok(e), (st, rx, tokio::time::Instant::now())));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
struct FindQ {
    q: String,
}

#[derive(Debug, Serialize)]
struct Found {
    id: i64,
}

async fn find(State(st): State<AppState>, Query(q): Query<FindQ>) -> Result<Json<Found>, ApiErr> {
    match store::find(&st.db, &q.q).await? {
        Some(id) => Ok(Json(Found { id })),
        None => Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有这个体检号 / no visit with this number",
        )),
    }
}

async fn visit(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PersonView>, ApiErr> {
    Ok(Json(person_view(&st, id).await?))
}

/// The doctor station's view of one room.
#[derive(Debug, Serialize)]
struct RoomView {
    room: RoomRow,
    /// People no open room can take (the campus's): 未分配.
    unassigned: Vec<PersonRow>,
    /// Who this room may call next (its queue, or its numbers' holders).
    history: Vec<HistoryRow>,
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    id: PersonId,
    name: String,
    exam_no: String,
    state: String,
    called_at: Option<chrono::DateTime<Utc>>,
    ended_at: Option<chrono::DateTime<Utc>>,
}

async fn room(
    State(st): State<AppState>,
    Path(code): Path<String>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<RoomView>, ApiErr> {
    let b = build_board(&st, &c, Some(&code)).await?;
    let unassigned = b.unroutable;
    let room = b
        .rooms
        .into_iter()
        .find(|r| r.code == code)
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "no_room", "no such room"))?;
    let lines = store::room_history(&st.db, &c, today(), &code).await?;
    let ids: Vec<i64> = lines.iter().map(|l| l.0).collect();
    let who = store::who(&st.db, &ids).await?;
    let history = lines
        .into_iter()
        .map(|(id, e)| HistoryRow {
            id,
            name: who.get(&id).map(|w| w.name.clone()).unwrap_or_default(),
            exam_no: who.get(&id).map(|w| w.exam_no.clone()).unwrap_or_default(),
            state: e.state,
            called_at: e.called_at,
            ended_at: e.ended_at,
        })
        .collect();
    Ok(Json(RoomView {
        room,
        unassigned,
        history,
    }))
}

#[derive(Debug, Serialize)]
pub struct Applied {
    pub decisions: Vec<Decision>,
}

async fn run(
    st: &AppState,
    u: &SessionUser,
    campus: &str,
    event: Event,
) -> Result<Json<Applied>, ApiErr> {
    let decisions = apply(st, campus, event, &u.username, None).await?;
    if let [Decision::Ignored { reason }] = decisions.as_slice() {
        return Err(ApiErr::new(
            StatusCode::CONFLICT,
            "queue_ignored",
            reason.clone(),
        ));
    }
    Ok(Json(Applied { decisions }))
}

async fn campus_of(st: &AppState, id: i64) -> Result<String, ApiErr> {
    Ok(store::needs(&st.db, id)
        .await?
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "no such visit"))?
        .campus)
}

async fn call_next(
    State(st): State<AppState>,
    u: SessionUser,
    Path(room): Path<String>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<Applied>, ApiErr> {
    run(&st, &u, &c, Event::CallNext { room }).await
}

async fn call_person(
    State(st): State<AppState>,
    u: SessionUser,
    Path((room, id)): Path<(String, i64)>,
) -> Result<Json<Applied>, ApiErr> {
    let c = campus_of(&st, id).await?;
    run(&st, &u, &c, Event::CallPerson { room, person: id }).await
}

macro_rules! person_route {
    ($name:ident, $event:ident) => {
        async fn $name(
            State(st): State<AppState>,
            u: SessionUser,
            Path(id): Path<i64>,
        ) -> Result<Json<Applied>, ApiErr> {
            let c = campus_of(&st, id).await?;
            run(&st, &u, &c, Event::$event { person: id }).await
        }
    };
}

person_route!(recall, Recall);
person_route!(no_show, NoShow);
person_route!(finish, Finished);
person_route!(reroute, Reroute);
person_route!(leave, Leave);

#[derive(Debug, Deserialize)]
struct SendBody {
    room: String,
}

async fn send_to(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(b): Json<SendBody>,
) -> Result<Json<Applied>, ApiErr> {
    let c = campus_of(&st, id).await?;
    run(
        &st,
        &u,
        &c,
        Event::SendTo {
            person: id,
            room: b.room,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct MoveBody {
    position: usize,
}

async fn move_place(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(b): Json<MoveBody>,
) -> Result<Json<Applied>, ApiErr> {
    let c = campus_of(&st, id).await?;
    let event = Event::MovePlace {
        person: id,
        position: b.position,
    };
    run(&st, &u, &c, event).await
}

async fn priority(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(p): Json<Priority>,
) -> Result<Json<Applied>, ApiErr> {
    if !(1..=9).contains(&p.level) {
        return Err(crate::workflow::bad(
            "bad_level",
            "优先级为 1–9 / level 1 to 9",
        ));
    }
    let c = campus_of(&st, id).await?;
    run(
        &st,
        &u,
        &c,
        Event::SetPriority {
            person: id,
            priority: p,
        },
    )
    .await
}

async fn join(State(st): State<AppState>, Path(id): Path<i64>) -> Result<Json<Applied>, ApiErr> {
    Ok(Json(Applied {
        decisions: super::join(&st, id).await?,
    }))
}

#[derive(Debug, Deserialize)]
struct StateBody {
    state: RoomState,
}

async fn room_state(
    State(st): State<AppState>,
    u: SessionUser,
    Path(room): Path<String>,
    StaffCampus(c): StaffCampus,
    Json(b): Json<StateBody>,
) -> Result<Json<Applied>, ApiErr> {
    let decisions = apply(
        &st,
        &c,
        Event::SetRoom {
            room,
            state: b.state,
        },
        &u.username,
        None,
    )
    .await?;
    Ok(Json(Applied { decisions }))
}

async fn evacuate(
    State(st): State<AppState>,
    u: SessionUser,
    Path(room): Path<String>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<Applied>, ApiErr> {
    let decisions = apply(&st, &c, Event::Evacuate { room }, &u.username, None).await?;
    Ok(Json(Applied { decisions }))
}

#[derive(Debug, Serialize)]
struct Link {
    url: String,
    expires_at: chrono::DateTime<Utc>,
}

/// The phone page's link for the guide sheet's QR (valid to the day's end
/// and one more day, for the rating).
async fn phone_link(State(st): State<AppState>, Path(id): Path<i64>) -> Result<Json<Link>, ApiErr> {
    campus_of(&st, id).await?;
    let (url, expires_at) = super::phone_path(&st, id, 36);
    Ok(Json(Link { url, expires_at }))
}

/// A room screen's link (a year; made again to revoke by key rotation).
async fn screen_link(
    State(st): State<AppState>,
    Path(room): Path<String>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<Link>, ApiErr> {
    if st.catalogue.get().room(&c, &room).is_none() {
        return Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_room",
            "no such room",
        ));
    }
    let (url, expires_at) = super::screen_path(&st, &c, &room, 365);
    Ok(Json(Link { url, expires_at }))
}

/// The campus's queue settings.
#[derive(Debug, Serialize, Deserialize)]
pub struct Settings {
    pub rules: exam_domain::queue::Rules,
    pub rooms: Vec<RoomSettings>,
    pub screen: super::pages::ScreenLook,
}

async fn settings(
    State(st): State<AppState>,
    StaffCampus(c): StaffCampus,
) -> Result<Json<Settings>, ApiErr> {
    let rooms = super::room_specs(&st, &st.catalogue.get(), &c)
        .await?
        .into_iter()
        .map(|r| RoomSettings {
            code: r.code,
            desks: r.desks,
            minutes: r.minutes,
            prequeue: r.prequeue,
        })
        .collect();
    Ok(Json(Settings {
        rules: store::rules(&st.db, &c).await?,
        rooms,
        screen: super::pages::screen_look(&st, &c).await?,
    }))
}

async fn save_settings(
    State(st): State<AppState>,
    u: SessionUser,
    StaffCampus(c): StaffCampus,
    Json(s): Json<Settings>,
) -> Result<Json<Settings>, ApiErr> {
    if s.rooms
        .iter()
        .any(|r| r.desks == 0 || r.desks > 50 || r.minutes == 0 || r.minutes > 240)
    {
        return Err(crate::workflow::bad(
            "bad_room",
            "每室 1–50 个工位，每人 1–240 分钟 / desks 1–50, minutes 1–240",
        ));
    }
    s.screen
        .check()
        .map_err(|m| crate::workflow::bad("bad_screen", m))?;
    let rules = serde_json::to_string(&s.rules).unwrap_or_default();
    store::set_setting(&st.db, &c, "rules", &rules).await?;
    let look = serde_json::to_string(&s.screen).unwrap_or_default();
    store::set_setting(&st.db, &c, "screen", &look).await?;
    for r in &s.rooms {
        store::set_room_settings(&st.db, &c, r).await?;
    }
    tracing::info!(campus = %c, by = %u.username, "queue settings saved");
    // Today's engine is rebuilt with them (the log replayed).
    st.queue.forget(&c).await;
    settings(State(st), StaffCampus(c)).await
}
