//! K3: face identification's steps, driven directly.

use super::tests::found;
use super::*;
use exam_domain::IdNumber;
use exam_domain::privacy::Purpose;
use kiosk_face::liveness::{Move, Prompt, Why};

fn flow(photo: bool, elderly: bool) -> Flow {
    Flow::new(Settings {
        photo,
        elderly,
        face: true,
        face_policy: Default::default(),
    })
}

fn id() -> IdNumber {
    IdNumber::parse("11010519491231002X").unwrap()
}

/// From the start screen to the camera looking; the worker's id.
fn to_camera(f: &mut Flow) -> u64 {
    f.handle(Event::StartFace);
    assert_eq!(f.screen, Screen::Face(FaceStep::Notice));
    let fx = f.handle(Event::Act(Action::Next));
    let [Effect::StartFace(worker), ..] = fx[..] else {
        panic!("the camera starts only after consent: {fx:?}");
    };
    worker
}

#[test]
fn nothing_starts_without_consent_and_declining_offers_the_other_ways() {
    let mut f = flow(false, false);
    assert_eq!(f.handle(Event::StartFace), vec![]);
    assert_eq!(f.screen, Screen::Face(FaceStep::Notice));
    let fx = f.handle(Event::Act(Action::Back));
    assert!(!fx.iter().any(|e| matches!(e, Effect::StartFace(_))));
    assert_eq!(f.screen, Screen::Attract);
    assert!(!f.face_consented());

    // A kiosk without face identification ignores the button.
    let mut off = Flow::new(Settings {
        photo: false,
        elderly: false,
        face: false,
        face_policy: Default::default(),
    });
    assert_eq!(off.handle(Event::StartFace), vec![]);
    assert_eq!(off.screen, Screen::Attract);
}

#[test]
fn cues_are_shown_and_spoken_once_each_whatever_the_mode() {
    let mut f = flow(false, false);
    let w = to_camera(&mut f);
    let turn = Cue::Challenge(Prompt::Do(Move::TurnLeft));
    assert_eq!(
        f.handle(Event::FaceCue(w, turn)),
        vec![Effect::Speak("face_turn_left")]
    );
    assert_eq!(f.screen, Screen::Face(FaceStep::Looking(turn)));
    assert_eq!(f.handle(Event::FaceCue(w, turn)), vec![], "said once");
    // A stale worker's cue is ignored.
    assert_eq!(f.handle(Event::FaceCue(w + 7, Cue::Comparing)), vec![]);
    assert_eq!(f.screen, Screen::Face(FaceStep::Looking(turn)));
}

