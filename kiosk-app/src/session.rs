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
    /// The developer's "pay" key: the payment platform simulator's test
    /// payer pays the open order's QR code (`EXAM_KIOSK_PAY_SIM`).
    SimulatedPayment,
    /// K16: the service's answer to the order request (the QR content), or
    /// why payment is unavailable.
    PaymentOrdered(Result<exam_protocol::PaymentOrder, String>),
    /// K16: the open order's state changed (polled from the service).
    PaymentSettled(String, exam_protocol::PaymentState),
    /// The i-th button at the foot of a booking or report screen.
    Act(usize),
    /// The chosen reports were fetched and journaled (these print jobs),
    /// or could not be.
    ReportsQueued(u64, Result<Vec<Uuid>, crate::flow::Unavailable>),
}

/// The platform order a patient is asked to pay (made by the central
/// service; the kiosk holds no platform key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub code_url: Option<String>,
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
    /// The queue's first station for the patient just checked in (online
    /// lookups only), for the take-your-documents screen.
    first_station: Option<String>,
    /// The jobs were resumed after a restart and nobody has touched the
    /// screen since: their owner has probably left.
    resumed_unclaimed: bool,
    pub order: Option<Order>,
    /// The close of an order the last patient left, still on its way to
    /// the service: a new order waits for it, or the service could hand
    /// back that same order (open, for the same items) just as it closes.
    closing: Option<tokio::task::JoinHandle<()>>,
    /// A payment order asked for and not yet answered.
    ordering: bool,
    /// Development: the payment platform simulator whose test payer the
    /// "pay" key sends (`EXAM_KIOSK_PAY_SIM`, or set by a test).
    pub pay_sim: Option<String>,
    /// The patient in front paid the amount due here (for the fee list).
    paid: bool,
    last_touch: Instant,
    notice_until: Option<Instant>,
    tx: UnboundedSender<SessionInput>,
    /// The photo on the ID card of the patient in front, if decoded.
    card_photo: Option<Arc<device_drivers::idcard::Photo>>,
    /// The camera's latest frame (the photo screen's picture).
    camera: Option<Arc<Mutex<Option<Frame>>>>,
    /// K3: the face worker's models, gallery and camera, if this kiosk
    /// identifies by face; the run in progress.
    face: Option<crate::face::FaceService>,
    face_run: Option<crate::face::Stop>,
    /// The face template taken when the patient's photo was (computed on
    /// a thread of its own), for the enrolment they may agree to next.
    face_template: Option<Arc<Mutex<Option<Vec<f32>>>>>,
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
            | Event::FaceCue(..)
            | Event::FaceDone(..)
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
            first_station: None,
            resumed_unclaimed: false,
            order: None,
            closing: None,
            ordering: false,
            pay_sim: std::env::var("EXAM_KIOSK_PAY_SIM").ok(),
            paid: false,
            last_touch: Instant::now(),
            notice_until: None,
            tx,
            card_photo: None,
            camera: None,
            face: None,
            face_run: None,
            face_template: None,
        }
    }

    /// The face template taken with the photo is ready (tests wait on it).
    pub fn face_template_ready(&self) -> bool {
        self.face_template.as_ref().is_some_and(|s| {
            s.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_some()
        })
    }

    /// K3: identify by face with this service (the start screen offers it).
    pub fn with_face(mut self, face: crate::face::FaceService) -> Self {
        self.flow.settings.face = true;
        self.face = Some(face);
        self.follow_face_policy();
        self
    }

    /// The centre's face policy as last fetched with the gallery, taken up
    /// between patients (never in the middle of one's session).
    fn follow_face_policy(&mut self) {
        if let Some(f) = &self.face {
            self.flow.settings.face_policy = f
                .gallery
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .policy;
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
            SessionInput::PaymentOrdered(r) => self.payment_ordered(r),
            SessionInput::PaymentSettled(no, state) => self.payment_settled(&no, state),
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
                // The card's photo is this patient's only where the flow
                // takes the card as a new identification (not a card
                // tapped during someone else's check-in).
                if self.flow.takes_card() {
                    self.card_photo = card.photo;
                }
                self.apply(Event::CardRead(card.holder));
            }
            // The camera sees what is in front of it: a code identifies
            // only where a scan is expected (not the guide sheet held up
            // at "take your documents", not a phone behind the keypad).
            SessionInput::Device(Input::CameraCode(_))
                if !matches!(self.flow.screen, Screen::Attract | Screen::Problem(_)) => {}
            SessionInput::Device(Input::Identify(q) | Input::CameraCode(q)) => {
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
        if matches!(self.flow.screen, Screen::Attract) {
            // The policy as last fetched, before the next patient's first
            // event (the first fetch may have come since the start screen).
            self.follow_face_policy();
        }
        if let Event::Found(_, f) = &ev {
            self.found = Some(f.clone());
        }
        if ev == Event::PhotoTaken
            && matches!(self.flow.screen, Screen::Photo { .. })
            && let Some(face) = self.face.clone()
        {
            // The face in front of the camera as the photo is taken: the
            // patient's. Ready long before they answer the enrolment
            // question; sent only if they agree.
            let slot = Arc::new(Mutex::new(None));
            self.face_template = Some(slot.clone());
            std::thread::spawn(move || {
                let t = face.template_now();
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
            });
        }
        let was = screen_name(&self.flow.screen);
        for fx in self.flow.handle(ev) {
            self.effect(fx);
        }
        let now = screen_name(&self.flow.screen);
        if now != was {
            // What the patient sees, for the technician's journal (the
            // screen's kind and a face step's cue or miss, never who).
            tracing::info!(screen = %now, "screen");
        }
        if matches!(self.flow.screen, Screen::Attract) {
            // Back at the start: nothing of the last patient stays.
            self.card_photo = None;
            self.face_template = None;
            self.follow_face_policy();
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
            Effect::RequestPayment { amount_fen } => self.request_payment(amount_fen),
            Effect::PaymentUnavailable => {
                self.notice(if self.cx.english {
                    "Payment is unavailable here: please pay at the desk"
                } else {
                    "自助缴费暂不可用，请到收费处缴费"
                });
            }
            Effect::CancelPayment => {
                if let Some(o) = self.order.take()
                    && let Some(c) = self.core.client().cloned()
                {
                    let tx = self.tx.clone();
                    self.closing = Some(tokio::spawn(async move {
                        match c.cancel_payment(&o.out_trade_no).await {
                            // Paid just before the close: the flow calls staff.
                            Ok(a) if a.state == exam_protocol::PaymentState::Paid => {
                                let _ = tx.send(SessionInput::Event(Event::Paid));
                            }
                            Ok(_) => tracing::info!(order = %o.out_trade_no, "payment cancelled"),
                            // The service closes it at its expiry anyway.
                            Err(e) => tracing::warn!(error = %e, "cancelling the payment"),
                        }
                    }));
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
            Effect::StartFace(id) => self.start_face(id, None),
            Effect::CheckCardFace(id, who) => self.start_face(id, Some(who)),
            Effect::StopFace => {
                if let Some(run) = self.face_run.take() {
                    run.stop();
                }
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
            _ => match (camera, self.card_photo.as_deref().map(|p| p.to_frame())) {
                (Some(f), _) => ("camera", Some(f)),
                (None, Some(f)) => ("id_card", Some(f)),
                (None, None) => ("skipped", None),
            },
        };
        let template = self
            .enrolment(photo, privacy)
            .filter(|_| outcome == "camera");
        // The photo recorded only where the kiosk has a photo step at all;
        // the consent answers wherever there are some.
        let has_step = self.flow.settings.photo;
        let step = (has_step || privacy.is_some()).then_some(PhotoStep {
            outcome: has_step.then_some(outcome),
            frame: frame.as_ref(),
            privacy,
            face: template.as_deref(),
        });
        self.first_station = found
            .candidates
            .iter()
            .filter(|c| bookings.contains(&c.record.booking.id))
            .filter(|_| found.source == crate::checkin::Source::Online)
            .find_map(|c| c.record.documents.as_ref()?.guide.first.as_ref())
            .map(|f| f.label());
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
                first_station: self.first_station.clone(),
            });
        }
    }

    /// Runs the face worker on a thread of its own (the models take about
    /// a tenth of a second a picture); its cues and answer come back as
    /// inputs. Without a service the answer is "unavailable" at once.
    /// Starts the face worker: among today's faces, or (`card`: the ID
    /// number of the card just read) against that card's photo.
    fn start_face(&mut self, id: u64, card: Option<exam_domain::IdNumber>) {
        use kiosk_flow::flow::{FaceResult, Miss};
        if let Some(run) = self.face_run.take() {
            run.stop();
        }
        let tx = self.tx.clone();
        let unavailable = move |tx: &UnboundedSender<SessionInput>| {
            let _ = tx.send(SessionInput::Event(Event::FaceDone(
                id,
                FaceResult::Missed(Miss::Unavailable),
            )));
        };
        let Some(service) = self.face.clone() else {
            return unavailable(&tx);
        };
        let photo = self.card_photo.clone();
        if card.is_some() && photo.is_none() {
            return unavailable(&tx);
        }
        let stop = crate::face::Stop::default();
        self.face_run = Some(stop.clone());
        std::thread::spawn(move || {
            // The card's face first (on this thread: a model run).
            let target = match (card, photo) {
                (Some(who), Some(photo)) => match service.card_target(&photo, who) {
                    Ok(Some(t)) => t,
                    Ok(None) => {
                        tracing::warn!("no face found on the card's photo");
                        return unavailable(&tx);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the card's photo");
                        return unavailable(&tx);
                    }
                },
                _ => crate::face::Target::Today,
            };
            let cues = tx.clone();
            let result = service.run(&target, &stop, |c| {
                let _ = cues.send(SessionInput::Event(Event::FaceCue(id, c)));
            });
            let _ = tx.send(SessionInput::Event(Event::FaceDone(id, result)));
        });
    }

    /// The face template to send with the check-in photo: only when the
    /// person agreed to face check-in now and the camera took their photo
    /// (the template was taken with it).
    fn enrolment(
        &mut self,
        photo: crate::flow::Photo,
        privacy: Option<&exam_protocol::PrivacyAnswers>,
    ) -> Option<Vec<f32>> {
        let slot = self.face_template.take()?;
        // The centre keeps no templates: none leaves the kiosk.
        if !self.flow.settings.face_policy.keep_templates {
            return None;
        }
        let agreed = privacy?
            .consents
            .iter()
            .any(|c| c.purpose == exam_domain::privacy::Purpose::FaceRecognition && c.granted);
        if !agreed || photo != crate::flow::Photo::Taken {
            return None;
        }
        let t = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if t.is_none() {
            tracing::warn!("no usable face when the photo was taken: nothing enrolled");
        }
        t
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
                    first_station: self.first_station.clone(),
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

    /// A payment order was asked for and its answer has not come: the
    /// session must go on taking inputs until it does (an order that comes
    /// after its patient left is closed then).
    pub fn ordering(&self) -> bool {
        self.ordering
    }

    /// The order's QR code is on the screen (the headless patient pays then).
    pub fn payment_ready(&self) -> bool {
        self.order.as_ref().is_some_and(|o| o.code_url.is_some())
    }

    /// K16: ask the central service for the platform order of the chosen
    /// bookings; its answer comes back as `PaymentOrdered`.
    fn request_payment(&mut self, amount_fen: i64) {
        let person = self
            .found
            .as_ref()
            .and_then(|f| f.person.as_ref())
            .map(|p| p.id_number.clone());
        let (Some(client), Some(id_number)) = (self.core.client().cloned(), person) else {
            // Not enrolled, or nobody identified: no order can be made.
            let tx = self.tx.clone();
            let _ = tx.send(SessionInput::PaymentOrdered(Err("no service".into())));
            return;
        };
        let req = exam_protocol::PaymentRequest {
            id_number,
            bookings: self.flow.chosen().to_vec(),
        };
        tracing::info!(amount_fen, "asking the service for a payment order");
        let tx = self.tx.clone();
        let closing = self.closing.take();
        self.ordering = true;
        tokio::spawn(async move {
            if let Some(c) = closing {
                let _ = c.await;
            }
            let r = client.create_payment(&req).await.map_err(|e| e.to_string());
            let _ = tx.send(SessionInput::PaymentOrdered(r));
        });
    }

    fn payment_ordered(&mut self, r: Result<exam_protocol::PaymentOrder, String>) {
        self.ordering = false;
        if !matches!(self.flow.screen, Screen::Pay { .. }) {
            // The patient left meanwhile: close what was made.
            if let (Ok(o), Some(c)) = (r, self.core.client().cloned()) {
                self.closing = Some(tokio::spawn(async move {
                    let _ = c.cancel_payment(&o.out_trade_no).await;
                }));
            }
            return;
        }
        match r {
            Ok(o) if o.code_url.is_some() => {
                let provider = if self.cx.english {
                    "Scan with WeChat to pay the hospital"
                } else {
                    "请使用微信扫码向医院缴费"
                };
                self.cx.payment = Some((o.code_url.clone().unwrap_or_default(), provider.into()));
                self.order = Some(Order {
                    out_trade_no: o.out_trade_no.clone(),
                    amount_fen: o.amount_fen,
                    code_url: o.code_url.clone(),
                });
                self.poll_payment(o.out_trade_no, o.expires_at);
            }
            Ok(_) | Err(_) => {
                if let Err(e) = &r {
                    tracing::warn!(error = %e, "payment unavailable");
                }
                self.apply(Event::PaymentUnavailable);
            }
        }
    }

    /// Asks the service for the order's state every half second until it
    /// is settled, expired, or no longer this session's order.
    fn poll_payment(&self, no: String, expires: chrono::DateTime<Utc>) {
        let Some(c) = self.core.client().cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let until = expires + chrono::Duration::seconds(30);
            while Utc::now() < until && !tx.is_closed() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                match c.payment_state(&no).await {
                    Ok(o) if o.state != exam_protocol::PaymentState::Pending => {
                        let _ = tx.send(SessionInput::PaymentSettled(no, o.state));
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "payment state"),
                }
            }
        });
    }

    fn payment_settled(&mut self, no: &str, state: exam_protocol::PaymentState) {
        let ours = self.order.as_ref().is_some_and(|o| o.out_trade_no == no);
        match state {
            exam_protocol::PaymentState::Paid if ours => {
                self.order = None;
                self.paid = true;
                self.apply(Event::Paid);
            }
            // Paid after the patient left: the flow calls staff.
            exam_protocol::PaymentState::Paid => self.apply(Event::Paid),
            exam_protocol::PaymentState::Failed if ours => {
                self.order = None;
                self.apply(Event::PaymentFailed);
            }
            _ if ours => {
                self.order = None;
                self.apply(Event::PaymentFailed);
            }
            _ => {}
        }
    }

    /// The developer's "pay" key (the developer panel, the headless
    /// patient): pay-sim's test payer pays the order's QR code, as a phone
    /// would; the service hears it from the platform like any payment.
    /// Only with `EXAM_KIOSK_PAY_SIM` set (a development machine).
    pub fn simulate_payment(&mut self) {
        let Some(code_url) = self.order.as_ref().and_then(|o| o.code_url.clone()) else {
            return;
        };
        let Some(sim) = self.pay_sim.clone() else {
            tracing::warn!("no payment simulator (EXAM_KIOSK_PAY_SIM) to pay with");
            return;
        };
        tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{}/sim/pay", sim.trim_end_matches('/')))
                .json(&serde_json::json!({ "code_url": code_url }))
                .send()
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "the payment simulator's payer");
            }
        });
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

