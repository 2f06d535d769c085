//! What the queue's pages show: a campus's board (every room, or one for
//! a screen or a station) and a person's day, masked, built from the
//! engine and the entries.

use std::collections::BTreeMap;

use chrono::Utc;
use exam_domain::queue::{PersonId, RoomState, Where};
use serde::Serialize;

use super::store::{self, Who};
use super::{room_label, today};
use crate::AppState;
use crate::error::ApiErr;
use axum::http::StatusCode;

/// A person on a board: masked.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRow {
    pub id: PersonId,
    pub name: String,
    pub exam_no: String,
    /// Minutes waiting in this queue (None: not waiting here).
    pub waited_min: Option<i64>,
    /// Waiting longer than the campus's limit.
    pub long: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoomRow {
    pub code: String,
    pub name: String,
    pub floor: i32,
    pub state: RoomState,
    pub desks: u32,
    pub minutes: u32,
    pub prequeue: bool,
    /// The first `SHOWN` waiting, in order.
    pub waiting: Vec<PersonRow>,
    /// Everyone waiting (or holding a number).
    pub waiting_count: usize,
    pub serving: Vec<PersonRow>,
    pub done: i64,
    pub mean_wait_min: Option<f64>,
}

/// Waiting people listed per room (the rest are counted): what a screen,
/// a station or the board shows, and all the names opened per request.
pub const SHOWN: usize = 60;

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub campus: String,
    pub rooms: Vec<RoomRow>,
    pub in_building: usize,
    pub joined_today: usize,
    pub done_today: usize,
    /// No open room can take them: the guide desk's.
    pub unroutable: Vec<PersonRow>,
    pub long_waits: Vec<PersonRow>,
    pub long_wait_min: i64,
}

/// Minutes after which a wait is flagged.
const LONG_WAIT_MIN: i64 = 30;

/// The campus's board; with `only`, that room alone (a screen or a
/// doctor station: names are opened for its people only).
pub(crate) async fn build_board(
    st: &AppState,
    campus: &str,
    only: Option<&str>,
) -> Result<Board, ApiErr> {
    let (rooms, in_building, unrouted, done_today, joined_today) = st
        .queue
        .read(st, campus, |e| {
            let rooms: Vec<_> = match only {
                Some(code) => e.room(code).into_iter().collect(),
                None => e.rooms(),
            };
            (
                rooms,
                e.in_building(),
                e.unrouted(),
                e.done_count(),
                e.known_count(),
            )
        })
        .await?;
    let mut ids: Vec<PersonId> = rooms
        .iter()
        .flat_map(|r| r.waiting.iter().take(SHOWN).chain(&r.serving).copied())
        .collect();
    ids.extend(&unrouted);
    ids.sort_unstable();
    ids.dedup();
    let who = store::who(&st.db, &ids).await?;
    // How long the people listed have waited: a pre-queue room's list
    // holds numbers of people who may be elsewhere, their wait is counted
    // where they stand.
    let mut listed: Vec<PersonId> = rooms
        .iter()
        .filter(|r| !r.spec.prequeue)
        .flat_map(|r| r.waiting.iter().take(SHOWN).copied())
        .collect();
    listed.sort_unstable();
    listed.dedup();
    let since = store::waiting_since(&st.db, today(), &listed).await?;
    let days = store::room_days(&st.db, campus, today(), only).await?;
    let now = Utc::now();
    // `waiting_in`: the room whose list they are on, when their wait counts.
    let row = |p: PersonId, waiting_in: Option<&str>| {
        let w = who.get(&p).cloned().unwrap_or(Who {
            name: String::new(),
            exam_no: String::new(),
        });
        let waited = waiting_in.and_then(|room| {
            since
                .get(&(p, room.to_string()))
                .map(|s| (now - *s).num_minutes())
        });
        PersonRow {
            id: p,
            name: w.name,
            exam_no: w.exam_no,
            waited_min: waited,
            long: waited.is_some_and(|m| m >= LONG_WAIT_MIN),
        }
    };
    let catalogue = st.catalogue.get();
    let mut long_waits = Vec::new();
    let rooms: Vec<RoomRow> = rooms
        .into_iter()
        .map(|r| {
            let (name, floor) = room_label(&catalogue, campus, &r.spec.code);
            let day = days.get(&r.spec.code).cloned().unwrap_or_default();
            let here = (!r.spec.prequeue).then_some(r.spec.code.as_str());
            let waiting: Vec<PersonRow> = r
                .waiting
                .iter()
                .take(SHOWN)
                .map(|p| row(*p, here))
                .collect();
            long_waits.extend(waiting.iter().filter(|p| p.long).cloned());
            RoomRow {
                code: r.spec.code.clone(),
                name,
                floor,
                state: r.state,
                desks: r.spec.desks,
                minutes: r.spec.minutes,
                prequeue: r.spec.prequeue,
                serving: r.serving.iter().map(|p| row(*p, None)).collect(),
                waiting_count: r.waiting.len(),
                waiting,
                done: day.done,
                mean_wait_min: day.mean_wait_min,
            }
        })
        .collect();
    Ok(Board {
        campus: campus.to_string(),
        rooms,
        in_building,
        joined_today,
        done_today,
        unroutable: unrouted.iter().map(|p| row(*p, None)).collect(),
        long_waits,
        long_wait_min: LONG_WAIT_MIN,
    })
}

