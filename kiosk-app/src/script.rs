//! Scripts for the headless kiosk: what patients do, one step per line.
//!
//! ```text
//! # comment
//! card 11010519491231002X        ID card placed on the reader
//! qr BK261122000001              booking QR shown to the scanner
//! exam 00123567                  exam-number barcode
//! keypad 11010519491231002X 13800138000   ID number + mobile typed in
//! report 11010519491231002X      the card at a report printer: every
//!                                published report not printed here yet
//! wait 500                       milliseconds until the next patient
//! ```
//!
//! A patient who identifies (`card`, `qr`, `exam`, `keypad`) then answers
//! the kiosk's screens; words after the identity say how, each at most once:
//!
//! ```text
//! card 11010519491231002X consent=no pay=no choose=all photo=skip
//! ```
//!
//! - `consent=yes|no`: photo use (asked only where the kiosk has a photo step);
//! - `choose=all|CODE[,CODE…]`: print every ready booking, or pick these;
//! - `photo=take|skip`: the camera's picture, or none;
//! - `pay=yes|no|cancel`: pay the amount due (the payment simulator), walk
//!   away from the payment screen (it times out), or tap cancel.
//!
//! Left out, a word takes what a typical patient does: consents, prints
//! every ready booking, skips the photo, pays.

use exam_domain::{IdNumber, IdentityQuery, Person};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A patient identifies, then answers the screens.
    Identify(IdentityQuery, Answers),
    /// The card holder prints their reports (K9).
    Report(IdNumber),
    Wait(u64),
}

/// How a patient answers the kiosk's questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// Consents to photo use (PIPL).
    pub consent: bool,
    pub choose: Choice,
    pub photo: PhotoAnswer,
    pub pay: Pay,
}

/// What a typical patient does.
impl Default for Answers {
    fn default() -> Self {
        Self {
            consent: true,
            choose: Choice::All,
            photo: PhotoAnswer::Skip,
            pay: Pay::Pay,
        }
    }
}

/// Which bookings the patient prints when the kiosk asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// "Print all" (K7).
    All,
    /// These booking codes only.
    Codes(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoAnswer {
    Take,
    Skip,
}

/// What the patient does on the payment screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pay {
    /// Pays through the kiosk's payment simulator.
    Pay,
    /// Leaves without a word: the payment screen times out.
    WalkAway,
    /// Taps cancel.
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("script line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// The `key=value` words after an identity.
fn answers(words: &[&str]) -> Result<Answers, String> {
    let mut a = Answers::default();
    let mut seen: Vec<&str> = Vec::new();
    for w in words {
        let Some((key, value)) = w.split_once('=') else {
            return Err(format!(
                "{w:?} is not an answer (consent=, choose=, photo=, pay=)"
            ));
        };
        if seen.contains(&key) {
            return Err(format!("{key} is answered twice"));
        }
        seen.push(key);
        let bad = || format!("{key} cannot be {value:?}");
        match key {
            "consent" => {
                a.consent = match value {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad()),
                }
            }
            "choose" => {
                a.choose = match value {
                    "all" => Choice::All,
                    codes => {
                        let codes: Vec<String> = codes.split(',').map(str::to_string).collect();
                        if codes.iter().any(String::is_empty) {
                            return Err(bad());
                        }
                        Choice::Codes(codes)
                    }
                }
            }
            "photo" => {
                a.photo = match value {
                    "take" => PhotoAnswer::Take,
                    "skip" => PhotoAnswer::Skip,
                    _ => return Err(bad()),
                }
            }
            "pay" => {
                a.pay = match value {
                    "yes" => Pay::Pay,
                    "no" => Pay::WalkAway,
                    "cancel" => Pay::Cancel,
                    _ => return Err(bad()),
                }
            }
            _ => {
                return Err(format!(
                    "unknown answer {key:?} (consent, choose, photo, pay)"
                ));
            }
        }
    }
    Ok(a)
}

pub fn parse(text: &str) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let err = |message: String| ScriptError {
            line: i + 1,
            message,
        };
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let id = |s: &str| IdNumber::parse(s).map_err(|e| err(format!("bad ID number: {e}")));
        let patient = |q: IdentityQuery, rest: &[&str]| {
            answers(rest).map(|a| Step::Identify(q, a)).map_err(&err)
        };
        let step = match words.as_slice() {
            ["card", n, rest @ ..] => patient(IdentityQuery::IdNumber { id_number: id(n)? }, rest)?,
            ["qr", code, rest @ ..] => patient(
                IdentityQuery::BookingCode {
                    code: (*code).into(),
                },
                rest,
            )?,
            ["exam", no, rest @ ..] => patient(
                IdentityQuery::ExamNo {
                    exam_no: (*no).into(),
                },
                rest,
            )?,
            ["keypad", n, mobile, rest @ ..] => {
                if mobile.len() != 11 || !mobile.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("a mobile number has 11 digits".into()));
                }
                patient(
                    IdentityQuery::IdNumberAndMobile {
                        id_number: id(n)?,
                        mobile: (*mobile).into(),
                    },
                    rest,
                )?
            }
            ["report", n] => Step::Report(id(n)?),
            ["report", ..] => {
                return Err(err(
                    "report takes the ID number only: the holder prints what is new".into(),
                ));
            }
            ["wait", ms] => Step::Wait(
                ms.parse()
                    .map_err(|_| err(format!("wait takes milliseconds, not {ms:?}")))?,
            ),
            _ => {
                return Err(err(format!(
                    "unknown step {:?} (card, qr, exam, keypad, report, wait)",
                    words[0]
                )));
            }
        };
        steps.push(step);
    }
    Ok(steps)
}

