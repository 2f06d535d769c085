//! K15: a kiosk's printers are out, its patient's guide sheet and lab
//! labels wait, and the patient, told to go elsewhere, leaves (the desk
//! learns their documents wait at the first kiosk). Staff move the waiting
//! documents to another kiosk of the campus, whose label printer speaks the
//! same language. The sheet and the labels print there once, wait for
//! pickup there, and never print at the first kiosk, even when its printers
//! come back.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use device_drivers::config::{LabelLanguage, LabelPrinterConfig};
use device_drivers::label::Language;
use device_drivers::sim::{LabelFault, LabelSim, PrinterFault, PrinterSim};
use e2e_tests::{free_addr, start_server, wait_for};
use kiosk_app::assemble::{self, KioskOptions, RunningKiosk};
use kiosk_app::script::{Answers, Step};
use sync_client::AgentConfig;

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn kiosk(
    dir: &std::path::Path,
    server: &exam_server::Server,
    id: &str,
    printer: &PrinterSim,
    labels: &LabelSim,
) -> RunningKiosk {
    let secret = format!("enrol-secret-of-{id}");
    server
        .state
        .db
        .add_kiosk(id, "main", "lobby", &secret)
        .await
        .unwrap();
    assemble::start(KioskOptions {
        journal: dir.join(format!("{id}.db")),
        server_url: Some(server.url()),
        server_link: sync_client::LinkOptions::loopback_dev(),
        kiosk_id: Some(id.into()),
        enrol_secret: Some(secret),
        agent: AgentConfig {
            heartbeat_every: Duration::from_millis(200),
            pull_every: Duration::from_millis(200),
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_secs(2),
        receipt_printer: Some(device_drivers::config::PrinterConfig::at(&format!(
            "tcp://{}",
            printer.listen_tcp().unwrap()
        ))),
        report_printer: None,
        label_printer: Some(LabelPrinterConfig {
            address: format!("tcp://{}", labels.listen_tcp(Language::Tspl).unwrap()),
            baud: 115_200,
            language: LabelLanguage::Tspl,
        }),
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_move_waiting_documents_to_another_kiosk_and_they_print_there_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    let (pa, pb) = (PrinterSim::new(), PrinterSim::new());
    let (la, lb) = (LabelSim::new(), LabelSim::new());
    pa.inject(PrinterFault::CoverOpen);
    la.inject(LabelFault::HeadOpen);
    let a = kiosk(dir.path(), &server, "K-A", &pa, &la).await;
    let b = kiosk(dir.path(), &server, "K-B", &pb, &lb).await;
    let db = &server.state.db;

    // A demo patient whose slot is open now (a few are too early) places
    // their card; the printers are out, so the kiosk sends them elsewhere.
    let day = e2e_tests::demo_day(10);
    let person = e2e_tests::ready_person(&a.core, &day).await;
    let (mut headless, said) = e2e_tests::headless(&a);
    let served = headless
        .play(&[Step::Identify(
            exam_domain::IdentityQuery::IdNumber {
                id_number: person.id_number.clone(),
            },
            Answers::default(),
        )])
        .await;
    assert!(served.checked_in > 0, "{served:?}: {}", said.text());
    assert!(
        said.text().contains("printer out"),
        "the patient was told: {}",
        said.text()
    );
    let code = {
        let j = a.journal.lock();
        j.connection()
            .query_row("SELECT person FROM print_jobs LIMIT 1", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap()
    };
    let sheet = gb(&format!("预约号：{code}"));
    let label_parts: i64 = a
        .journal
        .lock()
        .connection()
        .query_row(
            "SELECT count(*) FROM print_parts WHERE printer LIKE 'label:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(label_parts > 0, "the check-in journaled lab labels");

    // The staff page learns that K-A's parts wait.
    let mut waiting = 0;
    for _ in 0..600 {
        waiting = db
            .kiosk("K-A")
            .await
            .unwrap()
            .unwrap()
            .print_waiting
            .unwrap_or(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(waiting > 0, "the paused job reaches the fleet view");
    // Refused: the same kiosk, an unknown one.
    assert!(
        db.request_move("K-A", "K-A", "desk", chrono::Utc::now())
            .await
            .is_err()
    );
    assert!(
        db.request_move("K-A", "K-X", "desk", chrono::Utc::now())
            .await
            .is_err()
    );
    db.request_move("K-A", "K-B", "desk", chrono::Utc::now())
        .await
        .unwrap();

    assert!(
        wait_for(Duration::from_secs(30), || contains(&pb.printed(), &sheet)).await,
        "the sheet prints at K-B"
    );
    assert!(
        wait_for(Duration::from_secs(30), || lb.labels().len() as i64
            >= label_parts)
        .await,
        "the labels print at K-B: {} of {label_parts}",
        lb.labels().len()
    );
    assert!(a.journal.lock().unfinished_parts().unwrap().is_empty());
    // Delivered: the move closes, the documents wait for pickup at K-B.
    let mut closed = false;
    for _ in 0..600 {
        if db.open_moves().await.unwrap().is_empty() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the move is confirmed by K-B");
    let jobs: i64 = a
        .journal
        .lock()
        .connection()
        .query_row(
            "SELECT count(*) FROM print_jobs WHERE moved_to = 'K-B'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // The desk sees both trays: K-A reported the documents its patient
    // left for (sent elsewhere by the printer-out screen), K-B those it
    // printed after the move.
    let mut pickups = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        pickups = db.pickups_waiting().await.unwrap();
        if pickups.len() as i64 >= 2 * jobs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at = |kiosk: &str| pickups.iter().filter(|p| p.kiosk_id == kiosk).count() as i64;
    assert_eq!(at("K-B"), jobs, "every moved job waits at K-B");
    assert_eq!(at("K-A"), jobs, "K-A told the desk its patient left them");
    assert_eq!(pickups.len() as i64, 2 * jobs, "{pickups:?}");
    assert!(
        pickups
            .iter()
            .any(|p| p.booking_code == code && p.kiosk_id == "K-B")
    );

    // K-A's printers come back: nothing moved prints there. Once both
    // spoolers say "ok", each has been through the journal with its
    // printer working.
    pa.fix();
    la.fix();
    let ok = |name: &str| a.devices.state(name) == Some(exam_protocol::DeviceState::Ok);
    assert!(
        wait_for(Duration::from_secs(30), || ok("receipt") && ok("label")).await,
        "K-A's printers are back"
    );
    assert!(la.labels().is_empty(), "{:?}", la.labels());
    assert!(
        !contains(&pa.printed(), &sheet),
        "printed once, at K-B only"
    );
    assert_eq!(
        pb.printed()
            .windows(sheet.len())
            .filter(|w| *w == sheet.as_slice())
            .count(),
        1
    );
    a.stop().await;
    b.stop().await;
    server.stop().await;
}
