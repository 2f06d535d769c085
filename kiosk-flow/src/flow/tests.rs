use super::*;
use chrono::{NaiveDate, NaiveTime};
use exam_domain::IdNumber;
use exam_protocol::BookingRecord;

pub(super) fn found(specs: &[(i64, Eligibility)], source: Source) -> Identified {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let t = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let d = exam_domain::demo::generate(5, 1, day, t, t, "main");
    let person = d.people[0].clone();
    let candidates = specs
        .iter()
        .enumerate()
        .map(|(i, (due, e))| {
            let mut b = d.bookings[0].clone();
            b.id += i as i64;
            b.amount_due_fen = *due;
            Candidate {
                record: BookingRecord {
                    booking: b,
                    person: person.clone(),
                    change_seq: 1,
                    documents: None,
                },
                eligibility: e.clone(),
            }
        })
        .collect();
    Identified {
        source,
        person: Some(person),
        candidates,
    }
}

fn f_id(f: &Flow) -> u64 {
    f.lookup
}

#[test]
fn a_late_answer_for_the_previous_patient_is_ignored() {
    let mut f = flow(false, false);
    f.handle(card());
    let first = f_id(&f);
    f.handle(Event::Cancel);
    f.handle(card()); // the next patient, while the first lookup is still out
    assert_eq!(
        f.handle(Event::Found(
            first,
            found(&[(0, Eligibility::Ready)], Source::Online)
        )),
        vec![]
    );
    assert!(matches!(f.screen, Screen::Looking { .. }), "{:?}", f.screen);
    f.handle(Event::Found(
        f_id(&f),
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    assert!(matches!(f.screen, Screen::Printing { .. }));
}

#[test]
fn leaving_payment_cancels_it_and_a_late_payment_alerts_staff() {
    let mut f = flow(false, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(100, Eligibility::Ready)], Source::Online),
    ));
    assert_eq!(
        f.handle(Event::Timeout),
        vec![Effect::CancelPayment, Effect::ClearPersonalData]
    );
    assert_eq!(
        f.handle(Event::Paid),
        vec![Effect::AlertStaff(Alert::OrphanPayment)]
    );
}

fn card() -> Event {
    Event::Identify(
        IdentityQuery::IdNumber {
            id_number: IdNumber::parse("11010519491231002X").unwrap(),
        },
        Via::IdCard,
    )
}

fn flow(photo: bool, elderly: bool) -> Flow {
    Flow::new(Settings {
        photo,
        elderly,
        face: false,
        face_policy: Default::default(),
    })
}

fn at(h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 22)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

