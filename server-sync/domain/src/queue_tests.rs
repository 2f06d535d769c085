use super::*;

fn now() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .expect("valid time")
}

fn room(code: &str, floor: i32, desks: u32) -> RoomSpec {
    RoomSpec {
        code: code.into(),
        floor,
        desks,
    }
}

fn stop(room: &str, fasting: bool) -> Stop {
    Stop {
        room: room.into(),
        fasting,
        level: 2,
    }
}

fn register(e: &mut Engine, person: PersonId, priority: Priority, stops: Vec<Stop>) -> Decision {
    let mut d = e.handle(
        Event::Registered {
            person,
            priority,
            stops,
            floor: 1,
        },
        now(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    d.remove(0)
}

fn queued_in(d: &Decision) -> &str {
    match d {
        Decision::Queued { room, .. } => room,
        other => panic!("not queued: {other:?}"),
    }
}

fn centre() -> Engine {
    Engine::new(
        Rules::default(),
        vec![
            room("BLOOD", 1, 2),
            room("US-A", 3, 1),
            room("US-B", 3, 1),
            room("ECG", 2, 1),
            room("INT", 1, 1),
            room("DR", 1, 1),
        ],
    )
}

#[test]
fn fasting_stops_come_first() {
    let mut e = centre();
    // Internal medicine is on the same floor and empty, but blood and the
    // abdominal ultrasound are fasting: those first.
    let d = register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("INT", false), stop("US-A", true), stop("BLOOD", true)],
    );
    assert_eq!(queued_in(&d), "BLOOD", "fasting, and on the floor");
    e.handle(
        Event::CallNext {
            room: "BLOOD".into(),
        },
        now(),
    );
    let d = e.handle(Event::Finished { person: 1 }, now());
    assert_eq!(
        queued_in(&d[0]),
        "US-A",
        "the other fasting stop before INT"
    );
}

#[test]
fn a_room_on_the_same_floor_comes_before_another_floor() {
    let mut e = centre();
    let d = register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("ECG", false), stop("DR", false)],
    );
    assert_eq!(queued_in(&d), "DR", "floor 1, where they are");
}

#[test]
fn the_shortest_queue_per_desk_wins() {
    let mut e = centre();
    // Two people wait at INT (one desk); BLOOD has two desks and two
    // waiting: one per desk beats two.
    for p in [1, 2] {
        register(&mut e, p, Priority::default(), vec![stop("INT", false)]);
    }
    for p in [3, 4] {
        register(&mut e, p, Priority::default(), vec![stop("BLOOD", false)]);
    }
    let d = register(
        &mut e,
        5,
        Priority::default(),
        vec![stop("INT", false), stop("BLOOD", false)],
    );
    assert_eq!(queued_in(&d), "BLOOD");
}

#[test]
fn priority_levels_and_vip_order_the_queue() {
    let mut e = centre();
    let level = |level, vip| Priority { level, vip };
    register(&mut e, 1, level(3, false), vec![stop("INT", false)]);
    register(&mut e, 2, level(2, false), vec![stop("INT", false)]);
    register(&mut e, 3, level(2, true), vec![stop("INT", false)]);
    register(&mut e, 4, level(1, false), vec![stop("INT", false)]);
    register(&mut e, 5, level(2, false), vec![stop("INT", false)]);
    assert_eq!(e.queue("INT"), vec![4, 3, 2, 5, 1]);
    assert_eq!(e.place(5), Some(("INT".into(), 3)));
}

