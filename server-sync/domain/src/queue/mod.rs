//! 排队叫号 · 智能导检: the queue engine (Q1–Q5). Pure and deterministic:
//! events in, decisions out, the time passed in; the same events give the
//! same decisions, so a queue is rebuilt from its log by replaying it.
//!
//! A person registered for a visit has stops: one per kind of room their
//! items need (items done in one room share one stop, so one queue). Rooms
//! of a kind are interchangeable (超声室A, 超声室B). A person waits in one
//! room's queue at a time and, when a room finishes them, is routed to the
//! next. The rules (`route.rs` has the code):
//!
//! - **Fasting first (餐前项目)**: while a person has a fasting stop a room
//!   can take, only fasting stops are candidates, so they can eat early.
//! - **Item level**: among those, only the stops of the best (lowest)
//!   item level are candidates.
//! - **Open rooms only**: a closed or locked room gets nobody new.
//! - **Least expected wait, walking counted**: the room whose people per
//!   desk times its minutes per person, plus `floor_minutes` per floor to
//!   climb, is least; then the item level, then the room code.
//! - **Queue order** in a room: priority level (1 before 2 before 3), VIP
//!   before others of the same level, then who arrived at the centre first
//!   (so early arrivals finish early; see `insert_in_order`).
//! - **Pre-queue (预排) for bottleneck rooms**: a room marked `prequeue`
//!   hands every person who needs it a number when they register; they do
//!   other rooms meanwhile, and the room calls numbers in turn, taking the
//!   first holder who is free (waiting anywhere, not being served) out of
//!   the queue they are in. A person left with only such stops waits for
//!   their number.
//! - **Idle rooms pull (rebalancing)**: a room with a free desk and nobody
//!   in its queue calls the person who has waited longest in another
//!   room's queue and needs this room too (same floor first), so no desk
//!   idles while someone who could use it waits elsewhere.
//! - **No-show (过号)**: a person called who does not come goes back
//!   `skip_back` places behind the head.
//! - **Evacuation / closing**: everyone waiting in the room is routed
//!   again, in their order there.
//! - **Staff moves** (the guide desk): send to a named room, move a place,
//!   jump the queue (place 0), change priority / VIP, change the stops
//!   (items added or removed), reroute a long wait, leave (改日检).

mod route;

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The visit (booking) id.
pub type PersonId = i64;

/// A room as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSpec {
    pub code: String,
    /// Rooms of one kind serve the same stops (the catalogue's room code).
    pub kind: String,
    pub floor: i32,
    /// Doctors (desks) working in it: people it serves at once.
    pub desks: u32,
    /// Minutes one person takes, on average.
    pub minutes: u32,
    /// A bottleneck: numbers handed out at registration (预排).
    pub prequeue: bool,
}

impl RoomSpec {
    /// A room of its own kind, one desk, five minutes, no pre-queue.
    pub fn new(code: &str, floor: i32) -> Self {
        Self {
            code: code.into(),
            kind: code.into(),
            floor,
            desks: 1,
            minutes: 5,
            prequeue: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    Open,
    /// Nobody new is routed here; who waits stays.
    Locked,
    /// Closed: nobody new, and who waits is routed elsewhere.
    Closed,
}

impl RoomState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Locked => "locked",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "locked" => Some(Self::Locked),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// One kind of room a person must visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// The room kind (`RoomSpec::kind`).
    pub kind: String,
    pub fasting: bool,
    /// The item's priority level (1 first).
    pub level: u8,
}

/// How a person queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    /// 1 before 2 before 3.
    pub level: u8,
    pub vip: bool,
}

impl Default for Priority {
    fn default() -> Self {
        Self {
            level: 2,
            vip: false,
        }
    }
}

