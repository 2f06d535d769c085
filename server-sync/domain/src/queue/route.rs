//! The engine's moves: routing, calling, and what staff do to a queue.
//! Every move keeps the invariants the random-day tests check: a person
//! waits in at most one queue, is served at most in one room, and holds at
//! most one pre-queue number per room kind.

use std::collections::BTreeSet;

use super::{Decision, Engine, Person, PersonId, Priority, RoomState, Stop, Where, ignored};

impl Engine {
    pub(super) fn register(
        &mut self,
        person: PersonId,
        priority: Priority,
        stops: Vec<Stop>,
        floor: i32,
    ) -> Vec<Decision> {
        if self.people.contains_key(&person) {
            return ignored("already in the queue today");
        }
        self.seq += 1;
        self.people.insert(
            person,
            Person {
                priority,
                pending: stops,
                floor,
                at: Where::Unrouted,
                joined: 0,
                ticket: self.seq,
            },
        );
        self.tally.count(person, &Where::Unrouted, 1);
        vec![self.route(person, None)]
    }

    fn is_pre(&self, room: &str) -> bool {
        self.rooms.get(room).is_some_and(|r| r.spec.prequeue)
    }

    /// The stops a room may take the person for now: stops with an open
    /// room, then fasting ones if any, then those of the best item level.
    fn gated(&self, p: &Person, exclude: Option<&str>) -> Vec<Stop> {
        let open: Vec<&Stop> = p
            .pending
            .iter()
            .filter(|s| {
                self.rooms.values().any(|r| {
                    r.spec.kind == s.kind
                        && r.state == RoomState::Open
                        && Some(r.spec.code.as_str()) != exclude
                })
            })
            .collect();
        let fasting = self.rules.fasting_first && open.iter().any(|s| s.fasting);
        let open: Vec<&Stop> = open.into_iter().filter(|s| !fasting || s.fasting).collect();
        let best = open.iter().map(|s| s.level).min().unwrap_or(u8::MAX);
        open.into_iter()
            .filter(|s| s.level == best)
            .cloned()
            .collect()
    }

    /// Whether `room` may take the person now (their gates allow its kind).
    fn eligible(&self, person: PersonId, room: &str) -> bool {
        let (Some(p), Some(r)) = (self.people.get(&person), self.rooms.get(room)) else {
            return false;
        };
        // The gates are a subset of what they still need: most people do
        // not need this room at all, and an idle room's pull asks this of
        // everyone waiting on its floor (`gated` looks at every room for
        // every stop, so it is asked only of those who need the kind).
        if !p.pending.iter().any(|s| s.kind == r.spec.kind) {
            return false;
        }
        // A locked room still serves who it has: gate as if it were open.
        let gates = if r.state == RoomState::Open {
            self.gated(p, None)
        } else {
            p.pending.clone()
        };
        gates.iter().any(|s| s.kind == r.spec.kind)
    }

    fn free(&self, person: PersonId) -> bool {
        self.people
            .get(&person)
            .is_some_and(|p| matches!(p.at, Where::Waiting(_) | Where::Unrouted))
    }

    /// Expected seconds until the person would be called in `room`, plus
    /// the walk there.
    fn cost(&self, p: &Person, person: PersonId, room: &str) -> u64 {
        let Some(r) = self.rooms.get(room) else {
            return u64::MAX;
        };
        let ahead = r
            .waiting
            .iter()
            .position(|q| *q == person)
            .unwrap_or(r.waiting.len());
        let load = (ahead + r.serving.len()) as u64;
        let wait = load * u64::from(r.spec.minutes) * 60 / u64::from(r.spec.desks.max(1));
        let climb = u64::from(p.floor.abs_diff(r.spec.floor)) * u64::from(self.rules.floor_minutes);
        wait + climb * 60
    }

