//! The `kiosk` command line: `ui` runs the touch screen (fullscreen on the
//! kiosk, a window on a desktop, `--simulate` for every device simulated);
//! `run` is headless: a scripted patient answers the same session's screens.

use std::path::PathBuf;
use std::time::Duration;

use crate::assemble::{self, KioskOptions};
use crate::flow::Settings;
use crate::headless::{Arrival, Headless};
use crate::script;
use anyhow::Context;
use clap::{Parser, Subcommand};
use device_drivers::config::{self, DeviceConfig};
use sync_client::{AgentConfig, LinkOptions, PlainHttp};

/// Self-service check-in kiosk of the health-examination centre.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run headless: enrol on first start, sync in the background, and play
    /// patients from a script or the demo deck (and from the devices, who
    /// answer as a typical patient does), through the touch UI's session.
    Run(Box<RunArgs>),
    /// Run the touch screen: enrol on first start, sync in the background,
    /// serve patients from the devices and the screen.
    Ui(Box<UiArgs>),
    /// Check a device configuration file and say what it configures.
    CheckDevices {
        /// The TOML file (see device-drivers/src/config.rs).
        file: PathBuf,
    },
    /// Check the V4L2 camera: the format agreed, pictures a second, codes
    /// and faces seen, a snapshot.
    CameraCheck {
        /// The camera (`/dev/video0`, `/dev/v4l/by-id/…`).
        #[arg(long, env = "KIOSK_CAMERA")]
        device: PathBuf,
        #[arg(long, default_value_t = 5)]
        secs: u64,
        /// Save the last picture here (PNG, grey).
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Count the pictures with a face (the models' directory).
        #[arg(long, env = "KIOSK_FACE_MODELS")]
        face_models: Option<PathBuf>,
    },
    /// Play pictures into a video output device: with the kernel's vivid
    /// driver (its output looped to its capture), a virtual camera to test
    /// a kiosk without one.
    CameraFeed {
        /// The output device (vivid's video output node).
        #[arg(long)]
        output: PathBuf,
        /// vivid's capture device: its "Loop Video" is turned on.
        #[arg(long)]
        loop_capture: Option<PathBuf>,
        /// How long each picture is shown, in milliseconds.
        #[arg(long, default_value_t = 100)]
        hold_ms: u64,
        /// Play the scene named on each line read from this file or serial
        /// port (else every scene in order, in a loop).
        #[arg(long)]
        control: Option<PathBuf>,
        /// Scenes: NAME=PICTURE.png[,PICTURE.png…]; the first one's first
        /// picture is shown until a scene is asked for.
        #[arg(required = true, num_args = 1..)]
        scenes: Vec<String>,
    },
    /// Show the journal's state: enrolment, backlog, cache.
    Status {
        /// The kiosk's journal (SQLite file on the data partition).
        #[arg(long, env = "KIOSK_JOURNAL", default_value = "kiosk-journal.db")]
        journal: PathBuf,
        /// Judge the service address as `run --dev-loopback-http` would.
        #[arg(long, env = "KIOSK_DEV_LOOPBACK_HTTP")]
        dev_loopback_http: bool,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    kiosk: KioskArgs,
    /// Script of patients (see kiosk-app/src/script.rs for the format).
    #[arg(long, conflicts_with = "demo_people")]
    script: Option<PathBuf>,
    /// Play the demo deck: this many of the server's demo people arrive.
    #[arg(long)]
    demo_people: Option<usize>,
    /// Milliseconds between demo patients.
    #[arg(long, default_value_t = 1500)]
    interval_ms: u64,
    /// Ask for a photo at check-in (K6): patients are asked for consent.
    #[arg(long, env = "KIOSK_PHOTO")]
    photo: bool,
    /// After the script, wait until the server has every event and every
    /// print job is printed, then exit
    /// (otherwise keep syncing until Ctrl-C).
    #[arg(long)]
    exit_when_drained: bool,
}

#[derive(Debug, clap::Args)]
struct UiArgs {
    #[command(flatten)]
    kiosk: KioskArgs,
    /// Every device simulated in this process (real drivers, simulated
    /// hardware); F1–F7 on the window place a card, scan, cause faults.
    #[arg(long)]
    simulate: bool,
    /// Start in elderly mode (patients can switch on every screen).
    #[arg(long, env = "KIOSK_ELDERLY")]
    elderly: bool,
    /// Start in English.
    #[arg(long)]
    english: bool,
    /// Ask for a photo at check-in (K6).
    #[arg(long, env = "KIOSK_PHOTO")]
    photo: bool,
    /// Fullscreen window (always fullscreen on DRM/KMS).
    #[arg(long, env = "KIOSK_FULLSCREEN")]
    fullscreen: bool,
    /// The centre's name in the header.
    #[arg(long, env = "KIOSK_CENTRE_NAME", default_value = "健康管理中心")]
    centre_name: String,
    /// Where patients are sent when the kiosk cannot help.
    #[arg(long, env = "KIOSK_DESK", default_value = "一楼服务台")]
    desk: String,
    /// Directory of the voice prompts (assets/voice); none: silent.
    #[arg(long, env = "KIOSK_VOICE_DIR")]
    voice_dir: Option<PathBuf>,
    /// Volume of the voice prompts, 0 to 1.
    #[arg(long, env = "KIOSK_VOLUME", default_value_t = 0.8)]
    volume: f32,
    /// Pixels per millimetre of the panel (touch targets are set in mm).
    #[arg(long, env = "KIOSK_PX_PER_MM", default_value_t = 4.0)]
    px_per_mm: f32,
    /// The V4L2 camera (`/dev/video0`, or a `/dev/v4l/by-id/…` link): the
    /// photo screen's picture, codes held up to it, and face check-in.
    #[arg(long, env = "KIOSK_CAMERA", conflicts_with = "camera_replay")]
    camera: Option<PathBuf>,
    /// PNG files replayed as the camera instead of a device.
    #[arg(long, num_args = 1..)]
    camera_replay: Vec<PathBuf>,
    /// K3: the face models' directory (made by `scripts/face-models`);
    /// with a camera (or `--face-replay`) the start screen offers face
    /// check-in.
    #[arg(long, env = "KIOSK_FACE_MODELS")]
    face_models: Option<PathBuf>,
    /// Pictures (JPEG or PNG) the face worker replays, ten a second,
    /// instead of the camera's (a demo's face).
    #[arg(long, num_args = 1..)]
    face_replay: Vec<PathBuf>,
}

/// Label printer languages: TSPL (most domestic printers) or ZPL (Zebra).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LabelLanguage {
    Tspl,
    Zpl,
}

