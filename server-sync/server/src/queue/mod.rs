//! 排队叫号 · 智能导检 (issue 19, Q1–Q6): the service around the pure
//! engine (`exam_domain::queue`).
//!
//! - **State**: per campus, today's `Engine`, rebuilt by replaying the
//!   day's log (`queue_events`) and kept in memory as a cache; an event is
//!   appended to the log, applied, and the people it touched have their
//!   entries (`queue_entries`: who waited where, how long) brought in line,
//!   all in one transaction. A failed write drops the cache, so the next
//!   use replays the log again: memory never runs ahead of the store. An
//!   instance reads on from its cursor before each event, so events another
//!   instance wrote are applied in the log's order.
//! - **Joining**: a visit registered at the desk or checked in at a kiosk
//!   (the check-in reaching the service, offline ones included) joins by
//!   itself: `sync_joins` runs when registrations arrive and every two
//!   seconds (`spawn`), once per visit and day (`queue_people`).
//! - **Stops**: a visit's active items grouped by the catalogue's room;
//!   fasting if any item there is.
//! - **Calls** go to the room screens as announcements (`Announcement`,
//!   the masked name and a Mandarin sentence, spoken by `voice`).
//! - **Links** without login (the phone page, room screens) are signed and
//!   expire (`link`).

pub(crate) mod api;
pub mod link;
pub(crate) mod pages;
pub mod store;
pub mod voice;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, NaiveDate, Utc};
use exam_domain::catalogue::Catalogue;
use exam_domain::queue::{Decision, Engine, Event, PersonId, Priority, RoomSpec, Stop, Where};
use serde::Serialize;
use tokio::sync::{Mutex, broadcast};

use crate::AppState;
use crate::db::DbError;

/// Announcements kept per campus for screens that reconnect.
const KEPT: usize = 200;

/// A call as the room screens show and say it.
#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    pub seq: u64,
    pub room: String,
    pub room_name: String,
    pub floor: i32,
    pub person: PersonId,
    pub name: String,
    pub text: String,
    /// A call into the room (else: the next room of someone leaving it).
    pub call: bool,
    pub at: DateTime<Utc>,
}

struct Day {
    day: NaiveDate,
    engine: Engine,
    cursor: i64,
}

/// The queue's live state, shared by the routes.
pub struct Live {
    days: Mutex<BTreeMap<String, Day>>,
    calls: std::sync::Mutex<BTreeMap<String, VecDeque<Announcement>>>,
    seq: std::sync::atomic::AtomicU64,
    /// Wakes the live pages (the campus that changed).
    pub changed: broadcast::Sender<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            days: Mutex::default(),
            calls: std::sync::Mutex::default(),
            seq: std::sync::atomic::AtomicU64::new(0),
            changed: broadcast::channel(256).0,
        }
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("queue::Live")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Refused(String),
}

impl From<sqlx::Error> for QueueError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Sqlx(e))
    }
}

/// Today in the centre's time zone.
pub fn today() -> NaiveDate {
    crate::workflow::now_local().date()
}

/// The default settings of a catalogue room (before `/admin` sets them):
/// ultrasound rooms are the bottleneck with numbers (预排); blood draw has
/// three desks of two minutes.
fn default_settings(department: &str, code: &str) -> store::RoomSettings {
    let (desks, minutes, prequeue) = match (department, code) {
        ("us", _) => (2, 8, true),
        (_, "blood") => (3, 2, false),
        ("lab", _) => (1, 2, false),
        ("rad", _) => (1, 4, false),
        ("gen", _) => (2, 2, false),
        _ => (1, 4, false),
    };
    store::RoomSettings {
        code: code.into(),
        desks,
        minutes,
        prequeue,
    }
}

/// The campus's rooms as the engine sees them.
pub async fn room_specs(
    st: &AppState,
    catalogue: &Catalogue,
    campus: &str,
) -> Result<Vec<RoomSpec>, DbError> {
    let set: BTreeMap<String, store::RoomSettings> = store::room_settings(&st.db, campus)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    Ok(catalogue
        .rooms
        .iter()
        .filter(|r| r.campus == campus)
        .map(|r| {
            let s = set
                .get(&r.code)
                .cloned()
                .unwrap_or_else(|| default_settings(&r.department, &r.code));
            RoomSpec {
                code: r.code.clone(),
                kind: r.code.clone(),
                floor: r.floor,
                desks: s.desks.max(1),
                minutes: s.minutes.max(1),
                prequeue: s.prequeue,
            }
        })
        .collect())
}

