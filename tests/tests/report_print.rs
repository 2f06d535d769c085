//! K9 "after the exam, the report (A4)" end to end: a visit's results go
//! through the chief examination and review, which generates its report
//! and publishes it on the central service (E8, E9); the patient taps
//! 打印体检报告, places their ID card on the (simulated) reader, picks the
//! report and it prints through the real CUPS (cups-pdf) from the kiosk's
//! journaled spooler. The print reaches the service as an event; the PDF
//! fetch is in the audit log; a withdrawn report is no longer offered.

use std::time::Duration;

use device_drivers::report::{JobState, pdf_pages};
use device_drivers::sim::idcard::card_for;
use e2e_tests::{KioskScreen, SimulatedReader, demo_day, free_addr, start_server, wait_for};
use exam_domain::IdentityQuery;
use kiosk_app::assemble::{self, KioskOptions};
use kiosk_app::flow::{Event, Settings};
use kiosk_ui::Screen;
use sync_client::AgentConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_prints_a_published_report_with_the_id_card() {
    let (uri, cups) = e2e_tests::report_queue();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    let db = &server.state.db;
    let secret = "enrol-secret-for-the-report-test";
    db.add_kiosk("K-REP", "main", "report-pickup", secret)
        .await
        .unwrap();
    let kiosk = assemble::start(KioskOptions {
        journal: dir.path().join("kiosk.db"),
        server_url: Some(server.url()),
        server_link: sync_client::LinkOptions::loopback_dev(),
        kiosk_id: Some("K-REP".into()),
        enrol_secret: Some(secret.into()),
        agent: AgentConfig {
            heartbeat_every: Duration::from_millis(300),
            pull_every: Duration::from_millis(300),
            ..AgentConfig::default()
        },
        lookup_timeout: Duration::from_secs(2),
        receipt_printer: None,
        report_printer: Some(device_drivers::config::ReportPrinterConfig { uri }),
        label_printer: None,
    })
    .await
    .unwrap();
    assert!(kiosk.core.prints_reports());

    // A demo visit goes through every room, the chief examination and
    // review: its report is generated from the results and published.
    let day = demo_day(10);
    let person = &day.people[0];
    let booking = db
        .lookup(&IdentityQuery::IdNumber {
            id_number: person.id_number.clone(),
        })
        .await
        .unwrap()[0]
        .booking
        .clone();
    db.register("desk", booking.id, &[]).await.unwrap();
    e2e_tests::doctors::enter_all_results(&server.state, booking.id, 3).await;
    let n = exam_server::chief::simulate(&server.state, "e2e-chief", "e2e-review")
        .await
        .unwrap();
    assert_eq!(n, 1);
    let published = db.visit_report(booking.id).await.unwrap().unwrap();
    assert!(published.pages >= 3, "{published:?}");
    assert_eq!(published.published_by, "e2e-review");

    let reader = SimulatedReader::start();
    let rig = e2e_tests::session_with_reader(
        &kiosk,
        Settings {
            elderly: false,
            photo: false,
            face: false,
            face_policy: Default::default(),
        },
        &device_drivers::config::IdCardConfig::at(&reader.path),
    );
    let k = KioskScreen {
        tx: rig.tx.clone(),
        views: rig.views.clone(),
    };

    k.send(Event::StartReports);
    k.until_title("请放置身份证").await;
    reader.sim.place(card_for(person));
    let Screen::Pick { rows, title, .. } = k.until_title("您好").await else {
        unreachable!()
    };
    assert!(!title.contains(&person.name), "the name is masked: {title}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].title.contains(&booking.package), "{rows:?}");
    let pages = format!("{} 页", published.pages);
    assert!(
        rows[0].detail.contains(&pages) && rows[0].status == "未打印",
        "{rows:?}"
    );
    assert!(rows[0].selected, "a report not printed yet is preselected");
    k.tap_button("打印所选报告").await;
    k.until(
        "the report printing or printed",
        |s| matches!(s, Screen::Summary { title, .. } if title.contains("报告打印中") || title.contains("请取走您的体检报告")),
    )
    .await;
    let wait = Duration::from_secs(90);
    let ok = wait_for(wait, || {
        matches!(k.screen(), Screen::Summary { ref title, .. } if title.contains("请取走您的体检报告"))
    })
    .await;
    assert!(ok, "the report printed; the screen shows {:?}", k.screen());

    // The service learns of the print from the kiosk's event.
    let mut prints = Vec::new();
    for _ in 0..100 {
        prints = db
            .visit_report(booking.id)
            .await
            .unwrap()
            .map(|r| r.prints)
            .unwrap_or_default();
        if !prints.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(prints.len(), 1);
    assert_eq!(prints[0].kiosk_id, "K-REP");
    // CUPS printed it once, whole, under the kiosk's own name for the part.
    let name = format!("{}-0", prints[0].job_id);
    let jobs = cups.find(&name).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].state, JobState::Completed);
    let out = std::path::Path::new("/var/spool/cups-pdf/ANONYMOUS");
    if out.is_dir() {
        let mut written = None;
        wait_for(Duration::from_secs(30), || {
            written = std::fs::read_dir(out)
                .unwrap()
                .flatten()
                .find(|e| e.file_name().to_string_lossy().contains(&name))
                .map(|e| std::fs::read(e.path()).unwrap());
            written.is_some()
        })
        .await;
        let written = written.expect("cups-pdf wrote the report");
        assert_eq!(pdf_pages(&written), Some(published.pages), "every page");
    }
    // The kiosk's fetch of the PDF is in the audit log, under the visit.
    let lines = db
        .operations(
            &exam_server::db::OpQuery {
                subject: Some(format!("booking:{}", booking.id)),
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.action == "report.fetch" && l.actor == "kiosk:K-REP"),
        "{lines:?}"
    );

    // Done; the report is withdrawn; the next time nothing is offered.
    k.tap_button("完成").await;
    k.until("the start screen", |s| *s == Screen::Attract).await;
    e2e_tests::take_card_away(&reader.sim).await;
    db.withdraw_report("report-office", booking.id, "结论有误，重新出具")
        .await
        .unwrap();
    k.send(Event::StartReports);
    k.until_title("请放置身份证").await;
    reader.sim.place(card_for(person));
    k.until_title("尚未出具").await;

    drop(k);
    rig.running.abort();
}