/// A demo morning: the demo people arrive in a shuffled order, most with
/// their ID card, some with the booking QR or the keypad, and now and then
/// a stranger with no booking. Most with an amount due pay at the kiosk;
/// about one in six of them walks away from the payment screen.
pub fn demo_deck(day: &exam_domain::demo::DemoDay, wait_ms: u64, seed: u64) -> Vec<Step> {
    let mut rng = exam_domain::demo::Rng::new(seed);
    let mut people: Vec<&Person> = day.people.iter().collect();
    for i in (1..people.len()).rev() {
        people.swap(i, rng.below(i as u64 + 1) as usize);
    }
    // Who pays is drawn apart, so that the order and the ways people
    // identify stay those of earlier decks with the same seed.
    let mut payers = exam_domain::demo::Rng::new(seed ^ 0x5041_5900);
    let mut steps = Vec::new();
    for p in people {
        let due = day
            .bookings
            .iter()
            .any(|b| b.id_number == p.id_number && b.amount_due_fen > 0);
        let answers = Answers {
            pay: if due && payers.below(6) == 0 {
                Pay::WalkAway
            } else {
                Pay::Pay
            },
            ..Answers::default()
        };
        let q = match rng.below(20) {
            0..=13 => IdentityQuery::IdNumber {
                id_number: p.id_number.clone(),
            },
            14..=16 => match day.bookings.iter().find(|b| b.id_number == p.id_number) {
                Some(b) => IdentityQuery::BookingCode {
                    code: b.code.clone(),
                },
                None => IdentityQuery::IdNumber {
                    id_number: p.id_number.clone(),
                },
            },
            17..=18 => IdentityQuery::IdNumberAndMobile {
                id_number: p.id_number.clone(),
                mobile: p.mobile.clone(),
            },
            _ => IdentityQuery::IdNumber {
                id_number: IdNumber::compose("110105", p.birth_date, (rng.below(1000)) as u16)
                    .expect("valid parts"),
            },
        };
        steps.push(Step::Identify(q, answers));
        if wait_ms > 0 {
            steps.push(Step::Wait(wait_ms));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_lines() {
        let s = parse("# morning\ncard 11010519491231002X\nqr BK1 # phone\nwait 20\nkeypad 11010519491231002X 13800138000\nexam 123\n").unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s[2], Step::Wait(20));
        let e = parse("card 11010519491231002X\ncard 110105194912310021").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("check character"), "{e}");
        assert!(parse("fly 1").unwrap_err().message.contains("unknown step"));
        assert!(parse("keypad 11010519491231002X 123").is_err());
        assert!(parse("wait soon").is_err());
    }

    #[test]
    fn a_patient_answers_as_typical_unless_told() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let s = parse("card 11010519491231002X\nqr BK1 consent=no pay=no choose=BK1,BK2 photo=take\nkeypad 11010519491231002X 13800138000 pay=cancel\nexam 1 choose=all consent=yes photo=skip pay=yes").unwrap();
        assert_eq!(
            s[0],
            Step::Identify(
                IdentityQuery::IdNumber {
                    id_number: id.clone()
                },
                Answers::default()
            )
        );
        let Step::Identify(IdentityQuery::BookingCode { code }, a) = &s[1] else {
            panic!("{:?}", s[1])
        };
        assert_eq!(code, "BK1");
        assert_eq!(
            *a,
            Answers {
                consent: false,
                choose: Choice::Codes(vec!["BK1".into(), "BK2".into()]),
                photo: PhotoAnswer::Take,
                pay: Pay::WalkAway,
            }
        );
        assert!(matches!(&s[2], Step::Identify(_, a) if a.pay == Pay::Cancel && a.consent));
        assert!(matches!(&s[3], Step::Identify(_, a) if *a == Answers::default()));
        assert_eq!(
            Answers::default(),
            Answers {
                consent: true,
                choose: Choice::All,
                photo: PhotoAnswer::Skip,
                pay: Pay::Pay
            }
        );
    }

    #[test]
    fn a_wrong_answer_names_its_line_and_word() {
        for (line, says) in [
            ("card 11010519491231002X pay=maybe", "pay cannot be"),
            ("card 11010519491231002X pay=yes pay=no", "answered twice"),
            ("card 11010519491231002X tip=5", "unknown answer"),
            ("card 11010519491231002X yes", "not an answer"),
            ("card 11010519491231002X choose=BK1,", "choose cannot be"),
            ("card 11010519491231002X consent=", "consent cannot be"),
            ("report 11010519491231002X pay=no", "ID number only"),
            ("wait 5 pay=no", "unknown step"),
        ] {
            let e = parse(&format!("# first\n{line}")).unwrap_err();
            assert_eq!(e.line, 2, "{line}");
            assert!(e.message.contains(says), "{line}: {e}");
        }
    }

    #[test]
    fn the_demo_deck_mostly_pays_and_now_and_then_leaves_unpaid() {
        let day = exam_domain::demo::generate(
            exam_domain::demo::DEMO_SEED,
            200,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            chrono::NaiveTime::MIN,
            chrono::NaiveTime::MIN,
            "main",
        );
        let deck = demo_deck(&day, 0, 1);
        let pays: Vec<Pay> = deck
            .iter()
            .filter_map(|s| match s {
                Step::Identify(_, a) => Some(a.pay),
                _ => None,
            })
            .collect();
        let away = pays.iter().filter(|p| **p == Pay::WalkAway).count();
        assert!(away > 0, "someone leaves unpaid");
        assert!(
            away * 4 < pays.len() / 2,
            "most pay: {away} of {}",
            pays.len()
        );
    }
}
