//! Helpers for the end-to-end tests and the demo: servers on fixed ports
//! and SQLite files (so they can be stopped and started again), and a TCP
//! proxy that holds responses back to catch a kiosk in the middle of a push.

// Test support: these helpers fail the calling test by panicking, and
// clippy.toml's allow-unwrap-in-tests does not reach a library crate.
#![allow(clippy::unwrap_used)]

pub mod demo_face;
pub mod doctors;
pub mod east_desk;
pub mod sims;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A check-in of `r`'s booking made at the kiosk now while offline, as
/// the kiosk journals it.
pub fn offline_check_in(
    r: &exam_protocol::BookingRecord,
    identified_by: &str,
) -> exam_protocol::CheckIn {
    exam_protocol::CheckIn {
        booking_id: r.booking.id,
        booking_code: r.booking.code.clone(),
        id_number: r.person.id_number.clone(),
        identified_by: identified_by.into(),
        checked_in_at: chrono::Utc::now(),
        offline: true,
        privacy: None,
    }
}

/// Starts the central service on `listen` with an SQLite file.
pub async fn start_server(
    db: &Path,
    listen: SocketAddr,
    demo_people: usize,
) -> anyhow::Result<exam_server::Server> {
    Ok(exam_server::start(server_config(db, listen, demo_people)).await?)
}

/// K16: a payment platform simulator (pay-sim) in this process, on a free
/// port, with test identities made now in `keys_dir`; returns it and its
/// URL. [`with_pay_sim`] points a service configuration at it.
pub async fn pay_sim(
    keys_dir: &Path,
    faults: exam_payment::sim::Faults,
) -> anyhow::Result<(std::sync::Arc<exam_payment::sim::Sim>, String)> {
    pay_sim_trusting(keys_dir, faults, None).await
}

/// As [`pay_sim`], its notifications sent over HTTPS to a service whose
/// certificate comes from `ca_pem` (the demo's development CA).
pub async fn pay_sim_trusting(
    keys_dir: &Path,
    faults: exam_payment::sim::Faults,
    ca_pem: Option<&[u8]>,
) -> anyhow::Result<(std::sync::Arc<exam_payment::sim::Sim>, String)> {
    use exam_payment::sim::{Sim, SimConfig, SimKeys};
    let keys = SimKeys::load_or_generate(keys_dir, "1900000001", "wx0000000000000001")?;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", l.local_addr()?);
    let cfg = SimConfig {
        faults,
        timeout_delay: Duration::from_millis(1_500),
        notify_backoff: vec![Duration::from_millis(300); 3],
        refund_delay: Duration::from_millis(300),
        reorder_delay: Duration::from_millis(300),
    };
    let sim = match ca_pem {
        Some(ca) => Sim::trusting(keys, cfg, ca)?,
        None => Sim::new(keys, cfg),
    };
    exam_payment::sim::spawn(sim.clone(), l).await?;
    Ok((sim, url))
}

/// The service configuration with pay-sim at `url` as its payment platform.
pub fn with_pay_sim(mut c: exam_server::Config, url: &str, keys_dir: &Path) -> exam_server::Config {
    c.payment.base_url = Some(url.to_string());
    c.payment.sim_keys_dir = Some(keys_dir.to_path_buf());
    c.payment.timeout_ms = 1_000;
    c.payment.query_after_seconds = 1;
    c.payment.poll_ms = 200;
    c
}

/// The configuration [`start_server`] uses (the demo adds its HTTPS files).
pub fn server_config(db: &Path, listen: SocketAddr, demo_people: usize) -> exam_server::Config {
    exam_server::Config {
        listen,
        database_url: format!("sqlite://{}", db.display()),
        data_key_file: Some(data_key_beside(db)),
        demo_people,
        ..exam_server::Config::default()
    }
}

/// The data key file of the store `db` (`<db>.key` beside it), generated
/// on first use and kept with the file, so a restarted server opens what it
/// sealed before: the keys are made at run time, never committed.
pub fn data_key_beside(db: &Path) -> std::path::PathBuf {
    let key = db.with_extension("key");
    if !key.exists() {
        exam_vault::KeyRing::generate()
            .and_then(|k| k.write_new_file(&key))
            .unwrap();
    }
    key
}

