//! K3 刷脸: identifying by face, only with consent. The patient taps "face"
//! on the start screen and reads what is collected, why and for how long;
//! agreeing starts the camera (the edge's face worker), declining goes back
//! to the other ways. The worker reports what to ask of the person (stand
//! in front, come closer, one at a time, hold still, turn left …) and
//! finally whom it recognised, after the liveness challenge passed: the
//! person is then looked up by ID number exactly as if the card had been
//! read, and journaled as identified by face. Anything else (nobody known,
//! the challenge failed, no camera) says so calmly and offers the card or
//! the keypad.
//!
//! 人证核验 (the centre's policy `verify_card`): an ID card whose photo
//! the reader decoded is compared with the face of the person holding it
//! before the check-in goes on. The person reads why and agrees (nothing
//! is kept: the comparison happens in the kiosk and ends there), takes the
//! same liveness challenge, and is then checked in exactly as by the card,
//! journaled as `id_card_face`. Declining, a face that does not match,
//! or no answer sends them to the desk, where staff check the card by
//! eye; a mismatch also alerts staff. The keypad is not offered there: it
//! would go round the check.
//!
//! Enrolment is asked separately: after a photo was taken at check-in on a
//! kiosk with face identification, the patient is asked whether the centre
//! may keep the photo's face template (128 numbers, not the photo) to
//! recognise them next time. Both answers are one purpose,
//! `Purpose::FaceRecognition`; declining (or withdrawing) deletes the
//! template.

use exam_domain::IdNumber;
use exam_domain::privacy::Purpose;
use exam_protocol::ConsentAnswer;
use kiosk_face::liveness::{Move, Prompt, Why};

use super::book::Action;
use super::{Effect, Event, Flow, Holder, Screen, Via};

/// The face screens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaceStep {
    /// What is collected, why, how long it is kept; agree or another way.
    Notice,
    /// The camera is looking; what the person is asked to do now.
    Looking(Cue),
    /// Not identified by face: why, calmly, and the other ways.
    Missed(Miss),
    /// After the check-in photo: keep its face template for next time?
    Enrol,
    /// 人证核验: why the face of the card's holder is compared with the
    /// card's photo; agree, or go to the desk.
    CardNotice,
    /// 人证核验 did not succeed: why, and the desk (staff check the card).
    ToDesk(Miss),
}

/// What the face screen (and the voice) asks of the person now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// A frame's face cannot be used: what to change.
    Position(kiosk_face::Problem),
    /// The liveness challenge's request.
    Challenge(Prompt),
    /// The face is being compared (a moment).
    Comparing,
}

/// Why face identification ended without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Nobody with a booking today matched (or the match was not clear).
    NotKnown,
    /// The liveness challenge failed.
    NotLive(Why),
    /// No usable face in time (nobody, too dark, …).
    NoFace,
    /// The camera or the models are not working on this kiosk.
    Unavailable,
    /// 人证核验: the face is not that of the card's photo.
    NotCardHolder,
    /// 人证核验: the person chose not to have their face compared.
    Declined,
}

/// The worker's final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaceResult {
    /// The person recognised, liveness passed.
    Known(IdNumber),
    Missed(Miss),
}

/// The buttons of a face step, each with whether it can be pressed now.
pub fn actions(step: &FaceStep) -> Vec<(Action, bool)> {
    match step {
        // "Use my card or the keypad instead" / "I agree".
        FaceStep::Notice => vec![(Action::Back, true), (Action::Next, true)],
        FaceStep::Looking(_) => vec![(Action::Back, true)],
        FaceStep::Missed(_) => vec![(Action::Finish, true), (Action::Keypad, true)],
        // "No thanks" / "Yes, keep it".
        FaceStep::Enrol => vec![(Action::Back, true), (Action::Next, true)],
        // "Go to the desk instead" / "I agree".
        FaceStep::CardNotice => vec![(Action::Back, true), (Action::Next, true)],
        FaceStep::ToDesk(_) => vec![(Action::Finish, true)],
    }
}

