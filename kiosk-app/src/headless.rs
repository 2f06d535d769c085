//! The headless kiosk: the same [`Session`] and [`Flow`](crate::flow::Flow)
//! as the touch screen, with a scripted patient in front of it. Each
//! patient identifies (a script step, or a card or a scan from a device),
//! then answers every screen the session shows as their [`Answers`] say
//! (consent, choice, photo, payment through the payment simulator) and
//! takes their documents once they are printed. One masked line per
//! patient goes to the output; the [`Outcome`] counts what happened.
//!
//! The loop owns the session and feeds it one input at a time: the
//! patient's answer to the screen shown, the session's own answers
//! (lookups, fetched reports) and, while the documents print, a tick every
//! few milliseconds. Nothing waits a fixed time: a patient who walks away
//! from the payment screen is a tick at a moment past its timeout.

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use exam_domain::slot::Eligibility;
use exam_domain::{IdNumber, IdentityQuery, mask};
use kiosk_ui::View;
use offline_store::SharedJournal;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::sync::watch;

use crate::assemble::RunningKiosk;
use crate::checkin::{CheckinCore, Identified, Source};
use crate::devices::Input;
use crate::flow::{Action, Event, Holder, Problem, ReportStep, Screen, Settings, Unavailable};
use crate::screens::Context;
use crate::script::{Answers, Choice, Pay, PhotoAnswer, Step};
use crate::session::{Session, SessionInput};

/// How often the session looks at the journal while documents print (the
/// touch screen ticks every 100 ms; a headless patient leaves sooner).
const TICK: Duration = Duration::from_millis(10);

/// What reaches the headless kiosk.
#[derive(Debug)]
pub enum Arrival {
    /// A scripted patient (or a pause between patients).
    Step(Step),
    /// A device's input: a card or a scan starts a patient who answers as
    /// the last [`Arrival::NextAnswers`] said, else as a typical patient.
    Device(Input),
    /// How the next patient identified by a device answers (the demo
    /// places a card on the simulated reader for them).
    NextAnswers(Answers),
}

/// What happened to the patients served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Bookings checked in (journaled).
    pub checked_in: usize,
    /// Of those, checked in from the offline cache (the central service
    /// did not answer the lookup in time).
    pub offline: usize,
    /// Bookings already checked in.
    pub already: usize,
    /// Bookings that cannot be checked in here now (too early, another
    /// day or campus, cancelled), or that failed to journal.
    pub refused: usize,
    /// Patients with no booking at all.
    pub not_found: usize,
    /// Ready bookings whose patient left the payment screen without
    /// paying: not checked in, nothing printed.
    pub unpaid: usize,
    /// Patients who paid at the kiosk (the payment simulator).
    pub paid: usize,
    /// Reports journaled for printing.
    pub reports: usize,
}

impl Outcome {
    fn add(&mut self, o: &Outcome) {
        self.checked_in += o.checked_in;
        self.offline += o.offline;
        self.already += o.already;
        self.refused += o.refused;
        self.not_found += o.not_found;
        self.unpaid += o.unpaid;
        self.paid += o.paid;
        self.reports += o.reports;
    }
}

/// How a patient makes themselves known.
enum Start {
    Card(crate::devices::Card),
    Identify(IdentityQuery),
    /// "Print my report", then the card.
    Report(IdNumber),
}

/// What the report screens came to.
#[derive(Debug, Default)]
enum Reports {
    #[default]
    NotAsked,
    Unavailable(Unavailable),
    NoneYet,
    NothingNew,
    /// These reports were chosen for printing.
    Chosen(Vec<i64>),
    /// Chosen, then could not be fetched or journaled.
    Failed(Unavailable),
}