/// A visit's stops: its items by room, fasting when any item there is.
pub fn stops(catalogue: &Catalogue, items: &[String]) -> Vec<Stop> {
    let mut by_room: BTreeMap<String, bool> = BTreeMap::new();
    for code in items {
        if let Some(item) = catalogue.item(code) {
            *by_room.entry(item.room.clone()).or_default() |= item.fasting;
        }
    }
    by_room
        .into_iter()
        .map(|(kind, fasting)| Stop {
            kind,
            fasting,
            level: 2,
        })
        .collect()
}

impl Live {
    /// Today's engine for the campus, rebuilt from the log or read on from
    /// the cursor.
    async fn day<'a>(
        &self,
        st: &AppState,
        days: &'a mut BTreeMap<String, Day>,
        campus: &str,
    ) -> Result<&'a mut Day, DbError> {
        let today = today();
        let fresh = days.get(campus).is_none_or(|d| d.day != today);
        if fresh {
            let catalogue = st.catalogue.get();
            let rules = store::rules(&st.db, campus).await?;
            let engine = Engine::new(rules, room_specs(st, &catalogue, campus).await?);
            days.insert(
                campus.to_string(),
                Day {
                    day: today,
                    engine,
                    cursor: 0,
                },
            );
        }
        let Some(d) = days.get_mut(campus) else {
            return Err(DbError::Corrupt("queue day".into()));
        };
        let clock = crate::workflow::now_local();
        for (id, event) in store::events(&st.db, campus, today, d.cursor).await? {
            d.engine.handle(event, clock);
            d.cursor = id;
        }
        Ok(d)
    }

    /// Drops the campus's cached engine: the next use replays the log
    /// (room settings or rules changed, or a write failed).
    pub async fn forget(&self, campus: &str) {
        self.days.lock().await.remove(campus);
    }

    /// Reads the engine for the campus (today).
    pub async fn read<T>(
        &self,
        st: &AppState,
        campus: &str,
        f: impl FnOnce(&Engine) -> T,
    ) -> Result<T, DbError> {
        let mut days = self.days.lock().await;
        let d = self.day(st, &mut days, campus).await?;
        Ok(f(&d.engine))
    }

    /// Announcements of the campus after `after`, for `room` (None: all).
    pub fn announcements(&self, campus: &str, room: Option<&str>, after: u64) -> Vec<Announcement> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .get(campus)
            .map(|q| {
                q.iter()
                    .filter(|a| a.seq > after && room.is_none_or(|r| a.room == r))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn announce(&self, campus: &str, mut a: Announcement) {
        a.seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let q = calls.entry(campus.to_string()).or_default();
        q.push_back(a);
        while q.len() > KEPT {
            q.pop_front();
        }
    }
}

/// Applies an event for the campus as `by`: logged, applied, entries
/// brought in line, in one transaction; calls announced; pages woken.
/// `join`: the visit joining with it (marked once per day).
pub async fn apply(
    st: &AppState,
    campus: &str,
    event: Event,
    by: &str,
    join: Option<PersonId>,
) -> Result<Vec<Decision>, QueueError> {
    let live = &st.queue;
    let now = Utc::now();
    let mut days = live.days.lock().await;
    let result = async {
        let d = live.day(st, &mut days, campus).await?;
        let mut tx = st.db.pool.begin().await?;
        if let Some(p) = join
            && !store::mark_joined(&mut tx, campus, d.day, p, now).await?
        {
            return Err(QueueError::Refused("already in today's queue".into()));
        }
        let id = store::append(&mut tx, campus, d.day, &event, by, now).await?;
        let ended = match &event {
            Event::Finished { .. } => "done",
            Event::Leave { .. } => "left",
            Event::NoShow { .. } => "no_show",
            _ => "moved",
        };
        // The room a finishing person leaves: its screen says where next.
        let leaving = match &event {
            Event::Finished { person } => match d.engine.at(*person) {
                Some(Where::Called(room)) => Some((*person, room.clone())),
                _ => None,
            },
            _ => None,
        };
        let mut touched: BTreeSet<PersonId> = person_of(&event).into_iter().collect();
        let decisions = d.engine.handle(event, crate::workflow::now_local());
        d.cursor = id;
        touched.extend(decisions.iter().filter_map(person_in));
        for p in &touched {
            let at = d.engine.at(*p).cloned().unwrap_or(Where::Unrouted);
            let stamp = store::Stamp {
                campus,
                day: d.day,
                by,
                now,
            };
            store::reconcile(&mut tx, &stamp, *p, &at, ended).await?;
        }
        tx.commit().await?;
        Ok((decisions, leaving))
    }
    .await;
    if result.is_err() {
        // Memory may be ahead of the log: replay next time.
        days.remove(campus);
    }
    drop(days);
    let (decisions, leaving) = result?;
    // (person, the screen's room, the room named, a call or a next room)
    let mut said: Vec<(PersonId, String, String, bool)> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Called { person, room } => Some((*person, room.clone(), room.clone(), true)),
            _ => None,
        })
        .collect();
    if let Some((person, left)) = leaving {
        for d in &decisions {
            if let Decision::Queued {
                person: p, room, ..
            } = d
                && *p == person
            {
                said.push((person, left.clone(), room.clone(), false));
            }
        }
    }
    if !said.is_empty() {
        let ids: Vec<i64> = said.iter().map(|c| c.0).collect();
        let who = store::who(&st.db, &ids).await?;
        let catalogue = st.catalogue.get();
        for (person, screen, named, call) in said {
            let (room_name, floor) = room_label(&catalogue, campus, &named);
            let name = who.get(&person).map(|w| w.name.clone()).unwrap_or_default();
            let text = if call {
                voice::call_text(&name, &room_name)
            } else {
                voice::next_text(&name, floor, &room_name)
            };
            live.announce(
                campus,
                Announcement {
                    seq: 0,
                    text,
                    room: screen,
                    room_name,
                    floor,
                    person,
                    name,
                    call,
                    at: now,
                },
            );
        }
    }
    let _ = live.changed.send(campus.to_string());
    Ok(decisions)
}

