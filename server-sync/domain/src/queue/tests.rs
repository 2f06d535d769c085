use super::*;

fn now() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .expect("valid time")
}

fn room(code: &str, floor: i32, desks: u32) -> RoomSpec {
    RoomSpec {
        desks,
        ..RoomSpec::new(code, floor)
    }
}

fn stop(kind: &str, fasting: bool) -> Stop {
    Stop {
        kind: kind.into(),
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

fn call(e: &mut Engine, room: &str) -> Vec<Decision> {
    e.handle(Event::CallNext { room: room.into() }, now())
}

fn called(person: PersonId, room: &str) -> Vec<Decision> {
    vec![Decision::Called {
        person,
        room: room.into(),
    }]
}

fn ultrasound(code: &str, floor: i32) -> RoomSpec {
    RoomSpec {
        kind: "US".into(),
        prequeue: true,
        minutes: 9,
        ..RoomSpec::new(code, floor)
    }
}

#[test]
fn prequeue_numbers_are_given_at_registration_and_called_in_turn() {
    let mut e = Engine::new(
        Rules::default(),
        vec![ultrasound("US-A", 1), room("INT", 1, 1), room("ECG", 1, 1)],
    );
    for p in 1..=3 {
        let d = register(
            &mut e,
            p,
            Priority::default(),
            vec![stop("US", false), stop("INT", false)],
        );
        // They do other rooms meanwhile, holding the number.
        assert_eq!(queued_in(&d), "INT");
    }
    assert_eq!(e.queue("US-A"), vec![1, 2, 3], "numbers in order");
    assert_eq!(e.queue("INT"), vec![1, 2, 3]);
    // The ultrasound calls number 1 out of the INT queue.
    assert_eq!(call(&mut e, "US-A"), called(1, "US-A"));
    assert_eq!(e.queue("INT"), vec![2, 3]);
    assert_eq!(call(&mut e, "INT"), called(2, "INT"));
    // Number 2 is in INT: skipped, keeping the number; 3 is taken.
    e.handle(Event::Finished { person: 1 }, now());
    assert_eq!(call(&mut e, "US-A"), called(3, "US-A"));
    assert_eq!(e.queue("US-A"), vec![2]);
    // Done at INT with only the ultrasound left: waits for the number.
    let d = e.handle(Event::Finished { person: 2 }, now());
    assert_eq!(
        d,
        vec![Decision::Queued {
            person: 2,
            room: "US-A".into(),
            position: 0
        }]
    );
}

#[test]
fn a_prequeue_room_skips_holders_still_fasting_elsewhere() {
    let mut e = Engine::new(
        Rules::default(),
        vec![ultrasound("US-A", 1), room("BLOOD", 1, 1)],
    );
    register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("BLOOD", true), stop("US", false)],
    );
    assert_eq!(e.queue("US-A"), vec![1]);
    assert!(matches!(call(&mut e, "US-A")[0], Decision::Ignored { .. }));
    call(&mut e, "BLOOD");
    e.handle(Event::Finished { person: 1 }, now());
    assert_eq!(call(&mut e, "US-A"), called(1, "US-A"));
}

#[test]
fn an_idle_room_calls_the_first_arrival_waiting_elsewhere_on_its_floor_only() {
    let rooms = vec![room("A", 1, 1), room("B", 1, 1), room("C", 2, 1)];
    let mut e = Engine::new(Rules::default(), rooms.clone());
    e.handle(
        Event::SetRoom {
            room: "B".into(),
            state: RoomState::Locked,
        },
        now(),
    );
    for p in 1..=3 {
        register(
            &mut e,
            p,
            Priority::default(),
            vec![stop("A", false), stop("B", false)],
        );
    }
    assert_eq!(e.queue("A"), vec![1, 2, 3]);
    // Locked: it serves its own queue only, and pulls nobody.
    assert!(matches!(call(&mut e, "B")[0], Decision::Ignored { .. }));
    e.handle(
        Event::SetRoom {
            room: "B".into(),
            state: RoomState::Open,
        },
        now(),
    );
    assert_eq!(call(&mut e, "B"), called(1, "B"));
    assert_eq!(e.queue("A"), vec![2, 3]);
    // C is a floor up: it does not pull (its desk would wait while they
    // climb).
    let set = |e: &mut Engine, state| {
        e.handle(
            Event::SetRoom {
                room: "C".into(),
                state,
            },
            now(),
        )
    };
    set(&mut e, RoomState::Locked);
    register(
        &mut e,
        4,
        Priority::default(),
        vec![stop("A", false), stop("C", false)],
    );
    assert_eq!(e.place(4), Some(("A".into(), 2)));
    set(&mut e, RoomState::Open);
    assert!(matches!(call(&mut e, "C")[0], Decision::Ignored { .. }));
    // Without the rule, an idle room waits.
    let mut e = Engine::new(
        Rules {
            pull: false,
            ..Rules::default()
        },
        rooms,
    );
    e.handle(
        Event::SetRoom {
            room: "B".into(),
            state: RoomState::Locked,
        },
        now(),
    );
    register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("A", false), stop("B", false)],
    );
    e.handle(
        Event::SetRoom {
            room: "B".into(),
            state: RoomState::Open,
        },
        now(),
    );
    assert!(matches!(call(&mut e, "B")[0], Decision::Ignored { .. }));
}

