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
pub(crate) mod board;
pub(crate) mod entries;
pub mod link;
pub(crate) mod pages;
pub mod store;
pub mod voice;

use std::collections::{BTreeMap, BTreeSet};

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
    /// When the log was last read to its end.
    synced: std::time::Instant,
    /// Another instance changed the queue since (the change log said so).
    stale: bool,
}

/// How stale a page's read of the engine may be: an event written by
/// another instance shows within this (this instance's own at once).
const READ_ON: std::time::Duration = std::time::Duration::from_secs(1);

/// The queue's live state, shared by the routes.
pub struct Live {
    /// Serialises changes (events, catch-ups, rebuilds): the log's order
    /// is the order the engine took them in.
    writer: Mutex<()>,
    /// The engines: pages read them briefly; changed under `writer`.
    days: std::sync::RwLock<BTreeMap<String, Day>>,
    /// Wakes the live pages (the campus that changed).
    pub changed: broadcast::Sender<String>,
    /// Per campus, the bookings' change number the joiner has read to
    /// (for the day).
    joined: std::sync::Mutex<BTreeMap<String, (NaiveDate, i64)>>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            writer: Mutex::default(),
            days: std::sync::RwLock::default(),
            changed: broadcast::channel(256).0,
            joined: std::sync::Mutex::default(),
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
    fn days_read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Day>> {
        self.days
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn days_write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Day>> {
        self.days
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the campus's engine today's and reads the log on from its
    /// cursor (events another instance wrote). Call under `writer`.
    async fn sync(&self, st: &AppState, campus: &str) -> Result<(), DbError> {
        let today = today();
        let cursor = match self.days_read().get(campus) {
            Some(d) if d.day == today => Some(d.cursor),
            _ => None,
        };
        let fresh = match cursor {
            Some(_) => None,
            None => {
                let catalogue = st.catalogue.get();
                let rules = store::rules(&st.db, campus).await?;
                Some(Engine::new(
                    rules,
                    room_specs(st, &catalogue, campus).await?,
                ))
            }
        };
        let events = store::events(&st.db, campus, today, cursor.unwrap_or(0)).await?;
        let clock = crate::workflow::now_local();
        let mut days = self.days_write();
        if let Some(engine) = fresh {
            days.insert(
                campus.to_string(),
                Day {
                    day: today,
                    engine,
                    cursor: 0,
                    synced: std::time::Instant::now(),
                    stale: false,
                },
            );
        }
        let Some(d) = days.get_mut(campus) else {
            return Err(DbError::Corrupt("queue day".into()));
        };
        for (id, event) in events {
            d.engine.handle(event, clock);
            d.cursor = id;
        }
        d.synced = std::time::Instant::now();
        d.stale = false;
        Ok(())
    }

    /// Another instance changed the campus's queue: the next read reads
    /// on from the log first.
    pub fn mark_stale(&self, campus: &str) {
        if let Some(d) = self.days_write().get_mut(campus) {
            d.stale = true;
        }
    }

    /// Drops the campus's cached engine: the next use replays the log
    /// (room settings or rules changed, or a write failed).
    pub async fn forget(&self, campus: &str) {
        let _w = self.writer.lock().await;
        self.days_write().remove(campus);
    }

    /// Reads the engine for the campus (today), read on from the log when
    /// it was last more than `READ_ON` ago.
    pub async fn read<T>(
        &self,
        st: &AppState,
        campus: &str,
        f: impl FnOnce(&Engine) -> T,
    ) -> Result<T, DbError> {
        let stale = self
            .days_read()
            .get(campus)
            .is_none_or(|d| d.day != today() || d.stale || d.synced.elapsed() > READ_ON);
        if stale {
            let _w = self.writer.lock().await;
            self.sync(st, campus).await?;
        }
        let days = self.days_read();
        let d = days
            .get(campus)
            .ok_or_else(|| DbError::Corrupt("queue day".into()))?;
        Ok(f(&d.engine))
    }

    fn joined_to(&self, campus: &str, day: NaiveDate) -> i64 {
        let j = self
            .joined
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        j.get(campus)
            .filter(|(d, _)| *d == day)
            .map_or(0, |(_, s)| *s)
    }

    fn set_joined_to(&self, campus: &str, day: NaiveDate, seq: i64) {
        let mut j = self
            .joined
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        j.insert(campus.to_string(), (day, seq));
    }
}

/// Applies an event for the campus as `by`: logged, applied, entries
/// brought in line, in one transaction; calls announced; pages woken.
/// `join`: the visit joining with it (marked once per day; a second time
/// is refused and changes nothing).
pub async fn apply(
    st: &AppState,
    campus: &str,
    event: Event,
    by: &str,
    join: Option<PersonId>,
) -> Result<Vec<Decision>, QueueError> {
    match apply_all(st, campus, vec![(event, join)], by).await?.pop() {
        Some(Some(d)) => Ok(d),
        _ => Err(QueueError::Refused("already in today's queue".into())),
    }
}

/// [`apply`] for several events in one transaction, in order: the joiner's
/// batch (one commit, so one disk flush, for a morning rush's arrivals).
/// None for a join refused (already joined today).
pub async fn apply_all(
    st: &AppState,
    campus: &str,
    events: Vec<(Event, Option<PersonId>)>,
    by: &str,
) -> Result<Vec<Option<Vec<Decision>>>, QueueError> {
    let live = &st.queue;
    let now = Utc::now();
    // In log order: one change at a time (pages keep reading meanwhile).
    let writer = live.writer.lock().await;
    // Today's engine made when it is not there yet; reading on from the
    // log is left to the transaction, which reads everything behind under
    // the campus's lock (`events_in`): one round trip less in this
    // serial section.
    let day = today();
    if live.days_read().get(campus).is_none_or(|d| d.day != day) {
        live.sync(st, campus).await?;
    }
    // A member of the store's group commit: a call shares its flush with
    // the desk's registrations and the kiosks' pushes (db/group.rs).
    // (On PostgreSQL through the connection kept for this one writer.)
    let mut w = st.db.write_serial().await?;
    let tx = w.tx();
    // The campus's lock across instances: what others wrote since our
    // read is taken first, and our ids follow theirs.
    let mut last_id = store::lock_head(tx, campus).await?;
    // The log is read to its end from here (no one else writes it until
    // our commit): the pages need not read on for a second after it.
    let read_to_end = std::time::Instant::now();
    let behind = {
        let cursor = live.days_read().get(campus).map_or(0, |d| d.cursor);
        store::events_in(tx, campus, day, cursor).await?
    };
    let stamp = store::Stamp {
        campus,
        day,
        by,
        now,
    };
    let joins: Vec<PersonId> = events.iter().filter_map(|(_, j)| *j).collect();
    let mut fresh = entries::mark_joined_all(tx, &stamp, &joins).await?;
    let taken: Vec<Option<Event>> = events
        .into_iter()
        .map(|(event, join)| match join {
            // A person named twice joins once.
            Some(p) => fresh.remove(&p).then_some(event),
            None => Some(event),
        })
        .collect();
    // The engine takes them (briefly, under the write lock); the store
    // next, in the same order. Pages may see them a moment before they
    // commit; a failed write drops the engine, replayed from the log.
    struct Taken {
        id: i64,
        event: Event,
        ended: &'static str,
        decisions: Vec<Decision>,
        calls: Vec<store::Call>,
        ats: Vec<(PersonId, Where)>,
    }
    let done: Vec<Option<Taken>> = {
        let mut days = live.days_write();
        let Some(d) = days.get_mut(campus) else {
            return Err(DbError::Corrupt("queue day".into()).into());
        };
        for (id, event) in behind {
            d.engine.handle(event, crate::workflow::now_local());
            d.cursor = id;
        }
        last_id = last_id.max(d.cursor);
        taken
            .into_iter()
            .map(|e| {
                let event = e?;
                // Rising in commit order for every instance's cursor.
                let id = crate::db::next_id().max(last_id + 1);
                last_id = id;
                let ended = match &event {
                    Event::Finished { .. } => "done",
                    Event::Leave { .. } => "left",
                    Event::NoShow { .. } => "no_show",
                    _ => "moved",
                };
                // The room a finishing person leaves: its screen says
                // where next.
                let leaving = match &event {
                    Event::Finished { person } => match d.engine.at(*person) {
                        Some(Where::Called(room)) => Some((*person, room.clone())),
                        _ => None,
                    },
                    _ => None,
                };
                let mut touched: BTreeSet<PersonId> = person_of(&event).into_iter().collect();
                let decisions = d.engine.handle(event.clone(), crate::workflow::now_local());
                d.cursor = id;
                touched.extend(decisions.iter().filter_map(person_in));
                let ats = touched
                    .into_iter()
                    .map(|p| (p, d.engine.at(p).cloned().unwrap_or(Where::Unrouted)))
                    .collect();
                let calls = said(&decisions, leaving);
                Some(Taken {
                    id,
                    event,
                    ended,
                    decisions,
                    calls,
                    ats,
                })
            })
            .collect()
    };
    let written = async {
        // A request the engine ignored changed nothing: not logged (the
        // doctors' 呼叫 in an empty room would fill the log).
        let changed: Vec<&Taken> = done
            .iter()
            .flatten()
            .filter(|t| !matches!(t.decisions.as_slice(), [Decision::Ignored { .. }]))
            .collect();
        // Set-wise, in the events' order (entries.rs): a few statements
        // for the change, not a few for each of its people.
        let lines: Vec<(i64, &Event)> = changed.iter().map(|t| (t.id, &t.event)).collect();
        entries::append_all(tx, &stamp, &lines).await?;
        let moves: Vec<(PersonId, Where, &'static str)> = changed
            .iter()
            .flat_map(|t| t.ats.iter().map(|(p, at)| (*p, at.clone(), t.ended)))
            .collect();
        entries::reconcile_all(tx, &stamp, &moves).await?;
        let calls: Vec<store::Call> = changed.iter().flat_map(|t| t.calls.clone()).collect();
        store::record_calls(tx, campus, &calls, now).await?;
        store::set_head(tx, campus, last_id).await?;
        Ok::<(), DbError>(())
    }
    .await;
    let written = w.finish(written).await;
    if let Err(e) = written {
        // Memory ran ahead of the log: replay next time.
        live.days_write().remove(campus);
        return Err(e.into());
    }
    if let Some(d) = live.days_write().get_mut(campus) {
        d.synced = read_to_end;
    }
    drop(writer);
    crate::cluster::feed::publish(st, crate::cluster::feed::Topic::Queue(campus.into())).await;
    Ok(done.into_iter().map(|t| t.map(|t| t.decisions)).collect())
}

/// What the room screens say of what was decided: calls, and the next
/// room of someone leaving. Pure.
fn said(decisions: &[Decision], leaving: Option<(PersonId, String)>) -> Vec<store::Call> {
    let mut out: Vec<store::Call> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Called { person, room } => Some(store::Call {
                person: *person,
                room: room.clone(),
                named: room.clone(),
                call: true,
            }),
            _ => None,
        })
        .collect();
    if let Some((person, left)) = leaving {
        for d in decisions {
            if let Decision::Queued {
                person: p, room, ..
            } = d
                && *p == person
            {
                out.push(store::Call {
                    person,
                    room: left.clone(),
                    named: room.clone(),
                    call: false,
                });
            }
        }
    }
    out
}

/// The campus's announcements after `after` for `room` (None: all), the
/// last `KEPT`, read from the store (any instance's calls), each with the
/// masked name and its sentence.
pub async fn announcements(
    st: &AppState,
    campus: &str,
    room: Option<&str>,
    after: u64,
) -> Result<Vec<Announcement>, DbError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let calls = store::calls_after(&st.db, campus, room, after, KEPT as i64).await?;
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = calls.iter().map(|c| c.1.person).collect();
    let who = store::who(&st.db, &ids).await?;
    let catalogue = st.catalogue.get();
    Ok(calls
        .into_iter()
        .map(|(seq, c, at)| {
            let (room_name, floor) = room_label(&catalogue, campus, &c.named);
            let name = who
                .get(&c.person)
                .map(|w| w.name.clone())
                .unwrap_or_default();
            let text = if c.call {
                voice::call_text(&name, &room_name)
            } else {
                voice::next_text(&name, floor, &room_name)
            };
            Announcement {
                seq: u64::try_from(seq).unwrap_or(0),
                text,
                room: c.room,
                room_name,
                floor,
                person: c.person,
                name,
                call: c.call,
                at,
            }
        })
        .collect())
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

/// `public_url` is an absolute http(s) address without a path's trailing
/// slash, so links are `<public_url>/m/<token>`.
pub fn check_public_url(u: &str) -> Result<(), String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| format!("public_url {u:?}: must start with https:// (or http://)"))?;
    if rest.is_empty() || rest.ends_with('/') || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "public_url {u:?}: a host (and path) without a trailing slash, query or spaces"
        ));
    }
    Ok(())
}