/// A person's day: where they are, their places, done and pending rooms.
#[derive(Debug, Serialize)]
pub struct PersonView {
    pub id: PersonId,
    pub name: String,
    pub exam_no: String,
    pub campus: String,
    pub at: Option<Where>,
    /// (room, place) of each queue or number held.
    pub places: Vec<Place>,
    pub pending: Vec<RoomRef>,
    pub done: Vec<RoomRef>,
    pub entries: Vec<store::EntryLine>,
}

#[derive(Debug, Serialize)]
pub struct Place {
    pub room: String,
    pub room_name: String,
    pub floor: i32,
    pub place: usize,
    pub prequeue: bool,
}

#[derive(Debug, Serialize)]
pub struct RoomRef {
    pub room: String,
    pub room_name: String,
    pub floor: i32,
}

pub(crate) async fn person_view(st: &AppState, id: PersonId) -> Result<PersonView, ApiErr> {
    let needs = store::needs(&st.db, id)
        .await?
        .ok_or_else(|| ApiErr::new(StatusCode::NOT_FOUND, "not_found", "no such visit"))?;
    let campus = needs.campus;
    let (at, places, pending, pre) = st
        .queue
        .read(st, &campus, |e| {
            let pre: BTreeMap<String, bool> = e
                .rooms()
                .into_iter()
                .map(|r| (r.spec.code, r.spec.prequeue))
                .collect();
            (e.at(id).cloned(), e.places(id), e.pending(id), pre)
        })
        .await?;
    let who = store::who(&st.db, &[id]).await?;
    let entries = store::entries(&st.db, id, today()).await?;
    let catalogue = st.catalogue.get();
    let r = |code: &str| {
        let (room_name, floor) = room_label(&catalogue, &campus, code);
        RoomRef {
            room: code.to_string(),
            room_name,
            floor,
        }
    };
    let mut done: Vec<RoomRef> = Vec::new();
    for e in entries.iter().filter(|e| e.state == "done") {
        if !done.iter().any(|d| d.room == e.room) {
            done.push(r(&e.room));
        }
    }
    let w = who.get(&id);
    Ok(PersonView {
        id,
        name: w.map(|w| w.name.clone()).unwrap_or_default(),
        exam_no: w.map(|w| w.exam_no.clone()).unwrap_or_default(),
        places: places
            .into_iter()
            .map(|(room, place)| {
                let (room_name, floor) = room_label(&catalogue, &campus, &room);
                Place {
                    prequeue: pre.get(&room).copied().unwrap_or(false),
                    room,
                    room_name,
                    floor,
                    place,
                }
            })
            .collect(),
        pending: pending.iter().map(|s| r(&s.kind)).collect(),
        done,
        entries,
        at,
        campus,
    })
}