    /// Puts a person who waits nowhere into the best room for a next stop.
    pub(super) fn route(&mut self, person: PersonId, exclude: Option<&str>) -> Decision {
        let Some(p) = self.people.get(&person) else {
            return Decision::Ignored {
                reason: "unknown person".into(),
            };
        };
        if p.pending.is_empty() {
            self.drop_all(person);
            self.set_at(person, Where::Done);
            return Decision::Done { person };
        }
        self.give_numbers(person, exclude);
        let Some(p) = self.people.get(&person) else {
            return Decision::Unroutable { person };
        };
        let gates = self.gated(p, exclude);
        let rooms: Vec<&str> = self
            .rooms
            .values()
            .filter(|r| {
                r.state == RoomState::Open
                    && Some(r.spec.code.as_str()) != exclude
                    && gates.iter().any(|s| s.kind == r.spec.kind)
            })
            .map(|r| r.spec.code.as_str())
            .collect();
        // Ordinary rooms first: a pre-queue number is kept meanwhile.
        let ordinary: Vec<&str> = rooms.iter().copied().filter(|r| !self.is_pre(r)).collect();
        let numbered: Vec<&str> = rooms
            .iter()
            .copied()
            .filter(|r| self.is_pre(r) && self.rooms[*r].waiting.contains(&person))
            .collect();
        let pool = if ordinary.is_empty() {
            numbered
        } else {
            ordinary
        };
        let level = |room: &str| {
            let kind = &self.rooms[room].spec.kind;
            gates
                .iter()
                .find(|s| &s.kind == kind)
                .map_or(u8::MAX, |s| s.level)
        };
        let best = pool
            .into_iter()
            .min_by(|a, b| {
                self.cost(p, person, a)
                    .cmp(&self.cost(p, person, b))
                    .then_with(|| level(a).cmp(&level(b)))
                    .then_with(|| a.cmp(b))
            })
            .map(str::to_string);
        let Some(room) = best else {
            self.set_at(person, Where::Unrouted);
            return Decision::Unroutable { person };
        };
        self.seq += 1;
        let seq = self.seq;
        if let Some(p) = self.set_at(person, Where::Waiting(room.clone())) {
            p.joined = seq;
        }
        let position = if self.is_pre(&room) {
            self.position(&room, person).unwrap_or(0)
        } else {
            self.insert_in_order(&room, person)
        };
        Decision::Queued {
            person,
            room,
            position,
        }
    }

    /// A number at one open pre-queue room of each kind the person still
    /// needs and holds none for (the least loaded such room).
    fn give_numbers(&mut self, person: PersonId, exclude: Option<&str>) {
        let Some(p) = self.people.get(&person) else {
            return;
        };
        // Not the kind the person is being served for now.
        let serving = match &p.at {
            Where::Called(room) => self.rooms.get(room).map(|r| r.spec.kind.clone()),
            _ => None,
        };
        let kinds: BTreeSet<String> = p
            .pending
            .iter()
            .map(|s| s.kind.clone())
            .filter(|k| Some(k) != serving.as_ref())
            .collect();
        for kind in kinds {
            let rooms: Vec<&super::Room> = self
                .rooms
                .values()
                .filter(|r| r.spec.prequeue && r.spec.kind == kind)
                .collect();
            if rooms.iter().any(|r| r.waiting.contains(&person)) {
                continue;
            }
            let best = rooms
                .into_iter()
                .filter(|r| r.state == RoomState::Open && Some(r.spec.code.as_str()) != exclude)
                .min_by_key(|r| {
                    (
                        r.waiting.len() as u64 * 1000 / u64::from(r.spec.desks.max(1)),
                        r.spec.code.clone(),
                    )
                })
                .map(|r| r.spec.code.clone());
            if let Some(room) = best {
                self.insert_in_order(&room, person);
            }
        }
    }

