//! The patient's path through the kiosk as a pure state machine: screens,
//! events in, effects out. The touch UI draws [`Screen`]s and turns taps and
//! devices into [`Event`]s; the I/O edge performs the [`Effect`]s (lookup,
//! journal, payment, printing, voice) and reports back with events. Nothing
//! here touches a device, a clock or the network: `now` comes in.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDateTime;
use exam_domain::slot::Eligibility;
use exam_domain::{IdentityQuery, mask};

use crate::checkin::{Identified, Source};

/// How the patient identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    IdCard,
    Scan,
    Keypad,
}

/// A booking as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingView {
    pub id: i64,
    pub code: String,
    pub package: String,
    pub amount_due_fen: i64,
    pub eligibility: Eligibility,
}

/// Why the patient is sent to the desk or another kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NoBooking,
    CardUnreadable,
    /// Nothing can be printed now; the earliest time printing opens.
    TooEarly {
        opens_at: NaiveDateTime,
    },
    /// Bookings exist but none can be checked in here today.
    NothingToday,
    /// This kiosk's printer cannot print: go to another kiosk.
    PrinterOut,
    PaymentFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Attract,
    Looking {
        via: Via,
    },
    /// PIPL: photo and face use need the person's consent.
    Consent {
        name: String,
    },
    Choose {
        name: String,
        bookings: Vec<BookingView>,
        selected: BTreeSet<i64>,
    },
    Photo {
        retakes: u8,
    },
    Pay {
        amount_fen: i64,
    },
    Printing {
        done: usize,
        total: usize,
        resumed: bool,
    },
    TakeDocuments {
        first_station: Option<String>,
    },
    Problem(Problem),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Identify(IdentityQuery, Via),
    CardUnreadable,
    /// The answer to the lookup with this id (see [`Effect::Lookup`]).
    Found(u64, Identified),
    Consent(bool),
    Toggle(i64),
    /// Print everything that can be printed (K7 "print all").
    PrintAll,
    Confirm,
    PhotoTaken,
    Retake,
    SkipPhoto,
    Paid,
    PaymentFailed,
    Printed {
        done: usize,
        total: usize,
    },
    PrinterOut,
    PrintFinished {
        first_station: Option<String>,
    },
    Timeout,
    Cancel,
    /// The "call staff" button, on any screen.
    CallStaff,
    /// The kiosk restarted with this patient's job unfinished (K15).
    ResumePrinting {
        done: usize,
        total: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photo {
    Taken,
    Skipped,
    /// No consent: no photo was asked for.
    NotConsented,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Look the patient up; answer with `Event::Found` carrying the same id,
    /// so a late answer for an earlier patient is never shown to the next.
    Lookup(u64, IdentityQuery),
    /// The patient left the payment screen unpaid: cancel the order, so a
    /// late payment is refunded rather than lost.
    CancelPayment,
    /// Journal the check-in of these bookings with their documents.
    CheckIn {
        bookings: Vec<i64>,
        identified_by: Via,
        photo: Photo,
        offline: bool,
    },
    /// Ask the payment service for a QR code for this amount.
    RequestPayment {
        amount_fen: i64,
    },
    AlertStaff(&'static str),
    /// Wipe everything about the last patient from memory and screen.
    ClearPersonalData,
    /// Play the voice prompt for this screen (elderly mode, or always).
    Speak(&'static str),
}

/// Settings of the flow: elderly mode is a flag here and a theme in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub elderly: bool,
    /// Ask for a photo at check-in (K6).
    pub photo: bool,
}

/// The flow's memory of the current patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub screen: Screen,
    pub settings: Settings,
    /// Id of the lookup in flight; answers to others are ignored.
    lookup: u64,
    via: Via,
    offline: bool,
    consent: bool,
    photo: Photo,
    chosen: Vec<i64>,
    due_fen: i64,
    found: Option<Identified>,
}

fn prompt(s: &Screen) -> &'static str {
    match s {
        Screen::Attract => "attract",
        Screen::Looking { .. } => "looking",
        Screen::Consent { .. } => "consent",
        Screen::Choose { .. } => "choose",
        Screen::Photo { .. } => "photo",
        Screen::Pay { .. } => "pay",
        Screen::Printing { .. } => "printing",
        Screen::TakeDocuments { .. } => "take_documents",
        Screen::Problem(Problem::NoBooking) => "no_booking",
        Screen::Problem(Problem::CardUnreadable) => "card_unreadable",
        Screen::Problem(Problem::TooEarly { .. }) => "too_early",
        Screen::Problem(Problem::NothingToday) => "nothing_today",
        Screen::Problem(Problem::PrinterOut) => "printer_out",
        Screen::Problem(Problem::PaymentFailed) => "payment_failed",
    }
}

impl Flow {
    pub fn new(settings: Settings) -> Self {
        Self {
            screen: Screen::Attract,
            settings,
            lookup: 0,
            via: Via::IdCard,
            offline: false,
            consent: false,
            photo: Photo::NotConsented,
            chosen: Vec::new(),
            due_fen: 0,
            found: None,
        }
    }