#[test]
fn a_no_show_goes_back_skip_back_places_and_is_called_again_later() {
    let mut e = centre();
    for p in 1..=6 {
        register(&mut e, p, Priority::default(), vec![stop("INT", false)]);
    }
    let d = e.handle(Event::CallNext { room: "INT".into() }, now());
    assert_eq!(
        d,
        vec![Decision::Called {
            person: 1,
            room: "INT".into()
        }]
    );
    let d = e.handle(Event::NoShow { person: 1 }, now());
    assert_eq!(
        d,
        vec![Decision::Queued {
            person: 1,
            room: "INT".into(),
            position: 3
        }]
    );
    assert_eq!(e.queue("INT"), vec![2, 3, 4, 1, 5, 6]);
    assert!(e.serving("INT").is_empty());
    // Finishing someone who was not called changes nothing.
    assert!(matches!(
        e.handle(Event::Finished { person: 1 }, now())[0],
        Decision::Ignored { .. }
    ));
}

#[test]
fn a_locked_room_gets_nobody_new_but_keeps_its_queue() {
    let mut e = centre();
    register(&mut e, 1, Priority::default(), vec![stop("US-A", false)]);
    e.handle(
        Event::SetRoom {
            room: "US-A".into(),
            state: RoomState::Locked,
        },
        now(),
    );
    let d = register(
        &mut e,
        2,
        Priority::default(),
        vec![stop("US-A", false), stop("US-B", false)],
    );
    assert_eq!(queued_in(&d), "US-B");
    assert_eq!(e.queue("US-A"), vec![1], "who waited stays");
    // Only locked rooms left for a stop: the person waits for the guide desk.
    let d = register(&mut e, 3, Priority::default(), vec![stop("US-A", false)]);
    assert_eq!(d, Decision::Unroutable { person: 3 });
    // Opened again: taken in.
    let d = e.handle(
        Event::SetRoom {
            room: "US-A".into(),
            state: RoomState::Open,
        },
        now(),
    );
    assert_eq!(
        d,
        vec![Decision::Queued {
            person: 3,
            room: "US-A".into(),
            position: 1
        }]
    );
}

#[test]
fn evacuating_a_room_routes_its_queue_elsewhere_in_order() {
    let mut e = centre();
    for p in 1..=4 {
        register(
            &mut e,
            p,
            Priority::default(),
            vec![stop("DR", false), stop("INT", false)],
        );
    }
    // DR and INT are both on floor 1 and empty at first: they spread.
    let at_dr = e.queue("DR");
    assert!(!at_dr.is_empty());
    let d = e.handle(Event::Evacuate { room: "DR".into() }, now());
    assert_eq!(d.len(), at_dr.len());
    assert!(e.queue("DR").is_empty());
    // Each went to INT, in the order they had at DR, behind who was there.
    let int = e.queue("INT");
    let moved: Vec<_> = int.iter().filter(|p| at_dr.contains(p)).copied().collect();
    assert_eq!(moved, at_dr);
    // The room stays open for people who come later.
    let d = register(&mut e, 9, Priority::default(), vec![stop("DR", false)]);
    assert_eq!(queued_in(&d), "DR");
}

#[test]
fn closing_a_room_with_nowhere_else_leaves_people_for_the_guide_desk() {
    let mut e = centre();
    register(&mut e, 1, Priority::default(), vec![stop("ECG", false)]);
    let d = e.handle(
        Event::SetRoom {
            room: "ECG".into(),
            state: RoomState::Closed,
        },
        now(),
    );
    assert_eq!(d, vec![Decision::Unroutable { person: 1 }]);
    assert_eq!(e.people(), vec![1], "not lost");
}

#[test]
fn finishing_routes_to_the_next_stop_and_the_last_is_done() {
    let mut e = centre();
    register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("INT", false), stop("ECG", false)],
    );
    for room in ["INT", "ECG"] {
        let d = e.handle(Event::CallNext { room: room.into() }, now());
        assert_eq!(
            d,
            vec![Decision::Called {
                person: 1,
                room: room.into()
            }]
        );
        let d = e.handle(Event::Finished { person: 1 }, now());
        if room == "INT" {
            assert_eq!(queued_in(&d[0]), "ECG");
        } else {
            assert_eq!(d, vec![Decision::Done { person: 1 }]);
        }
    }
    assert!(e.people().is_empty());
}

