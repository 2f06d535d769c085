//! Assembles a kiosk without a screen: journal, enrolment, sync agent and
//! check-in core, then plays a script of patients through the same core the
//! touch UI uses. The demo and the end-to-end tests drive kiosks this way.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use device_drivers::config::{LabelPrinterConfig, PrinterConfig, ReportPrinterConfig};
use device_drivers::escpos::ReceiptPrinter;
use device_drivers::label::{LabelPrinter, Language};
use exam_domain::{IdentityQuery, mask, slot::Eligibility};
use exam_protocol::DeviceStatus;
use offline_store::{Journal, StoreError};
use sync_client::backoff::Backoff;
use sync_client::{AgentConfig, SyncAgent, SyncClient, SyncError, SyncStatus};
use tokio::sync::watch;

use crate::checkin::{CheckinCore, CheckinError, Source, lock};
use crate::devices::Input;
use crate::script::Step;
use crate::settings::{self, Enrolment};
use crate::spool::SpoolEvent;

#[derive(Debug, Clone)]
pub struct KioskOptions {
    pub journal: PathBuf,
    /// The central service, for the first enrolment.
    pub server_url: Option<String>,
    pub kiosk_id: Option<String>,
    /// One-time enrolment secret from provisioning.
    pub enrol_secret: Option<String>,
    pub agent: AgentConfig,
    pub lookup_timeout: Duration,
    /// The receipt printer (`tcp://host:9100` or a serial device): when set,
    /// every check-in journals its guide sheet and the spooler prints it.
    pub receipt_printer: Option<PrinterConfig>,
    /// The label printer for lab barcode labels (same addresses) and its
    /// language: label parts in the journal print through it.
    pub label_printer: Option<LabelPrinterConfig>,
    /// The A4 report printer (a CUPS queue, `ipp://…`): report parts in the
    /// journal print through it.
    pub report_printer: Option<ReportPrinterConfig>,
}

/// What this kiosk can print for documents staff move here (heartbeat):
/// its printers, the label printer with its language.
fn prints(opts: &KioskOptions) -> Vec<String> {
    let mut p = Vec::new();
    if opts.receipt_printer.is_some() {
        p.push("receipt".to_string());
    }
    if let Some(l) = &opts.label_printer {
        p.push(format!("label:{}", Language::from(l.language).name()));
    }
    if opts.report_printer.is_some() {
        p.push("report".into());
    }
    p
}

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("kiosk journal: {0}")]
    Store(#[from] StoreError),
    #[error("enrolment refused: {0}")]
    Enrol(SyncError),
    #[error("this kiosk is not enrolled: give --server, --kiosk-id and --enrol-secret once")]
    NotEnrolled,
}

pub struct RunningKiosk {
    pub core: CheckinCore,
    pub journal: Arc<Mutex<Journal>>,
    pub enrolment: Enrolment,
    /// Device states, reported in the heartbeat.
    pub devices: Arc<Mutex<Vec<DeviceStatus>>>,
    status: watch::Receiver<SyncStatus>,
    shutdown: watch::Sender<bool>,
    spooler_stop: Arc<std::sync::atomic::AtomicBool>,
    agent: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningKiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningKiosk")
            .field("kiosk", &self.enrolment.key.kiosk_id)
            .finish()
    }
}

/// Headless kiosks have no screen to ask whether the patient is still
/// there: documents a restart left unfinished are recorded as waiting for
/// pickup (they still print). Called before [`start`], so that no spooler
/// can finish a job first. Returns how many jobs.
pub fn left_behind_after_restart(journal: &std::path::Path) -> Result<usize, StoreError> {
    let mut j = Journal::open(journal)?;
    let jobs = j.unfinished_jobs()?;
    j.record_left_behind(&jobs, Utc::now())
}