/// One patient at the kiosk, as far as the loop follows them.
struct Visit {
    answers: Answers,
    /// The card the patient places on the report screens.
    holder: Option<Holder>,
    found: Option<Identified>,
    /// Bookings the patient left out on the choice screen.
    not_chosen: Vec<i64>,
    paid_fen: Option<i64>,
    /// The test payer was sent to pay the QR code.
    pay_asked: bool,
    left_unpaid: bool,
    problem: Option<Problem>,
    reports: Reports,
    /// Report print jobs journaled for this patient.
    report_jobs: usize,
    /// Answers the flow did not take (the screen stayed as it was).
    ignored: usize,
}

/// What the patient does next.
enum Next {
    Answered,
    /// The kiosk is working (lookup, printing): wait for it.
    Wait,
    /// Back at the start screen: the patient has gone.
    Gone,
}

fn stamp() -> impl std::fmt::Display {
    Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .format("%H:%M:%S")
}

fn who(q: &IdentityQuery) -> String {
    match q {
        IdentityQuery::IdNumber { id_number }
        | IdentityQuery::IdNumberAndMobile { id_number, .. } => mask::id_number(id_number.as_str()),
        IdentityQuery::BookingCode { code } => code.clone(),
        IdentityQuery::ExamNo { exam_no } => exam_no.clone(),
    }
}

fn describe(e: &Eligibility) -> String {
    match e {
        Eligibility::Ready => "ready".into(),
        Eligibility::TooEarly { opens_at } => {
            format!("too early: printing opens at {}", opens_at.format("%H:%M"))
        }
        Eligibility::NotToday => "booked for another day".into(),
        Eligibility::OtherCampus { campus } => format!("booked at campus {campus}"),
        Eligibility::AlreadyCheckedIn => "already checked in".into(),
        Eligibility::Cancelled => "booking cancelled".into(),
    }
}

/// A kiosk without a screen: a [`Session`] and the patients in front of it.
pub struct Headless<W: Write> {
    session: Session,
    /// The session's own answers (lookups, fetched reports).
    answers: UnboundedReceiver<SessionInput>,
    core: CheckinCore,
    journal: SharedJournal,
    out: W,
    /// How the next patient identified by a device answers.
    next: Option<Answers>,
    views: Option<watch::Sender<View>>,
}

impl<W: Write> std::fmt::Debug for Headless<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headless")
            .field("session", &self.session)
            .finish()
    }
}

impl<W: Write> Headless<W> {
    /// A session on `kiosk` with these flow settings; each patient's line
    /// goes to `out`.
    pub fn new(kiosk: &RunningKiosk, settings: Settings, out: W) -> Self {
        let (tx, answers) = unbounded_channel();
        let session = Session::new(
            kiosk.core.clone(),
            kiosk.journal.clone(),
            kiosk.devices.clone(),
            settings,
            Context::default(),
            None,
            tx,
        );
        Self {
            session,
            answers,
            core: kiosk.core.clone(),
            journal: kiosk.journal.clone(),
            out,
            next: None,
            views: None,
        }
    }

    /// The payment platform simulator whose test payer pays for the
    /// patients who answer "pay" (tests, the demo).
    pub fn with_pay_sim(mut self, url: impl Into<String>) -> Self {
        self.session.pay_sim = Some(url.into());
        self
    }

    /// Every screen the session shows from now on (tests, benchmarks).
    pub fn views(&mut self) -> watch::Receiver<View> {
        let (tx, rx) = watch::channel(self.session.view());
        self.views = Some(tx);
        rx
    }

    pub fn out(&self) -> &W {
        &self.out
    }

    /// Plays scripted steps, each patient to the end of their visit.
    pub async fn play(&mut self, steps: &[Step]) -> Outcome {
        let (tx, rx) = unbounded_channel();
        for s in steps {
            let _ = tx.send(Arrival::Step(s.clone()));
        }
        drop(tx);
        self.serve(rx).await
    }

