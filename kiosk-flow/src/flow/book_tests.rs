//! K17 at the kiosk, driven without a screen or a network: the seeded
//! catalogue's real packages, add-ons and conflicts.

use super::*;
use chrono::{NaiveDate, NaiveTime};
use exam_domain::catalogue::Marital;
use exam_domain::{Booking, BookingState, IdNumber};
use exam_protocol::{BookingOptions, SlotOption};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// A woman (even 17th digit) and a man.
fn woman() -> Holder {
    Holder {
        id_number: IdNumber::parse("11010519491231002X").unwrap(),
        name: "王秀英".into(),
        photo: false,
    }
}

fn man() -> Holder {
    let id = IdNumber::compose("110105", day(1) - chrono::Duration::days(365 * 40), 11).unwrap();
    assert_eq!(id.sex(), exam_domain::Sex::Male);
    Holder {
        id_number: id,
        name: "李强".into(),
        photo: false,
    }
}

/// Three days: the first full, the second with one full slot.
fn days() -> Vec<BookingOptions> {
    let cat = exam_domain::catalogue::seed::catalogue();
    let slot = |h, left| SlotOption {
        start: hm(h, 0),
        end: hm(h, 30),
        left,
    };
    vec![
        BookingOptions::new(&cat, day(22), vec![slot(8, 0), slot(9, 0)]),
        BookingOptions::new(&cat, day(23), vec![slot(8, 0), slot(9, 3)]),
        BookingOptions::new(&cat, day(24), vec![slot(8, 5)]),
    ]
}

fn booking(id: i64, date: NaiveDate, state: BookingState) -> Booking {
    Booking {
        id,
        code: format!("B{id}"),
        exam_no: format!("E{id}"),
        id_number: woman().id_number,
        campus: "main".into(),
        package: "女性基础套餐(已婚)".into(),
        exam_date: date,
        slot_start: hm(8, 0),
        slot_end: hm(8, 30),
        amount_due_fen: 0,
        state,
    }
}

fn flow() -> Flow {
    Flow::new(Settings {
        elderly: false,
        photo: false,
        face: false,
        face_policy: Default::default(),
    })
}

fn step(f: &Flow) -> &Step {
    match &f.screen {
        Screen::Book(s) => s,
        s => panic!("not a booking screen: {s:?}"),
    }
}

/// Start → card → loaded with these bookings.
fn loaded(holder: Holder, bookings: Vec<Booking>) -> Flow {
    let mut f = flow();
    assert_eq!(f.handle(Event::StartBooking), vec![]);
    assert_eq!(step(&f), &Step::PlaceCard);
    let fx = f.handle(Event::CardRead(holder.clone()));
    let Some(Effect::LoadBooking(id, who)) = fx.first().cloned() else {
        panic!("{fx:?}")
    };
    assert_eq!(who, holder.id_number);
    assert_eq!(step(&f), &Step::Loading);
    assert_eq!(f.timeout(), None, "waiting on the network never times out");
    f.handle(Event::BookingLoaded(
        id,
        Ok(Loaded {
            today: day(22),
            bookings,
            days: days(),
        }),
    ));
    f
}

/// Taps the package or add-on with this code on the current screen.
fn tap(f: &mut Flow, code: &str) -> Vec<Effect> {
    let i = f
        .booking()
        .unwrap()
        .row_of(step(f), code)
        .unwrap_or_else(|| panic!("{code} not offered on {:?}", f.screen));
    f.handle(Event::Pick(i))
}