    /// Inserts by (level, VIP first, order of arrival at the centre) and
    /// returns the position. Arrival, not joining this queue: who came
    /// first goes first at every room, so early arrivals finish early (a
    /// queue ordered by joining shares the rooms out like round robin, and
    /// everyone finishes late: the benchmark's first slice).
    pub(super) fn insert_in_order(&mut self, room: &str, person: PersonId) -> usize {
        let key = |id: PersonId| {
            self.people
                .get(&id)
                .map(|p| (p.priority.level, !p.priority.vip, p.ticket))
                .unwrap_or((u8::MAX, true, u64::MAX))
        };
        let mine = key(person);
        let Some(r) = self.rooms.get(room) else {
            return 0;
        };
        let first_after = || {
            r.waiting
                .iter()
                .position(|other| key(*other) > mine)
                .unwrap_or(r.waiting.len())
        };
        // The first with a greater key: by binary search while the room is
        // in order (a day's walk-ins made the walk, a map lookup a person,
        // the benchmark's growing cost), else by the walk.
        let ordered = r.ordered || r.waiting.is_empty();
        let pos = if ordered {
            let pos = r.waiting.partition_point(|other| key(*other) <= mine);
            debug_assert_eq!(pos, first_after(), "room {room} out of order");
            pos
        } else {
            first_after()
        };
        if let Some(r) = self.rooms.get_mut(room) {
            r.waiting.insert(pos, person);
            r.ordered = ordered;
        }
        pos
    }