/// The phone page's full address for a printed sheet (valid 36 hours: the
/// exam day and the evening after), when the centre set `public_url`.
pub fn phone_url(st: &AppState, booking: i64) -> Option<String> {
    let base = st.config.public_url.as_deref()?;
    Some(format!("{base}{}", phone_path(st, booking, 36).0))
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
        docs.guide.phone = phone_url(st, b.id);
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

/// Where the queue has a visit go first, for a sheet printed now: the room
/// it waits in or is called to, else (not joined yet, today) where it
/// would be sent; None when its day in the queue is over.
pub async fn first_station_of(
    st: &AppState,
    booking: i64,
) -> Result<Option<exam_domain::documents::FirstStation>, DbError> {
    let Some(needs) = store::needs(&st.db, booking).await? else {
        return Ok(None);
    };
    let catalogue = st.catalogue.get();
    let stops = stops(&catalogue, &needs.items);
    let priority = Priority {
        level: 2,
        vip: needs.vip,
    };
    let room = st
        .queue
        .read(st, &needs.campus, |e| match e.at(booking) {
            Some(Where::Waiting(r) | Where::Called(r)) => Some(r.clone()),
            Some(_) => None,
            None => e.preview(stops, priority, 1),
        })
        .await?;
    Ok(room.map(|room| {
        let (room_name, floor) = room_label(&catalogue, &needs.campus, &room);
        exam_domain::documents::FirstStation {
            room,
            room_name,
            floor,
        }
    }))
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
    let campuses = st.catalogue.get().campus_codes();
    let day = today();
    let catalogue = st.catalogue.get();
    let mut n = 0;
    for campus in campuses {
        let after = st.queue.joined_to(&campus, day);
        let found = store::to_join(&st.db, &campus, day, after).await?;
        // In batches, each one transaction.
        for chunk in found.chunks(200) {
            let mut events = Vec::with_capacity(chunk.len());
            let ids: Vec<i64> = chunk.iter().map(|(b, _)| *b).collect();
            let mut all = store::needs_many(&st.db, &ids).await?;
            for (booking, _) in chunk {
                let Some(needs) = all.remove(booking) else {
                    continue;
                };
                events.push((
                    Event::Registered {
                        person: *booking,
                        priority: Priority {
                            level: 2,
                            vip: needs.vip,
                        },
                        stops: stops(&catalogue, &needs.items),
                        // The registration desk and the kiosks are on the
                        // ground floor.
                        floor: 1,
                    },
                    Some(*booking),
                ));
            }
            let joined = apply_all(st, &campus, events, "registration").await?;
            n += joined.iter().flatten().count();
            if let Some((_, seq)) = chunk.last() {
                st.queue.set_joined_to(&campus, day, *seq);
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
        // One joiner across instances (issue 21); another instance's
        // registrations wake it through the change log.
        let job = crate::cluster::lease::Job::new("queue_join", std::time::Duration::from_secs(2));
        loop {
            job.turn(&st, || async {
                if let Err(e) = sync_joins(&st).await {
                    tracing::warn!(error = %e, "joining the queue failed");
                }
            })
            .await;
            tokio::select! {
                _ = woken.recv() => {
                    // The arrivals of the next moment join with this one:
                    // one commit (one disk flush) for a burst of check-ins,
                    // not one each beside each check-in's own. A person is
                    // in the queue a tenth of a second later.
                    tokio::time::sleep(JOIN_GATHER).await;
                    while woken.try_recv().is_ok() {}
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            }
        }
    })
}

/// How long the joiner gathers arrivals after it is woken.
const JOIN_GATHER: std::time::Duration = std::time::Duration::from_millis(100);