#[test]
fn item_levels_put_the_better_level_first() {
    let mut e = centre();
    let d = register(
        &mut e,
        1,
        Priority::default(),
        vec![
            Stop {
                kind: "INT".into(),
                fasting: false,
                level: 2,
            },
            Stop {
                kind: "ECG".into(),
                fasting: false,
                level: 1,
            },
        ],
    );
    assert_eq!(queued_in(&d), "ECG", "level 1, though a floor up");
}

#[test]
fn rooms_of_one_kind_share_a_stop() {
    let mut e = Engine::new(
        Rules::default(),
        vec![
            RoomSpec {
                kind: "US".into(),
                ..RoomSpec::new("US-A", 1)
            },
            RoomSpec {
                kind: "US".into(),
                ..RoomSpec::new("US-B", 1)
            },
        ],
    );
    let a = register(&mut e, 1, Priority::default(), vec![stop("US", false)]);
    let b = register(&mut e, 2, Priority::default(), vec![stop("US", false)]);
    assert_eq!((queued_in(&a), queued_in(&b)), ("US-A", "US-B"), "spread");
    call(&mut e, "US-B");
    assert_eq!(
        e.handle(Event::Finished { person: 2 }, now()),
        vec![Decision::Done { person: 2 }]
    );
}

#[test]
fn a_doctor_calls_a_named_person_and_recalls() {
    let mut e = centre();
    for p in 1..=3 {
        register(&mut e, p, Priority::default(), vec![stop("INT", false)]);
    }
    let d = e.handle(
        Event::CallPerson {
            room: "INT".into(),
            person: 3,
        },
        now(),
    );
    assert_eq!(d, called(3, "INT"));
    assert_eq!(e.queue("INT"), vec![1, 2]);
    assert_eq!(
        e.handle(Event::Recall { person: 3 }, now()),
        called(3, "INT")
    );
    // Not someone without an item here, nor someone already called.
    let d = e.handle(
        Event::CallPerson {
            room: "ECG".into(),
            person: 1,
        },
        now(),
    );
    assert!(matches!(d[0], Decision::Ignored { .. }));
}

#[test]
fn the_guide_desk_sends_moves_and_jumps() {
    let mut e = centre();
    for p in 1..=4 {
        register(
            &mut e,
            p,
            Priority::default(),
            vec![stop("INT", false), stop("DR", false)],
        );
    }
    let int = e.queue("INT");
    let last = *int.last().expect("someone at INT");
    // 插队: to the head.
    e.handle(
        Event::MovePlace {
            person: last,
            position: 0,
        },
        now(),
    );
    assert_eq!(e.queue("INT")[0], last);
    // 指定科室: to DR.
    let d = e.handle(
        Event::SendTo {
            person: last,
            room: "DR".into(),
        },
        now(),
    );
    assert_eq!(queued_in(&d[0]), "DR");
    assert!(!e.queue("INT").contains(&last));
    // Not to a room they have no item in.
    let d = e.handle(
        Event::SendTo {
            person: last,
            room: "ECG".into(),
        },
        now(),
    );
    assert!(matches!(d[0], Decision::Ignored { .. }));
}

#[test]
fn a_long_wait_is_rerouted_elsewhere() {
    let mut e = centre();
    for p in 1..=3 {
        register(&mut e, p, Priority::default(), vec![stop("INT", false)]);
    }
    register(
        &mut e,
        4,
        Priority::default(),
        vec![stop("INT", false), stop("ECG", false)],
    );
    assert_eq!(e.place(4), Some(("ECG".into(), 0)), "ECG is emptier");
    e.handle(
        Event::SendTo {
            person: 4,
            room: "INT".into(),
        },
        now(),
    );
    let d = e.handle(Event::Reroute { person: 4 }, now());
    assert_eq!(queued_in(&d[0]), "ECG");
    // With nowhere else, the person stays where they were.
    let d = e.handle(Event::Reroute { person: 1 }, now());
    assert_eq!(queued_in(&d[0]), "INT");
}