#[test]
fn one_paid_booking_with_photo_to_documents_and_back() {
    let mut f = flow(true, false);
    let fx = f.handle(card());
    assert!(matches!(
        fx.as_slice(),
        [Effect::ClearPersonalData, Effect::Lookup(..)]
    ));
    assert_eq!(f.screen, Screen::Looking { via: Via::IdCard });
    f.handle(Event::Found(
        f_id(&f),
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    assert!(
        matches!(&f.screen, Screen::Consent { name } if name.contains('*')),
        "masked name: {:?}",
        f.screen
    );
    f.handle(Event::Consent(true));
    assert_eq!(f.screen, Screen::Photo { retakes: 0 });
    let fx = f.handle(Event::PhotoTaken);
    assert!(
        matches!(&fx[..], [Effect::CheckIn { bookings, photo: Photo::Taken, offline: false, identified_by: "id_card", .. }] if bookings.len() == 1)
    );
    assert_eq!(
        f.screen,
        Screen::Printing {
            done: 0,
            total: 1,
            resumed: false
        }
    );
    f.handle(Event::Printed { done: 1, total: 1 });
    assert_eq!(
        f.handle(Event::Cancel),
        vec![],
        "printing cannot be cancelled"
    );
    assert_eq!(f.handle(Event::Timeout), vec![], "nor time out");
    f.handle(Event::PrintFinished {
        first_station: Some("抽血室 203".into()),
    });
    assert_eq!(
        f.screen,
        Screen::TakeDocuments {
            first_station: Some("抽血室 203".into())
        }
    );
    assert_eq!(f.timeout(), Some(Duration::from_secs(20)));
    assert_eq!(f.handle(Event::Timeout), vec![Effect::ClearPersonalData]);
    let mut fresh = flow(true, false);
    fresh.lookup = f.lookup;
    assert_eq!(f, fresh, "nothing of the patient is left");
}

#[test]
fn several_bookings_choose_some_or_print_all() {
    let mut f = flow(false, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(
            &[
                (0, Eligibility::Ready),
                (0, Eligibility::Ready),
                (0, Eligibility::AlreadyCheckedIn),
            ],
            Source::Online,
        ),
    ));
    let Screen::Choose {
        bookings, selected, ..
    } = f.screen.clone()
    else {
        panic!("{:?}", f.screen)
    };
    assert_eq!(bookings.len(), 3);
    assert_eq!(selected.len(), 2, "ready ones preselected");
    let (a, b, done_one) = (bookings[0].id, bookings[1].id, bookings[2].id);
    assert_eq!(
        f.handle(Event::Toggle(done_one)),
        vec![],
        "a booking that cannot print is not selectable"
    );
    f.handle(Event::Toggle(a));
    let fx = f.handle(Event::Confirm);
    assert!(
        matches!(&fx[..], [Effect::CheckIn { bookings, photo: Photo::NotConsented, .. }] if *bookings == vec![b]),
        "{fx:?}"
    );

    let mut g = flow(false, false);
    g.handle(card());
    g.handle(Event::Found(
        f_id(&g),
        found(
            &[(0, Eligibility::Ready), (0, Eligibility::Ready)],
            Source::Online,
        ),
    ));
    let Screen::Choose { .. } = g.screen else {
        panic!()
    };
    let fx = g.handle(Event::PrintAll);
    assert!(matches!(&fx[..], [Effect::CheckIn { bookings, .. }] if bookings.len() == 2));
}

#[test]
fn unpaid_items_go_through_payment() {
    let mut f = flow(false, false);
    f.handle(card());
    let fx = f.handle(Event::Found(
        f_id(&f),
        found(&[(45_000, Eligibility::Ready)], Source::Online),
    ));
    assert_eq!(fx, vec![Effect::RequestPayment { amount_fen: 45_000 }]);
    assert_eq!(f.screen, Screen::Pay { amount_fen: 45_000 });
    assert_eq!(f.timeout(), Some(Duration::from_secs(120)));
    assert!(matches!(
        f.handle(Event::Paid)[..],
        [Effect::CheckIn { .. }]
    ));

    let mut g = flow(false, false);
    g.handle(card());
    g.handle(Event::Found(
        f_id(&g),
        found(&[(100, Eligibility::Ready)], Source::Online),
    ));
    g.handle(Event::PaymentFailed);
    assert_eq!(g.screen, Screen::Problem(Problem::PaymentFailed));
}

#[test]
fn problems_a_patient_understands() {
    let mut f = flow(true, false);
    f.handle(card());
    f.handle(Event::Found(f_id(&f), found(&[], Source::Online)));
    assert_eq!(f.screen, Screen::Problem(Problem::NoBooking));
    assert_eq!(f.handle(Event::Timeout), vec![Effect::ClearPersonalData]);

    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(
            &[
                (0, Eligibility::TooEarly { opens_at: at(10) }),
                (1, Eligibility::TooEarly { opens_at: at(9) }),
            ],
            Source::Online,
        ),
    ));
    assert_eq!(
        f.screen,
        Screen::Problem(Problem::TooEarly { opens_at: at(9) }),
        "the earliest opening"
    );

    f.handle(Event::Cancel);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(0, Eligibility::NotToday)], Source::Online),
    ));
    assert_eq!(f.screen, Screen::Problem(Problem::NothingToday));

    let mut g = flow(false, false);
    g.handle(Event::CardUnreadable);
    assert_eq!(g.screen, Screen::Problem(Problem::CardUnreadable));
    // A new card on the problem screen starts again.
    g.handle(card());
    assert!(matches!(g.screen, Screen::Looking { .. }));
}