fn person_of(e: &Event) -> Option<PersonId> {
    match e {
        Event::Registered { person, .. }
        | Event::CallPerson { person, .. }
        | Event::Recall { person }
        | Event::NoShow { person }
        | Event::Finished { person }
        | Event::SendTo { person, .. }
        | Event::MovePlace { person, .. }
        | Event::Reroute { person }
        | Event::SetPriority { person, .. }
        | Event::StopsChanged { person, .. }
        | Event::Leave { person } => Some(*person),
        Event::CallNext { .. } | Event::SetRoom { .. } | Event::Evacuate { .. } => None,
    }
}

fn person_in(d: &Decision) -> Option<PersonId> {
    match d {
        Decision::Queued { person, .. }
        | Decision::Called { person, .. }
        | Decision::Unroutable { person }
        | Decision::Done { person }
        | Decision::Left { person } => Some(*person),
        Decision::Ignored { .. } => None,
    }
}

/// The room's name and floor.
pub fn room_label(catalogue: &Catalogue, campus: &str, room: &str) -> (String, i32) {
    catalogue
        .room(campus, room)
        .map_or((room.to_string(), 0), |r| (r.name.clone(), r.floor))
}

/// A room screen's path (`/screen/<signed link>`), valid `days`.
pub fn screen_path(st: &AppState, campus: &str, room: &str, days: i64) -> (String, DateTime<Utc>) {
    let expires = Utc::now() + chrono::Duration::days(days);
    let subject = link::Subject::Screen {
        campus: campus.into(),
        room: room.into(),
    };
    (
        format!("/screen/{}", link::sign(&st.db.keys, &subject, expires)),
        expires,
    )
}

/// A visit's phone page path (`/m/<signed link>`), valid `hours`.
pub fn phone_path(st: &AppState, booking: i64, hours: i64) -> (String, DateTime<Utc>) {
    let expires = Utc::now() + chrono::Duration::hours(hours);
    let t = link::sign(&st.db.keys, &link::Subject::Visit(booking), expires);
    (format!("/m/{t}"), expires)
}