/// A screen's kind for the journal: no names, numbers or amounts.
fn screen_name(s: &Screen) -> String {
    use kiosk_flow::flow::FaceStep;
    match s {
        Screen::Attract => "attract".into(),
        Screen::Keypad(_) => "keypad".into(),
        Screen::Looking { .. } => "looking".into(),
        Screen::Consent { .. } => "consent".into(),
        Screen::Choose { .. } => "choose".into(),
        Screen::Photo { .. } => "photo".into(),
        Screen::Pay { .. } => "pay".into(),
        Screen::Printing { .. } => "printing".into(),
        Screen::TakeDocuments { .. } => "take-documents".into(),
        Screen::Problem(p) => format!("problem {p:?}"),
        Screen::Book(_) => "book".into(),
        Screen::Reports(_) => "reports".into(),
        Screen::Privacy { .. } => "privacy".into(),
        Screen::Face(FaceStep::Notice) => "face notice".into(),
        Screen::Face(FaceStep::Looking(c)) => format!("face looking {c:?}"),
        Screen::Face(FaceStep::Missed(m)) => format!("face missed {m:?}"),
        Screen::Face(FaceStep::Enrol) => "face enrol".into(),
        Screen::Face(FaceStep::CardNotice) => "face card notice".into(),
        Screen::Face(FaceStep::ToDesk(m)) => format!("face to desk {m:?}"),
    }
}
