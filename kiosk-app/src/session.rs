//! The patient session: the I/O edge of the pure [`Flow`]. It turns device
//! inputs and touches into flow events, performs the flow's effects (lookup,
//! journal, payment, alerts, voice), follows the printing of the patient's
//! documents and keeps the screen's [`View`] current. The Slint window (see
//! `ui`) and the benchmarks drive the same session.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use exam_domain::IdentityQuery;
use exam_protocol::{Alert, DeviceState};
use kiosk_ui::View;
use offline_store::SharedJournal;
use sync_client::DeviceBoard;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;
use uuid::Uuid;

use crate::checkin::{CheckinCore, Identified, PhotoStep, Source};
use crate::devices::Input;
use crate::flow::{Effect, Event, Flow, Screen, Settings, Via};
use crate::screens::{Context, view};
use crate::voice::Voice;
use device_drivers::camera::Frame;

/// What reaches the session: a flow event (touch), a device input, or a
/// touch that only keeps the screen awake.
#[derive(Debug)]
pub enum SessionInput {
    Event(Event),
    Device(Input),
    ToggleElderly,
    ToggleLanguage,
    Touched,
    /// The payment simulator reports the open order paid.
    SimulatedPayment,
    /// The i-th button at the foot of a booking or report screen.
    Act(usize),
    /// The chosen reports were fetched and journaled (these print jobs),
    /// or could not be.
    ReportsQueued(u64, Result<Vec<Uuid>, crate::flow::Unavailable>),
}

/// The payment a patient is asked for. Until the hospital's payment
/// platform is connected this is a simulator, and the screen says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    pub amount_fen: i64,
}

pub struct Session {
    pub flow: Flow,
    pub cx: Context,
    core: CheckinCore,
    journal: SharedJournal,
    devices: DeviceBoard,
    voice: Option<Voice>,
    found: Option<Identified>,
    /// Print jobs of the patient in front of the kiosk.
    jobs: Vec<Uuid>,
    /// The jobs were resumed after a restart and nobody has touched the
    /// screen since: their owner has probably left.
    resumed_unclaimed: bool,
    pub order: Option<Order>,
    /// The patient in front paid the amount due here (for the fee list).
    paid: bool,
    last_touch: Instant,
    notice_until: Option<Instant>,
    tx: UnboundedSender<SessionInput>,
    /// The photo on the ID card of the patient in front, if decoded.
    card_photo: Option<Arc<Frame>>,
    /// The camera's latest frame (the photo screen's picture).
    camera: Option<Arc<Mutex<Option<Frame>>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("screen", &self.flow.screen)
            .finish()
    }
}

/// An answer from the edge rather than the patient's touch: it neither
/// keeps the screen awake nor claims resumed documents.
fn answer(e: &Event) -> bool {
    matches!(
        e,
        Event::Found(..)
            | Event::Printed { .. }
            | Event::BookingLoaded(..)
            | Event::BookingAnswer(..)
            | Event::ReportsLoaded(..)
            | Event::ReportsQueued(..)
    )
}

fn via_of(q: &IdentityQuery) -> Via {
    match q {
        IdentityQuery::IdNumber { .. } => Via::IdCard,
        IdentityQuery::IdNumberAndMobile { .. } => Via::Keypad,
        IdentityQuery::BookingCode { .. } | IdentityQuery::ExamNo { .. } => Via::Scan,
    }
}

impl Session {
    /// A session whose inputs come through `tx`'s channel (lookups answer
    /// through it too).
    pub fn new(
        core: CheckinCore,
        journal: SharedJournal,
        devices: DeviceBoard,
        settings: Settings,
        cx: Context,
        voice: Option<Voice>,
        tx: UnboundedSender<SessionInput>,
    ) -> Self {
        let mut cx = cx;
        cx.printer = core.prints();
        cx.reports = core.prints_reports();
        Self {
            flow: Flow::new(settings),
            cx,
            core,
            journal,
            devices,
            voice,
            found: None,
            jobs: Vec::new(),
            resumed_unclaimed: false,
            order: None,
            paid: false,
            last_touch: Instant::now(),
            notice_until: None,
            tx,
            card_photo: None,
            camera: None,
        }
    }

