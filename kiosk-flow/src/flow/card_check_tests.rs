//! K3 人证核验: a card's holder compared with the card's photo, driven
//! directly.

use super::tests::found;
use super::*;
use exam_domain::IdNumber;
use exam_domain::privacy::Purpose;
use exam_protocol::FacePolicy;
use kiosk_face::liveness::Why;

fn flow(verify_card: bool) -> Flow {
    Flow::new(Settings {
        photo: true,
        elderly: true,
        face: true,
        face_policy: FacePolicy {
            verify_card,
            ..FacePolicy::default()
        },
    })
}

fn id() -> IdNumber {
    IdNumber::parse("11010519491231002X").unwrap()
}

fn card(photo: bool) -> Holder {
    Holder {
        id_number: id(),
        name: "张三".into(),
        photo,
    }
}

/// A card read, the notice agreed: the worker's id.
fn to_camera(f: &mut Flow) -> u64 {
    let fx = f.handle(Event::CardRead(card(true)));
    assert_eq!(
        fx,
        vec![Effect::ClearPersonalData, Effect::Speak("face_card_notice")]
    );
    assert_eq!(f.screen, Screen::Face(FaceStep::CardNotice));
    assert!(f.checking_card());
    let fx = f.handle(Event::Act(Action::Next));
    let [Effect::CheckCardFace(worker, ref who), ..] = fx[..] else {
        panic!("the camera starts only after consent: {fx:?}");
    };
    assert_eq!(*who, id(), "compared with this card's holder");
    worker
}

#[test]
fn a_cards_holder_is_checked_only_where_the_policy_says() {
    // The policy off, or a kiosk that cannot see faces: the card
    // identifies at once, as before.
    let off = flow(false).handle(Event::CardRead(card(true)));
    assert!(matches!(
        off[..],
        [Effect::ClearPersonalData, Effect::Lookup(..), ..]
    ));
    let mut blind = flow(true);
    blind.settings.face = false;
    let fx = blind.handle(Event::CardRead(card(true)));
    assert!(matches!(
        fx[..],
        [Effect::ClearPersonalData, Effect::Lookup(..), ..]
    ));
    assert!(!blind.offers_face());
    // Face check-in (1:N) switched off by the policy: no face button; the
    // card check still works.
    let mut f = flow(true);
    f.settings.face_policy.identify = false;
    assert!(!f.offers_face());
    assert_eq!(f.handle(Event::StartFace), vec![]);
    to_camera(&mut f);
}