    /// Serves arrivals until their senders are all gone. Device states and
    /// problems are handled as they come; patients one after another.
    pub async fn serve(&mut self, mut arrivals: UnboundedReceiver<Arrival>) -> Outcome {
        let mut total = Outcome::default();
        let mut queue = VecDeque::new();
        let mut open = true;
        loop {
            let next = match queue.pop_front() {
                Some(a) => a,
                None if open => match arrivals.recv().await {
                    Some(a) => a,
                    None => {
                        open = false;
                        continue;
                    }
                },
                None => break,
            };
            let start = match next {
                Arrival::NextAnswers(a) => {
                    self.next = Some(a);
                    continue;
                }
                Arrival::Step(Step::Wait(ms)) => {
                    let until = tokio::time::Instant::now() + Duration::from_millis(ms);
                    while open {
                        tokio::select! {
                            a = arrivals.recv() => match a {
                                Some(a) => self.take_in(a, &mut queue),
                                None => open = false,
                            },
                            () = tokio::time::sleep_until(until) => break,
                        }
                    }
                    tokio::time::sleep_until(until).await;
                    continue;
                }
                Arrival::Device(i @ (Input::Problem { .. } | Input::DeviceState { .. })) => {
                    self.device(i);
                    continue;
                }
                Arrival::Step(Step::Identify(q, a)) => (Start::Identify(q), a),
                Arrival::Step(Step::Report(id)) => (Start::Report(id), Answers::default()),
                Arrival::Device(Input::Card(h)) => {
                    (Start::Card(h), self.next.take().unwrap_or_default())
                }
                Arrival::Device(Input::Identify(q) | Input::CameraCode(q)) => {
                    (Start::Identify(q), self.next.take().unwrap_or_default())
                }
            };
            let o = self
                .visit(start.0, start.1, &mut arrivals, &mut open, &mut queue)
                .await;
            total.add(&o);
        }
        total
    }

    /// An arrival during a patient's visit: device states now, patients
    /// after.
    fn take_in(&mut self, a: Arrival, queue: &mut VecDeque<Arrival>) {
        match a {
            Arrival::Device(i @ Input::DeviceState { .. }) => self.device(i),
            a => queue.push_back(a),
        }
    }

    fn device(&mut self, i: Input) {
        let said = match &i {
            Input::Problem { device, message } => format!("{device:<13} {message}"),
            Input::DeviceState { device, state } => format!("{device:<13} device {state}"),
            Input::Card(_) | Input::Identify(_) | Input::CameraCode(_) => String::new(),
        };
        let idle = self.session.flow.screen == Screen::Attract;
        self.session.input(SessionInput::Device(i));
        // What the patient is told, as the touch screen words it.
        let told = match self.session.view().screen {
            kiosk_ui::Screen::Problem(p) => format!(": the screen says {}", p.title),
            _ => String::new(),
        };
        if !said.is_empty() {
            let _ = writeln!(self.out, "{} {said}{told}", stamp());
        }
        if idle && matches!(self.session.flow.screen, Screen::Problem(_)) {
            // Nobody reads the notice: the patient places the card again.
            self.session.input(SessionInput::Event(Event::Cancel));
        }
        self.publish();
    }

    fn publish(&self) {
        if let Some(v) = &self.views {
            v.send_if_modified(|shown| {
                let now = self.session.view();
                let changed = *shown != now;
                if changed {
                    *shown = now;
                }
                changed
            });
        }
    }

