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
use exam_protocol::Alert;

mod book;
mod face;
mod guide;
mod keypad;
pub mod model;
mod privacy;
mod prompts;
mod report;
pub use book::{
    Action, Book, CANCEL_REASONS, Clash, Loaded, Outcome, Step, Submission, Target, Unavailable,
    offers_booking, slot_text,
};
pub use face::{Cue, FaceResult, FaceStep, Miss};
pub use guide::Guide;
pub use keypad::{Entry, Field, Key, KeypadError};
pub use model::{Candidate, Holder, Identified, Source};
pub use prompts::PROMPTS;
use prompts::prompt;
pub use report::{ReportStep, Reports};

/// How the patient presented themselves (the screen says so while
/// looking). What the journal records is the query's own method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    IdCard,
    Scan,
    Keypad,
    /// K3: recognised by face after the liveness challenge.
    Face,
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
    /// K4: typing the ID number and mobile number.
    Keypad(Entry),
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
    /// K17: booking, rebooking, cancelling.
    Book(Step),
    /// K9: printing a published report.
    Reports(ReportStep),
    /// PIPL: the privacy notice in full, from the start screen or from the
    /// consent step (`from_consent`: "back" returns there).
    Privacy {
        from_consent: bool,
    },
    /// K3: identifying by face (consent, camera, outcome) and, after the
    /// check-in photo, the enrolment question.
    Face(FaceStep),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Identify(IdentityQuery, Via),
    OpenKeypad,
    Key(Key),
    SelectField(Field),
    SubmitKeypad,
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
    /// K16: the service cannot take payment now (offline, no platform, the
    /// platform unreachable): the patient goes on, the fee list printed
    /// unpaid, and pays at the desk.
    PaymentUnavailable,
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
    /// An ID card was read: identify by its number, or book as its holder.
    CardRead(Holder),
    /// "Book / change a booking".
    StartBooking,
    /// The answer to [`Effect::LoadBooking`] with this id.
    BookingLoaded(u64, Result<Loaded, Unavailable>),
    /// The i-th row of a booking screen was tapped.
    Pick(usize),
    Act(Action),
    /// The answer to [`Effect::SubmitBooking`] with this id.
    BookingAnswer(u64, Result<Outcome, Unavailable>),
    /// "Print my report".
    StartReports,
    /// The answer to [`Effect::LoadReports`] with this id.
    ReportsLoaded(u64, Result<exam_protocol::ReportsResponse, Unavailable>),
    /// The answer to [`Effect::PrintReports`] with this id: how many
    /// reports were journaled for printing.
    ReportsQueued(u64, Result<usize, Unavailable>),
    /// "Privacy notice" (the start screen, the consent step).
    OpenPrivacy,
    /// The "face" button (K3).
    StartFace,
    /// The face worker of [`Effect::StartFace`] with this id: what to ask
    /// of the person now.
    FaceCue(u64, Cue),
    /// The face worker with this id is done.
    FaceDone(u64, FaceResult),
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
        /// How the patient identified, as the journal records it: the
        /// method of the query that found them (`IdentityQuery::method`).
        identified_by: &'static str,
        photo: Photo,
        offline: bool,
        /// The notice version shown and the answers given at the consent
        /// step, for the service to record (None: no consent step).
        privacy: Option<exam_protocol::PrivacyAnswers>,
    },
    /// Ask the payment service for a QR code for the chosen bookings
    /// ([`Flow::chosen`]); `amount_fen` is what the kiosk expects to be
    /// due (the service computes the real amount from its own store).
    RequestPayment { amount_fen: i64 },
    /// Say that payment is unavailable here and the fee list is to be
    /// paid at the desk (the check-in goes on).
    PaymentUnavailable,
    /// Call staff to the kiosk (the heartbeat carries it).
    AlertStaff(Alert),
    /// Wipe everything about the last patient from memory and screen.
    ClearPersonalData,
    /// Play the voice prompt for this screen (elderly mode, or always).
    Speak(&'static str),
    /// Fetch the card holder's bookings and the booking options; answer
    /// with `Event::BookingLoaded` carrying the same id.
    LoadBooking(u64, exam_domain::IdNumber),
    /// Send a booking, rebooking or cancellation; answer with
    /// `Event::BookingAnswer` carrying the same id.
    SubmitBooking(u64, Submission),
    /// Print the booking slip (预约单) of a booking just made or moved.
    PrintBookingSlip(Outcome),
    /// Fetch the card holder's published reports; answer with
    /// `Event::ReportsLoaded` carrying the same id.
    LoadReports(u64, exam_domain::IdNumber),
    /// Fetch these reports of the card holder and journal their print
    /// jobs; answer with `Event::ReportsQueued` carrying the same id.
    PrintReports(
        u64,
        exam_domain::IdNumber,
        Vec<exam_protocol::ReportSummary>,
    ),
    /// Start the camera and the face worker (the patient agreed): it
    /// answers with `Event::FaceCue` and one `Event::FaceDone` carrying
    /// the same id.
    StartFace(u64),
    /// 人证核验: start the face worker comparing the camera's face with the
    /// photo of the card just read, whose holder is this ID number (the
    /// patient agreed); it answers like [`Effect::StartFace`]'s, `Known`
    /// only for that number.
    CheckCardFace(u64, exam_domain::IdNumber),
    /// Stop the face worker: the patient left the face screen. Nothing it
    /// saw is kept.
    StopFace,
}