#[test]
fn a_match_checks_in_as_the_card_would_and_is_journaled_as_checked() {
    let mut f = flow(true);
    let w = to_camera(&mut f);
    let fx = f.handle(Event::FaceDone(w, FaceResult::Known(id())));
    let lookup = match &fx[..] {
        [
            Effect::StopFace,
            Effect::ClearPersonalData,
            Effect::Lookup(n, IdentityQuery::IdNumber { id_number }),
            Effect::Speak("looking"),
        ] if *id_number == id() => *n,
        other => panic!("{other:?}"),
    };
    assert_eq!(f.screen, Screen::Looking { via: Via::IdCard });
    assert!(!f.checking_card());
    f.handle(Event::Found(
        lookup,
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    f.handle(Event::Consent(true));
    // The comparison was no consent to keep a template: enrolment is asked.
    assert_eq!(
        f.handle(Event::PhotoTaken),
        vec![Effect::Speak("face_enrol")]
    );
    let fx = f.handle(Event::Act(Action::Back));
    let Some(Effect::CheckIn {
        identified_by,
        privacy,
        ..
    }) = fx.first()
    else {
        panic!("{fx:?}");
    };
    assert_eq!(*identified_by, "id_card_face");
    let face: Vec<bool> = privacy
        .as_ref()
        .unwrap()
        .consents
        .iter()
        .filter(|c| c.purpose == Purpose::FaceRecognition)
        .map(|c| c.granted)
        .collect();
    assert_eq!(face, vec![false], "the enrolment answer, not the check's");
}

#[test]
fn a_face_that_is_not_the_cards_goes_to_the_desk_and_alerts_staff() {
    // A non-match (the worker's NotKnown against a gallery of one), and
    // another person's number, which a gallery of one cannot give but the
    // flow refuses all the same.
    let other = IdNumber::parse("110105198001010016").unwrap();
    for result in [FaceResult::Missed(Miss::NotKnown), FaceResult::Known(other)] {
        let mut f = flow(true);
        let w = to_camera(&mut f);
        let fx = f.handle(Event::FaceDone(w, result));
        assert_eq!(
            fx,
            vec![
                Effect::StopFace,
                Effect::AlertStaff(Alert::IdentityCheck),
                Effect::Speak("face_not_card_holder"),
            ]
        );
        assert_eq!(
            f.screen,
            Screen::Face(FaceStep::ToDesk(Miss::NotCardHolder))
        );
        // No keypad: it would go round the check.
        assert_eq!(f.book_actions(), vec![(Action::Finish, true)]);
        f.handle(Event::Act(Action::Finish));
        assert_eq!(f.screen, Screen::Attract);
    }
}

#[test]
fn declining_or_no_answer_sends_the_person_to_the_desk_without_an_alert() {
    let mut f = flow(true);
    f.handle(Event::CardRead(card(true)));
    let fx = f.handle(Event::Act(Action::Back));
    assert_eq!(fx, vec![Effect::Speak("face_to_desk")]);
    assert_eq!(f.screen, Screen::Face(FaceStep::ToDesk(Miss::Declined)));
    assert!(!f.checking_card());
    for miss in [
        Miss::NotLive(Why::TimedOut),
        Miss::NoFace,
        Miss::Unavailable,
    ] {
        let mut f = flow(true);
        let w = to_camera(&mut f);
        let fx = f.handle(Event::FaceDone(w, FaceResult::Missed(miss)));
        assert_eq!(fx, vec![Effect::StopFace, Effect::Speak("face_to_desk")]);
        assert_eq!(f.screen, Screen::Face(FaceStep::ToDesk(miss)));
    }
}

#[test]
fn the_same_card_read_again_does_not_restart_the_check_and_another_card_does() {
    let mut f = flow(true);
    let w = to_camera(&mut f);
    assert_eq!(f.handle(Event::CardRead(card(true))), vec![]);
    let mut other = card(true);
    other.id_number = IdNumber::parse("110105198001010016").unwrap();
    let fx = f.handle(Event::CardRead(other));
    assert_eq!(fx[0], Effect::StopFace);
    assert_eq!(f.screen, Screen::Face(FaceStep::CardNotice));
    // The first card's worker answers late: ignored.
    f.handle(Event::Act(Action::Next));
    assert_eq!(
        f.handle(Event::FaceDone(w, FaceResult::Known(id()))),
        vec![]
    );
    // A timeout or "cancel" while looking ends the check at the start.
    let fx = f.handle(Event::Timeout);
    assert_eq!(fx[0], Effect::StopFace);
    assert_eq!(f.screen, Screen::Attract);
    assert!(!f.checking_card());
}

#[test]
fn a_card_without_a_decoded_photo_goes_to_the_desk_and_nothing_goes_round_the_check() {
    // Nothing to compare with: the desk (a check that skipped itself when
    // the reader's library fails would be no check).
    let mut f = flow(true);
    let fx = f.handle(Event::CardRead(card(false)));
    assert_eq!(
        fx,
        vec![Effect::ClearPersonalData, Effect::Speak("face_to_desk")]
    );
    assert_eq!(f.screen, Screen::Face(FaceStep::ToDesk(Miss::Unavailable)));
    // A booking code or a typed number on the notice, the camera or the
    // desk screen is ignored.
    let code = || {
        Event::Identify(
            IdentityQuery::BookingCode {
                code: "BK2611220001".into(),
            },
            Via::Scan,
        )
    };
    assert_eq!(f.handle(code()), vec![]);
    let mut f = flow(true);
    f.handle(Event::CardRead(card(true)));
    assert_eq!(f.handle(code()), vec![]);
    assert_eq!(f.screen, Screen::Face(FaceStep::CardNotice));
    let mut f = flow(true);
    let w = to_camera(&mut f);
    assert_eq!(f.handle(code()), vec![]);
    f.handle(Event::FaceDone(w, FaceResult::Missed(Miss::NotKnown)));
    assert_eq!(
        f.screen,
        Screen::Face(FaceStep::ToDesk(Miss::NotCardHolder))
    );
    assert_eq!(f.handle(code()), vec![]);
    // Back at the start, a code works as ever.
    f.handle(Event::Act(Action::Finish));
    assert!(matches!(
        f.handle(code())[..],
        [Effect::ClearPersonalData, Effect::Lookup(..), ..]
    ));
}