    async fn visit(
        &mut self,
        start: Start,
        answers: Answers,
        arrivals: &mut UnboundedReceiver<Arrival>,
        open: &mut bool,
        queue: &mut VecDeque<Arrival>,
    ) -> Outcome {
        if self.session.flow.screen != Screen::Attract {
            self.session.input(SessionInput::Event(Event::Cancel));
        }
        let mut v = Visit {
            answers,
            holder: None,
            found: None,
            not_chosen: Vec::new(),
            paid_fen: None,
            pay_asked: false,
            left_unpaid: false,
            problem: None,
            reports: Reports::NotAsked,
            report_jobs: 0,
            ignored: 0,
        };
        let (query, reports) = match start {
            Start::Card(h) => {
                let q = IdentityQuery::IdNumber {
                    id_number: h.holder.id_number.clone(),
                };
                self.session.input(SessionInput::Device(Input::Card(h)));
                (q, false)
            }
            Start::Identify(q) => {
                self.session
                    .input(SessionInput::Device(Input::Identify(q.clone())));
                (q, false)
            }
            Start::Report(id_number) => {
                let q = IdentityQuery::IdNumber {
                    id_number: id_number.clone(),
                };
                if !self.core.prints_reports() {
                    let _ = writeln!(
                        self.out,
                        "{} {:<13} {:<20} this kiosk has no report printer",
                        stamp(),
                        "report",
                        who(&q)
                    );
                    return Outcome::default();
                }
                v.holder = Some(Holder {
                    id_number,
                    name: String::new(),
                    photo: false,
                });
                self.session.input(SessionInput::Event(Event::StartReports));
                (q, true)
            }
        };
        // The check-in's line goes out once it is journaled (the printing
        // screen follows the commit), not only after the paper.
        let mut told = None;
        loop {
            self.publish();
            match self.answer(&mut v) {
                Next::Answered => continue,
                Next::Gone => break,
                Next::Wait => {}
            }
            if !reports
                && told.is_none()
                && matches!(self.session.flow.screen, Screen::Printing { .. })
            {
                told = Some(self.check_in_line(&query, &v));
            }
            tokio::select! {
                Some(i) = self.answers.recv() => {
                    match &i {
                        SessionInput::Event(Event::Found(_, f)) => v.found = Some(f.clone()),
                        SessionInput::ReportsQueued(_, Ok(jobs)) => v.report_jobs = jobs.len(),
                        _ => {}
                    }
                    self.session.input(i);
                }
                a = arrivals.recv(), if *open => match a {
                    Some(a) => self.take_in(a, queue),
                    None => *open = false,
                },
                // Printing progress, and the screens' own timeouts should
                // the patient be stuck.
                () = tokio::time::sleep(TICK) => self.session.tick(Instant::now()),
            }
        }
        // A payment order asked for before the patient left is closed when
        // its answer comes (the kiosk's loop never stops; this one does
        // between patients, so it waits for that answer here).
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.session.ordering() {
            tokio::select! {
                Some(i) = self.answers.recv() => self.session.input(i),
                () = tokio::time::sleep_until(until) => break,
            }
        }
        self.publish();
        if reports {
            return self.report_line(&query, &v);
        }
        let Some(o) = told else {
            return self.check_in_line(&query, &v);
        };
        if v.problem == Some(Problem::PrinterOut) {
            let _ = writeln!(
                self.out,
                "{} {:<13} {:<20} printer out: the documents wait for pickup",
                stamp(),
                query.method(),
                who(&query)
            );
        }
        o
    }