/// Enrols on first start (retrying while the server is away), then starts
/// the sync agent. Later starts resume from the journal.
pub async fn start(opts: KioskOptions) -> Result<RunningKiosk, KioskError> {
    let journal = Journal::open(&opts.journal)?;
    let enrolment = match settings::load(&journal)? {
        Some(e) => e,
        None => {
            let (Some(url), Some(id), Some(secret)) =
                (&opts.server_url, &opts.kiosk_id, &opts.enrol_secret)
            else {
                return Err(KioskError::NotEnrolled);
            };
            let mut journal = journal;
            let key = settings::pending_key(&mut journal, id)?;
            let mut backoff = Backoff::new(opts.agent.backoff_base, opts.agent.backoff_max);
            let resp = loop {
                match SyncClient::enrol_key(url, &key, secret, &opts.agent.app_version).await {
                    Ok(r) => break r,
                    Err(e) if e.is_transient() => {
                        let d = backoff.next_delay();
                        tracing::warn!(error = %e, retry_in = ?d, "enrolment: central service unreachable");
                        tokio::time::sleep(d).await;
                    }
                    Err(e) => return Err(KioskError::Enrol(e)),
                }
            };
            let e = Enrolment {
                key,
                server_url: url.clone(),
                campus: resp.campus,
                zone: resp.zone,
            };
            settings::save(&mut journal, &e)?;
            tracing::info!(kiosk = %id, campus = %e.campus, "enrolled");
            return Ok(assemble(journal, e, &opts));
        }
    };
    Ok(assemble(journal, enrolment, &opts))
}

fn assemble(journal: Journal, enrolment: Enrolment, opts: &KioskOptions) -> RunningKiosk {
    let journal = Arc::new(Mutex::new(journal));
    let client = SyncClient::new(&enrolment.server_url, enrolment.key.clone());
    let agent = SyncAgent::new(
        journal.clone(),
        client.clone(),
        AgentConfig {
            prints: prints(opts),
            ..opts.agent.clone()
        },
    );
    let core = CheckinCore::new(
        journal.clone(),
        Some(client),
        &enrolment.campus,
        Some(agent.waker()),
    )
    .with_lookup_timeout(opts.lookup_timeout);
    let status = agent.status();
    let devices = agent.devices();
    let spooler_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A spooler's events: its state for the heartbeat, its parts for the log.
    let reporter = |name: &'static str| {
        let devices = devices.clone();
        move |ev| match ev {
            SpoolEvent::State(_, label) => crate::devices::set_state(&devices, name, label.into()),
            SpoolEvent::Printed { job, idx, reprint } => {
                tracing::info!(%job, idx, reprint, printer = name, "printed")
            }
        }
    };
    let core = match &opts.receipt_printer {
        Some(printer) => {
            let bell = Arc::new(crate::spool::Doorbell::default());
            let (address, baud) = (printer.address.clone(), printer.baud);
            crate::spool::spawn_spooler(
                journal.clone(),
                move || {
                    device_drivers::escpos::open_at(&address, baud)
                        .map(|port| ReceiptPrinter::new(port, Duration::from_secs(2)))
                },
                spooler_stop.clone(),
                bell.clone(),
                reporter("receipt"),
            );
            core.with_guide_sheets(&enrolment.key.kiosk_id, bell)
        }
        None => core,
    };
    let core = match &opts.label_printer {
        Some(p) => core.with_lab_labels(p.language.into()),
        None => core,
    };
    if let Some(p) = &opts.label_printer {
        let (address, baud, lang) = (p.address.clone(), p.baud, p.language.into());
        crate::spool::spawn_spooler(
            journal.clone(),
            move || {
                device_drivers::escpos::open_at(&address, baud)
                    .map(|port| LabelPrinter::new(port, lang, Duration::from_secs(2)))
            },
            spooler_stop.clone(),
            Arc::new(crate::spool::Doorbell::default()),
            reporter("label"),
        );
    }
    let core = match &opts.report_printer {
        Some(p) => {
            let devices = devices.clone();
            let bell = Arc::new(crate::spool::Doorbell::default());
            crate::report_spool::spawn_report_spooler(
                journal.clone(),
                p.uri.clone(),
                spooler_stop.clone(),
                bell.clone(),
                move |label| crate::devices::set_state(&devices, "report", label.into()),
            );
            core.with_reports(bell)
        }
        None => core,
    };
    let (shutdown, rx) = watch::channel(false);
    let agent = tokio::spawn(agent.run(rx));
    RunningKiosk {
        core,
        journal,
        enrolment,
        devices,
        status,
        shutdown,
        spooler_stop,
        agent,
    }
}

impl RunningKiosk {
    pub fn sync_status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub fn backlog(&self) -> Result<offline_store::Backlog, StoreError> {
        lock(&self.journal).backlog()
    }