#[test]
fn vip_moves_up_when_given() {
    let mut e = centre();
    for p in 1..=4 {
        register(&mut e, p, Priority::default(), vec![stop("INT", false)]);
    }
    e.handle(
        Event::SetPriority {
            person: 4,
            priority: Priority {
                level: 2,
                vip: true,
            },
        },
        now(),
    );
    assert_eq!(e.queue("INT"), vec![4, 1, 2, 3]);
}

#[test]
fn items_added_and_removed_change_the_route_and_numbers() {
    let mut e = Engine::new(
        Rules::default(),
        vec![ultrasound("US-A", 1), room("INT", 1, 1), room("ECG", 1, 1)],
    );
    register(&mut e, 1, Priority::default(), vec![stop("INT", false)]);
    // An ultrasound added: a number.
    e.handle(
        Event::StopsChanged {
            person: 1,
            stops: vec![stop("INT", false), stop("US", false)],
        },
        now(),
    );
    assert_eq!(e.queue("US-A"), vec![1]);
    assert_eq!(e.place(1), Some(("INT".into(), 0)));
    // INT removed: routed on to what is left.
    let d = e.handle(
        Event::StopsChanged {
            person: 1,
            stops: vec![stop("US", false), stop("ECG", false)],
        },
        now(),
    );
    assert_eq!(queued_in(&d[0]), "ECG");
    assert!(e.queue("INT").is_empty());
    // The ultrasound removed: the number goes.
    e.handle(
        Event::StopsChanged {
            person: 1,
            stops: vec![stop("ECG", false)],
        },
        now(),
    );
    assert!(e.queue("US-A").is_empty());
}

#[test]
fn leaving_for_another_day_takes_the_person_out_of_everything() {
    let mut e = Engine::new(
        Rules::default(),
        vec![ultrasound("US-A", 1), room("INT", 1, 1)],
    );
    register(
        &mut e,
        1,
        Priority::default(),
        vec![stop("INT", false), stop("US", false)],
    );
    assert_eq!(
        e.handle(Event::Leave { person: 1 }, now()),
        vec![Decision::Left { person: 1 }]
    );
    assert!(e.queue("INT").is_empty() && e.queue("US-A").is_empty());
    assert!(e.people().is_empty());
    assert_eq!(e.at(1), Some(&Where::Left));
}

/// The rooms of the random days: a bottleneck kind with two pre-queue
/// rooms on one floor, and ordinary rooms on three.
fn random_rooms() -> Vec<RoomSpec> {
    vec![
        room("BLOOD", 1, 2),
        ultrasound("US-A", 3),
        ultrasound("US-B", 3),
        room("ECG", 2, 1),
        room("INT", 1, 1),
        room("DR", 1, 1),
        room("EYE", 2, 1),
    ]
}

fn kinds() -> Vec<&'static str> {
    vec!["BLOOD", "US", "ECG", "INT", "DR", "EYE"]
}