    /// The camera whose latest frame becomes the patient's photo.
    pub fn with_camera(mut self, latest: Arc<Mutex<Option<Frame>>>) -> Self {
        self.camera = Some(latest);
        self
    }

    pub fn view(&self) -> View {
        view(&self.flow, &self.cx)
    }

    /// K15: jobs left unfinished by a crash or power cut print first, and
    /// the screen says 继续打印您的单据.
    pub fn resume_unfinished(&mut self) {
        let jobs = self.journal.lock().unfinished_jobs().unwrap_or_default();
        if !jobs.is_empty() {
            let total = jobs.len();
            self.jobs = jobs;
            self.resumed_unclaimed = true;
            self.apply(Event::ResumePrinting { done: 0, total });
        }
    }

    /// One input; effects are carried out before this returns, except the
    /// lookup, whose answer comes back as another input.
    pub fn input(&mut self, input: SessionInput) {
        if matches!(
            input,
            SessionInput::Touched | SessionInput::ToggleElderly | SessionInput::ToggleLanguage
        ) || matches!(&input, SessionInput::Event(e) if !answer(e))
        {
            // Someone touched the screen: resumed documents are theirs to
            // take. (A card or a scan may be the next patient's.)
            self.resumed_unclaimed = false;
        }
        match input {
            SessionInput::Touched => self.last_touch = Instant::now(),
            SessionInput::Act(i) => {
                self.last_touch = Instant::now();
                if let Some(&(a, true)) = self.flow.book_actions().get(i) {
                    self.apply(Event::Act(a));
                }
            }
            SessionInput::SimulatedPayment => self.simulate_payment(),
            SessionInput::ToggleElderly => {
                self.last_touch = Instant::now();
                self.flow.settings.elderly = !self.flow.settings.elderly;
            }
            SessionInput::ToggleLanguage => {
                self.last_touch = Instant::now();
                self.cx.english = !self.cx.english;
            }
            SessionInput::Event(ev) => {
                if !answer(&ev) {
                    self.last_touch = Instant::now();
                }
                self.apply(ev);
            }
            SessionInput::ReportsQueued(id, r) => {
                let jobs = r.clone().unwrap_or_default();
                self.apply(Event::ReportsQueued(id, r.map(|jobs| jobs.len())));
                if matches!(self.flow.screen, Screen::Printing { .. })
                    && self.flow.reports().is_some()
                {
                    self.jobs.extend(jobs);
                } else if !jobs.is_empty() {
                    // The patient left while their reports were fetched:
                    // they print all the same and wait at the desk.
                    if let Err(e) = self.journal.lock().record_left_behind(&jobs, Utc::now()) {
                        tracing::error!(error = %e, "recording reports left behind");
                    }
                }
            }
            SessionInput::Device(Input::Card(card)) => {
                self.last_touch = Instant::now();
                self.card_photo = card.photo;
                self.apply(Event::CardRead(card.holder));
            }
            SessionInput::Device(Input::Identify(q)) => {
                self.last_touch = Instant::now();
                self.card_photo = None;
                let via = via_of(&q);
                self.apply(Event::Identify(q, via));
            }
            SessionInput::Device(Input::Problem { device, message }) => {
                tracing::info!(device, message, "device problem");
                if device == "idcard" {
                    self.apply(Event::CardUnreadable);
                }
            }
            SessionInput::Device(Input::DeviceState { device, state }) => {
                self.devices.set(device, state);
            }
        }
    }

    fn apply(&mut self, ev: Event) {
        if let Event::Found(_, f) = &ev {
            self.found = Some(f.clone());
        }
        for fx in self.flow.handle(ev) {
            self.effect(fx);
        }
        if matches!(self.flow.screen, Screen::Attract) {
            // Back at the start: nothing of the last patient stays.
            self.card_photo = None;
        }
    }