/// A kiosk enrolled with `server` as `id` (the kiosk row added with a fresh
/// secret), its journal in `dir`, printing guide sheets on a simulated
/// receipt printer over TCP: what most end-to-end tests start with.
pub async fn kiosk_with_printer(
    server: &exam_server::Server,
    dir: &Path,
    id: &str,
    agent: sync_client::AgentConfig,
    lookup_timeout: Duration,
) -> (
    kiosk_app::assemble::RunningKiosk,
    device_drivers::sim::PrinterSim,
) {
    let secret = format!("enrol-secret-for-{id}");
    server
        .state
        .db
        .add_kiosk(id, "main", "lobby", &secret)
        .await
        .expect("the kiosk row is added");
    let printer = device_drivers::sim::PrinterSim::new();
    let addr = printer.listen_tcp().expect("the printer simulator listens");
    let kiosk = kiosk_app::assemble::start(kiosk_app::assemble::KioskOptions {
        journal: dir.join(format!("{id}.db")),
        server_url: Some(server.url()),
        server_link: sync_client::LinkOptions::loopback_dev(),
        kiosk_id: Some(id.into()),
        enrol_secret: Some(secret),
        agent,
        lookup_timeout,
        receipt_printer: Some(device_drivers::config::PrinterConfig::at(&format!(
            "tcp://{addr}"
        ))),
        report_printer: None,
        label_printer: None,
    })
    .await
    .expect("the kiosk enrols");
    (kiosk, printer)
}

/// Device inputs as arrivals for a headless kiosk.
pub fn device_arrivals(
    mut inputs: tokio::sync::mpsc::UnboundedReceiver<kiosk_app::devices::Input>,
) -> tokio::sync::mpsc::UnboundedReceiver<kiosk_app::headless::Arrival> {
    let (arrive, arrivals) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(i) = inputs.recv().await {
            let _ = arrive.send(kiosk_app::headless::Arrival::Device(i));
        }
    });
    arrivals
}

/// A free loopback port (bound and released; fine for tests).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Today's demo people and bookings (the same the server seeds with
/// `DEMO_SEED`), all with one slot at midnight so every booking is open.
pub fn demo_day(people: usize) -> exam_domain::demo::DemoDay {
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let t = chrono::NaiveTime::MIN;
    exam_domain::demo::generate(exam_domain::demo::DEMO_SEED, people, today, t, t, "main")
}

/// The first of `day`'s people whose bookings can all print now: the
/// server seeds slots around the current time, so a few are too early (K8)
/// and a test that needs a check-in must not depend on the hour it runs.
pub async fn ready_person<'a>(
    core: &kiosk_app::checkin::CheckinCore,
    day: &'a exam_domain::demo::DemoDay,
) -> &'a exam_domain::Person {
    ready_person_where(core, day, |_| true)
        .await
        .expect("no demo person can check in now")
}

/// The first of `day`'s people whose bookings can all print now and who
/// owes something for them (the payment screen asks).
pub async fn ready_person_owing<'a>(
    core: &kiosk_app::checkin::CheckinCore,
    day: &'a exam_domain::demo::DemoDay,
) -> &'a exam_domain::Person {
    ready_person_where(core, day, |c| c.record.booking.amount_due_fen > 0)
        .await
        .expect("no demo person with an amount due can check in now")
}

/// The first of `day`'s people whose bookings can all print now and one of
/// whose bookings is `wanted`.
async fn ready_person_where<'a>(
    core: &kiosk_app::checkin::CheckinCore,
    day: &'a exam_domain::demo::DemoDay,
    wanted: impl Fn(&kiosk_app::Candidate) -> bool,
) -> Option<&'a exam_domain::Person> {
    for p in &day.people {
        let q = exam_domain::IdentityQuery::IdNumber {
            id_number: p.id_number.clone(),
        };
        if let Ok(found) = core.identify(&q, chrono::Utc::now()).await
            && !found.candidates.is_empty()
            && found
                .candidates
                .iter()
                .all(|c| c.eligibility == exam_domain::slot::Eligibility::Ready)
            && found.candidates.iter().any(&wanted)
        {
            return Some(p);
        }
    }
    None
}