/// One random day: `moves` adds the guide desk's moves and no-shows,
/// which may break the queue order on purpose. Returns every decision.
fn random_day(seed: u64, moves: bool) -> Vec<Decision> {
    let rooms = random_rooms();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let random_stops = |next: &mut dyn FnMut(u64) -> u64| {
        let mut stops = Vec::new();
        for k in kinds() {
            if next(2) == 0 {
                stops.push(Stop {
                    kind: k.into(),
                    fasting: k == "BLOOD" || next(4) == 0,
                    level: 1 + next(3) as u8,
                });
            }
        }
        stops
    };
    let mut e = Engine::new(Rules::default(), rooms.clone());
    let mut registered: Vec<PersonId> = Vec::new();
    let mut log = Vec::new();
    for step in 0..600 {
        let r = rooms[next(rooms.len() as u64) as usize].code.clone();
        let someone = if registered.is_empty() {
            0
        } else {
            registered[next(registered.len() as u64) as usize]
        };
        let event = match next(16) {
            0..=3 if registered.len() < 120 => {
                let person = registered.len() as PersonId + 1;
                registered.push(person);
                let stops = random_stops(&mut next);
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
            0..=5 => Event::CallNext { room: r },
            6 | 7 => match e.serving(&r).first() {
                Some(&person) if !moves || next(5) > 0 => Event::Finished { person },
                Some(&person) => Event::NoShow { person },
                None => Event::CallNext { room: r },
            },
            8 => Event::SetRoom {
                room: r,
                state: [RoomState::Open, RoomState::Locked, RoomState::Closed][next(3) as usize],
            },
            9 => Event::Evacuate { room: r },
            10 => Event::CallPerson {
                room: r,
                person: someone,
            },
            11 => Event::SendTo {
                person: someone,
                room: r,
            },
            12 if moves => Event::MovePlace {
                person: someone,
                position: next(4) as usize,
            },
            12 => Event::Reroute { person: someone },
            13 => Event::SetPriority {
                person: someone,
                priority: Priority {
                    level: 1 + next(3) as u8,
                    vip: next(3) == 0,
                },
            },
            14 => {
                let stops = random_stops(&mut next);
                Event::StopsChanged {
                    person: someone,
                    stops,
                }
            }
            _ if next(4) == 0 => Event::Leave { person: someone },
            _ => Event::Recall { person: someone },
        };
        log.extend(e.handle(event, now()));
        check(&e, &registered, seed, step);
        if !moves {
            check_order(&e, seed, step);
        }
    }
    // Every room open, and every room serves until nobody is left.
    for spec in &rooms {
        log.extend(e.handle(
            Event::SetRoom {
                room: spec.code.clone(),
                state: RoomState::Open,
            },
            now(),
        ));
    }
    for _ in 0..10_000 {
        if e.people().is_empty() {
            break;
        }
        for spec in &rooms {
            for person in e.serving(&spec.code) {
                log.extend(e.handle(Event::Finished { person }, now()));
            }
            log.extend(e.handle(
                Event::CallNext {
                    room: spec.code.clone(),
                },
                now(),
            ));
        }
        check(&e, &registered, seed, usize::MAX);
    }
    assert!(
        e.people().is_empty(),
        "seed {seed}: left {:?}",
        e.people()
            .iter()
            .map(|p| (p, e.at(*p).cloned(), e.pending(*p), e.places(*p)))
            .collect::<Vec<_>>()
    );
    log
}

/// Random days: people arrive with random stops, rooms call, people
/// finish or do not show, rooms are locked, closed, opened and evacuated,
/// the guide desk moves people and changes their items. After every
/// event nobody is called to two rooms, in two queues, or lost; at the
/// end, with every room open, everyone finishes or has left.
#[test]
fn random_days_lose_nobody_and_call_nobody_twice() {
    for seed in 1..=40u64 {
        random_day(seed, true);
    }
}

/// Without manual moves and no-shows, every queue stays in its order:
/// level, then VIP, then arrival at the centre.
#[test]
fn random_days_keep_priorities() {
    for seed in 41..=80u64 {
        random_day(seed, false);
    }
}

/// The same events give the same decisions: a queue is rebuilt from its
/// log.
#[test]
fn a_day_replayed_gives_the_same_decisions() {
    for seed in [3, 17, 99] {
        assert_eq!(random_day(seed, true), random_day(seed, true));
    }
}

fn check(e: &Engine, registered: &[PersonId], seed: u64, step: usize) {
    let at = |m: &str| format!("seed {seed} step {step}: {m}");
    // The tally the boards read is the count of the day's people.
    let mut tally = super::Tally::default();
    for (id, p) in &e.people {
        tally.count(*id, &p.at, 1);
    }
    assert_eq!(e.tally, tally, "{}", at("tally"));
    // Standing places (ordinary queues and desks): one per person.
    let mut standing = BTreeMap::new();
    for (code, r) in &e.rooms {
        let queue = r.waiting.iter().filter(|_| !r.spec.prequeue);
        for p in r.serving.iter().chain(queue) {
            if let Some(other) = standing.insert(*p, code.clone()) {
                panic!("{}", at(&format!("{p} in {other} and {code}")));
            }
        }
        let unique: std::collections::BTreeSet<_> = r.waiting.iter().collect();
        assert_eq!(unique.len(), r.waiting.len(), "{}", at("twice in a queue"));
    }
    for p in registered {
        let person = &e.people[p];
        // Numbers: one per kind, and only for a kind still needed.
        for kind in kinds() {
            let held = e
                .rooms
                .values()
                .filter(|r| r.spec.prequeue && r.spec.kind == kind && r.waiting.contains(p))
                .count();
            assert!(held <= 1, "{}", at(&format!("{p}: {held} numbers")));
            let needs = person.pending.iter().any(|s| s.kind == kind);
            assert!(held == 0 || needs, "{}", at(&format!("{p}: stale number")));
        }
        match &person.at {
            Where::Waiting(room) => assert!(
                e.rooms[room].waiting.contains(p),
                "{}",
                at(&format!("{p} lost from {room}"))
            ),
            Where::Called(room) => {
                assert!(
                    e.rooms[room].serving.contains(p),
                    "{}",
                    at(&format!("{p} lost from {room}'s desk"))
                );
                assert_eq!(standing.get(p), Some(room), "{}", at("called and queued"));
            }
            Where::Unrouted => assert!(!standing.contains_key(p), "{}", at("out and in")),
            Where::Done | Where::Left => assert!(
                e.rooms.values().all(|r| !r.waiting.contains(p)) && !standing.contains_key(p),
                "{}",
                at(&format!("{p} gone but still held"))
            ),
        }
    }
}

fn check_order(e: &Engine, seed: u64, step: usize) {
    for (code, r) in &e.rooms {
        let keys: Vec<_> = r
            .waiting
            .iter()
            .map(|p| {
                let q = &e.people[p];
                (q.priority.level, !q.priority.vip, q.ticket)
            })
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "seed {seed} step {step}: {code} out of order: {keys:?}"
        );
    }
}