#[test]
fn a_recognised_face_is_looked_up_by_id_number_and_journaled_as_face() {
    let mut f = flow(false, false);
    let w = to_camera(&mut f);
    let fx = f.handle(Event::FaceDone(w, FaceResult::Known(id())));
    let lookup = match &fx[..] {
        [
            Effect::StopFace,
            Effect::ClearPersonalData,
            Effect::Lookup(n, IdentityQuery::IdNumber { id_number }),
        ] if *id_number == id() => *n,
        other => panic!("{other:?}"),
    };
    assert_eq!(f.screen, Screen::Looking { via: Via::Face });
    let fx = f.handle(Event::Found(
        lookup,
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    let [
        Effect::CheckIn {
            identified_by,
            privacy,
            ..
        },
    ] = &fx[..]
    else {
        panic!("{fx:?}");
    };
    assert_eq!(*identified_by, "face");
    let answers = privacy.as_ref().expect("the face consent travels");
    assert!(
        answers
            .consents
            .iter()
            .any(|c| c.purpose == Purpose::FaceRecognition && c.granted),
        "{answers:?}"
    );
}

#[test]
fn a_miss_says_why_and_offers_the_keypad_and_the_card() {
    for (miss, voice) in [
        (Miss::NotKnown, "face_not_known"),
        (Miss::NotLive(Why::WrongMove(Move::Nod)), "face_not_live"),
        (Miss::NotLive(Why::TimedOut), "face_not_live"),
        (Miss::Unavailable, "face_unavailable"),
    ] {
        let mut f = flow(false, true);
        let w = to_camera(&mut f);
        let fx = f.handle(Event::FaceDone(w, FaceResult::Missed(miss)));
        assert_eq!(fx, vec![Effect::StopFace, Effect::Speak(voice)]);
        assert_eq!(f.screen, Screen::Face(FaceStep::Missed(miss)));
        assert_eq!(
            f.book_actions(),
            vec![(Action::Finish, true), (Action::Keypad, true)]
        );
        f.handle(Event::Act(Action::Keypad));
        assert!(matches!(f.screen, Screen::Keypad(_)));
    }
    // The card works on the miss screen too.
    let mut f = flow(false, false);
    let w = to_camera(&mut f);
    f.handle(Event::FaceDone(w, FaceResult::Missed(Miss::NotKnown)));
    f.handle(Event::CardRead(Holder {
        id_number: id(),
        name: "张三".into(),
        photo: false,
    }));
    assert_eq!(f.screen, Screen::Looking { via: Via::IdCard });
}

#[test]
fn leaving_the_camera_stops_it_by_any_way() {
    // Back, a timeout, a card placed while the camera looks.
    let mut f = flow(false, false);
    to_camera(&mut f);
    assert_eq!(f.handle(Event::Act(Action::Back))[0], Effect::StopFace);
    to_camera(&mut f);
    assert_eq!(f.handle(Event::Timeout)[0], Effect::StopFace);
    to_camera(&mut f);
    let fx = f.handle(Event::CardRead(Holder {
        id_number: id(),
        name: "张三".into(),
        photo: false,
    }));
    assert_eq!(fx[0], Effect::StopFace);
    assert_eq!(f.screen, Screen::Looking { via: Via::IdCard });
    assert!(
        !f.face_consented(),
        "a card after the face notice is a new identification"
    );
}

#[test]
fn enrolment_is_asked_after_a_photo_and_its_answer_travels() {
    for yes in [true, false] {
        let mut f = flow(true, false);
        f.handle(Event::Identify(
            IdentityQuery::IdNumber { id_number: id() },
            Via::IdCard,
        ));
        f.handle(Event::Found(
            f.lookup,
            found(&[(0, Eligibility::Ready)], Source::Online),
        ));
        f.handle(Event::Consent(true));
        assert_eq!(f.handle(Event::PhotoTaken), vec![]);
        assert_eq!(f.screen, Screen::Face(FaceStep::Enrol));
        let act = if yes { Action::Next } else { Action::Back };
        let fx = f.handle(Event::Act(act));
        let [Effect::CheckIn { privacy, photo, .. }] = &fx[..] else {
            panic!("{fx:?}");
        };
        assert_eq!(*photo, Photo::Taken);
        let face: Vec<_> = privacy
            .as_ref()
            .unwrap()
            .consents
            .iter()
            .filter(|c| c.purpose == Purpose::FaceRecognition)
            .map(|c| c.granted)
            .collect();
        assert_eq!(face, vec![yes]);
    }
}

#[test]
fn no_enrolment_question_without_a_photo_or_after_a_face_check_in() {
    // Photo skipped: nothing to compute a template from.
    let mut f = flow(true, false);
    f.handle(Event::Identify(
        IdentityQuery::IdNumber { id_number: id() },
        Via::IdCard,
    ));
    f.handle(Event::Found(
        f.lookup,
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    f.handle(Event::Consent(true));
    let fx = f.handle(Event::SkipPhoto);
    assert!(matches!(fx[..], [Effect::CheckIn { .. }]), "{fx:?}");

    // Recognised by face: the consent was given at the notice.
    let mut f = flow(true, false);
    let w = to_camera(&mut f);
    f.handle(Event::FaceDone(w, FaceResult::Known(id())));
    f.handle(Event::Found(
        f.lookup,
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    f.handle(Event::Consent(true));
    let fx = f.handle(Event::PhotoTaken);
    assert!(matches!(fx[..], [Effect::CheckIn { .. }]), "{fx:?}");
}

#[test]
fn a_card_on_the_enrolment_question_does_not_restart_the_check_in() {
    let mut f = flow(true, false);
    f.handle(Event::Identify(
        IdentityQuery::IdNumber { id_number: id() },
        Via::IdCard,
    ));
    f.handle(Event::Found(
        f.lookup,
        found(&[(0, Eligibility::Ready)], Source::Online),
    ));
    f.handle(Event::Consent(true));
    f.handle(Event::PhotoTaken);
    assert_eq!(f.screen, Screen::Face(FaceStep::Enrol));
    let card = Holder {
        id_number: id(),
        name: "张三".into(),
        photo: false,
    };
    assert_eq!(f.handle(Event::CardRead(card)), vec![]);
    assert_eq!(f.screen, Screen::Face(FaceStep::Enrol));
}