    /// How long a screen waits for the patient before going back to the
    /// start; elderly mode doubles it. Printing never times out.
    pub fn timeout(&self) -> Option<Duration> {
        let base = match self.screen {
            Screen::Attract | Screen::Printing { .. } | Screen::Looking { .. } => return None,
            Screen::TakeDocuments { .. } | Screen::Problem(_) => 20,
            Screen::Pay { .. } => 120,
            _ => 45,
        };
        Some(Duration::from_secs(if self.settings.elderly {
            base * 2
        } else {
            base
        }))
    }

    fn go(&mut self, s: Screen, mut fx: Vec<Effect>) -> Vec<Effect> {
        if s == Screen::Attract {
            let lookup = self.lookup;
            *self = Flow::new(self.settings);
            self.lookup = lookup;
            fx.push(Effect::ClearPersonalData);
        } else {
            self.screen = s;
        }
        if self.settings.elderly {
            fx.push(Effect::Speak(prompt(&self.screen)));
        }
        fx
    }

    fn name(&self) -> String {
        self.found
            .as_ref()
            .and_then(|f| f.person.as_ref())
            .map(|p| mask::name(&p.name))
            .unwrap_or_default()
    }

    fn views(&self) -> Vec<BookingView> {
        self.found
            .iter()
            .flat_map(|f| &f.candidates)
            .map(|c| BookingView {
                id: c.record.booking.id,
                code: c.record.booking.code.clone(),
                package: c.record.booking.package.clone(),
                amount_due_fen: c.record.booking.amount_due_fen,
                eligibility: c.eligibility.clone(),
            })
            .collect()
    }

    /// After consent (or without it): choose, or go on with the only one.
    fn after_consent(&mut self) -> Vec<Effect> {
        let views = self.views();
        let ready: Vec<&BookingView> = views
            .iter()
            .filter(|b| b.eligibility == Eligibility::Ready)
            .collect();
        if ready.len() == 1 && views.len() == 1 {
            self.chosen = vec![ready[0].id];
            return self.after_choice();
        }
        let selected = ready.iter().map(|b| b.id).collect();
        let name = self.name();
        self.go(
            Screen::Choose {
                name,
                bookings: views,
                selected,
            },
            vec![],
        )
    }

    fn after_choice(&mut self) -> Vec<Effect> {
        self.due_fen = self
            .views()
            .iter()
            .filter(|b| self.chosen.contains(&b.id))
            .map(|b| b.amount_due_fen)
            .sum();
        if self.settings.photo && self.consent {
            return self.go(Screen::Photo { retakes: 0 }, vec![]);
        }
        self.after_photo()
    }

    fn after_photo(&mut self) -> Vec<Effect> {
        if self.due_fen > 0 {
            let amount_fen = self.due_fen;
            return self.go(
                Screen::Pay { amount_fen },
                vec![Effect::RequestPayment { amount_fen }],
            );
        }
        self.check_in()
    }

    fn check_in(&mut self) -> Vec<Effect> {
        let fx = vec![Effect::CheckIn {
            bookings: self.chosen.clone(),
            identified_by: self.via,
            photo: self.photo,
            offline: self.offline,
        }];
        let total = self.chosen.len();
        self.go(
            Screen::Printing {
                done: 0,
                total,
                resumed: false,
            },
            fx,
        )
    }