impl From<LabelLanguage> for config::LabelLanguage {
    fn from(l: LabelLanguage) -> Self {
        match l {
            LabelLanguage::Tspl => Self::Tspl,
            LabelLanguage::Zpl => Self::Zpl,
        }
    }
}

#[derive(Debug, clap::Args)]
struct KioskArgs {
    /// The kiosk's journal (SQLite file on the data partition).
    #[arg(long, env = "KIOSK_JOURNAL", default_value = "kiosk-journal.db")]
    journal: PathBuf,
    /// Central service URL, needed for the first enrolment only.
    #[arg(long, env = "KIOSK_SERVER")]
    server: Option<String>,
    /// This kiosk's id, as registered with `exam-server add-kiosk`.
    #[arg(long, env = "KIOSK_ID")]
    kiosk_id: Option<String>,
    /// One-time enrolment secret printed by `exam-server add-kiosk`.
    #[arg(long, env = "KIOSK_ENROL_SECRET", hide_env_values = true)]
    enrol_secret: Option<String>,
    /// The CA certificate (PEM) the central service's certificate must be
    /// signed by, provisioned at flash time: the only trust root when given
    /// (overrides the device file's server_ca).
    #[arg(long, env = "KIOSK_SERVER_CA")]
    server_ca: Option<PathBuf>,
    /// Development only: also accept a plain http:// service URL, and only
    /// to a loopback address (127.0.0.1, ::1, localhost).
    #[arg(long, env = "KIOSK_DEV_LOOPBACK_HTTP")]
    dev_loopback_http: bool,
    /// Days the journal keeps the personal data (ID number, photo, printed
    /// documents) of check-ins the service has acknowledged (PIPL).
    #[arg(long, env = "KIOSK_RETENTION_DAYS", default_value_t = 7)]
    retention_days: u64,
    /// The device configuration (TOML; see device-drivers/src/config.rs).
    /// The device flags below override its entries.
    #[arg(long, env = "KIOSK_DEVICES")]
    devices: Option<PathBuf>,
    /// Serial device of the ID card reader (or a simulator's pseudo-terminal).
    #[arg(long, env = "KIOSK_IDCARD")]
    idcard: Option<String>,
    /// Baud rate of the ID card reader [default: 115200].
    #[arg(long)]
    idcard_baud: Option<u32>,
    /// Serial device of a code scanner (or a simulator's pseudo-terminal).
    #[arg(long, env = "KIOSK_SCANNER")]
    scanner: Option<String>,
    /// Baud rate of the serial code scanner.
    #[arg(long, default_value_t = 9600)]
    scanner_baud: u32,
    /// A USB HID (keyboard-wedge) code scanner: its event device's path or
    /// a part of its name (e.g. "Newland").
    #[arg(long, env = "KIOSK_HID_SCANNER")]
    hid_scanner: Option<String>,
    /// Watch PC/SC readers (pcscd) for social security cards.
    #[arg(long, env = "KIOSK_SMARTCARD")]
    smartcard: bool,
    /// Receipt printer: tcp://HOST:9100 or a serial device. Guide sheets are
    /// printed only when one is given.
    #[arg(long, env = "KIOSK_RECEIPT_PRINTER")]
    receipt_printer: Option<String>,
    /// Label printer for lab barcode labels: tcp://HOST:9100 or a serial
    /// device. Label parts in the journal print only when one is given.
    #[arg(long, env = "KIOSK_LABEL_PRINTER")]
    label_printer: Option<String>,
    /// The label printer's language [default: tspl].
    #[arg(long, env = "KIOSK_LABEL_LANGUAGE", value_enum)]
    label_language: Option<LabelLanguage>,
    /// A4 report printer: a CUPS queue, ipp://localhost:631/printers/REPORTS.
    /// Report parts in the journal are printed only when one is given.
    #[arg(long, env = "KIOSK_REPORT_PRINTER")]
    report_printer: Option<String>,
    /// Seconds between cache pulls and between heartbeats.
    #[arg(long, default_value_t = 30)]
    sync_every_s: u64,
}