    /// Waits until every journaled event is acknowledged and every print
    /// job printed, up to `timeout`.
    pub async fn drain(&self, timeout: Duration) -> Result<bool, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.backlog()?.pending == 0 && lock(&self.journal).unfinished_jobs()?.is_empty() {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.spooler_stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.shutdown.send(true);
        let _ = self.agent.await;
    }
}

/// What happened to the patients of a script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub checked_in: usize,
    pub already: usize,
    pub refused: usize,
    pub not_found: usize,
    /// Reports journaled for printing.
    pub reports: usize,
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

fn who(q: &IdentityQuery) -> String {
    match q {
        IdentityQuery::IdNumber { id_number }
        | IdentityQuery::IdNumberAndMobile { id_number, .. } => mask::id_number(id_number.as_str()),
        IdentityQuery::BookingCode { code } => code.clone(),
        IdentityQuery::ExamNo { exam_no } => exam_no.clone(),
    }
}

impl Outcome {
    fn add(&mut self, o: &Outcome) {
        self.checked_in += o.checked_in;
        self.already += o.already;
        self.refused += o.refused;
        self.not_found += o.not_found;
        self.reports += o.reports;
    }
}

fn stamp() -> impl std::fmt::Display {
    Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .format("%H:%M:%S")
}

/// One patient: identify, then check in every booking that is ready (K7
/// "print all"). One line goes to `out`, masked.
pub async fn serve_patient(
    core: &CheckinCore,
    q: &IdentityQuery,
    out: &mut impl Write,
) -> Result<Outcome, CheckinError> {
    let mut o = Outcome::default();
    let found = core.identify(q, Utc::now()).await?;
    let src = if found.source == Source::Online {
        "online"
    } else {
        "offline"
    };
    let name = found
        .person
        .as_ref()
        .map_or("?".into(), |p| mask::name(&p.name));
    let mut line = format!(
        "{} {:<13} {:<20} {name:<6} {src:<7} ",
        stamp(),
        q.method(),
        who(q)
    );
    if found.candidates.is_empty() {
        o.not_found += 1;
        line += "no booking found: please go to the front desk";
    }
    for c in &found.candidates {
        match &c.eligibility {
            Eligibility::Ready => match core.check_in(c, q.method(), found.source, Utc::now()) {
                Ok(_) => {
                    o.checked_in += 1;
                    line += &format!(
                        "checked in {} ({}); ",
                        c.record.booking.code, c.record.booking.package
                    );
                }
                Err(CheckinError::NotEligible(_)) => o.already += 1,
                Err(e) => return Err(e),
            },
            Eligibility::AlreadyCheckedIn => {
                o.already += 1;
                line += &format!("{} already checked in; ", c.record.booking.code);
            }
            other => {
                o.refused += 1;
                line += &format!("{}: {}; ", c.record.booking.code, describe(other));
            }
        }
    }
    let _ = writeln!(out, "{}", line.trim_end_matches("; "));
    Ok(o)
}

/// Plays scripted steps (no devices).
pub async fn play(
    core: &CheckinCore,
    steps: &[Step],
    out: &mut impl Write,
) -> Result<Outcome, CheckinError> {
    let mut o = Outcome::default();
    for step in steps {
        match step {
            Step::Wait(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
            Step::Identify(q) => o.add(&serve_patient(core, q, out).await?),
            Step::Report(id) => {
                o.reports += crate::reports::print_unprinted(core, id, out).await;
            }
        }
    }
    Ok(o)
}

/// Serves inputs from devices (and anything else sending on the channel)
/// until every sender is gone.
pub async fn serve(
    core: &CheckinCore,
    devices: &Mutex<Vec<DeviceStatus>>,
    mut inputs: tokio::sync::mpsc::UnboundedReceiver<Input>,
    out: &mut impl Write,
) -> Result<Outcome, CheckinError> {
    let mut o = Outcome::default();
    while let Some(input) = inputs.recv().await {
        match input {
            Input::Identify(q) => o.add(&serve_patient(core, &q, out).await?),
            Input::Card(h) => {
                let q = IdentityQuery::IdNumber {
                    id_number: h.id_number,
                };
                o.add(&serve_patient(core, &q, out).await?)
            }
            Input::Problem { device, message } => {
                let _ = writeln!(out, "{} {device:<13} {message}", stamp());
            }
            Input::DeviceState { device, state } => {
                let _ = writeln!(out, "{} {device:<13} device {state}", stamp());
                crate::devices::set_state(devices, device, state);
            }
        }
    }
    Ok(o)
}
