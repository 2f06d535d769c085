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

use exam_domain::{IdNumber, IdentityQuery, Person};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Identify(IdentityQuery),
    /// The card holder prints their reports (K9).
    Report(IdNumber),
    Wait(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("script line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
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
        let step = match words.as_slice() {
            ["card", n] => Step::Identify(IdentityQuery::IdNumber { id_number: id(n)? }),
            ["qr", code] => Step::Identify(IdentityQuery::BookingCode {
                code: (*code).into(),
            }),
            ["exam", no] => Step::Identify(IdentityQuery::ExamNo {
                exam_no: (*no).into(),
            }),
            ["keypad", n, mobile] => {
                if mobile.len() != 11 || !mobile.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("a mobile number has 11 digits".into()));
                }
                Step::Identify(IdentityQuery::IdNumberAndMobile {
                    id_number: id(n)?,
                    mobile: (*mobile).into(),
                })
            }
            ["report", n] => Step::Report(id(n)?),
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
/// a stranger with no booking.
pub fn demo_deck(day: &exam_domain::demo::DemoDay, wait_ms: u64, seed: u64) -> Vec<Step> {
    let mut rng = exam_domain::demo::Rng::new(seed);
    let mut people: Vec<&Person> = day.people.iter().collect();
    for i in (1..people.len()).rev() {
        people.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut steps = Vec::new();
    for p in people {
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
        steps.push(Step::Identify(q));
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
}