/// Entry point of the `kiosk` binary (also built by the end-to-end tests).
pub fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours on a terminal only: under systemd stderr is the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        // The window owns the main thread; the kiosk runs on its own runtime.
        Command::Ui(a) => ui(*a),
        // Blocking device loops, no runtime.
        Command::CameraCheck {
            device,
            secs,
            snapshot,
            face_models,
        } => crate::camera_tools::check(&device, secs, snapshot.as_deref(), face_models.as_deref()),
        Command::CameraFeed {
            output,
            loop_capture,
            hold_ms,
            control,
            scenes,
        } => {
            let scenes = scenes
                .iter()
                .map(|s| crate::camera_tools::parse_scene(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            crate::camera_tools::feed(
                &output,
                loop_capture.as_deref(),
                &scenes,
                Duration::from_millis(hold_ms.max(1)),
                control.as_ref(),
            )
        }
        c => tokio::runtime::Runtime::new()?.block_on(async_main(c)),
    }
}

impl KioskArgs {
    /// The device configuration: the file, then the flags given over it.
    fn device_config(&self) -> anyhow::Result<DeviceConfig> {
        let mut c = match &self.devices {
            Some(path) => DeviceConfig::load(path)?,
            None => DeviceConfig::default(),
        };
        if let Some(port) = &self.idcard {
            let id = c
                .idcard
                .get_or_insert_with(|| config::IdCardConfig::at(port));
            id.port = port.clone();
        }
        if let (Some(id), Some(baud)) = (c.idcard.as_mut(), self.idcard_baud) {
            id.baud = baud;
        }
        if let Some(port) = &self.scanner {
            c.scanners.push(config::ScannerConfig::Serial {
                port: port.clone(),
                baud: self.scanner_baud,
            });
        }
        if let Some(device) = &self.hid_scanner {
            c.scanners.push(config::ScannerConfig::Hid {
                device: device.clone(),
            });
        }
        if self.smartcard {
            c.smartcard = Some(config::SmartCardConfig::default());
        }
        if let Some(a) = &self.receipt_printer {
            c.receipt_printer = Some(config::PrinterConfig::at(a));
        }
        if let Some(a) = &self.label_printer {
            let p = c.label_printer.get_or_insert(config::LabelPrinterConfig {
                address: a.clone(),
                baud: 115_200,
                language: config::LabelLanguage::Tspl,
            });
            p.address = a.clone();
        }
        if let (Some(p), Some(l)) = (c.label_printer.as_mut(), self.label_language) {
            p.language = l.into();
        }
        if let Some(uri) = &self.report_printer {
            c.report_printer = Some(config::ReportPrinterConfig { uri: uri.clone() });
        }
        let problems = c.problems();
        anyhow::ensure!(
            problems.is_empty(),
            "device settings: {}",
            problems.join("; ")
        );
        Ok(c)
    }