    /// The patient's answer to the screen shown.
    fn answer(&mut self, v: &mut Visit) -> Next {
        let screen = self.session.flow.screen.clone();
        let ev = match &screen {
            Screen::Attract => return Next::Gone,
            Screen::Looking { .. }
            | Screen::Printing { .. }
            | Screen::Book(crate::flow::Step::Loading | crate::flow::Step::Working)
            | Screen::Reports(ReportStep::Loading | ReportStep::Fetching) => return Next::Wait,
            Screen::Consent { .. } => Event::Consent(v.answers.consent),
            Screen::Choose {
                bookings, selected, ..
            } => match &v.answers.choose {
                Choice::All => Event::PrintAll,
                Choice::Codes(codes) => {
                    let want: BTreeSet<i64> = bookings
                        .iter()
                        .filter(|b| b.eligibility == Eligibility::Ready && codes.contains(&b.code))
                        .map(|b| b.id)
                        .collect();
                    v.not_chosen = bookings
                        .iter()
                        .map(|b| b.id)
                        .filter(|id| !want.contains(id))
                        .collect();
                    match selected.symmetric_difference(&want).next() {
                        _ if want.is_empty() => Event::Cancel,
                        Some(&id) => Event::Toggle(id),
                        None => Event::Confirm,
                    }
                }
            },
            Screen::Photo { .. } => match v.answers.photo {
                PhotoAnswer::Take => Event::PhotoTaken,
                PhotoAnswer::Skip => Event::SkipPhoto,
            },
            Screen::Pay { amount_fen } => match v.answers.pay {
                Pay::Pay => {
                    // K16: once the service's QR code is up, the payment
                    // simulator's test payer pays it; the platform tells the
                    // service, the kiosk hears it by asking.
                    if !v.pay_asked && self.session.payment_ready() {
                        v.pay_asked = true;
                        v.paid_fen = Some(*amount_fen);
                        self.session.input(SessionInput::SimulatedPayment);
                    }
                    return Next::Wait;
                }
                Pay::WalkAway => {
                    v.left_unpaid = true;
                    // Nobody there: the screen's timeout passes.
                    let after = self.session.flow.timeout().unwrap_or_default();
                    self.session
                        .tick(Instant::now() + after + Duration::from_secs(1));
                    return self.moved_on(&screen, v);
                }
                Pay::Cancel => {
                    v.left_unpaid = true;
                    Event::Cancel
                }
            },
            Screen::TakeDocuments { .. } => Event::Act(Action::Finish),
            Screen::Problem(p) => {
                v.problem = Some(p.clone());
                Event::Cancel
            }
            Screen::Keypad(_) | Screen::Book(_) => Event::Cancel,
            // A scripted patient does not open the notice; if shown, back.
            Screen::Privacy { .. } => Event::Act(Action::Back),
            // A scripted patient does not use face check-in (its own test
            // drives the session): the camera is waited for, the notice
            // and the enrolment question declined, a miss left.
            Screen::Face(crate::flow::FaceStep::Looking(_)) => return Next::Wait,
            Screen::Face(crate::flow::FaceStep::Notice | crate::flow::FaceStep::Enrol) => {
                Event::Act(Action::Back)
            }
            Screen::Face(crate::flow::FaceStep::Missed(_) | crate::flow::FaceStep::ToDesk(_)) => {
                Event::Act(Action::Finish)
            }
            // The centre checks cards against faces: the patient agrees.
            Screen::Face(crate::flow::FaceStep::CardNotice) => Event::Act(Action::Next),
            Screen::Reports(step) => match step {
                ReportStep::PlaceCard => match v.holder.clone() {
                    Some(h) => {
                        self.session
                            .input(SessionInput::Device(Input::Card(h.into())));
                        return self.moved_on(&screen, v);
                    }
                    None => Event::Act(Action::Finish),
                },
                ReportStep::List { selected } => {
                    let list = self
                        .session
                        .flow
                        .reports()
                        .map(|r| r.list.clone())
                        .unwrap_or_default();
                    // The patient prints what they have not printed here yet.
                    let want: BTreeSet<usize> = (0..list.len())
                        .filter(|&i| {
                            !self
                                .journal
                                .lock()
                                .report_printed_here(list[i].id)
                                .unwrap_or(false)
                        })
                        .collect();
                    if want.is_empty() {
                        v.reports = Reports::NothingNew;
                        Event::Act(Action::Back)
                    } else if let Some(&i) = selected.symmetric_difference(&want).next() {
                        Event::Pick(i)
                    } else {
                        v.reports = Reports::Chosen(want.iter().map(|&i| list[i].id).collect());
                        Event::Act(Action::Print)
                    }
                }
                ReportStep::Loading | ReportStep::Fetching => return Next::Wait,
                ReportStep::NoneYet => {
                    v.reports = Reports::NoneYet;
                    Event::Act(Action::Finish)
                }
                ReportStep::Unavailable(u) => {
                    v.reports = match v.reports {
                        Reports::Chosen(_) => Reports::Failed(u.clone()),
                        _ => Reports::Unavailable(u.clone()),
                    };
                    Event::Act(Action::Finish)
                }
            },
        };
        self.session.input(SessionInput::Event(ev));
        self.moved_on(&screen, v)
    }