/// Random days: people arrive with random stops, rooms call, people
/// finish or do not show, rooms are locked, closed, opened and evacuated.
/// After every event: nobody is in two places and nobody is lost (the
/// order rules are the deterministic tests' above); at the end, with every
/// room open, everyone finishes.
#[test]
fn random_days_lose_nobody_and_keep_the_order() {
    let rooms = [
        room("BLOOD", 1, 2),
        room("US-A", 3, 1),
        room("US-B", 3, 1),
        room("ECG", 2, 1),
        room("INT", 1, 1),
        room("DR", 1, 1),
        room("EYE", 2, 1),
    ];
    for seed in 1..=40u64 {
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut e = Engine::new(Rules::default(), rooms.to_vec());
        let mut registered = Vec::new();
        for step in 0..600 {
            let r = &rooms[next(rooms.len() as u64) as usize].code;
            let event = match next(10) {
                0..=2 if registered.len() < 120 => {
                    let person = registered.len() as PersonId + 1;
                    registered.push(person);
                    let mut stops: Vec<Stop> = Vec::new();
                    for spec in &rooms {
                        if next(2) == 0 {
                            stops.push(Stop {
                                room: spec.code.clone(),
                                fasting: spec.code == "BLOOD" || next(4) == 0,
                                level: 1 + next(3) as u8,
                            });
                        }
                    }
                    Event::Registered {
                        person,
                        priority: Priority {
                            level: 1 + next(3) as u8,
                            vip: next(10) == 0,
                        },
                        stops,
                        floor: 1,
                    }
                }
                3..=5 => Event::CallNext { room: r.clone() },
                6 | 7 => match e.serving(r).first() {
                    Some(&person) if next(5) > 0 => Event::Finished { person },
                    Some(&person) => Event::NoShow { person },
                    None => Event::CallNext { room: r.clone() },
                },
                8 => Event::SetRoom {
                    room: r.clone(),
                    state: [RoomState::Open, RoomState::Locked, RoomState::Closed]
                        [next(3) as usize],
                },
                _ => Event::Evacuate { room: r.clone() },
            };
            e.handle(event, now());
            check(&e, &registered, seed, step);
        }
        // Every room open, and every room serves until nobody is left.
        for spec in &rooms {
            e.handle(
                Event::SetRoom {
                    room: spec.code.clone(),
                    state: RoomState::Open,
                },
                now(),
            );
        }
        for _ in 0..100_000 {
            if e.people().is_empty() {
                break;
            }
            for spec in &rooms {
                for person in e.serving(&spec.code) {
                    e.handle(Event::Finished { person }, now());
                }
                e.handle(
                    Event::CallNext {
                        room: spec.code.clone(),
                    },
                    now(),
                );
            }
            check(&e, &registered, seed, usize::MAX);
        }
        assert!(e.people().is_empty(), "seed {seed}: {:?} left", e.people());
    }
}

fn check(e: &Engine, registered: &[PersonId], seed: u64, step: usize) {
    let mut seen = std::collections::BTreeMap::new();
    for (code, r) in &e.rooms {
        for p in r.waiting.iter().chain(&r.serving) {
            if let Some(other) = seen.insert(*p, code.clone()) {
                panic!("seed {seed} step {step}: {p} in {other} and {code}");
            }
        }
    }
    for p in registered {
        let person = &e.people[p];
        match &person.at {
            Where::Waiting(room) => assert!(
                e.rooms[room].waiting.contains(p),
                "seed {seed} step {step}: {p} lost from {room}"
            ),
            Where::Called(room) => assert!(
                e.rooms[room].serving.contains(p),
                "seed {seed} step {step}: {p} lost from {room}'s desk"
            ),
            Where::Unrouted | Where::Done => assert!(
                !seen.contains_key(p),
                "seed {seed} step {step}: {p} both out and in a room"
            ),
        }
    }
}