    /// How the kiosk reaches the service: the CA from the flag or the
    /// device file (read now, so a missing file stops the start), plain
    /// HTTP only with the development flag.
    fn server_link(&self, devices: &DeviceConfig) -> anyhow::Result<LinkOptions> {
        let ca = self.server_ca.as_ref().or(devices.server_ca.as_ref());
        Ok(LinkOptions {
            server_ca_pem: ca.map(|p| sync_client::link::read_ca(p)).transpose()?,
            plain_http: if self.dev_loopback_http {
                PlainHttp::LoopbackOnly
            } else {
                PlainHttp::Refused
            },
        })
    }

    fn options(&self, devices: &DeviceConfig) -> anyhow::Result<KioskOptions> {
        let every = Duration::from_secs(self.sync_every_s.max(1));
        Ok(KioskOptions {
            journal: self.journal.clone(),
            server_url: self.server.clone(),
            server_link: self.server_link(devices)?,
            kiosk_id: self.kiosk_id.clone(),
            enrol_secret: self.enrol_secret.clone(),
            agent: AgentConfig {
                pull_every: every,
                heartbeat_every: every,
                retention: Duration::from_secs(self.retention_days.saturating_mul(24 * 3600)),
                ..AgentConfig::default()
            },
            lookup_timeout: Duration::from_millis(1500),
            receipt_printer: devices.receipt_printer.clone(),
            report_printer: devices.report_printer.clone(),
            label_printer: devices.label_printer.clone(),
        })
    }
}

fn ui(a: UiArgs) -> anyhow::Result<()> {
    let k = &a.kiosk;
    let mut devices = k.device_config()?;
    if let Some(dev) = &a.camera {
        devices.camera = Some(config::CameraConfig::device(dev.clone()));
    } else if !a.camera_replay.is_empty() {
        devices.camera = Some(config::CameraConfig::replay(a.camera_replay.clone()));
    }
    crate::ui::run(
        k.options(&devices)?,
        devices,
        crate::ui::UiOptions {
            elderly: a.elderly,
            english: a.english,
            photo: a.photo,
            fullscreen: a.fullscreen,
            centre_name: a.centre_name,
            desk: a.desk,
            voice_dir: a.voice_dir,
            volume: a.volume,
            px_per_mm: a.px_per_mm,
            simulate: a.simulate,
            face_models: a.face_models,
            face_replay: a.face_replay,
        },
    )
}