#[test]
fn printer_out_sends_the_patient_elsewhere_and_tells_staff() {
    let mut f = flow(false, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(0, Eligibility::Ready)], Source::OfflineCache),
    ));
    assert!(matches!(f.screen, Screen::Printing { .. }));
    assert_eq!(
        f.handle(Event::PrinterOut),
        vec![Effect::AlertStaff(Alert::PrinterOut)]
    );
    assert_eq!(f.screen, Screen::Problem(Problem::PrinterOut));
}

#[test]
fn offline_consent_refused_and_photo_choices() {
    let mut f = flow(true, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(0, Eligibility::Ready)], Source::OfflineCache),
    ));
    let fx = f.handle(Event::Consent(false));
    assert!(
        matches!(
            &fx[..],
            [Effect::CheckIn {
                photo: Photo::NotConsented,
                offline: true,
                ..
            }]
        ),
        "no photo without consent; offline noted"
    );

    let mut g = flow(true, false);
    g.handle(card());
    g.handle(Event::Found(
        f_id(&g),
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    g.handle(Event::Consent(true));
    for n in 1..=3 {
        g.handle(Event::Retake);
        assert_eq!(g.screen, Screen::Photo { retakes: n });
    }
    assert_eq!(g.handle(Event::Retake), vec![], "three retakes at most");
    let fx = g.handle(Event::SkipPhoto);
    assert!(
        matches!(
            &fx[..],
            [Effect::CheckIn {
                photo: Photo::Skipped,
                ..
            }]
        ),
        "skipping is recorded"
    );
}

#[test]
fn elderly_mode_speaks_every_step_waits_longer_and_asks_fewer_questions() {
    let mut f = flow(false, true);
    let fx = f.handle(card());
    assert_eq!(fx.last(), Some(&Effect::Speak("looking")));
    // Two ready bookings and one too early: no choose screen, both ready ones print.
    let fx = f.handle(Event::Found(
        f_id(&f),
        found(
            &[
                (0, Eligibility::Ready),
                (0, Eligibility::Ready),
                (0, Eligibility::TooEarly { opens_at: at(10) }),
            ],
            Source::Online,
        ),
    ));
    let Some(Effect::CheckIn { bookings, .. }) = fx.first() else {
        panic!("{fx:?}")
    };
    assert_eq!(bookings.len(), 2);
    assert_eq!(fx.last(), Some(&Effect::Speak("printing")));
    f.handle(Event::PrintFinished {
        first_station: None,
    });
    assert_eq!(f.timeout(), Some(Duration::from_secs(40)), "twice the 20 s");
}

fn keys(f: &mut Flow, s: &str) {
    for c in s.chars() {
        let k = match c {
            'X' => Key::X,
            '<' => Key::Back,
            d => Key::Digit(d.to_digit(10).unwrap() as u8),
        };
        f.handle(Event::Key(k));
    }
}

fn entry(f: &Flow) -> &Entry {
    match &f.screen {
        Screen::Keypad(e) => e,
        s => panic!("not the keypad: {s:?}"),
    }
}

#[test]
fn keypad_checks_both_numbers_before_looking_up() {
    let mut f = flow(false, false);
    f.handle(Event::OpenKeypad);
    // X is refused before the 18th character; a wrong check digit is caught.
    keys(&mut f, "X11010519491231002");
    assert_eq!(entry(&f).id_number, "11010519491231002");
    keys(&mut f, "3");
    assert_eq!(entry(&f).field, Field::Mobile, "a full ID number moves on");
    keys(&mut f, "13800138000");
    assert_eq!(f.handle(Event::SubmitKeypad), vec![]);
    assert!(matches!(
        entry(&f).error,
        Some(KeypadError::IdNumber(
            exam_domain::IdNumberError::CheckDigit { expected: 'X' }
        ))
    ));
    assert_eq!(entry(&f).field, Field::IdNumber);
    keys(&mut f, "<X");
    f.handle(Event::SelectField(Field::Mobile));
    keys(&mut f, "<<<<<<<<<<<");
    keys(&mut f, "2380013800");
    f.handle(Event::SubmitKeypad);
    assert_eq!(entry(&f).error, Some(KeypadError::Mobile));
    keys(&mut f, "<<<<<<<<<<13800138000");
    let fx = f.handle(Event::SubmitKeypad);
    assert!(
        matches!(
            fx.as_slice(),
            [Effect::ClearPersonalData, Effect::Lookup(_, IdentityQuery::IdNumberAndMobile { mobile, .. })]
                if mobile == "13800138000"
        ),
        "{fx:?}"
    );
    assert_eq!(f.screen, Screen::Looking { via: Via::Keypad });
}

#[test]
fn leaving_the_keypad_forgets_what_was_typed() {
    let mut f = flow(false, false);
    f.handle(Event::OpenKeypad);
    keys(&mut f, "1101");
    assert_eq!(f.timeout(), Some(Duration::from_secs(45)));
    assert_eq!(f.handle(Event::Timeout), vec![Effect::ClearPersonalData]);
    assert_eq!(f.screen, Screen::Attract);
    // A card placed while typing wins.
    f.handle(Event::OpenKeypad);
    keys(&mut f, "1101");
    f.handle(card());
    assert_eq!(f.screen, Screen::Looking { via: Via::IdCard });
}

#[test]
fn resume_call_staff_and_stray_events() {
    let mut f = flow(false, false);
    assert_eq!(
        f.handle(Event::PhotoTaken),
        vec![],
        "a stray event changes nothing"
    );
    assert_eq!(f.screen, Screen::Attract);
    assert_eq!(
        f.handle(Event::CallStaff),
        vec![Effect::AlertStaff(Alert::CallStaff)]
    );
    f.handle(Event::ResumePrinting { done: 1, total: 3 });
    assert_eq!(
        f.screen,
        Screen::Printing {
            done: 1,
            total: 3,
            resumed: true
        },
        "继续打印您的单据"
    );
    f.handle(Event::Printed { done: 2, total: 3 });
    assert_eq!(
        f.screen,
        Screen::Printing {
            done: 2,
            total: 3,
            resumed: true
        }
    );
}

#[test]
fn payment_unavailable_goes_on_with_the_fee_list_unpaid() {
    // K16: the service cannot take payment: said, and the check-in goes on.
    let mut f = flow(false, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(45_000, Eligibility::Ready)], Source::Online),
    ));
    assert_eq!(f.chosen().len(), 1);
    let fx = f.handle(Event::PaymentUnavailable);
    assert!(
        matches!(&fx[..], [Effect::PaymentUnavailable, Effect::CheckIn { bookings, offline: false, .. }] if bookings.len() == 1),
        "{fx:?}"
    );
    assert!(matches!(f.screen, Screen::Printing { .. }));
    // Not on the pay screen: nothing happens.
    assert!(f.handle(Event::PaymentUnavailable).is_empty());

    // Offline: no order is asked for at all.
    let mut g = flow(false, false);
    g.handle(card());
    let fx = g.handle(Event::Found(
        f_id(&g),
        found(&[(100, Eligibility::Ready)], Source::OfflineCache),
    ));
    assert!(
        matches!(
            &fx[..],
            [
                Effect::PaymentUnavailable,
                Effect::CheckIn { offline: true, .. }
            ]
        ),
        "{fx:?}"
    );
}

#[test]
fn leaving_the_pay_screen_cancels_and_a_late_payment_calls_staff() {
    let mut f = flow(false, false);
    f.handle(card());
    f.handle(Event::Found(
        f_id(&f),
        found(&[(100, Eligibility::Ready)], Source::Online),
    ));
    let fx = f.handle(Event::Timeout);
    assert!(fx.contains(&Effect::CancelPayment), "{fx:?}");
    assert_eq!(f.screen, Screen::Attract);
    assert_eq!(
        f.handle(Event::Paid),
        vec![Effect::AlertStaff(Alert::OrphanPayment)]
    );
}
