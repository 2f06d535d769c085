//! Assembles a kiosk: journal, enrolment, sync agent, spoolers and the
//! check-in core. Every front end starts here: the touch UI (`ui`), the
//! headless kiosk (`headless`), the demo and the end-to-end tests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use device_drivers::config::{LabelPrinterConfig, PrinterConfig, ReportPrinterConfig};
use device_drivers::escpos::ReceiptPrinter;
use device_drivers::label::{LabelPrinter, Language};
use exam_protocol::{DeviceState, PrinterKind};
use offline_store::{Journal, SharedJournal, StoreError};
use sync_client::backoff::Backoff;
use sync_client::{
    AgentConfig, DeviceBoard, LinkError, LinkOptions, ServiceLink, SyncAgent, SyncClient,
    SyncError, SyncStatus,
};
use tokio::sync::watch;

use crate::checkin::CheckinCore;
use crate::settings::{self, Enrolment};
use crate::spool::SpoolEvent;

#[derive(Debug, Clone)]
pub struct KioskOptions {
    pub journal: PathBuf,
    /// The central service: needed for the first enrolment; given later,
    /// it replaces the address the kiosk enrolled with (moving a fleet to
    /// a new address or from http:// to https://).
    pub server_url: Option<String>,
    /// Which service URLs are accepted and which CA is trusted (the
    /// `server_ca` provisioned at flash time).
    pub server_link: LinkOptions,
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
fn prints(opts: &KioskOptions) -> Vec<PrinterKind> {
    let mut p = Vec::new();
    if opts.receipt_printer.is_some() {
        p.push(PrinterKind::Receipt);
    }
    if let Some(l) = &opts.label_printer {
        p.push(crate::print::label_printer(Language::from(l.language)));
    }
    if opts.report_printer.is_some() {
        p.push(PrinterKind::Report);
    }
    p
}

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("kiosk journal: {0}")]
    Store(#[from] StoreError),
    #[error("enrolment refused: {0}")]
    Enrol(SyncError),
    #[error("{0}")]
    Link(#[from] LinkError),
    #[error("this kiosk is not enrolled: give --server, --kiosk-id and --enrol-secret once")]
    NotEnrolled,
}

pub struct RunningKiosk {
    pub core: CheckinCore,
    pub journal: SharedJournal,
    pub enrolment: Enrolment,
    /// Device states, reported in the heartbeat.
    pub devices: DeviceBoard,
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
        Some(mut e) => {
            if let Some(url) = opts.server_url.as_ref().filter(|u| **u != e.server_url) {
                // Checked before it is kept: a refused URL changes nothing.
                let link = ServiceLink::new(url, &opts.server_link)?;
                tracing::info!(from = %e.server_url, to = %url, "central service address changed");
                e.server_url = url.clone();
                let mut journal = journal;
                settings::save(&mut journal, &e)?;
                return Ok(assemble(journal, e, &link, &opts));
            }
            e
        }
        None => {
            let (Some(url), Some(id), Some(secret)) =
                (&opts.server_url, &opts.kiosk_id, &opts.enrol_secret)
            else {
                return Err(KioskError::NotEnrolled);
            };
            let link = ServiceLink::new(url, &opts.server_link)?;
            let mut journal = journal;
            let key = settings::pending_key(&mut journal, id)?;
            let mut backoff = Backoff::new(opts.agent.backoff_base, opts.agent.backoff_max);
            let resp = loop {
                match SyncClient::enrol_key(&link, &key, secret, &opts.agent.app_version).await {
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
            return Ok(assemble(journal, e, &link, &opts));
        }
    };
    // The stored address is checked at every start, like a new one.
    let link = ServiceLink::new(&enrolment.server_url, &opts.server_link)?;
    Ok(assemble(journal, enrolment, &link, &opts))
}

fn assemble(
    journal: Journal,
    enrolment: Enrolment,
    link: &ServiceLink,
    opts: &KioskOptions,
) -> RunningKiosk {
    let journal = SharedJournal::new(journal);
    let client = SyncClient::new(link, enrolment.key.clone());
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
            SpoolEvent::State(_, label) => devices.set(name, DeviceState::from_label(label)),
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
                move |label| devices.set("report", DeviceState::from_label(label)),
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
        self.journal.lock().backlog()
    }

    /// Waits until every journaled event is acknowledged and every print
    /// job printed, up to `timeout`.
    pub async fn drain(&self, timeout: Duration) -> Result<bool, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.backlog()?.pending == 0 && self.journal.lock().unfinished_jobs()?.is_empty() {
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
