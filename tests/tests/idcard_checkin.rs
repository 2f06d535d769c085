//! A patient places an ID card on the (simulated) reader; the real driver
//! reads it over a pseudo-terminal and the kiosk checks them in. Faults on
//! the reader reach the patient's screen and the staff's fleet view.

use std::time::Duration;

use device_drivers::sim::{IdCardFault, idcard::card_for};
use e2e_tests::{SimulatedReader, free_addr, start_server, wait_for};
use exam_server::db::CountTable;
use sync_client::AgentConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_on_the_reader_checks_the_patient_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    let (kiosk, printer) = e2e_tests::kiosk_with_printer(
        &server,
        dir.path(),
        "K-CARD",
        AgentConfig {
            heartbeat_every: Duration::from_millis(200),
            pull_every: Duration::from_millis(200),
            ..AgentConfig::default()
        },
        Duration::from_secs(2),
    )
    .await;

    let simulated = SimulatedReader::start();
    let sim = simulated.sim.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = kiosk_app::devices::start_idcard(
        &device_drivers::config::IdCardConfig::at(&simulated.path),
        tx,
    );
    // The headless kiosk: the reader's inputs reach its session; whoever
    // places a card answers as a typical patient does.
    let arrivals = e2e_tests::device_arrivals(rx);
    let (mut headless, screen) = e2e_tests::headless(&kiosk);
    let serving = async move { headless.serve(arrivals).await };

    let test = async {
        let day = e2e_tests::demo_day(10);
        let person = e2e_tests::ready_person(&kiosk.core, &day).await;
        let db = &server.state.db;

        assert!(
            wait_for(Duration::from_secs(30), || screen
                .text()
                .contains("idcard        device ok"))
            .await,
            "{}",
            screen.text()
        );
        sim.inject(IdCardFault::Unreadable);
        sim.place(card_for(person));
        sim.inject(IdCardFault::Unreadable);
        assert!(
            wait_for(Duration::from_secs(30), || screen.text().lines().any(|l| l
                .contains("the card could not be read")
                && l.contains("the screen says")))
            .await,
            "{}",
            screen.text()
        );
        sim.place(card_for(person)); // placed again, readable this time
        let masked = exam_domain::mask::id_number(person.id_number.as_str());
        assert!(wait_for(Duration::from_secs(30), || screen.text().contains(&masked)).await);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while db.count(CountTable::Registrations).await.unwrap() < 1
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            db.count(CountTable::Registrations).await.unwrap() >= 1,
            "{}",
            screen.text()
        );
        // The guide sheet came out of the printer, with the booking's code.
        let bookings = day
            .bookings
            .iter()
            .filter(|b| b.id_number == person.id_number)
            .map(|b| b.code.clone())
            .collect::<Vec<_>>();
        assert!(
            wait_for(Duration::from_secs(30), || {
                let printed = printer.printed();
                bookings
                    .iter()
                    .any(|code| printed.windows(code.len()).any(|w| w == code.as_bytes()))
            })
            .await,
            "guide sheet printed"
        );
        let font = device_drivers::sim::render::load_font().unwrap();
        let sheets = device_drivers::sim::render::render(&printer.printed(), &font).unwrap();
        assert!(
            !sheets.is_empty() && sheets.iter().all(|p| p.cut),
            "whole, cut sheets"
        );
        assert!(printer.errors().is_empty(), "{:?}", printer.errors());
        // Left on the reader: read once only, however often it polls.
        let polled = sim.commands();
        assert!(wait_for(Duration::from_secs(30), || sim.commands() >= polled + 3).await);
        assert_eq!(
            screen.text().matches(&masked).count(),
            1,
            "{}",
            screen.text()
        );

        // The reader is unplugged: the kiosk says so in its heartbeat.
        simulated.unplug();
        let mut shown = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline {
            shown = db
                .kiosk("K-CARD")
                .await
                .unwrap()
                .unwrap()
                .devices
                .unwrap_or_default();
            if shown.contains("unplugged") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            shown.contains("\"idcard\"") && shown.contains("unplugged"),
            "{shown}"
        );
    };
    tokio::select! {
        o = serving => panic!("serve ended early: {o:?}"),
        () = test => {}
    }
    drop(reader);
    kiosk.stop().await;
    server.stop().await;
}