    /// Handles one event; returns what the edge must do.
    pub fn handle(&mut self, ev: Event) -> Vec<Effect> {
        match (&self.screen, ev) {
            (_, Event::CallStaff) => vec![Effect::AlertStaff("call_staff")],
            (Screen::Pay { .. }, Event::Cancel | Event::Timeout) => {
                self.go(Screen::Attract, vec![Effect::CancelPayment])
            }
            (_, Event::Cancel) | (_, Event::Timeout)
                if !matches!(self.screen, Screen::Printing { .. } | Screen::Attract) =>
            {
                self.go(Screen::Attract, vec![])
            }
            (_, Event::ResumePrinting { done, total }) => self.go(
                Screen::Printing {
                    done,
                    total,
                    resumed: true,
                },
                vec![],
            ),
            (
                Screen::Attract | Screen::Problem(_) | Screen::TakeDocuments { .. },
                Event::Identify(q, via),
            ) => {
                let lookup = self.lookup + 1;
                *self = Flow::new(self.settings);
                self.lookup = lookup;
                self.via = via;
                self.go(
                    Screen::Looking { via },
                    vec![Effect::ClearPersonalData, Effect::Lookup(lookup, q)],
                )
            }
            (Screen::Attract, Event::CardUnreadable) => {
                self.go(Screen::Problem(Problem::CardUnreadable), vec![])
            }
            (Screen::Looking { .. }, Event::Found(id, found)) if id == self.lookup => {
                self.offline = found.source == Source::OfflineCache;
                let problem = if found.candidates.is_empty() {
                    Some(Problem::NoBooking)
                } else if found.ready().next().is_none() {
                    let opens = found
                        .candidates
                        .iter()
                        .filter_map(|c| {
                            if let Eligibility::TooEarly { opens_at } = c.eligibility {
                                Some(opens_at)
                            } else {
                                None
                            }
                        })
                        .min();
                    Some(
                        opens.map_or(Problem::NothingToday, |opens_at| Problem::TooEarly {
                            opens_at,
                        }),
                    )
                } else {
                    None
                };
                self.found = Some(found);
                match problem {
                    Some(p) => self.go(Screen::Problem(p), vec![]),
                    None if self.settings.photo => {
                        let name = self.name();
                        self.go(Screen::Consent { name }, vec![])
                    }
                    None => self.after_consent(),
                }
            }
            (Screen::Consent { .. }, Event::Consent(yes)) => {
                self.consent = yes;
                self.photo = if yes {
                    Photo::Skipped
                } else {
                    Photo::NotConsented
                };
                self.after_consent()
            }
            (
                Screen::Choose {
                    name,
                    bookings,
                    selected,
                },
                Event::Toggle(id),
            ) => {
                let ready = bookings
                    .iter()
                    .any(|b| b.id == id && b.eligibility == Eligibility::Ready);
                if !ready {
                    return vec![];
                }
                let mut selected = selected.clone();
                if !selected.remove(&id) {
                    selected.insert(id);
                }
                let s = Screen::Choose {
                    name: name.clone(),
                    bookings: bookings.clone(),
                    selected,
                };
                self.screen = s;
                vec![]
            }
            (Screen::Choose { bookings, .. }, Event::PrintAll) => {
                self.chosen = bookings
                    .iter()
                    .filter(|b| b.eligibility == Eligibility::Ready)
                    .map(|b| b.id)
                    .collect();
                self.after_choice()
            }
            (Screen::Choose { selected, .. }, Event::Confirm) if !selected.is_empty() => {
                self.chosen = selected.iter().copied().collect();
                self.after_choice()
            }
            (Screen::Photo { .. }, Event::PhotoTaken) => {
                self.photo = Photo::Taken;
                self.after_photo()
            }
            (Screen::Photo { retakes }, Event::Retake) if *retakes < 3 => {
                let retakes = retakes + 1;
                self.go(Screen::Photo { retakes }, vec![])
            }
            (Screen::Photo { .. }, Event::SkipPhoto) => {
                self.photo = Photo::Skipped;
                self.after_photo()
            }
            (Screen::Pay { .. }, Event::Paid) => self.check_in(),
            // Paid after leaving the payment screen: money without a check-in.
            (_, Event::Paid) => vec![Effect::AlertStaff("orphan_payment")],
            (Screen::Pay { .. }, Event::PaymentFailed) => {
                self.go(Screen::Problem(Problem::PaymentFailed), vec![])
            }
            (Screen::Printing { resumed, .. }, Event::Printed { done, total }) => {
                let resumed = *resumed;
                self.screen = Screen::Printing {
                    done,
                    total,
                    resumed,
                };
                vec![]
            }
            (Screen::Printing { .. }, Event::PrinterOut) => self.go(
                Screen::Problem(Problem::PrinterOut),
                vec![Effect::AlertStaff("printer_out")],
            ),
            (Screen::Printing { .. }, Event::PrintFinished { first_station }) => {
                self.go(Screen::TakeDocuments { first_station }, vec![])
            }
            // Anything else does not apply to this screen.
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::{Candidate, Identified, Source};
    use chrono::{NaiveDate, NaiveTime};
    use exam_domain::IdNumber;
    use exam_protocol::BookingRecord;

    fn found(specs: &[(i64, Eligibility)], source: Source) -> Identified {
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
            vec![Effect::AlertStaff("orphan_payment")]
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
        Flow::new(Settings { photo, elderly })
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
            matches!(&fx[..], [Effect::CheckIn { bookings, photo: Photo::Taken, offline: false, identified_by: Via::IdCard }] if bookings.len() == 1)
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
            vec![Effect::AlertStaff("printer_out")]
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
    fn elderly_mode_speaks_every_step_and_waits_longer() {
        let mut f = flow(false, true);
        let fx = f.handle(card());
        assert_eq!(fx.last(), Some(&Effect::Speak("looking")));
        let fx = f.handle(Event::Found(
            f_id(&f),
            found(
                &[(0, Eligibility::Ready), (0, Eligibility::Ready)],
                Source::Online,
            ),
        ));
        assert_eq!(fx, vec![Effect::Speak("choose")]);
        assert_eq!(f.timeout(), Some(Duration::from_secs(90)));
        let fx = f.handle(Event::PrintAll);
        assert_eq!(fx.last(), Some(&Effect::Speak("printing")));
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
            vec![Effect::AlertStaff("call_staff")]
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
}