/// The centre's rules (per campus, on `/admin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    /// Places behind the head a no-show goes back to.
    pub skip_back: usize,
    /// Minutes a floor of climbing counts as when routing.
    pub floor_minutes: u32,
    /// Fasting stops first (餐前项目优先).
    pub fasting_first: bool,
    /// Idle rooms call people waiting elsewhere.
    pub pull: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            skip_back: 3,
            floor_minutes: 3,
            fasting_first: true,
            pull: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Registered (or paid): joins the queue of their first stop, and
    /// takes numbers at the pre-queue rooms they need.
    Registered {
        person: PersonId,
        priority: Priority,
        stops: Vec<Stop>,
        /// Where they are now (the registration desk's floor).
        floor: i32,
    },
    /// A doctor in `room` calls the next person.
    CallNext {
        room: String,
    },
    /// A doctor in `room` calls a named person (直接呼叫).
    CallPerson {
        room: String,
        person: PersonId,
    },
    /// The person called is called again (the announcement repeats).
    Recall {
        person: PersonId,
    },
    /// The person called did not come.
    NoShow {
        person: PersonId,
    },
    /// The room is done with the person.
    Finished {
        person: PersonId,
    },
    SetRoom {
        room: String,
        state: RoomState,
    },
    /// Everyone waiting in the room goes elsewhere (the room stays open).
    Evacuate {
        room: String,
    },
    /// The guide desk sends a waiting person to a named room (指定科室).
    SendTo {
        person: PersonId,
        room: String,
    },
    /// The guide desk moves a waiting person to a place in the queue they
    /// are in (0: 插队, next).
    MovePlace {
        person: PersonId,
        position: usize,
    },
    /// The guide desk routes a waiting person again, elsewhere if better
    /// (a long wait's one-click reassignment).
    Reroute {
        person: PersonId,
    },
    SetPriority {
        person: PersonId,
        priority: Priority,
    },
    /// Items added or removed: the stops not yet done, as they are now.
    StopsChanged {
        person: PersonId,
        stops: Vec<Stop>,
    },
    /// Leaves the queue for today (改日检, or gone home).
    Leave {
        person: PersonId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Waits in `room`'s queue at `position` (0: next).
    Queued {
        person: PersonId,
        room: String,
        position: usize,
    },
    /// Called into `room` ("请 张*明 到 超声室B 检查").
    Called { person: PersonId, room: String },
    /// No open room can take one of their stops now: they wait at the
    /// guide desk's attention.
    Unroutable { person: PersonId },
    /// Every stop done.
    Done { person: PersonId },
    /// Out of the queue for today.
    Left { person: PersonId },
    /// A request that does not apply (calling in an empty room, finishing
    /// someone not called): nothing changed.
    Ignored { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "at", content = "room", rename_all = "snake_case")]
pub enum Where {
    Waiting(String),
    Called(String),
    Unrouted,
    Done,
    Left,
}

#[derive(Debug, Clone)]
struct Person {
    priority: Priority,
    pending: Vec<Stop>,
    floor: i32,
    at: Where,
    /// Order of joining the current queue.
    joined: u64,
    /// Order of registering: the pre-queue numbers' order.
    ticket: u64,
}

#[derive(Debug, Clone)]
struct Room {
    spec: RoomSpec,
    state: RoomState,
    /// Waiting here, in queue order (a pre-queue room: its numbers, held
    /// by people who may be anywhere).
    waiting: Vec<PersonId>,
    /// Called and not finished.
    serving: Vec<PersonId>,
    /// `waiting` is in the order `insert_in_order` keeps (level, VIP
    /// first, arrival), so a place is found by binary search: true until
    /// someone is placed by hand (put back a few places, moved by the
    /// guide desk), then again once the room has emptied.
    ordered: bool,
}

/// A room's state as boards show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomView {
    pub spec: RoomSpec,
    pub state: RoomState,
    pub waiting: Vec<PersonId>,
    pub serving: Vec<PersonId>,
}

/// The engine: the rooms, the people in the building and their places.
#[derive(Debug, Clone)]
pub struct Engine {
    rules: Rules,
    rooms: BTreeMap<String, Room>,
    people: BTreeMap<PersonId, Person>,
    seq: u64,
    /// Who is where, counted as `at` changes (`set_at`): boards ask on
    /// every page, and counting the day's people each time was a quarter
    /// of the service's processor late in a busy day.
    tally: Tally,
}

/// The places boards count, kept with every change of a person's `at`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    done: usize,
    left: usize,
    unrouted: std::collections::BTreeSet<PersonId>,
}

impl Tally {
    fn count(&mut self, person: PersonId, at: &Where, by: isize) {
        match at {
            Where::Done => self.done = self.done.saturating_add_signed(by),
            Where::Left => self.left = self.left.saturating_add_signed(by),
            Where::Unrouted if by > 0 => {
                self.unrouted.insert(person);
            }
            Where::Unrouted => {
                self.unrouted.remove(&person);
            }
            Where::Waiting(_) | Where::Called(_) => {}
        }
    }
}

