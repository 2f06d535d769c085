//! A simulated day of the centre (issue 19's benchmark): the queue engine
//! against first-come-first-served in a fixed order, side by side on the
//! same arrivals, stops and service times.
//!
//! ```text
//! cargo bench -p exam-domain --bench queue_sim -- --people 800 --seed 7
//! ```
//!
//! 800 people arrive (most between 7:30 and 9:30), each with a random set
//! of stops over about 30 rooms on 3 floors (blood and ultrasound are the
//! bottlenecks, both fasting); service times are drawn per room. Walking
//! costs half a minute, and a minute more per floor. Printed per policy:
//! time in the centre (mean, p90), the share of people with fasting and
//! other stops who finished every fasting stop before their first other
//! one, floor changes per person, and for the engine its time per event.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use exam_domain::queue::{Decision, Engine, Event, Priority, RoomSpec, Rules, Stop};

/// Minutes since midnight.
type Min = f64;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A kind of room: code, floor, (unused: desks are sized to the day),
/// mean minutes, fasting, share of people who need it.
type Kind = (&'static str, i32, u32, f64, bool, f64);

/// Desks of a room kind for a day of `people`: its work spread over five
/// hours at 80 % (a centre staffed for its bookings).
fn desks(k: &Kind, people: usize) -> u32 {
    ((k.5 * people as f64 * k.3) / (300.0 * 0.8))
        .ceil()
        .max(1.0) as u32
}

const ROOMS: &[Kind] = &[
    ("BLOOD", 1, 4, 2.0, true, 0.95),
    ("US-ABD", 2, 4, 9.0, true, 0.85),
    ("US-THY", 2, 2, 6.0, false, 0.5),
    ("US-HEART", 2, 1, 12.0, false, 0.15),
    ("ECG", 2, 2, 4.0, false, 0.8),
    ("DR", 1, 2, 3.0, false, 0.8),
    ("CT", 1, 1, 6.0, false, 0.2),
    ("BMD", 1, 1, 4.0, false, 0.3),
    ("URINE", 1, 2, 1.5, false, 0.7),
    ("C13", 1, 1, 5.0, true, 0.3),
    ("INT", 3, 3, 4.0, false, 0.9),
    ("SURG", 3, 2, 3.0, false, 0.8),
    ("EYE", 3, 2, 4.0, false, 0.7),
    ("ENT", 3, 2, 4.0, false, 0.7),
    ("DENT", 3, 1, 4.0, false, 0.4),
    ("GYN", 2, 2, 6.0, false, 0.35),
    ("TCD", 2, 1, 8.0, false, 0.1),
    ("ANTHRO", 1, 2, 1.0, false, 0.95),
];

struct Person {
    arrive: Min,
    stops: Vec<usize>,
    /// Minutes each stop takes for this person.
    service: Vec<f64>,
}

fn day(people: usize, seed: u64) -> Vec<Person> {
    let mut rng = Rng(seed);
    (0..people)
        .map(|_| {
            // Most between 7:30 and 9:30 (a triangle peaking at 8:15), a
            // tail until 10:30.
            let arrive = if rng.unit() < 0.85 {
                450.0 + 120.0 * (rng.unit() + rng.unit()) / 2.0
            } else {
                570.0 + 60.0 * rng.unit()
            };
            let mut stops = Vec::new();
            let mut service = Vec::new();
            for (i, k) in ROOMS.iter().enumerate() {
                if rng.unit() < k.5 {
                    stops.push(i);
                    service.push(k.3 * (0.5 + rng.unit()));
                }
            }
            Person {
                arrive,
                stops,
                service,
            }
        })
        .collect()
}

fn walk(from: i32, to: i32) -> Min {
    0.5 + f64::from((from - to).abs())
}

#[derive(Default)]
struct Outcome {
    last_out: f64,
    times: Vec<f64>,
    fasting_first: (usize, usize),
    floor_changes: usize,
    event_micros: Vec<f64>,
}

/// A finished stop: when each stop started and ended, per person.
#[derive(Clone, Default)]
struct Track {
    started: Vec<(usize, Min)>,
    done_at: Min,
    floors: Vec<i32>,
}

fn summarise(people: &[Person], tracks: &[Track], out: &mut Outcome) {
    for (p, t) in people.iter().zip(tracks) {
        out.times.push(t.done_at - p.arrive);
        out.last_out = out.last_out.max(t.done_at);
        out.floor_changes += t.floors.windows(2).filter(|w| w[0] != w[1]).count();
        let has_fast = p.stops.iter().any(|&s| ROOMS[s].4);
        let has_other = p.stops.iter().any(|&s| !ROOMS[s].4);
        if has_fast && has_other {
            out.fasting_first.1 += 1;
            let first_other = t
                .started
                .iter()
                .position(|(s, _)| !ROOMS[*s].4)
                .unwrap_or(usize::MAX);
            let last_fast = t
                .started
                .iter()
                .rposition(|(s, _)| ROOMS[*s].4)
                .unwrap_or(0);
            if last_fast < first_other {
                out.fasting_first.0 += 1;
            }
        }
    }
}

/// Both policies share this event loop: arrivals and ends of service.
#[derive(PartialEq)]
struct At(Min, u64, usize, Option<usize>);
impl Eq for At {}
impl Ord for At {
    /// By time, then by order of scheduling (a total order: times are
    /// finite).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for At {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

fn fcfs(people: &[Person]) -> Outcome {
    let n = people.len();
    let mut tracks = vec![Track::default(); people.len()];
    let mut next_stop = vec![0usize; people.len()];
    let mut queues: Vec<VecDeque<usize>> = vec![VecDeque::new(); ROOMS.len()];
    let mut free: Vec<u32> = ROOMS.iter().map(|k| desks(k, n)).collect();
    let mut heap = BinaryHeap::new();
    let mut seq = 0;
    for (i, p) in people.iter().enumerate() {
        seq += 1;
        heap.push(Reverse(At(p.arrive, seq, i, None)));
        tracks[i].floors.push(1);
    }
    while let Some(Reverse(At(now, _, person, room_done))) = heap.pop() {
        if let Some(r) = room_done {
            free[r] += 1;
            next_stop[person] += 1;
            tracks[person].done_at = now;
            if let Some(q) = queues[r].pop_front() {
                free[r] -= 1;
                start(people, &mut tracks, &mut heap, &mut seq, q, r, now);
            }
        }
        // The person goes to their next stop in the sheet's fixed order.
        let p = &people[person];
        if let Some(&r) = p.stops.get(next_stop[person]) {
            let from = *tracks[person].floors.last().unwrap_or(&1);
            tracks[person].floors.push(ROOMS[r].1);
            let at = now + walk(from, ROOMS[r].1);
            if free[r] > 0 {
                free[r] -= 1;
                start(people, &mut tracks, &mut heap, &mut seq, person, r, at);
            } else {
                queues[r].push_back(person);
            }
        }
    }
    let mut out = Outcome::default();
    summarise(people, &tracks, &mut out);
    out
}

fn start(
    people: &[Person],
    tracks: &mut [Track],
    heap: &mut BinaryHeap<Reverse<At>>,
    seq: &mut u64,
    person: usize,
    room: usize,
    at: Min,
) {
    let i = people[person]
        .stops
        .iter()
        .position(|&s| s == room)
        .unwrap_or(0);
    tracks[person].started.push((room, at));
    *seq += 1;
    heap.push(Reverse(At(
        at + people[person].service[i],
        *seq,
        person,
        Some(room),
    )));
}

fn engine(people: &[Person], rules: Rules, prequeue: bool) -> Outcome {
    let n = people.len();
    let specs: Vec<RoomSpec> = ROOMS
        .iter()
        .map(|k| RoomSpec {
            code: k.0.to_string(),
            kind: k.0.to_string(),
            floor: k.1,
            desks: desks(k, n),
            minutes: k.3.round() as u32,
            // Ultrasound is the centre's bottleneck: numbers at
            // registration (预排).
            prequeue: prequeue && k.0.starts_with("US-"),
        })
        .collect();
    let mut e = Engine::new(rules, specs);
    let index = |code: &str| ROOMS.iter().position(|k| k.0 == code).unwrap_or(0);
    // Where each person stands waiting, and when they get there.
    let mut standing: Vec<Option<(usize, Min)>> = vec![None; people.len()];
    let mut tracks = vec![Track::default(); people.len()];
    let mut free: Vec<u32> = ROOMS.iter().map(|k| desks(k, n)).collect();
    let mut heap = BinaryHeap::new();
    let mut seq = 0;
    let mut out = Outcome::default();
    for (i, p) in people.iter().enumerate() {
        seq += 1;
        heap.push(Reverse(At(p.arrive, seq, i, None)));
        tracks[i].floors.push(1);
    }
    let clock = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let timed = |e: &mut Engine, ev: Event, out: &mut Outcome| {
        let t = Instant::now();
        let d = e.handle(ev, clock);
        out.event_micros.push(t.elapsed().as_secs_f64() * 1e6);
        d
    };
    while let Some(Reverse(At(now, _, person, room_done))) = heap.pop() {
        let decisions = match room_done {
            None => timed(
                &mut e,
                Event::Registered {
                    person: person as i64,
                    priority: Priority::default(),
                    stops: people[person]
                        .stops
                        .iter()
                        .map(|&s| Stop {
                            kind: ROOMS[s].0.to_string(),
                            fasting: ROOMS[s].4,
                            level: 2,
                        })
                        .collect(),
                    floor: 1,
                },
                &mut out,
            ),
            Some(r) => {
                free[r] += 1;
                tracks[person].done_at = now;
                timed(
                    &mut e,
                    Event::Finished {
                        person: person as i64,
                    },
                    &mut out,
                )
            }
        };
        // Told to wait at a room: they walk there now (and are counted on
        // that floor), in the queue meanwhile.
        for d in decisions {
            if let Decision::Queued {
                person: p, room, ..
            } = d
            {
                let p = p as usize;
                let r = index(&room);
                let from = *tracks[p].floors.last().unwrap_or(&1);
                if from != ROOMS[r].1 {
                    tracks[p].floors.push(ROOMS[r].1);
                }
                standing[p] = Some((r, now + walk(from, ROOMS[r].1)));
            }
        }
        // Every room with a free desk calls (its queue, its numbers, or
        // someone waiting elsewhere) until it has nobody to call.
        for r in 0..ROOMS.len() {
            while free[r] > 0 {
                let called = timed(
                    &mut e,
                    Event::CallNext {
                        room: ROOMS[r].0.to_string(),
                    },
                    &mut out,
                );
                let Some(Decision::Called { person: p, .. }) = called.first() else {
                    break;
                };
                let p = *p as usize;
                free[r] -= 1;
                // Waiting at this room: in once there; elsewhere: a walk.
                let at = match standing[p].take() {
                    Some((w, ready)) if w == r => ready.max(now),
                    Some((w, ready)) => ready.max(now) + walk(ROOMS[w].1, ROOMS[r].1),
                    None => now + 0.5,
                };
                let from = *tracks[p].floors.last().unwrap_or(&1);
                if from != ROOMS[r].1 {
                    tracks[p].floors.push(ROOMS[r].1);
                }
                start(people, &mut tracks, &mut heap, &mut seq, p, r, at);
            }
        }
    }
    summarise(people, &tracks, &mut out);
    out
}

/// A floor under any policy that keeps fasting first: the abdominal
/// ultrasound (fasting, the bottleneck) serving its people in order of
/// arrival with every desk always busy and nobody walking, each person
/// then doing their other stops back to back with no wait. Mean minutes
/// in the centre.
fn fasting_bound(people: &[Person]) -> f64 {
    let us = ROOMS.iter().position(|k| k.0 == "US-ABD").unwrap_or(0);
    let desks = desks(&ROOMS[us], people.len()) as usize;
    let mut order: Vec<usize> = (0..people.len()).collect();
    order.sort_by(|a, b| people[*a].arrive.total_cmp(&people[*b].arrive));
    let mut free = vec![0.0f64; desks];
    let mut total = 0.0;
    for i in order {
        let p = &people[i];
        let own: f64 = p.service.iter().sum();
        let Some(k) = p.stops.iter().position(|&s| s == us) else {
            total += own;
            continue;
        };
        // The desk free first takes the next in line.
        let (d, at) = free
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        let done = at.max(p.arrive) + p.service[k];
        free[d] = done;
        // Its other stops after it (fasting first: the non-fasting ones
        // cannot come before; the fasting ones could, so they are not
        // counted after).
        let after: f64 = p
            .stops
            .iter()
            .zip(&p.service)
            .filter(|(s, _)| !ROOMS[**s].4)
            .map(|(_, m)| m)
            .sum();
        total += done - p.arrive + after;
    }
    total / people.len() as f64
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--people", 800) as usize;
    let seed = arg(&args, "--seed", 7);
    let people = day(n, seed);
    let mut rows = Vec::new();
    for (name, mut o) in [
        ("FCFS, fixed order", fcfs(&people)),
        ("engine", engine(&people, Rules::default(), true)),
        (
            "engine without pre-queue",
            engine(&people, Rules::default(), false),
        ),
        (
            "engine without idle rooms pulling",
            engine(
                &people,
                Rules {
                    pull: false,
                    ..Rules::default()
                },
                true,
            ),
        ),
        (
            "engine without fasting first",
            engine(
                &people,
                Rules {
                    fasting_first: false,
                    ..Rules::default()
                },
                true,
            ),
        ),
    ] {
        let mean = o.times.iter().sum::<f64>() / o.times.len() as f64;
        let p90 = pct(&mut o.times, 0.9);
        let ff = 100.0 * o.fasting_first.0 as f64 / o.fasting_first.1.max(1) as f64;
        let floors = o.floor_changes as f64 / n as f64;
        let p99 = if o.event_micros.is_empty() {
            None
        } else {
            Some(pct(&mut o.event_micros, 0.99))
        };
        rows.push((name, mean, p90, ff, floors, p99, o.last_out));
    }
    let bound = fasting_bound(&people);
    println!(
        "{n} people, seed {seed}, {} room kinds on 3 floors, {} desks",
        ROOMS.len(),
        ROOMS.iter().map(|k| desks(k, n)).sum::<u32>()
    );
    println!(
        "| policy | mean in centre (min) | p90 (min) | fasting first (%) | floor changes / person | last out | engine µs / event p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, mean, p90, ff, floors, p99, last) in &rows {
        println!(
            "| {name} | {mean:.1} | {p90:.1} | {ff:.1} | {floors:.2} | {:02.0}:{:02.0} | {} |",
            (last / 60.0).floor(),
            last % 60.0,
            p99.map_or("–".into(), |v| format!("{v:.1}"))
        );
    }
    println!(
        "| bound: the abdominal ultrasound alone, first come first served, then each person's own minutes | {bound:.1} | | 100 | | | |"
    );
    let (f, e) = (&rows[0], &rows[1]);
    println!(
        "engine / FCFS: mean {:.2}×, p90 {:.2}× (targets ≤ 0.75×); floor changes {:.2}× (target < 1)",
        e.1 / f.1,
        e.2 / f.2,
        e.4 / f.4
    );
}