/// The voice prompt of a face step.
pub(super) fn prompt(step: &FaceStep) -> &'static str {
    match step {
        FaceStep::Notice => "face_notice",
        FaceStep::Looking(cue) => cue_prompt(*cue),
        FaceStep::Missed(Miss::NotKnown) => "face_not_known",
        FaceStep::Missed(Miss::NotLive(_)) => "face_not_live",
        FaceStep::Missed(
            Miss::NoFace | Miss::Unavailable | Miss::NotCardHolder | Miss::Declined,
        ) => "face_unavailable",
        FaceStep::Enrol => "face_enrol",
        FaceStep::CardNotice => "face_card_notice",
        FaceStep::ToDesk(Miss::NotCardHolder) => "face_not_card_holder",
        FaceStep::ToDesk(_) => "face_to_desk",
    }
}

fn cue_prompt(cue: Cue) -> &'static str {
    use kiosk_face::Problem as P;
    match cue {
        Cue::Position(P::NoFace) => "face_stand_in_front",
        Cue::Position(P::SeveralFaces) => "face_one_at_a_time",
        Cue::Position(P::TooSmall) => "face_come_closer",
        Cue::Position(P::TooDark) => "face_too_dark",
        Cue::Position(P::TurnedAway) | Cue::Challenge(Prompt::HoldStill) => "face_look_straight",
        Cue::Challenge(Prompt::Do(Move::TurnLeft)) => "face_turn_left",
        Cue::Challenge(Prompt::Do(Move::TurnRight)) => "face_turn_right",
        Cue::Challenge(Prompt::Do(Move::Nod)) => "face_nod",
        Cue::Challenge(Prompt::BackToCentre) => "face_back_to_centre",
        Cue::Comparing => "looking",
    }
}

impl Flow {
    /// Face identification is offered on this kiosk.
    pub fn offers_face(&self) -> bool {
        self.settings.face && self.settings.face_policy.identify
    }

    /// The face being compared is that of a card's holder (人证核验).
    pub fn checking_card(&self) -> bool {
        self.card_check.is_some()
    }

    /// 人证核验 applies to this card: the policy asks for it and this kiosk
    /// sees faces. (A card whose photo was not decoded goes to the desk:
    /// nothing to compare it with, and a check that skips itself when the
    /// reader's library fails is no check.)
    pub(super) fn checks_card(&self) -> bool {
        self.settings.face && self.settings.face_policy.verify_card
    }

    /// A card to check was read: a new patient, asked first.
    pub(super) fn start_card_check(&mut self, card: Holder) -> Vec<Effect> {
        let same = self.card_check.as_ref() == Some(&card)
            && matches!(
                self.screen,
                Screen::Face(FaceStep::CardNotice | FaceStep::Looking(_))
            );
        if same {
            // The same card read again while its check is under way.
            return vec![];
        }
        let mut fx = Vec::new();
        if matches!(self.screen, Screen::Face(FaceStep::Looking(_))) {
            fx.push(Effect::StopFace);
        }
        let lookup = self.lookup;
        *self = Flow::new(self.settings);
        self.lookup = lookup;
        fx.push(Effect::ClearPersonalData);
        if !card.photo {
            return self.face_go(FaceStep::ToDesk(Miss::Unavailable), fx);
        }
        self.card_check = Some(card);
        self.face_go(FaceStep::CardNotice, fx)
    }

    /// The patient agreed to face identification in this session (the
    /// check-in's privacy answers carry it).
    pub fn face_consented(&self) -> bool {
        self.face_consent
    }

    fn face_go(&mut self, step: FaceStep, fx: Vec<Effect>) -> Vec<Effect> {
        self.go(Screen::Face(step), fx)
    }

    /// The "face" button on the start screen (or on a problem screen).
    pub(super) fn start_face(&mut self) -> Vec<Effect> {
        if !self.offers_face() {
            return vec![];
        }
        self.face_go(FaceStep::Notice, vec![])
    }

