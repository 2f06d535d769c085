//! The privacy notice at the kiosk (PIPL): offered before identification
//! and at the consent step, read in full, and the consent step's answers
//! with the notice version travel in the check-in.

use chrono::{NaiveDate, NaiveTime};
use exam_domain::privacy::{NOTICE_VERSION, Purpose};
use exam_domain::{IdNumber, IdentityQuery};
use exam_protocol::{BookingRecord, ConsentAnswer, PrivacyAnswers};

use super::*;

fn flow(photo: bool) -> Flow {
    Flow::new(Settings {
        photo,
        face: false,
        face_policy: Default::default(),
        elderly: false,
    })
}

fn card() -> Event {
    Event::Identify(
        IdentityQuery::IdNumber {
            id_number: IdNumber::parse("11010519491231002X").unwrap(),
        },
        Via::IdCard,
    )
}

/// One booking, ready and paid.
fn ready() -> Identified {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let t = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let d = exam_domain::demo::generate(5, 1, day, t, t, "main");
    let mut b = d.bookings[0].clone();
    b.amount_due_fen = 0;
    Identified {
        source: Source::Online,
        person: Some(d.people[0].clone()),
        candidates: vec![Candidate {
            record: BookingRecord {
                booking: b,
                person: d.people[0].clone(),
                change_seq: 1,
                documents: None,
            },
            eligibility: Eligibility::Ready,
        }],
    }
}

fn found(f: &mut Flow) {
    f.handle(card());
    let id = f.lookup;
    f.handle(Event::Found(id, ready()));
}

fn privacy_of(fx: &[Effect]) -> Option<PrivacyAnswers> {
    fx.iter()
        .find_map(|e| match e {
            Effect::CheckIn { privacy, .. } => Some(privacy.clone()),
            _ => None,
        })
        .expect("a check-in")
}

#[test]
fn the_start_screen_opens_the_notice_and_back_returns() {
    let mut f = flow(true);
    assert_eq!(f.handle(Event::OpenPrivacy), vec![]);
    assert_eq!(
        f.screen,
        Screen::Privacy {
            from_consent: false
        }
    );
    assert_eq!(f.book_actions(), vec![(Action::Back, true)]);
    assert_eq!(f.guide().step, None);
    // Reading takes time: longer than an ordinary screen waits.
    assert_eq!(f.timeout(), Some(std::time::Duration::from_secs(120)));
    let fx = f.handle(Event::Act(Action::Back));
    assert_eq!(f.screen, Screen::Attract);
    assert!(fx.contains(&Effect::ClearPersonalData));
    // Walking away from the notice returns to the start too.
    f.handle(Event::OpenPrivacy);
    f.handle(Event::Timeout);
    assert_eq!(f.screen, Screen::Attract);
}

#[test]
fn the_notice_is_readable_from_the_consent_step_without_losing_the_patient() {
    let mut f = flow(true);
    found(&mut f);
    let Screen::Consent { name } = f.screen.clone() else {
        panic!("consent expected, got {:?}", f.screen);
    };
    f.handle(Event::OpenPrivacy);
    assert_eq!(f.screen, Screen::Privacy { from_consent: true });
    assert_eq!(f.guide().step, Some(2), "still on the check-in path");
    // Other taps do nothing on the notice.
    assert_eq!(f.handle(Event::Consent(true)), vec![]);
    assert_eq!(f.handle(Event::PrintAll), vec![]);
    f.handle(Event::Act(Action::Back));
    assert_eq!(f.screen, Screen::Consent { name });
    // The patient is still known: consenting goes on to the photo.
    f.handle(Event::Consent(true));
    assert_eq!(f.screen, Screen::Photo { retakes: 0 });
    let fx = f.handle(Event::PhotoTaken);
    assert_eq!(
        privacy_of(&fx),
        Some(PrivacyAnswers {
            notice_version: NOTICE_VERSION.into(),
            consents: vec![ConsentAnswer {
                purpose: Purpose::PhotoIdentity,
                granted: true,
            }],
        })
    );
}

#[test]
fn a_refusal_is_recorded_with_the_notice_version() {
    let mut f = flow(true);
    found(&mut f);
    let fx = f.handle(Event::Consent(false));
    let p = privacy_of(&fx).expect("answers");
    assert_eq!(p.notice_version, NOTICE_VERSION);
    assert_eq!(
        p.consents,
        vec![ConsentAnswer {
            purpose: Purpose::PhotoIdentity,
            granted: false,
        }]
    );
}

#[test]
fn without_a_consent_step_nothing_is_claimed() {
    // No photo step, so no consent step: one ready booking checks in as
    // soon as it is found, and the kiosk claims no answer it did not ask.
    let mut f = flow(false);
    f.handle(card());
    let id = f.lookup;
    let fx = f.handle(Event::Found(id, ready()));
    assert!(
        matches!(f.screen, Screen::Printing { .. }),
        "{:?}",
        f.screen
    );
    assert_eq!(privacy_of(&fx), None);
}

#[test]
fn the_notice_opens_only_from_the_start_or_the_consent_step() {
    let mut f = flow(false);
    f.handle(card());
    assert_eq!(f.handle(Event::OpenPrivacy), vec![]);
    assert!(matches!(f.screen, Screen::Looking { .. }));
}