    fn effect(&mut self, fx: Effect) {
        match fx {
            Effect::Lookup(id, q) => {
                let core = self.core.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let found = match core.identify(&q, Utc::now()).await {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::error!(error = %e, "lookup failed in the journal");
                            Identified {
                                source: Source::OfflineCache,
                                person: None,
                                candidates: Vec::new(),
                            }
                        }
                    };
                    let _ = tx.send(SessionInput::Event(Event::Found(id, found)));
                });
            }
            Effect::CheckIn {
                bookings,
                identified_by,
                photo,
                privacy,
                ..
            } => self.check_in(&bookings, identified_by, photo, privacy.as_ref()),
            Effect::RequestPayment { amount_fen } => {
                let order = Order {
                    id: Uuid::now_v7(),
                    amount_fen,
                };
                let provider = if self.cx.english {
                    "Payment simulator: no real money is taken"
                } else {
                    "支付模拟器：不会真实扣款"
                };
                self.cx.payment = Some((
                    format!("kiosk-sim-pay:{}?amount_fen={amount_fen}", order.id),
                    provider.into(),
                ));
                self.order = Some(order);
            }
            Effect::CancelPayment => {
                if let Some(o) = self.order.take() {
                    tracing::info!(order = %o.id, "payment cancelled");
                }
                self.cx.payment = None;
            }
            Effect::AlertStaff(alert) => {
                tracing::warn!(%alert, "staff alerted");
                self.devices.raise(alert);
                if alert == Alert::CallStaff {
                    self.notice(if self.cx.english {
                        "Staff have been called and will come to you"
                    } else {
                        "已呼叫工作人员，请稍候"
                    });
                }
            }
            Effect::ClearPersonalData => {
                self.leave_documents_behind();
                self.found = None;
                self.paid = false;
                self.jobs.clear();
                self.order = None;
                self.cx.payment = None;
            }
            Effect::Speak(prompt) => {
                if let Some(v) = &self.voice {
                    v.play(prompt);
                }
            }
            Effect::LoadBooking(id, id_number) => {
                let core = self.core.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r = crate::booking::load(&core, id_number, Utc::now()).await;
                    let _ = tx.send(SessionInput::Event(Event::BookingLoaded(id, r)));
                });
            }
            Effect::SubmitBooking(id, sub) => {
                let core = self.core.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r = crate::booking::submit(&core, sub).await;
                    let _ = tx.send(SessionInput::Event(Event::BookingAnswer(id, r)));
                });
            }
            Effect::LoadReports(id, id_number) => {
                let core = self.core.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r = crate::reports::load(&core, id_number).await;
                    let _ = tx.send(SessionInput::Event(Event::ReportsLoaded(id, r)));
                });
            }
            Effect::PrintReports(id, id_number, chosen) => {
                let core = self.core.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r = crate::reports::queue(&core, id_number, chosen).await;
                    let _ = tx.send(SessionInput::ReportsQueued(id, r));
                });
            }
            Effect::PrintBookingSlip(outcome) => {
                let name = self
                    .flow
                    .booking()
                    .map(|b| b.holder.name.clone())
                    .unwrap_or_default();
                match self.core.print_booking_slip(&name, &outcome, Utc::now()) {
                    Ok(Some(job)) => tracing::info!(%job, "booking slip journaled"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "journaling the booking slip"),
                }
            }
        }
    }

    /// The patient's session ends: documents still printing (or resumed
    /// after a restart that nobody came back for) wait for pickup at the
    /// desk, recorded under their owner.
    fn leave_documents_behind(&mut self) {
        let mut j = self.journal.lock();
        let jobs: Vec<Uuid> = if std::mem::take(&mut self.resumed_unclaimed) {
            self.jobs.clone()
        } else {
            let unfinished = j.unfinished_jobs().unwrap_or_default();
            self.jobs
                .iter()
                .filter(|job| unfinished.contains(job))
                .copied()
                .collect()
        };
        if jobs.is_empty() {
            return;
        }
        match j.record_left_behind(&jobs, Utc::now()) {
            Ok(n) => tracing::info!(jobs = n, "documents left for pickup at the desk"),
            Err(e) => tracing::error!(error = %e, "recording documents left behind"),
        }
    }

    fn check_in(
        &mut self,
        bookings: &[i64],
        method: &'static str,
        photo: crate::flow::Photo,
        privacy: Option<&exam_protocol::PrivacyAnswers>,
    ) {
        let Some(found) = self.found.clone() else {
            return;
        };
        // PIPL: a photo only with consent. The camera's when one was taken,
        // else the ID card's (decoded by the vendor's library), if any.
        let camera = self
            .camera
            .as_ref()
            .and_then(|c| {
                c.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone()
            })
            .filter(|_| photo == crate::flow::Photo::Taken);
        let (outcome, frame) = match photo {
            crate::flow::Photo::NotConsented => ("declined", None),
            _ => match (camera, self.card_photo.as_deref().cloned()) {
                (Some(f), _) => ("camera", Some(f)),
                (None, Some(f)) => ("id_card", Some(f)),
                (None, None) => ("skipped", None),
            },
        };
        // Recorded only where the kiosk has a photo step at all.
        let step = self.flow.settings.photo.then_some(PhotoStep {
            outcome,
            frame: frame.as_ref(),
            privacy,
        });
        for c in found
            .candidates
            .iter()
            .filter(|c| bookings.contains(&c.record.booking.id))
        {
            match self
                .core
                .check_in_printing(c, method, found.source, self.paid, step, Utc::now())
            {
                Ok((_, Some(job))) => self.jobs.push(job),
                Ok((_, None)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, booking = c.record.booking.id, "check-in refused")
                }
            }
        }
        if self.jobs.is_empty() {
            // Nothing to print here (no receipt printer): done.
            self.apply(Event::PrintFinished {
                first_station: None,
            });
        }
    }

    fn notice(&mut self, text: &str) {
        self.cx.notice = text.into();
        self.notice_until = Some(Instant::now() + Duration::from_secs(6));
    }

    /// Time passes: inactivity timeout, printing progress, the notice.
    pub fn tick(&mut self, now: Instant) {
        self.cx.clock = Utc::now()
            .with_timezone(&exam_domain::centre_offset())
            .format("%Y-%m-%d %H:%M")
            .to_string();
        if self.notice_until.is_some_and(|t| now >= t) {
            self.notice_until = None;
            self.cx.notice.clear();
        }
        if let Some(t) = self.flow.timeout()
            && now.duration_since(self.last_touch) >= t
        {
            self.last_touch = now;
            self.apply(Event::Timeout);
        }
        if let Screen::Printing { done, .. } = self.flow.screen {
            let unfinished: HashSet<Uuid> = self
                .journal
                .lock()
                .unfinished_jobs()
                .unwrap_or_default()
                .into_iter()
                .collect();
            let total = self.jobs.len();
            let now_done = self.jobs.iter().filter(|j| !unfinished.contains(j)).count();
            if now_done == total && total > 0 {
                self.apply(Event::PrintFinished {
                    first_station: None,
                });
            } else if now_done != done {
                self.apply(Event::Printed {
                    done: now_done,
                    total,
                });
            } else if self.printer_stuck() {
                self.apply(Event::PrinterOut);
            }
        }
    }

    fn printer_stuck(&self) -> bool {
        // The patient's report waits on the report printer, the rest on
        // the receipt printer.
        let printer = if self.flow.reports().is_some() {
            "report"
        } else {
            "receipt"
        };
        self.devices
            .state(printer)
            .is_some_and(DeviceState::stops_printing)
    }

    /// The payment simulator's "paid" (the developer panel, the tests).
    pub fn simulate_payment(&mut self) {
        if self.order.take().is_some() {
            self.paid = true;
            self.apply(Event::Paid);
        }
    }
}

/// Runs a session until its inputs close: every input and every 100 ms
/// tick publishes the view.
pub async fn run(
    mut session: Session,
    mut rx: UnboundedReceiver<SessionInput>,
    views: watch::Sender<View>,
) -> Session {
    session.resume_unfinished();
    let _ = views.send(session.view());
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            input = rx.recv() => match input {
                Some(i) => session.input(i),
                None => break,
            },
            _ = tick.tick() => session.tick(Instant::now()),
        }
        views.send_if_modified(|v| {
            let new = session.view();
            if *v == new {
                false
            } else {
                *v = new;
                true
            }
        });
    }
    session
}