#[test]
fn a_preview_names_the_first_station_and_changes_nothing() {
    let mut e = centre();
    register(&mut e, 1, Priority::default(), vec![stop("BLOOD", true)]);
    let stops = vec![stop("INT", false), stop("BLOOD", true)];
    let before = e.queue("BLOOD");
    assert_eq!(
        e.preview(stops.clone(), Priority::default(), 1),
        Some("BLOOD".into()),
        "fasting first"
    );
    assert_eq!(e.queue("BLOOD"), before);
    assert_eq!(e.people(), vec![1]);
    // Joining for real goes where the preview said.
    let d = register(&mut e, 2, Priority::default(), stops);
    assert_eq!(queued_in(&d), "BLOOD");
    // With a pre-queue room among the stops: the room they wait in, not
    // the room that gave them a number.
    let mut e = Engine::new(
        Rules::default(),
        vec![ultrasound("US-A", 1), room("INT", 1, 1)],
    );
    assert_eq!(
        e.preview(
            vec![stop("US", false), stop("INT", false)],
            Priority::default(),
            1
        ),
        Some("INT".into())
    );
    assert_eq!(
        queued_in(&register(
            &mut e,
            3,
            Priority::default(),
            vec![stop("US", false), stop("INT", false)]
        )),
        "INT"
    );
}

/// A place by binary search while a room is in order, by the walk once
/// someone was placed by hand (until the room empties): the same places
/// either way, and a hand-placed person keeps their place.
#[test]
fn joining_after_a_move_by_hand_keeps_the_hand_placed_order() {
    let mut e = Engine::new(Rules::default(), vec![room("INT", 1, 1)]);
    let level = |level, vip| Priority { level, vip };
    // Arrivals of mixed levels: in key order, found by binary search.
    let levels = [2, 3, 1, 2, 3, 2, 1, 2];
    for (p, l) in levels.iter().enumerate() {
        register(
            &mut e,
            p as PersonId + 1,
            level(*l, false),
            vec![stop("INT", false)],
        );
    }
    assert_eq!(e.queue("INT"), vec![3, 7, 1, 4, 6, 8, 2, 5]);
    // The guide desk moves the last to the head: out of key order.
    e.handle(
        Event::MovePlace {
            person: 5,
            position: 0,
        },
        now(),
    );
    assert_eq!(e.queue("INT"), vec![5, 3, 7, 1, 4, 6, 8, 2]);
    // A newcomer of level 1 goes before the first with a greater key,
    // which is the hand-placed 5 (level 3): as the walk always did.
    register(&mut e, 9, level(1, false), vec![stop("INT", false)]);
    assert_eq!(e.queue("INT")[0], 9);
    // Person 2 made a VIP of level 2: before the first with a greater
    // key, which is again the hand-placed 5.
    e.handle(
        Event::SetPriority {
            person: 2,
            priority: level(2, true),
        },
        now(),
    );
    assert_eq!(e.queue("INT"), vec![9, 2, 5, 3, 7, 1, 4, 6, 8]);
    // Everyone called and finished: the room empties, in order again.
    for _ in 0..10 {
        call(&mut e, "INT");
        if let Some(p) = e
            .rooms()
            .iter()
            .find(|r| r.spec.code == "INT")
            .and_then(|r| r.serving.first().copied())
        {
            e.handle(Event::Finished { person: p }, now());
        }
    }
    assert!(e.queue("INT").is_empty());
    for (p, l) in [(20, 2), (21, 1), (22, 3), (23, 1)] {
        register(&mut e, p, level(l, false), vec![stop("INT", false)]);
    }
    assert_eq!(e.queue("INT"), vec![21, 23, 20, 22]);
}