    /// Out of the queue the person stands in (a pre-queue number is kept).
    fn detach(&mut self, person: PersonId) {
        let Some(Where::Waiting(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return;
        };
        if !self.is_pre(&room)
            && let Some(r) = self.rooms.get_mut(&room)
        {
            r.waiting.retain(|p| *p != person);
        }
    }

    /// Out of every queue, number and desk.
    fn drop_all(&mut self, person: PersonId) {
        for r in self.rooms.values_mut() {
            r.waiting.retain(|p| *p != person);
            r.serving.retain(|p| *p != person);
        }
    }

    fn drop_numbers(&mut self, person: PersonId, kind: &str) {
        for r in self.rooms.values_mut() {
            if r.spec.prequeue && r.spec.kind == kind {
                r.waiting.retain(|p| *p != person);
            }
        }
    }

    fn call(&mut self, person: PersonId, room: &str) -> Vec<Decision> {
        let kind = self.rooms[room].spec.kind.clone();
        self.detach(person);
        self.drop_numbers(person, &kind);
        if let Some(r) = self.rooms.get_mut(room) {
            r.waiting.retain(|p| *p != person);
            r.serving.push(person);
        }
        self.set_at(person, Where::Called(room.to_string()));
        vec![Decision::Called {
            person,
            room: room.to_string(),
        }]
    }

    pub(super) fn call_next(&mut self, room: &str) -> Vec<Decision> {
        let Some(r) = self.rooms.get(room) else {
            return ignored("no such room");
        };
        if r.state == RoomState::Closed {
            return ignored("room closed");
        }
        // Its own queue (or numbers) in order: the first who is free and
        // whom their gates let in (a number's holder may be busy elsewhere
        // or still fasting for another room: skipped, number kept).
        // An ordinary room's own queue is called as it stands: routing or
        // the guide desk put them there.
        // So is a pre-queue room's holder who waits here in person.
        let here = |p: PersonId| matches!(self.people.get(&p).map(|q| &q.at), Some(Where::Waiting(w)) if w == room);
        let own =
            r.waiting.iter().copied().find(|p| {
                self.free(*p) && (!r.spec.prequeue || here(*p) || self.eligible(*p, room))
            });
        if let Some(person) = own {
            return self.call(person, room);
        }
        if !self.rules.pull || r.state != RoomState::Open || r.spec.prequeue {
            return ignored("nobody waiting");
        }
        // Idle: whoever arrived first among those waiting elsewhere on this
        // floor who need this room too. Not from another floor: the desk
        // would stand idle while they climb, and they would climb back.
        // Those are in the queues of the floor's other rooms (a pre-queue
        // room's list also holds numbers of people standing elsewhere: only
        // who waits there in person counts), so the day's done and gone
        // are never looked at.
        let floor = r.spec.floor;
        let pulled = self
            .rooms
            .values()
            .filter(|w| w.spec.floor == floor && w.spec.code != room)
            .flat_map(|w| {
                w.waiting.iter().filter_map(|id| {
                    let p = self.people.get(id)?;
                    let here = matches!(&p.at, Where::Waiting(at) if *at == w.spec.code);
                    (here && self.eligible(*id, room)).then_some((p.ticket, *id))
                })
            })
            .min()
            .map(|(_, id)| id);
        match pulled {
            Some(person) => self.call(person, room),
            None => ignored("nobody waiting"),
        }
    }

    pub(super) fn call_person(&mut self, room: &str, person: PersonId) -> Vec<Decision> {
        let Some(r) = self.rooms.get(room) else {
            return ignored("no such room");
        };
        if r.state == RoomState::Closed {
            return ignored("room closed");
        }
        let kind = r.spec.kind.clone();
        let needs = self
            .people
            .get(&person)
            .is_some_and(|p| p.pending.iter().any(|s| s.kind == kind));
        if !needs {
            return ignored("no item in this room");
        }
        if !self.free(person) {
            return ignored("being served elsewhere");
        }
        self.call(person, room)
    }

    pub(super) fn no_show(&mut self, person: PersonId) -> Vec<Decision> {
        let Some(Where::Called(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not called");
        };
        let skip_back = self.rules.skip_back;
        let Some(kind) = self.rooms.get(&room).map(|r| r.spec.kind.clone()) else {
            return ignored("no such room");
        };
        self.drop_numbers(person, &kind);
        let Some(r) = self.rooms.get_mut(&room) else {
            return ignored("no such room");
        };
        r.serving.retain(|p| *p != person);
        let needs = self
            .people
            .get(&person)
            .is_some_and(|p| p.pending.iter().any(|s| s.kind == kind));
        if !needs {
            // The item went while they were called: on to the next room.
            self.set_at(person, Where::Unrouted);
            return vec![self.route(person, None)];
        }
        let Some(r) = self.rooms.get_mut(&room) else {
            return ignored("no such room");
        };
        let position = skip_back.min(r.waiting.len());
        r.waiting.insert(position, person);
        r.ordered = false;
        self.set_at(person, Where::Waiting(room.clone()));
        vec![Decision::Queued {
            person,
            room,
            position,
        }]
    }

    pub(super) fn finished(&mut self, person: PersonId) -> Vec<Decision> {
        let Some(Where::Called(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not called");
        };
        let (floor, kind) = match self.rooms.get_mut(&room) {
            Some(r) => {
                r.serving.retain(|p| *p != person);
                (r.spec.floor, r.spec.kind.clone())
            }
            None => return ignored("no such room"),
        };
        if let Some(p) = self.set_at(person, Where::Unrouted) {
            if let Some(i) = p.pending.iter().position(|s| s.kind == kind) {
                p.pending.remove(i);
            }
            p.floor = floor;
        }
        vec![self.route(person, None)]
    }

    pub(super) fn set_room(&mut self, room: &str, state: RoomState) -> Vec<Decision> {
        let Some(r) = self.rooms.get_mut(room) else {
            return ignored("no such room");
        };
        r.state = state;
        match state {
            RoomState::Closed => self.evacuate(room),
            RoomState::Open => {
                // Numbers for who needs this kind and holds none (it was
                // closed when they came), then people nobody could take.
                if self.is_pre(room) {
                    let in_building = self.people();
                    for p in in_building {
                        self.give_numbers(p, None);
                    }
                }
                let stuck = self.unrouted();
                stuck.into_iter().map(|p| self.route(p, None)).collect()
            }
            RoomState::Locked => Vec::new(),
        }
    }

    pub(super) fn evacuate(&mut self, room: &str) -> Vec<Decision> {
        let Some(r) = self.rooms.get_mut(room) else {
            return ignored("no such room");
        };
        let held = std::mem::take(&mut r.waiting);
        let mut out = Vec::new();
        for person in held {
            let here = matches!(self.people.get(&person).map(|p| &p.at), Some(Where::Waiting(w)) if w == room);
            if here {
                self.set_at(person, Where::Unrouted);
                out.push(self.route(person, Some(room)));
            } else {
                // A number held by someone elsewhere: to another room of
                // the kind if there is one.
                self.give_numbers(person, Some(room));
            }
        }
        out
    }

    pub(super) fn send_to(&mut self, person: PersonId, room: &str) -> Vec<Decision> {
        let Some(r) = self.rooms.get(room) else {
            return ignored("no such room");
        };
        if r.state == RoomState::Closed {
            return ignored("room closed");
        }
        let kind = r.spec.kind.clone();
        if !self
            .people
            .get(&person)
            .is_some_and(|p| p.pending.iter().any(|s| s.kind == kind))
        {
            return ignored("no item in this room");
        }
        if !self.free(person) {
            return ignored("being served");
        }
        self.detach(person);
        if self.is_pre(room) {
            self.drop_numbers(person, &kind);
        }
        self.seq += 1;
        let seq = self.seq;
        if let Some(p) = self.set_at(person, Where::Waiting(room.to_string())) {
            p.joined = seq;
        }
        let position = self.insert_in_order(room, person);
        vec![Decision::Queued {
            person,
            room: room.to_string(),
            position,
        }]
    }

    pub(super) fn move_place(&mut self, person: PersonId, position: usize) -> Vec<Decision> {
        let Some(Where::Waiting(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not waiting");
        };
        let Some(r) = self.rooms.get_mut(&room) else {
            return ignored("no such room");
        };
        r.waiting.retain(|p| *p != person);
        let position = position.min(r.waiting.len());
        r.waiting.insert(position, person);
        r.ordered = false;
        vec![Decision::Queued {
            person,
            room,
            position,
        }]
    }

    pub(super) fn reroute(&mut self, person: PersonId) -> Vec<Decision> {
        let Some(Where::Waiting(room)) = self.people.get(&person).map(|p| p.at.clone()) else {
            return ignored("not waiting");
        };
        self.detach(person);
        self.set_at(person, Where::Unrouted);
        match self.route(person, Some(&room)) {
            Decision::Unroutable { .. } => vec![self.route(person, None)],
            d => vec![d],
        }
    }

    pub(super) fn set_priority(&mut self, person: PersonId, priority: Priority) -> Vec<Decision> {
        let Some(p) = self.people.get_mut(&person) else {
            return ignored("unknown person");
        };
        p.priority = priority;
        let holding: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.waiting.contains(&person))
            .map(|(c, _)| c.clone())
            .collect();
        for room in &holding {
            if let Some(r) = self.rooms.get_mut(room) {
                r.waiting.retain(|p| *p != person);
            }
            self.insert_in_order(room, person);
        }
        self.place(person)
            .map(|(room, position)| Decision::Queued {
                person,
                room,
                position,
            })
            .into_iter()
            .collect()
    }

    pub(super) fn stops_changed(&mut self, person: PersonId, stops: Vec<Stop>) -> Vec<Decision> {
        let Some(p) = self.people.get_mut(&person) else {
            return ignored("unknown person");
        };
        if p.at == Where::Left {
            return ignored("left the queue");
        }
        p.pending = stops;
        let kinds: BTreeSet<String> = p.pending.iter().map(|s| s.kind.clone()).collect();
        let at = p.at.clone();
        // Numbers for kinds no longer needed go.
        for r in self.rooms.values_mut() {
            if r.spec.prequeue && !kinds.contains(&r.spec.kind) {
                r.waiting.retain(|q| *q != person);
            }
        }
        let still_here = |e: &Self, room: &str| {
            e.rooms
                .get(room)
                .is_some_and(|r| kinds.contains(&r.spec.kind))
        };
        match at {
            Where::Waiting(room) if still_here(self, &room) => {
                self.give_numbers(person, None);
                self.place(person)
                    .map(|(room, position)| Decision::Queued {
                        person,
                        room,
                        position,
                    })
                    .into_iter()
                    .collect()
            }
            Where::Waiting(_) | Where::Unrouted | Where::Done => {
                self.detach(person);
                self.set_at(person, Where::Unrouted);
                vec![self.route(person, None)]
            }
            Where::Called(_) => {
                self.give_numbers(person, None);
                Vec::new()
            }
            Where::Left => ignored("left the queue"),
        }
    }

    pub(super) fn leave(&mut self, person: PersonId) -> Vec<Decision> {
        if !self.people.contains_key(&person) {
            return ignored("unknown person");
        }
        self.drop_all(person);
        if let Some(p) = self.set_at(person, Where::Left) {
            p.pending.clear();
        }
        vec![Decision::Left { person }]
    }
}