/// Settings of the flow: elderly mode is a flag here and a theme in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub elderly: bool,
    /// Ask for a photo at check-in (K6).
    pub photo: bool,
    /// This kiosk can see faces (K3): a camera and the models.
    pub face: bool,
    /// What the centre's policy lets a kiosk that can see faces do.
    pub face_policy: exam_protocol::FacePolicy,
}

/// The flow's memory of the current patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub screen: Screen,
    pub settings: Settings,
    /// Id of the lookup in flight; answers to others are ignored.
    lookup: u64,
    /// The method of the query that found this patient.
    identified_by: &'static str,
    offline: bool,
    consent: bool,
    /// The consent step was answered (with the notice shown there).
    consent_asked: bool,
    photo: Photo,
    chosen: Vec<i64>,
    due_fen: i64,
    found: Option<Identified>,
    /// The ID card on the reader, when one was read.
    holder: Option<Holder>,
    book: Option<Box<Book>>,
    reports: Option<Box<Reports>>,
    /// Agreed to face identification at its notice.
    face_consent: bool,
    /// The answer to keeping a face template for next time, if asked.
    face_enrol: Option<bool>,
    /// 人证核验: the card whose holder's face is being compared with its
    /// photo, until the comparison ends.
    card_check: Option<Holder>,
}

impl Flow {
    pub fn new(settings: Settings) -> Self {
        Self {
            screen: Screen::Attract,
            settings,
            lookup: 0,
            identified_by: "",
            offline: false,
            consent: false,
            consent_asked: false,
            photo: Photo::NotConsented,
            chosen: Vec::new(),
            due_fen: 0,
            found: None,
            holder: None,
            book: None,
            reports: None,
            face_consent: false,
            face_enrol: None,
            card_check: None,
        }
    }

    /// How long a screen waits for the patient before going back to the
    /// start; elderly mode doubles it. Printing never times out.
    pub fn timeout(&self) -> Option<Duration> {
        let base = match self.screen {
            Screen::Attract
            | Screen::Printing { .. }
            | Screen::Looking { .. }
            | Screen::Book(Step::Loading | Step::Working)
            | Screen::Reports(ReportStep::Loading | ReportStep::Fetching) => return None,
            Screen::TakeDocuments { .. } | Screen::Problem(_) => 20,
            // The worker ends a challenge within seconds; this is a guard.
            Screen::Face(FaceStep::Looking(_)) => 30,
            Screen::Face(FaceStep::Notice | FaceStep::CardNotice) => 90,
            // Paying, and reading the whole notice, take a while.
            Screen::Pay { .. } | Screen::Privacy { .. } => 120,
            _ => 45,
        };
        Some(Duration::from_secs(if self.settings.elderly {
            base * 2
        } else {
            base
        }))
    }

