//! The privacy notice (PIPL; 002 §(九) 6.5.4) at the kiosk: offered on the
//! start screen before the patient identifies, and on the consent step
//! before they answer; read in full on its own screen. The consent step's
//! answers travel with the check-in together with the version of the
//! notice this kiosk shows (`exam_domain::privacy::NOTICE_VERSION`).

use exam_domain::privacy::{NOTICE_VERSION, Purpose};
use exam_protocol::{ConsentAnswer, PrivacyAnswers};

use super::{Action, Effect, Event, Flow, Screen};

impl Flow {
    /// The notice, from the start screen or the consent step. Nothing of
    /// the patient is dropped: "back" from the consent step returns to it.
    pub(super) fn open_privacy(&mut self, from_consent: bool) -> Vec<Effect> {
        self.go(Screen::Privacy { from_consent }, vec![])
    }

    pub(super) fn handle_privacy(&mut self, from_consent: bool, ev: Event) -> Vec<Effect> {
        match ev {
            Event::Act(Action::Back) if from_consent => {
                let name = self.name();
                self.go(Screen::Consent { name }, vec![])
            }
            Event::Act(Action::Back) => self.go(Screen::Attract, vec![]),
            _ => vec![],
        }
    }

    /// What the check-in carries: the answers of the consent step, if the
    /// patient was asked, with the notice version shown there.
    pub(super) fn privacy_answers(&self) -> Option<PrivacyAnswers> {
        let photo = self.consent_asked.then_some(ConsentAnswer {
            purpose: Purpose::PhotoIdentity,
            granted: self.consent,
        });
        let consents: Vec<ConsentAnswer> = photo.into_iter().chain(self.face_answer()).collect();
        (!consents.is_empty()).then(|| PrivacyAnswers {
            notice_version: NOTICE_VERSION.into(),
            consents,
        })
    }
}