/// A visit joins today's queue (once): its stops from its active items.
pub async fn join(st: &AppState, booking: i64) -> Result<Vec<Decision>, QueueError> {
    let Some(needs) = store::needs(&st.db, booking).await? else {
        return Err(QueueError::Refused("no such visit".into()));
    };
    let catalogue = st.catalogue.get();
    let event = Event::Registered {
        person: booking,
        priority: Priority {
            level: 2,
            vip: needs.vip,
        },
        stops: stops(&catalogue, &needs.items),
        // The registration desk and the kiosks are on the ground floor.
        floor: 1,
    };
    apply(st, &needs.campus, event, "registration", Some(booking)).await
}

/// The guide sheet's first station for each of today's bookings not yet
/// checked in (a kiosk's online lookup): where the queue would send them
/// if they joined now. The check-in, when it reaches the service, joins
/// them for real a moment later (usually to the same room; the phone page
/// and the guide desk show the live place).
pub async fn first_stations(
    st: &AppState,
    records: &mut [exam_protocol::BookingRecord],
) -> Result<(), DbError> {
    let today = today();
    let catalogue = st.catalogue.get();
    for r in records.iter_mut() {
        let b = &r.booking;
        if b.state != exam_domain::BookingState::Booked || b.exam_date != today {
            continue;
        }
        let (Some(docs), Some(needs)) = (r.documents.as_mut(), store::needs(&st.db, b.id).await?)
        else {
            continue;
        };
        let stops = stops(&catalogue, &needs.items);
        let priority = Priority {
            level: 2,
            vip: needs.vip,
        };
        let room = st
            .queue
            .read(st, &b.campus, |e| e.preview(stops, priority, 1))
            .await?;
        docs.guide.first = room.map(|room| {
            let (room_name, floor) = room_label(&catalogue, &b.campus, &room);
            exam_domain::documents::FirstStation {
                room,
                room_name,
                floor,
            }
        });
    }
    Ok(())
}

/// A visit's items changed: its stops as they are now.
pub async fn items_changed(st: &AppState, booking: i64, by: &str) -> Result<(), QueueError> {
    let Some(needs) = store::needs(&st.db, booking).await? else {
        return Ok(());
    };
    let catalogue = st.catalogue.get();
    let pending_before = st
        .queue
        .read(st, &needs.campus, |e| e.at(booking).is_some())
        .await?;
    if !pending_before {
        return Ok(());
    }
    // Rooms already done stay done: only kinds still pending or new.
    let done: BTreeSet<String> = store::entries(&st.db, booking, today())
        .await?
        .into_iter()
        .filter(|e| e.state == "done")
        .map(|e| e.room)
        .collect();
    let stops: Vec<Stop> = stops(&catalogue, &needs.items)
        .into_iter()
        .filter(|s| !done.contains(&s.kind))
        .collect();
    apply(
        st,
        &needs.campus,
        Event::StopsChanged {
            person: booking,
            stops,
        },
        by,
        None,
    )
    .await?;
    Ok(())
}

/// Joins every registered or checked-in visit of today that has not yet.
pub async fn sync_joins(st: &AppState) -> Result<usize, QueueError> {
    let campuses: Vec<String> = st
        .catalogue
        .get()
        .campuses
        .iter()
        .map(|c| c.code.clone())
        .collect();
    let mut n = 0;
    for campus in campuses {
        for booking in store::to_join(&st.db, &campus, today()).await? {
            match join(st, booking).await {
                Ok(_) => n += 1,
                Err(QueueError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(n)
}

/// Joins arrivals as registrations come in and every two seconds.
pub fn spawn(st: &AppState) -> tokio::task::JoinHandle<()> {
    let st = st.clone();
    tokio::spawn(async move {
        let mut woken = st.changed.subscribe();
        loop {
            if let Err(e) = sync_joins(&st).await {
                tracing::warn!(error = %e, "joining the queue failed");
            }
            tokio::select! {
                _ = woken.recv() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            }
        }
    })
}