    /// An answer the flow did not take leaves the screen as it was; the
    /// patient then taps cancel, and failing that waits for the screen's
    /// timeout, rather than repeating themselves for ever.
    fn moved_on(&mut self, before: &Screen, v: &mut Visit) -> Next {
        if self.session.flow.screen != *before {
            return Next::Answered;
        }
        v.ignored += 1;
        tracing::warn!(screen = ?before, "the headless patient's answer was not taken");
        if v.ignored == 1 {
            self.session.input(SessionInput::Event(Event::Cancel));
            if self.session.flow.screen != *before {
                return Next::Answered;
            }
        }
        Next::Wait
    }

    /// One masked line for a patient who came to check in.
    fn check_in_line(&mut self, q: &IdentityQuery, v: &Visit) -> Outcome {
        let mut o = Outcome::default();
        let empty = Identified {
            source: Source::OfflineCache,
            person: None,
            candidates: Vec::new(),
        };
        let found = v.found.as_ref().unwrap_or(&empty);
        let offline = found.source != Source::Online;
        let name = found
            .person
            .as_ref()
            .map_or("?".into(), |p| mask::name(&p.name));
        let mut line = format!(
            "{} {:<13} {:<20} {name:<6} {:<7} ",
            stamp(),
            q.method(),
            who(q),
            if offline { "offline" } else { "online" }
        );
        if found.candidates.is_empty() {
            o.not_found += 1;
            line += "no booking found: please go to the front desk";
        }
        for c in &found.candidates {
            let b = &c.record.booking;
            match &c.eligibility {
                Eligibility::Ready => {
                    // Ready at the lookup means not checked in here then:
                    // checked in now, it was this patient's check-in.
                    let journaled =
                        self.journal
                            .lock()
                            .checked_in_locally(b.id)
                            .unwrap_or_else(|e| {
                                tracing::error!(error = %e, "reading the journal");
                                false
                            });
                    if journaled {
                        o.checked_in += 1;
                        o.offline += usize::from(offline);
                        line += &format!("checked in {} ({}); ", b.code, b.package);
                    } else if v.not_chosen.contains(&b.id) {
                        line += &format!("{}: not chosen; ", b.code);
                    } else if v.left_unpaid {
                        o.unpaid += 1;
                        line += &format!(
                            "{}: left without paying {}; ",
                            b.code,
                            crate::screens::yuan(b.amount_due_fen)
                        );
                    } else {
                        o.refused += 1;
                        line += &format!("{}: not checked in; ", b.code);
                    }
                }
                Eligibility::AlreadyCheckedIn => {
                    o.already += 1;
                    line += &format!("{} already checked in; ", b.code);
                }
                other => {
                    o.refused += 1;
                    line += &format!("{}: {}; ", b.code, describe(other));
                }
            }
        }
        if let Some(fen) = v.paid_fen {
            o.paid += 1;
            line += &format!("paid {} (payment simulator); ", crate::screens::yuan(fen));
        }
        let _ = writeln!(self.out, "{}", line.trim_end_matches("; "));
        o
    }

    /// One masked line for a patient who came for their reports.
    fn report_line(&mut self, q: &IdentityQuery, v: &Visit) -> Outcome {
        let mut o = Outcome::default();
        let said = match &v.reports {
            Reports::NotAsked => "reports not reached".to_string(),
            Reports::Unavailable(u) => format!("reports unavailable: {u:?}"),
            Reports::NoneYet | Reports::NothingNew => "no report to print".into(),
            Reports::Failed(u) => format!("reports not printed: {u:?}"),
            Reports::Chosen(ids) => {
                o.reports = v.report_jobs;
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                format!("printing reports {}", ids.join(", "))
            }
        };
        let _ = writeln!(
            self.out,
            "{} {:<13} {:<20} {said}",
            stamp(),
            "report",
            who(q)
        );
        o
    }
}
