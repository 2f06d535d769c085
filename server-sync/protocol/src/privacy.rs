//! What a check-in carries of the patient's privacy answers (PIPL): the
//! version of the notice they were shown at the consent step and their
//! answer for each purpose asked. Optional on the wire: a kiosk without a
//! consent step (or one older than this field) sends none, and the service
//! then records nothing for that check-in.

use exam_domain::privacy::Purpose;
use serde::{Deserialize, Serialize};

/// The consent step's answers, journaled with the check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyAnswers {
    /// `exam_domain::privacy::NOTICE_VERSION` of the kiosk that asked.
    pub notice_version: String,
    pub consents: Vec<ConsentAnswer>,
}

/// Yes or no to one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentAnswer {
    pub purpose: Purpose,
    pub granted: bool,
}

impl PrivacyAnswers {
    /// The most answers a check-in may carry (one per purpose).
    pub const MAX_ANSWERS: usize = Purpose::ALL.len();

    /// Refuses what no kiosk sends: no or an overlong version, too many
    /// answers, or two answers to one purpose.
    pub fn check(&self) -> Result<(), &'static str> {
        let v = &self.notice_version;
        if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("bad privacy notice version");
        }
        if self.consents.len() > Self::MAX_ANSWERS {
            return Err("too many consent answers");
        }
        for (i, a) in self.consents.iter().enumerate() {
            if self.consents[..i].iter().any(|b| b.purpose == a.purpose) {
                return Err("two answers to one purpose");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckIn;

    fn answers() -> PrivacyAnswers {
        PrivacyAnswers {
            notice_version: exam_domain::privacy::NOTICE_VERSION.into(),
            consents: vec![ConsentAnswer {
                purpose: Purpose::PhotoIdentity,
                granted: true,
            }],
        }
    }

    #[test]
    fn an_old_kiosks_check_in_still_reads() {
        // Written by a kiosk from before the privacy answers.
        let old = serde_json::json!({
            "booking_id": 7, "booking_code": "BK7", "id_number": "11010519491231002X",
            "identified_by": "id_card", "checked_in_at": "2026-12-01T08:00:00Z", "offline": false
        });
        let c: CheckIn = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(c.privacy, None);
        // And a check-in without answers is written as before.
        assert_eq!(serde_json::to_value(&c).unwrap(), old);
        let mut c = c;
        c.privacy = Some(answers());
        let back: CheckIn = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn what_no_kiosk_sends_is_refused() {
        assert_eq!(answers().check(), Ok(()));
        let mut a = answers();
        a.notice_version = String::new();
        assert!(a.check().is_err());
        let mut a = answers();
        a.consents.push(a.consents[0]);
        assert_eq!(a.check(), Err("two answers to one purpose"));
        let unknown = serde_json::json!({
            "notice_version": "x", "consents": [{"purpose": "marketing", "granted": true}]
        });
        assert!(serde_json::from_value::<PrivacyAnswers>(unknown).is_err());
    }
}