/// What a headless kiosk wrote: one line per patient, shared with the test
/// that reads it while the kiosk runs.
#[derive(Debug, Clone, Default)]
pub struct Output(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Output {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Output {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

/// A headless kiosk on `kiosk` (no photo step, not in elderly mode)
/// writing its lines to an [`Output`].
pub fn headless(
    kiosk: &kiosk_app::assemble::RunningKiosk,
) -> (kiosk_app::headless::Headless<Output>, Output) {
    let out = Output::default();
    let settings = kiosk_app::flow::Settings {
        elderly: false,
        photo: false,
        face: false,
        face_policy: Default::default(),
    };
    (
        kiosk_app::headless::Headless::new(kiosk, settings, out.clone()),
        out,
    )
}

/// Places `card` on a simulated reader and waits until the reader has read
/// it (its find, select and read commands answered since).
pub async fn place_card(
    sim: &device_drivers::sim::IdCardSim,
    card: device_drivers::idcard::CardRead,
) {
    sim.place(card);
    let asked = sim.commands();
    assert!(
        wait_for(Duration::from_secs(20), || sim.commands() >= asked + 3).await,
        "the reader reads the card"
    );
}

/// Takes the card off a simulated reader and waits until the reader has
/// polled since, so the next card placed is a new placement.
pub async fn take_card_away(sim: &device_drivers::sim::IdCardSim) {
    sim.remove();
    let asked = sim.commands();
    assert!(
        wait_for(Duration::from_secs(20), || sim.commands() > asked).await,
        "the reader polls after the card is gone"
    );
}

/// Writes a kiosk script in which each person places their ID card,
/// `wait_ms` apart.
pub fn write_card_script(
    day: &exam_domain::demo::DemoDay,
    wait_ms: u64,
    path: &Path,
) -> std::io::Result<()> {
    let script: String = day
        .people
        .iter()
        .map(|p| format!("card {}\nwait {wait_ms}\n", p.id_number))
        .collect();
    std::fs::write(path, script)
}

/// The `p`-quantile (0 to 1) of measured values, nearest rank (benchmarks).
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Polls `cond` every 25 ms until it holds or `timeout` passes.
pub async fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cond()
}

/// A TCP proxy in front of the server that delays every response by
/// `delay` and signals when it holds back the answer to an event push:
/// at that moment the server has committed the batch and the kiosk has not
/// yet heard so, the worst moment for the kiosk to die.
pub struct DelayProxy {
    pub addr: SocketAddr,
    /// Counts push responses held back so far.
    pub pushes_held: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl DelayProxy {
    pub async fn start(upstream: SocketAddr, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (signal, pushes_held) = watch::channel(0u64);
        let signal = Arc::new(signal);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let signal = signal.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let is_push = Arc::new(AtomicBool::new(false));
                    let flag = is_push.clone();
                    let up = tokio::spawn(async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = cr.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            if buf[..n].starts_with(b"POST ") {
                                flag.store(
                                    buf[..n].starts_with(b"POST /api/v1/kiosk/events "),
                                    Ordering::SeqCst,
                                );
                            }
                            if sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = sr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        if is_push.swap(false, Ordering::SeqCst) {
                            signal.send_modify(|n| *n += 1);
                        }
                        tokio::time::sleep(delay).await;
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    up.abort();
                });
            }
        });
        Self {
            addr,
            pushes_held,
            task,
        }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A simulated ID card reader on a pseudo-terminal, served from a thread,
/// for the real driver to open at `path`. Dropped or [`unplug`]ged, the
/// simulator stops and the terminal goes away.
///
/// [`unplug`]: SimulatedReader::unplug
pub struct SimulatedReader {
    pub sim: device_drivers::sim::IdCardSim,
    pub path: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    pty: Option<device_drivers::serial::Pty>,
}

impl SimulatedReader {
    pub fn start() -> Self {
        let pty = device_drivers::serial::pty_pair().expect("a pseudo-terminal");
        let sim = device_drivers::sim::IdCardSim::new();
        let (s2, port) = (sim.clone(), pty.sim.try_clone_native().expect("pty clone"));
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || s2.serve(port, &st));
        Self {
            sim,
            path: pty.path.clone(),
            stop,
            thread: Some(thread),
            pty: Some(pty),
        }
    }

    /// The reader is unplugged: the simulator stops, the terminal closes.
    pub fn unplug(mut self) {
        self.stop_serving();
    }

    fn stop_serving(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join()
                .expect("simulator thread")
                .expect("simulator served");
        }
        self.pty.take();
    }
}

impl Drop for SimulatedReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A patient session of a running kiosk, its ID card reader's inputs
/// forwarded to it: what a test or a benchmark taps, and what the screen
/// shows. The session runs until `running` is aborted or the test ends.
pub struct SessionRig {
    pub tx: tokio::sync::mpsc::UnboundedSender<kiosk_app::session::SessionInput>,
    pub views: watch::Receiver<kiosk_ui::View>,
    pub running: tokio::task::JoinHandle<kiosk_app::session::Session>,
    _reader: kiosk_app::devices::DeviceHandle,
}