impl Engine {
    pub fn new(rules: Rules, rooms: Vec<RoomSpec>) -> Self {
        let rooms = rooms
            .into_iter()
            .map(|spec| {
                (
                    spec.code.clone(),
                    Room {
                        spec,
                        state: RoomState::Open,
                        waiting: Vec::new(),
                        serving: Vec::new(),
                        ordered: true,
                    },
                )
            })
            .collect();
        Self {
            rules,
            rooms,
            people: BTreeMap::new(),
            seq: 0,
            tally: Tally::default(),
        }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Applies one event. `now` is kept for the log's sake; the decisions
    /// depend on the events only.
    pub fn handle(&mut self, event: Event, _now: NaiveDateTime) -> Vec<Decision> {
        match event {
            Event::Registered {
                person,
                priority,
                stops,
                floor,
            } => self.register(person, priority, stops, floor),
            Event::CallNext { room } => self.call_next(&room),
            Event::CallPerson { room, person } => self.call_person(&room, person),
            Event::Recall { person } => match self.people.get(&person).map(|p| &p.at) {
                Some(Where::Called(room)) => vec![Decision::Called {
                    person,
                    room: room.clone(),
                }],
                _ => ignored("not called"),
            },
            Event::NoShow { person } => self.no_show(person),
            Event::Finished { person } => self.finished(person),
            Event::SetRoom { room, state } => self.set_room(&room, state),
            Event::Evacuate { room } => self.evacuate(&room),
            Event::SendTo { person, room } => self.send_to(person, &room),
            Event::MovePlace { person, position } => self.move_place(person, position),
            Event::Reroute { person } => self.reroute(person),
            Event::SetPriority { person, priority } => self.set_priority(person, priority),
            Event::StopsChanged { person, stops } => self.stops_changed(person, stops),
            Event::Leave { person } => self.leave(person),
        }
    }

    /// The room's queue, next first (a pre-queue room: its numbers).
    pub fn queue(&self, room: &str) -> Vec<PersonId> {
        self.rooms
            .get(room)
            .map(|r| r.waiting.clone())
            .unwrap_or_default()
    }

    /// Who is being served in the room.
    pub fn serving(&self, room: &str) -> Vec<PersonId> {
        self.rooms
            .get(room)
            .map(|r| r.serving.clone())
            .unwrap_or_default()
    }

    /// Every room, by code.
    pub fn rooms(&self) -> Vec<RoomView> {
        self.rooms
            .values()
            .map(|r| RoomView {
                spec: r.spec.clone(),
                state: r.state,
                waiting: r.waiting.clone(),
                serving: r.serving.clone(),
            })
            .collect()
    }

    /// One room.
    pub fn room(&self, code: &str) -> Option<RoomView> {
        self.rooms.get(code).map(|r| RoomView {
            spec: r.spec.clone(),
            state: r.state,
            waiting: r.waiting.clone(),
            serving: r.serving.clone(),
        })
    }

    /// People no open room could take.
    pub fn unrouted(&self) -> Vec<PersonId> {
        self.tally.unrouted.iter().copied().collect()
    }

    /// People in the building (not done, not gone).
    pub fn in_building(&self) -> usize {
        self.people.len() - self.tally.done - self.tally.left
    }

    /// Where the person is.
    pub fn at(&self, person: PersonId) -> Option<&Where> {
        self.people.get(&person).map(|p| &p.at)
    }

    /// Where the person waits and their place (0: next).
    pub fn place(&self, person: PersonId) -> Option<(String, usize)> {
        match &self.people.get(&person)?.at {
            Where::Waiting(room) => Some((room.clone(), self.position(room, person)?)),
            _ => None,
        }
    }

    /// Every numbered or waiting place the person holds: (room, place).
    pub fn places(&self, person: PersonId) -> Vec<(String, usize)> {
        self.rooms
            .iter()
            .filter_map(|(code, r)| {
                let pos = r.waiting.iter().position(|p| *p == person)?;
                Some((code.clone(), pos))
            })
            .collect()
    }

    /// Stops not yet done.
    pub fn pending(&self, person: PersonId) -> Vec<Stop> {
        self.people
            .get(&person)
            .map(|p| p.pending.clone())
            .unwrap_or_default()
    }

    /// Everyone in the building who is not done and has not left.
    pub fn people(&self) -> Vec<PersonId> {
        self.people
            .iter()
            .filter(|(_, p)| !matches!(p.at, Where::Done | Where::Left))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Where a person with these stops would be sent if they joined now
    /// (the guide sheet's first station): the engine's own routing on a
    /// copy, so nothing changes.
    pub fn preview(&self, stops: Vec<Stop>, priority: Priority, floor: i32) -> Option<String> {
        let mut copy = self.clone();
        let someone = PersonId::MIN;
        copy.people.remove(&someone);
        // Joining also hands out pre-queue numbers (decisions too): the
        // room is where the person then waits.
        copy.register(someone, priority, stops, floor);
        match copy.at(someone) {
            Some(Where::Waiting(room) | Where::Called(room)) => Some(room.clone()),
            _ => None,
        }
    }

    /// People who finished every stop today.
    pub fn done_count(&self) -> usize {
        self.tally.done
    }

    /// People who joined today (any state).
    pub fn known_count(&self) -> usize {
        self.people.len()
    }

    /// Moves the person to `at`, keeping the tally; their record, for
    /// what else the move changes.
    fn set_at(&mut self, person: PersonId, at: Where) -> Option<&mut Person> {
        let p = self.people.get_mut(&person)?;
        self.tally.count(person, &p.at, -1);
        self.tally.count(person, &at, 1);
        p.at = at;
        Some(p)
    }

    fn position(&self, room: &str, person: PersonId) -> Option<usize> {
        self.rooms
            .get(room)?
            .waiting
            .iter()
            .position(|p| *p == person)
    }
}

fn ignored(reason: &str) -> Vec<Decision> {
    vec![Decision::Ignored {
        reason: reason.into(),
    }]
}

#[cfg(test)]
mod tests;