async fn async_main(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Ui(_) => unreachable!("runs on the main thread"),
        Command::CameraCheck { .. } | Command::CameraFeed { .. } => {
            unreachable!("run on the main thread")
        }
        Command::CheckDevices { file } => {
            let c = DeviceConfig::load(&file)?;
            println!(
                "{}: ID card reader {}, {} scanner(s), smart cards {}, receipt {}, labels {}, reports {}",
                file.display(),
                c.idcard.as_ref().map_or("none", |d| d.port.as_str()),
                c.scanners.len(),
                if c.smartcard.is_some() { "on" } else { "off" },
                c.receipt_printer
                    .as_ref()
                    .map_or("none", |p| p.address.as_str()),
                c.label_printer
                    .as_ref()
                    .map_or("none", |p| p.address.as_str()),
                c.report_printer.as_ref().map_or("none", |p| p.uri.as_str()),
            );
            Ok(())
        }
        Command::Run(a) => run(*a).await,
        Command::Status {
            journal,
            dev_loopback_http,
        } => {
            let j = offline_store::Journal::open(&journal)?;
            let e = crate::settings::load(&j)?;
            println!(
                "enrolled: {}",
                e.as_ref().map_or("no".into(), |e| format!(
                    "{} at {} (campus {})",
                    e.key.kiosk_id, e.server_url, e.campus
                ))
            );
            if let Some(e) = &e {
                let plain = if dev_loopback_http {
                    PlainHttp::LoopbackOnly
                } else {
                    PlainHttp::Refused
                };
                match sync_client::link::check_url(&e.server_url, plain) {
                    Ok(()) => println!("service address: accepted"),
                    Err(why) => println!("service address: REFUSED: {why}"),
                }
            }
            println!("backlog: {:?}", j.backlog()?);
            println!("cache: {:?}", j.cache_stats()?);
            Ok(())
        }
    }
}

async fn run(r: RunArgs) -> anyhow::Result<()> {
    let a = &r;
    let steps = match (&a.script, a.demo_people) {
        (Some(path), _) => script::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )?,
        (None, Some(n)) => {
            let today = chrono::Utc::now()
                .with_timezone(&exam_domain::centre_offset())
                .date_naive();
            let (t0, t1) = (
                chrono::NaiveTime::MIN,
                chrono::NaiveTime::from_hms_opt(23, 30, 0).expect("valid"),
            );
            let day =
                exam_domain::demo::generate(exam_domain::demo::DEMO_SEED, n, today, t0, t1, "main");
            script::demo_deck(
                &day,
                a.interval_ms,
                today.to_string().len() as u64 + n as u64,
            )
        }
        (None, None) => Vec::new(),
    };
    let left = assemble::left_behind_after_restart(&a.kiosk.journal)?;
    if left > 0 {
        println!("{left} unfinished print jobs resume; recorded as waiting for pickup");
    }
    let devices = a.kiosk.device_config()?;
    let kiosk = assemble::start(a.kiosk.options(&devices)?).await?;
    println!(
        "kiosk {} ready (campus {})",
        kiosk.enrolment.key.kiosk_id, kiosk.enrolment.campus
    );
    crate::notify::ready(&format!(
        "kiosk {} enrolled, campus {}",
        kiosk.enrolment.key.kiosk_id, kiosk.enrolment.campus
    ));
    crate::notify::spawn_watchdog();
    let settings = Settings {
        elderly: false,
        photo: a.photo,
        face: false,
        face_policy: Default::default(),
    };
    let mut headless = Headless::new(&kiosk, settings, std::io::stdout());
    if devices.idcard.is_some() || !devices.scanners.is_empty() || devices.smartcard.is_some() {
        // Devices and the script feed one stream of arrivals; runs until Ctrl-C.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (dtx, mut drx) = tokio::sync::mpsc::unbounded_channel();
        let _inputs = crate::devices::start_inputs(&devices, &dtx);
        let from_devices = tx.clone();
        tokio::spawn(async move {
            while let Some(i) = drx.recv().await {
                let _ = from_devices.send(Arrival::Device(i));
            }
        });
        tokio::spawn(async move {
            for step in steps {
                match step {
                    script::Step::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    step => {
                        let _ = tx.send(Arrival::Step(step));
                    }
                }
            }
        });
        tokio::select! {
            _ = headless.serve(rx) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        kiosk.stop().await;
        return Ok(());
    }
    let outcome = headless.play(&steps).await;
    println!("script done: {outcome:?}");
    if a.exit_when_drained {
        while !kiosk.drain(Duration::from_secs(3600)).await? {}
        println!("drained: every event acknowledged, every print job printed");
    } else {
        tokio::signal::ctrl_c().await?;
    }
    kiosk.stop().await;
    Ok(())
}