pub fn session_with_reader(
    kiosk: &kiosk_app::assemble::RunningKiosk,
    settings: kiosk_app::flow::Settings,
    reader: &device_drivers::config::IdCardConfig,
) -> SessionRig {
    use kiosk_app::session::{self, Session, SessionInput};
    let (dev_tx, mut dev_rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = kiosk_app::devices::start_idcard(reader, dev_tx);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let s = Session::new(
        kiosk.core.clone(),
        kiosk.journal.clone(),
        kiosk.devices.clone(),
        settings,
        kiosk_app::screens::Context::default(),
        None,
        tx.clone(),
    );
    let fwd = tx.clone();
    tokio::spawn(async move {
        while let Some(i) = dev_rx.recv().await {
            let _ = fwd.send(SessionInput::Device(i));
        }
    });
    let (views_tx, views) = watch::channel(s.view());
    SessionRig {
        tx,
        views,
        running: tokio::spawn(session::run(s, rx, views_tx)),
        _reader: driver,
    }
}

/// What a patient sees and taps on a kiosk session: the test reads only
/// the screen (its `View`) and taps what a person would tap.
pub struct KioskScreen {
    pub tx: tokio::sync::mpsc::UnboundedSender<kiosk_app::session::SessionInput>,
    pub views: watch::Receiver<kiosk_ui::View>,
}

impl KioskScreen {
    pub fn screen(&self) -> kiosk_ui::Screen {
        self.views.borrow().screen.clone()
    }

    pub async fn until(
        &self,
        what: &str,
        f: impl Fn(&kiosk_ui::Screen) -> bool,
    ) -> kiosk_ui::Screen {
        let ok = wait_for(Duration::from_secs(30), || f(&self.screen())).await;
        assert!(
            ok,
            "waiting for {what}, the screen shows {:?}",
            self.screen()
        );
        self.screen()
    }

    pub async fn until_title(&self, title: &str) -> kiosk_ui::Screen {
        self.until(title, |s| match s {
            kiosk_ui::Screen::Pick { title: t, .. }
            | kiosk_ui::Screen::Summary { title: t, .. } => t.contains(title),
            _ => false,
        })
        .await
    }

    pub fn send(&self, ev: kiosk_app::flow::Event) {
        self.tx
            .send(kiosk_app::session::SessionInput::Event(ev))
            .unwrap();
    }

    /// Taps the row whose title contains `text`.
    pub fn tap_row(&self, text: &str) {
        let kiosk_ui::Screen::Pick { rows, .. } = self.screen() else {
            panic!("no list on {:?}", self.screen())
        };
        let row = rows
            .iter()
            .find(|r| r.title.contains(text))
            .unwrap_or_else(|| panic!("no row {text} in {rows:?}"));
        self.send(kiosk_app::flow::Event::Pick(row.id as usize));
    }

    /// Taps the first row that can be picked.
    pub fn tap_first_ready(&self) {
        let kiosk_ui::Screen::Pick { rows, .. } = self.screen() else {
            panic!("no list on {:?}", self.screen())
        };
        let row = rows.iter().find(|r| r.ready).expect("a row to pick");
        self.send(kiosk_app::flow::Event::Pick(row.id as usize));
    }

    /// Taps the button labelled `label`, once the screen enables it (the
    /// tap before may still be on its way).
    pub async fn tap_button(&self, label: &str) {
        let find = |s: &kiosk_ui::Screen| match s {
            kiosk_ui::Screen::Pick { actions, .. } | kiosk_ui::Screen::Summary { actions, .. } => {
                actions.iter().position(|a| a.label == label && a.enabled)
            }
            _ => None,
        };
        let s = self
            .until(&format!("button {label}"), |s| find(s).is_some())
            .await;
        self.tx
            .send(kiosk_app::session::SessionInput::Act(find(&s).unwrap()))
            .unwrap();
    }
}

/// The CUPS report queue the tests print A4 reports to (`REPORT_PRINTER_URI`,
/// else the local REPORTS queue), with its URI. `scripts/test` installs and
/// starts cupsd with the cups-pdf REPORTS queue, so a missing one fails the
/// test (never a silent skip).
pub fn report_queue() -> (String, device_drivers::report::IppPrinter) {
    let uri = std::env::var("REPORT_PRINTER_URI")
        .unwrap_or_else(|_| "ipp://localhost:631/printers/REPORTS".into());
    let p = device_drivers::report::IppPrinter::new(&uri, "kiosk").unwrap();
    if let Err(e) = p.jobs() {
        panic!(
            "no CUPS queue at {uri} ({e}): start cupsd with the cups-pdf REPORTS queue \
             (scripts/test does), or set REPORT_PRINTER_URI"
        );
    }
    (uri, p)
}