#[test]
fn a_woman_books_a_package_with_an_add_on_and_gets_a_slip() {
    let mut f = loaded(woman(), vec![]);
    assert_eq!(step(&f), &Step::Marital, "no bookings: straight to booking");
    f.handle(Event::Pick(1));
    assert_eq!(f.booking().unwrap().marital, Marital::Unmarried);
    assert_eq!(step(&f), &Step::Package);
    let pkgs = f.booking().unwrap().packages();
    assert!(pkgs.iter().all(|p| p.sex.allows(exam_domain::Sex::Female)));
    assert!(
        !pkgs.iter().any(|p| p.code == "P-M-BASIC"),
        "men's packages hidden"
    );
    assert_eq!(f.book_actions()[1], (Action::Next, false), "no package yet");
    tap(&mut f, "P-F-BASIC-U");
    f.handle(Event::Act(Action::Next));
    assert_eq!(step(&f), &Step::Addons { clash: None });
    assert!(
        f.booking()
            .unwrap()
            .addon_options()
            .iter()
            .all(|a| a.code != "L-PSA"),
        "a man's add-on is not offered to a woman"
    );
    tap(&mut f, "L-C13");
    assert!(f.booking().unwrap().addons.contains("L-C13"));
    f.handle(Event::Act(Action::Next));
    assert_eq!(step(&f), &Step::Day);
    // The first day is full: tapping it does nothing.
    f.handle(Event::Pick(0));
    assert_eq!(step(&f), &Step::Day);
    f.handle(Event::Pick(1));
    assert_eq!(step(&f), &Step::Slot);
    f.handle(Event::Pick(0)); // full
    assert_eq!(step(&f), &Step::Slot);
    f.handle(Event::Pick(1));
    assert_eq!(step(&f), &Step::Confirm);
    let fx = f.handle(Event::Act(Action::Submit));
    let [Effect::SubmitBooking(id, Submission::Book(req))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(req.id_number, woman().id_number);
    assert_eq!(req.name, "王秀英");
    assert_eq!(req.marital, Marital::Unmarried);
    assert_eq!(req.plan.package.as_deref(), Some("P-F-BASIC-U"));
    assert_eq!(req.plan.add, vec!["L-C13".to_string()]);
    assert_eq!((req.date, req.slot_start), (day(23), hm(9, 0)));
    assert_eq!(step(&f), &Step::Working);
    let outcome = Outcome::Booked {
        booking: booking(9, day(23), BookingState::Booked),
        plan: exam_domain::plan::Plan {
            package: Some("P-F-BASIC-U".into()),
            items: vec![],
            excluded: vec![],
            total_fen: 1,
        },
    };
    // A late answer to something earlier is ignored.
    assert_eq!(
        f.handle(Event::BookingAnswer(id - 1, Ok(outcome.clone()))),
        vec![]
    );
    let fx = f.handle(Event::BookingAnswer(*id, Ok(outcome.clone())));
    assert_eq!(fx, vec![Effect::PrintBookingSlip(outcome.clone())]);
    assert_eq!(step(&f), &Step::Done(outcome));
    let fx = f.handle(Event::Act(Action::Finish));
    assert!(fx.contains(&Effect::ClearPersonalData));
    assert_eq!(f.screen, Screen::Attract);
    assert!(f.booking().is_none() && !f.has_card_holder());
}

#[test]
fn conflicting_add_ons_are_refused_at_once_naming_both_and_where_to_ask() {
    let mut f = loaded(man(), vec![]);
    assert_eq!(
        step(&f),
        &Step::Package,
        "men are not asked the marital question"
    );
    tap(&mut f, "P-M-BASIC");
    f.handle(Event::Act(Action::Next));
    tap(&mut f, "L-C13");
    tap(&mut f, "L-C14");
    let Step::Addons { clash: Some(c) } = step(&f).clone() else {
        panic!("{:?}", f.screen)
    };
    assert!(c.item.contains("碳14") && c.with.contains("碳13"), "{c:?}");
    assert!(!c.reason.is_empty() && !c.department.is_empty());
    assert!(!f.booking().unwrap().addons.contains("L-C14"));
    // Low-dose CT conflicts with the chest DR inside the package.
    tap(&mut f, "RAD-LDCT");
    let Step::Addons { clash: Some(c) } = step(&f).clone() else {
        panic!()
    };
    assert!(c.with.contains("DR"), "{c:?}");
    assert!(!f.booking().unwrap().addons.contains("RAD-LDCT"));
    // Taking the 13C test off makes room for the 14C one; the prompt goes.
    tap(&mut f, "L-C13");
    tap(&mut f, "L-C14");
    assert_eq!(step(&f), &Step::Addons { clash: None });
    assert!(f.booking().unwrap().addons.contains("L-C14"));
    // Changing the package clears the add-ons checked against the old one.
    f.handle(Event::Act(Action::Back));
    tap(&mut f, "P-M-FULL");
    assert!(f.booking().unwrap().addons.is_empty());
}

#[test]
fn an_add_on_in_the_package_cannot_be_added_twice() {
    let mut f = loaded(man(), vec![]);
    tap(&mut f, "P-M-FULL");
    f.handle(Event::Act(Action::Next));
    let b = f.booking().unwrap();
    let inside: Vec<String> = b
        .addon_options()
        .iter()
        .filter(|a| b.in_package(&a.code))
        .map(|a| a.code.clone())
        .collect();
    assert!(!inside.is_empty(), "the full package holds some add-ons");
    for code in inside {
        tap(&mut f, &code);
        assert!(!f.booking().unwrap().addons.contains(&code));
    }
}

#[test]
fn rebooking_and_cancelling_an_upcoming_booking() {
    let past = booking(1, day(20), BookingState::Booked);
    let gone = booking(2, day(25), BookingState::Cancelled);
    let next = booking(3, day(26), BookingState::Booked);
    let mut f = loaded(woman(), vec![past, gone, next]);
    assert_eq!(
        f.booking().unwrap().upcoming.len(),
        1,
        "only changeable ones"
    );
    assert_eq!(step(&f), &Step::Home { selected: None });
    assert_eq!(
        f.book_actions(),
        vec![
            (Action::New, true),
            (Action::Rebook, false),
            (Action::CancelBooking, false)
        ]
    );
    f.handle(Event::Pick(0));
    f.handle(Event::Act(Action::Rebook));
    assert_eq!(step(&f), &Step::Day);
    f.handle(Event::Pick(2));
    f.handle(Event::Pick(0));
    let fx = f.handle(Event::Act(Action::Submit));
    let [Effect::SubmitBooking(_, Submission::Rebook(r))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (r.code.as_str(), r.date, r.slot_start),
        ("B3", day(24), hm(8, 0))
    );

    let mut f = loaded(woman(), vec![booking(3, day(26), BookingState::Booked)]);
    f.handle(Event::Pick(0));
    f.handle(Event::Act(Action::CancelBooking));
    assert_eq!(step(&f), &Step::CancelReason { selected: None });
    assert_eq!(
        f.handle(Event::Act(Action::Submit)),
        vec![],
        "a reason first"
    );
    f.handle(Event::Pick(1));
    let fx = f.handle(Event::Act(Action::Submit));
    let [Effect::SubmitBooking(id, Submission::Cancel(c))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(c.code, "B3");
    assert!(c.reason.contains("身体不适"));
    let done = Outcome::Cancelled(booking(3, day(26), BookingState::Cancelled));
    let fx = f.handle(Event::BookingAnswer(*id, Ok(done.clone())));
    assert_eq!(fx, vec![], "nothing to print for a cancellation");
    assert_eq!(step(&f), &Step::Done(done));
}

#[test]
fn offline_or_refused_says_so_and_goes_back_to_the_start() {
    let mut f = flow();
    f.handle(Event::StartBooking);
    let fx = f.handle(Event::CardRead(woman()));
    let Some(Effect::LoadBooking(id, _)) = fx.first().cloned() else {
        panic!()
    };
    f.handle(Event::BookingLoaded(id, Err(Unavailable::Offline)));
    assert_eq!(step(&f), &Step::Unavailable(Unavailable::Offline));
    assert_eq!(f.book_actions(), vec![(Action::Finish, true)]);
    assert!(f.timeout().is_some());
    f.handle(Event::Timeout);
    assert_eq!(f.screen, Screen::Attract);

    let mut f = loaded(man(), vec![]);
    tap(&mut f, "P-M-BASIC");
    f.handle(Event::Act(Action::Next));
    f.handle(Event::Act(Action::Next));
    f.handle(Event::Pick(2));
    f.handle(Event::Pick(0));
    let fx = f.handle(Event::Act(Action::Submit));
    let [Effect::SubmitBooking(id, _)] = fx.as_slice() else {
        panic!()
    };
    let why = Unavailable::Refused("该时段已约满".into());
    f.handle(Event::BookingAnswer(*id, Err(why.clone())));
    assert_eq!(step(&f), &Step::Unavailable(why));
}

#[test]
fn a_card_read_at_the_start_offers_booking_when_nothing_is_booked() {
    let mut f = flow();
    let fx = f.handle(Event::CardRead(woman()));
    let Some(Effect::Lookup(id, _)) = fx.iter().find(|e| matches!(e, Effect::Lookup(..))).cloned()
    else {
        panic!("{fx:?}")
    };
    assert!(f.has_card_holder());
    f.handle(Event::Found(
        id,
        Identified {
            source: Source::Online,
            person: None,
            candidates: vec![],
        },
    ));
    assert_eq!(f.screen, Screen::Problem(Problem::NoBooking));
    // No need to place the card again.
    let fx = f.handle(Event::StartBooking);
    assert!(matches!(fx.as_slice(), [Effect::LoadBooking(_, who)] if *who == woman().id_number));

    // Typed on the keypad: there is no card holder, the card is asked for.
    let mut f = flow();
    f.handle(Event::Identify(
        exam_domain::IdentityQuery::IdNumber {
            id_number: woman().id_number,
        },
        Via::Keypad,
    ));
    f.screen = Screen::Problem(Problem::NoBooking);
    f.handle(Event::StartBooking);
    assert_eq!(step(&f), &Step::PlaceCard);
    // A scan on the card screen is not a card: nothing happens.
    assert_eq!(
        f.handle(Event::Identify(
            exam_domain::IdentityQuery::BookingCode { code: "X".into() },
            Via::Scan
        )),
        vec![]
    );
}

#[test]
fn elderly_mode_speaks_every_booking_step() {
    let mut f = Flow::new(Settings {
        elderly: true,
        photo: false,
        face: false,
        face_policy: Default::default(),
    });
    let fx = f.handle(Event::StartBooking);
    assert_eq!(fx, vec![Effect::Speak("book_place_card")]);
    let fx = f.handle(Event::CardRead(man()));
    assert!(fx.contains(&Effect::Speak("looking")));
    assert_eq!(f.timeout(), None);
    f.screen = Screen::Book(Step::Package);
    assert_eq!(f.timeout(), Some(std::time::Duration::from_secs(90)));
    for p in [
        "book_place_card",
        "book_home",
        "book_marital",
        "book_package",
        "book_addons",
        "book_time",
        "book_confirm",
        "book_cancel",
        "book_done",
        "book_cancelled",
        "book_unavailable",
    ] {
        assert!(PROMPTS.contains(&p), "no voice prompt {p}");
    }
}
