//! 排队叫号 · 智能导检: the queue engine (Q1–Q5), first slice. Pure and
//! deterministic: events in, decisions out, the time passed in; the same
//! events give the same decisions, so a queue can be rebuilt from its log.
//!
//! A person registered for a visit has stops (one per room their items
//! need). The engine puts them in one room's queue at a time and, when a
//! room finishes them, routes them to the next. The rules, in order:
//!
//! - **Fasting first (餐前项目)**: while a person has a fasting stop left,
//!   only fasting stops are candidates, so they can eat early.
//! - **Open rooms only**: a closed or locked room gets nobody new.
//! - **Stay on the floor**: among candidates, a room on the floor the
//!   person is on comes before another floor (fewer trips up and down).
//! - **Shortest wait**: then the room whose queue is shortest for its
//!   doctors (people waiting per open desk), then the stop's own priority
//!   level, then the room code (determinism).
//! - **Queue order** within a room: priority level (1 before 2 before 3),
//!   VIP before others of the same level, then who joined first.
//! - **No-show (过号)**: a person called who does not come goes back into
//!   the queue `skip_back` places behind the head.
//! - **Evacuation / closing**: everyone waiting in the room is routed
//!   again, in their order there.
//!
//! Not yet here (the later slices): pre-queue numbers for
//! bottleneck rooms, rebalancing of long waits, staff moves between
//! queues, several items per room with shared queues, the service and its
//! pages.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The visit (booking) id.
pub type PersonId = i64;

/// A room as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSpec {
    pub code: String,
    pub floor: i32,
    /// Doctors (desks) working in it: people it serves at once.
    pub desks: u32,
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