    fn go(&mut self, s: Screen, mut fx: Vec<Effect>) -> Vec<Effect> {
        let looking = |s: &Screen| matches!(s, Screen::Face(FaceStep::Looking(_)));
        if looking(&self.screen) && !looking(&s) {
            fx.insert(0, Effect::StopFace);
        }
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
        // Elderly mode asks fewer questions: everything ready is printed.
        if self.settings.elderly && !ready.is_empty() {
            self.chosen = ready.iter().map(|b| b.id).collect();
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
        if let Some(fx) = self.ask_enrol() {
            return fx;
        }
        self.after_enrol()
    }

    fn after_enrol(&mut self) -> Vec<Effect> {
        // Offline (found in the kiosk's own cache): no service to make the
        // order, so no payment; the patient goes on and pays at the desk.
        if self.due_fen > 0 && self.offline {
            return self.unpaid_check_in();
        }
        if self.due_fen > 0 {
            let amount_fen = self.due_fen;
            return self.go(
                Screen::Pay { amount_fen },
                vec![Effect::RequestPayment { amount_fen }],
            );
        }
        self.check_in()
    }

    fn unpaid_check_in(&mut self) -> Vec<Effect> {
        let mut fx = vec![Effect::PaymentUnavailable];
        fx.extend(self.check_in());
        fx
    }

    /// The bookings being checked in (what a payment is for).
    pub fn chosen(&self) -> &[i64] {
        &self.chosen
    }

    fn check_in(&mut self) -> Vec<Effect> {
        let fx = vec![Effect::CheckIn {
            bookings: self.chosen.clone(),
            identified_by: self.identified_by,
            photo: self.photo,
            offline: self.offline,
            privacy: self.privacy_answers(),
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

    /// A new patient identified (card, code, keypad or face): everything
    /// of the last one is dropped and the lookup starts.
    fn handle_identify(&mut self, q: IdentityQuery, via: Via) -> Vec<Effect> {
        let lookup = self.lookup + 1;
        let mut fx = Vec::new();
        if matches!(self.screen, Screen::Face(FaceStep::Looking(_))) {
            fx.push(Effect::StopFace);
        }
        *self = Flow::new(self.settings);
        self.lookup = lookup;
        // The journal records how: the query's method, or the face that
        // led to the ID number.
        self.identified_by = if via == Via::Face { "face" } else { q.method() };
        fx.extend([Effect::ClearPersonalData, Effect::Lookup(lookup, q)]);
        self.go(Screen::Looking { via }, fx)
    }

    /// A card read now starts a new identification (the screens where
    /// `Event::CardRead` identifies its holder).
    pub fn takes_card(&self) -> bool {
        matches!(
            self.screen,
            Screen::Attract
                | Screen::Keypad(_)
                | Screen::Problem(_)
                | Screen::TakeDocuments { .. }
                | Screen::Face(
                    FaceStep::Notice
                        | FaceStep::Looking(_)
                        | FaceStep::Missed(_)
                        | FaceStep::CardNotice
                        | FaceStep::ToDesk(_)
                )
        )
    }

    /// Handles one event; returns what the edge must do.
    pub fn handle(&mut self, ev: Event) -> Vec<Effect> {
        match (&self.screen, ev) {
            (_, Event::CallStaff) => vec![Effect::AlertStaff(Alert::CallStaff)],
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
            (Screen::Book(step), ev) => self.handle_book(step.clone(), ev),
            (Screen::Reports(step), ev) => self.handle_reports(step.clone(), ev),
            (Screen::Privacy { from_consent }, ev) => self.handle_privacy(*from_consent, ev),
            (
                Screen::Face(step),
                ev @ (Event::Act(_) | Event::FaceCue(..) | Event::FaceDone(..)),
            ) => self.handle_face(step.clone(), ev),
            (Screen::Attract | Screen::Problem(_), Event::StartFace) => self.start_face(),
            (Screen::Attract, Event::OpenPrivacy) => self.open_privacy(false),
            (Screen::Consent { .. }, Event::OpenPrivacy) => self.open_privacy(true),
            (Screen::Attract, Event::StartBooking) => self.start_booking(),
            (Screen::Attract, Event::StartReports) => self.start_reports(),
            (Screen::Problem(p), Event::StartBooking) if offers_booking(p) => self.start_booking(),
            (
                Screen::Attract
                | Screen::Keypad(_)
                | Screen::Problem(_)
                | Screen::TakeDocuments { .. }
                // Not the enrolment question: a check-in is under way.
                | Screen::Face(FaceStep::Notice | FaceStep::Looking(_) | FaceStep::Missed(_)
                    | FaceStep::CardNotice | FaceStep::ToDesk(_)),
                Event::CardRead(h),
            ) => {
                if self.checks_card() {
                    return self.start_card_check(h);
                }
                let q = IdentityQuery::IdNumber {
                    id_number: h.id_number.clone(),
                };
                let fx = self.handle(Event::Identify(q, Via::IdCard));
                self.holder = Some(h);
                fx
            }
            (
                Screen::Attract
                | Screen::Keypad(_)
                | Screen::Problem(_)
                | Screen::TakeDocuments { .. }
                // Not the enrolment question: a check-in is under way.
                | Screen::Face(FaceStep::Notice | FaceStep::Looking(_) | FaceStep::Missed(_)
                    | FaceStep::CardNotice | FaceStep::ToDesk(_)),
                Event::Identify(q, via),
            ) => {
                // 人证核验 under way or just refused: a code or a typed
                // number would go round it.
                if self.card_check.is_some()
                    || matches!(self.screen, Screen::Face(FaceStep::ToDesk(_)))
                {
                    return vec![];
                }
                self.handle_identify(q, via)
            }
            (Screen::Attract | Screen::Problem(_), Event::OpenKeypad) => {
                self.go(Screen::Keypad(Entry::default()), vec![])
            }
            (Screen::Keypad(e), Event::Key(k)) => {
                let mut e = e.clone();
                e.press(k);
                self.screen = Screen::Keypad(e);
                vec![]
            }
            (Screen::Keypad(e), Event::SelectField(field)) => {
                let mut e = e.clone();
                e.field = field;
                self.screen = Screen::Keypad(e);
                vec![]
            }
            (Screen::Keypad(e), Event::SubmitKeypad) => {
                let mut e = e.clone();
                match e.submit() {
                    Some(q) => self.handle(Event::Identify(q, Via::Keypad)),
                    None => {
                        self.screen = Screen::Keypad(e);
                        vec![]
                    }
                }
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
                self.consent_asked = true;
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
            (_, Event::Paid) => vec![Effect::AlertStaff(Alert::OrphanPayment)],
            (Screen::Pay { .. }, Event::PaymentUnavailable) => self.unpaid_check_in(),
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
                vec![Effect::AlertStaff(Alert::PrinterOut)],
            ),
            (Screen::TakeDocuments { .. }, Event::Act(Action::Finish)) => {
                self.go(Screen::Attract, vec![])
            }
            (Screen::Printing { .. }, Event::PrintFinished { first_station }) => {
                self.go(Screen::TakeDocuments { first_station }, vec![])
            }
            // Anything else does not apply to this screen.
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod book_tests;
#[cfg(test)]
mod card_check_tests;
#[cfg(test)]
mod face_tests;
#[cfg(test)]
mod privacy_tests;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod tests;