    pub(super) fn handle_face(&mut self, step: FaceStep, ev: Event) -> Vec<Effect> {
        match (step, ev) {
            (FaceStep::Notice, Event::Act(Action::Next)) => {
                self.face_consent = true;
                self.lookup += 1;
                let fx = vec![Effect::StartFace(self.lookup)];
                self.face_go(
                    FaceStep::Looking(Cue::Position(kiosk_face::Problem::NoFace)),
                    fx,
                )
            }
            (FaceStep::Notice, Event::Act(Action::Back)) => self.go(Screen::Attract, vec![]),
            (FaceStep::Looking(now), Event::FaceCue(id, cue)) if id == self.lookup => {
                if cue == now {
                    return vec![];
                }
                // Said aloud whatever the mode: a person turning their head
                // cannot read the screen.
                self.screen = Screen::Face(FaceStep::Looking(cue));
                vec![Effect::Speak(cue_prompt(cue))]
            }
            (FaceStep::CardNotice, Event::Act(Action::Next)) => {
                let Some(card) = &self.card_check else {
                    return self.go(Screen::Attract, vec![]);
                };
                self.lookup += 1;
                let fx = vec![Effect::CheckCardFace(self.lookup, card.id_number.clone())];
                self.face_go(
                    FaceStep::Looking(Cue::Position(kiosk_face::Problem::NoFace)),
                    fx,
                )
            }
            (FaceStep::CardNotice, Event::Act(Action::Back)) => {
                self.card_check = None;
                self.face_go(FaceStep::ToDesk(Miss::Declined), vec![])
            }
            (FaceStep::Looking(_), Event::FaceDone(id, result))
                if id == self.lookup && self.card_check.is_some() =>
            {
                let card = self.card_check.take().expect("checked above");
                match result {
                    FaceResult::Known(n) if n == card.id_number => {
                        let q = exam_domain::IdentityQuery::IdNumber { id_number: n };
                        let fx = self.handle_identify(q, Via::IdCard);
                        self.identified_by = "id_card_face";
                        self.holder = Some(card);
                        fx
                    }
                    FaceResult::Known(_) | FaceResult::Missed(Miss::NotKnown) => self.face_go(
                        FaceStep::ToDesk(Miss::NotCardHolder),
                        vec![Effect::AlertStaff(exam_protocol::Alert::IdentityCheck)],
                    ),
                    FaceResult::Missed(m) => self.face_go(FaceStep::ToDesk(m), vec![]),
                }
            }
            (FaceStep::ToDesk(_), Event::Act(Action::Finish)) => self.go(Screen::Attract, vec![]),
            (FaceStep::Looking(_), Event::FaceDone(id, result)) if id == self.lookup => {
                match result {
                    FaceResult::Known(id_number) => {
                        let consent = self.face_consent;
                        let q = exam_domain::IdentityQuery::IdNumber { id_number };
                        let fx = self.handle_identify(q, Via::Face);
                        // The new session keeps the consent just given.
                        self.face_consent = consent;
                        fx
                    }
                    FaceResult::Missed(m) => self.face_go(FaceStep::Missed(m), vec![]),
                }
            }
            (FaceStep::Looking(_), Event::Act(Action::Back)) => self.go(Screen::Attract, vec![]),
            (FaceStep::Missed(_), Event::Act(Action::Finish)) => self.go(Screen::Attract, vec![]),
            (FaceStep::Missed(_), Event::Act(Action::Keypad)) => {
                self.go(Screen::Keypad(Default::default()), vec![])
            }
            (FaceStep::Enrol, Event::Act(a @ (Action::Next | Action::Back))) => {
                self.face_enrol = Some(a == Action::Next);
                self.after_enrol()
            }
            _ => vec![],
        }
    }

    /// After the photo: ask about keeping its face template when this
    /// kiosk identifies by face and a photo was taken (nothing to keep
    /// otherwise).
    pub(super) fn ask_enrol(&mut self) -> Option<Vec<Effect>> {
        // Someone recognised by face today agreed already.
        (self.settings.face
            && self.settings.face_policy.keep_templates
            && self.photo == super::Photo::Taken
            && self.face_enrol.is_none()
            && !self.face_consent)
            .then(|| self.face_go(FaceStep::Enrol, vec![]))
    }

    /// The face answer the check-in carries, if one was given: the
    /// enrolment question's, or else the notice's agreement (one purpose:
    /// keeping a face template and comparing with it at the kiosk).
    pub(super) fn face_answer(&self) -> Option<ConsentAnswer> {
        let granted = self.face_enrol.or(self.face_consent.then_some(true))?;
        Some(ConsentAnswer {
            purpose: Purpose::FaceRecognition,
            granted,
        })
    }
}