/// One room a person must visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub room: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Places behind the head a no-show goes back to.
    pub skip_back: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self { skip_back: 3 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Registered (or paid): joins the queue of their first stop.
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Joined `room`'s queue at `position` (0: next).
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
    /// A request that does not apply (calling in an empty room, finishing
    /// someone not called): nothing changed.
    Ignored { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Where {
    Waiting(String),
    Called(String),
    Unrouted,
    Done,
}

#[derive(Debug, Clone)]
struct Person {
    priority: Priority,
    pending: Vec<Stop>,
    floor: i32,
    at: Where,
    /// Order of joining the current queue.
    joined: u64,
}

#[derive(Debug, Clone)]
struct Room {
    spec: RoomSpec,
    state: RoomState,
    /// Waiting, in queue order.
    waiting: Vec<PersonId>,
    /// Called and not finished.
    serving: Vec<PersonId>,
}

/// The engine: the rooms, the people in the building and their places.
#[derive(Debug, Clone)]
pub struct Engine {
    rules: Rules,
    rooms: BTreeMap<String, Room>,
    people: BTreeMap<PersonId, Person>,
    seq: u64,
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
                    },
                )
            })
            .collect();
        Self {
            rules,
            rooms,
            people: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Applies one event. `now` is kept for the log's sake and the later
    /// rules (waits); the decisions depend on the events only.
    pub fn handle(&mut self, event: Event, _now: NaiveDateTime) -> Vec<Decision> {
        match event {
            Event::Registered {
                person,
                priority,
                stops,
                floor,
            } => {
                if self.people.contains_key(&person) {
                    return ignored("already in the building");
                }
                self.people.insert(
                    person,
                    Person {
                        priority,
                        pending: stops,
                        floor,
                        at: Where::Unrouted,
                        joined: 0,
                    },
                );
                vec![self.route(person)]
            }
            Event::CallNext { room } => self.call_next(&room),
            Event::NoShow { person } => self.no_show(person),
            Event::Finished { person } => self.finished(person),
            Event::SetRoom { room, state } => {
                let Some(r) = self.rooms.get_mut(&room) else {
                    return ignored("no such room");
                };
                r.state = state;
                let mut out = Vec::new();
                if state == RoomState::Closed {
                    out.extend(self.evacuate(&room));
                } else if state == RoomState::Open {
                    // People nobody could take may fit now.
                    let stuck: Vec<PersonId> = self
                        .people
                        .iter()
                        .filter(|(_, p)| p.at == Where::Unrouted)
                        .map(|(id, _)| *id)
                        .collect();
                    out.extend(stuck.into_iter().map(|p| self.route(p)));
                }
                out
            }
            Event::Evacuate { room } => self.evacuate(&room),
        }
    }

    /// The room's queue, next first.
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

    /// Where the person waits and their place (0: next).
    pub fn place(&self, person: PersonId) -> Option<(String, usize)> {
        match &self.people.get(&person)?.at {
            Where::Waiting(room) => {
                let pos = self
                    .rooms
                    .get(room)?
                    .waiting
                    .iter()
                    .position(|p| *p == person)?;
                Some((room.clone(), pos))
            }
            _ => None,
        }
    }

    /// Stops not yet done.
    pub fn pending(&self, person: PersonId) -> Vec<Stop> {
        self.people
            .get(&person)
            .map(|p| p.pending.clone())
            .unwrap_or_default()
    }

    /// Everyone in the building who is not done.
    pub fn people(&self) -> Vec<PersonId> {
        self.people
            .iter()
            .filter(|(_, p)| p.at != Where::Done)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Puts an unrouted person into the best room for their next stop.
    fn route(&mut self, person: PersonId) -> Decision {
        let Some(p) = self.people.get(&person) else {
            return Decision::Ignored {
                reason: "unknown person".into(),
            };
        };
        if p.pending.is_empty() {
            if let Some(p) = self.people.get_mut(&person) {
                p.at = Where::Done;
            }
            return Decision::Done { person };
        }
        let fasting_left = p.pending.iter().any(|s| s.fasting);
        let best = p
            .pending
            .iter()
            .filter(|s| !fasting_left || s.fasting)
            .filter_map(|s| {
                let r = self.rooms.get(&s.room)?;
                (r.state == RoomState::Open).then_some((s, r))
            })
            .min_by(|(sa, ra), (sb, rb)| {
                let away = |r: &Room| r.spec.floor != p.floor;
                // People in the room per desk, compared as fractions
                // (cross-multiplied), so more desks take more people.
                let load = |r: &Room| (r.waiting.len() + r.serving.len()) as u64;
                away(ra)
                    .cmp(&away(rb))
                    .then_with(|| {
                        (load(ra) * u64::from(desks(rb))).cmp(&(load(rb) * u64::from(desks(ra))))
                    })
                    .then_with(|| sa.level.cmp(&sb.level))
                    .then_with(|| ra.spec.code.cmp(&rb.spec.code))
            })
            .map(|(s, _)| s.room.clone());
        let Some(room) = best else {
            if let Some(p) = self.people.get_mut(&person) {
                p.at = Where::Unrouted;
            }
            return Decision::Unroutable { person };
        };
        self.seq += 1;
        let seq = self.seq;
        if let Some(p) = self.people.get_mut(&person) {
            p.at = Where::Waiting(room.clone());
            p.joined = seq;
        }
        let position = self.insert_in_order(&room, person);
        Decision::Queued {
            person,
            room,
            position,
        }
    }

    /// Inserts by (level, VIP first, joined) and returns the position.
    fn insert_in_order(&mut self, room: &str, person: PersonId) -> usize {
        let key = |people: &BTreeMap<PersonId, Person>, id: PersonId| {
            people
                .get(&id)
                .map(|p| (p.priority.level, !p.priority.vip, p.joined))
                .unwrap_or((u8::MAX, true, u64::MAX))
        };
        let mine = key(&self.people, person);
        let Some(r) = self.rooms.get_mut(room) else {
            return 0;
        };
        let pos = r
            .waiting
            .iter()
            .position(|other| key(&self.people, *other) > mine)
            .unwrap_or(r.waiting.len());
        r.waiting.insert(pos, person);
        pos
    }

    fn call_next(&mut self, room: &str) -> Vec<Decision> {
        let Some(r) = self.rooms.get_mut(room) else {
            return ignored("no such room");
        };
        if r.waiting.is_empty() {
            return ignored("nobody waiting");
        }
        let person = r.waiting.remove(0);
        r.serving.push(person);
        if let Some(p) = self.people.get_mut(&person) {
            p.at = Where::Called(room.to_string());
        }
        vec![Decision::Called {
            person,
            room: room.to_string(),
        }]
    }

    fn no_show(&mut self, person: PersonId) -> Vec<Decision> {
        let Some(Where::Called(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not called");
        };
        let skip_back = self.rules.skip_back;
        let Some(r) = self.rooms.get_mut(&room) else {
            return ignored("no such room");
        };
        r.serving.retain(|p| *p != person);
        let position = skip_back.min(r.waiting.len());
        r.waiting.insert(position, person);
        if let Some(p) = self.people.get_mut(&person) {
            p.at = Where::Waiting(room.clone());
        }
        vec![Decision::Queued {
            person,
            room,
            position,
        }]
    }

    fn finished(&mut self, person: PersonId) -> Vec<Decision> {
        let Some(Where::Called(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not called");
        };
        let floor = self.rooms.get(&room).map_or(0, |r| r.spec.floor);
        if let Some(r) = self.rooms.get_mut(&room) {
            r.serving.retain(|p| *p != person);
        }
        if let Some(p) = self.people.get_mut(&person) {
            if let Some(i) = p.pending.iter().position(|s| s.room == room) {
                p.pending.remove(i);
            }
            p.floor = floor;
            p.at = Where::Unrouted;
        }
        vec![self.route(person)]
    }

    fn evacuate(&mut self, room: &str) -> Vec<Decision> {
        let Some(r) = self.rooms.get_mut(room) else {
            return ignored("no such room");
        };
        let waiting = std::mem::take(&mut r.waiting);
        let state = r.state;
        // Routed elsewhere: this room is no candidate while they move.
        r.state = RoomState::Closed;
        let mut out = Vec::new();
        for person in waiting {
            if let Some(p) = self.people.get_mut(&person) {
                p.at = Where::Unrouted;
            }
            out.push(self.route(person));
        }
        if let Some(r) = self.rooms.get_mut(room) {
            r.state = state;
        }
        out
    }
}

fn desks(r: &Room) -> u32 {
    r.spec.desks.max(1)
}

fn ignored(reason: &str) -> Vec<Decision> {
    vec![Decision::Ignored {
        reason: reason.into(),
    }]
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
