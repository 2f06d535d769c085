//! The headless kiosk asks for payment as the touch kiosk does, through
//! the central service and the payment platform's simulator (pay-sim, real
//! wire): a patient with an amount due who does not pay (walks away from
//! the payment screen, or taps cancel) is not checked in, nothing is
//! printed for them and their order is closed at the platform; once they
//! pay (pay-sim's test payer scans the service's QR code) the platform
//! tells the service, which marks the items paid; the kiosk hears it, checks
//! them in, prints the guide sheet and the fee list marked paid, and the
//! service registers them. The same with every notification lost: the
//! service's order query finds the payment.

// Its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e_tests::free_addr;
use exam_domain::IdentityQuery;
use exam_server::db::CountTable;
use kiosk_app::script;
use sync_client::AgentConfig;

fn gb(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_who_does_not_pay_is_not_checked_in_or_printed_for_until_they_pay() {
    pays_through_the_platform(exam_payment::sim::Faults::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_with_every_notification_lost() {
    pays_through_the_platform(exam_payment::sim::Faults {
        notify_lost: 1.0,
        ..Default::default()
    })
    .await;
}

async fn pays_through_the_platform(faults: exam_payment::sim::Faults) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("pay-sim");
    std::fs::create_dir_all(&keys).unwrap();
    let (sim, sim_url) = e2e_tests::pay_sim(&keys, faults).await.unwrap();
    let config = e2e_tests::with_pay_sim(
        e2e_tests::server_config(&dir.path().join("exam.db"), free_addr(), 40),
        &sim_url,
        &keys,
    );
    let server = exam_server::start(config).await.unwrap();
    let (kiosk, printer) = e2e_tests::kiosk_with_printer(
        &server,
        dir.path(),
        "K-PAY",
        AgentConfig {
            heartbeat_every: Duration::from_millis(200),
            pull_every: Duration::from_millis(200),
            ..AgentConfig::default()
        },
        Duration::from_secs(10),
    )
    .await;
    let db = &server.state.db;

    // A demo patient whose bookings are open now, with an amount due.
    let day = e2e_tests::demo_day(40);
    let person = e2e_tests::ready_person_owing(&kiosk.core, &day).await;
    let bookings: Vec<_> = db
        .lookup(&IdentityQuery::IdNumber {
            id_number: person.id_number.clone(),
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.booking)
        .collect();
    let due: i64 = bookings.iter().map(|b| b.amount_due_fen).sum();
    assert!(due > 0);
    let card = format!("card {}", person.id_number);
    let (headless, out) = e2e_tests::headless(&kiosk);
    let mut headless = headless.with_pay_sim(sim_url.clone());

    // Walks away from the payment screen, then comes back and taps cancel.
    for answer in ["pay=no", "pay=cancel"] {
        let steps = script::parse(&format!("{card} {answer}")).unwrap();
        let o = headless.play(&steps).await;
        assert_eq!(o.checked_in, 0, "{answer}: {o:?}\n{}", out.text());
        assert_eq!(o.unpaid, bookings.len(), "{answer}: {o:?}");
        assert_eq!(o.paid, 0, "{answer}: {o:?}");
    }
    assert_eq!(
        out.text().matches("left without paying").count(),
        2 * bookings.len(),
        "{}",
        out.text()
    );
    // Nothing journaled, nothing printed, nothing registered.
    {
        let j = kiosk.journal.lock();
        assert!(j.all_event_ids().unwrap().is_empty(), "no event journaled");
        assert!(j.unfinished_jobs().unwrap().is_empty());
        let jobs: i64 = j
            .connection()
            .query_row("SELECT count(*) FROM print_jobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(jobs, 0, "no print job");
        for b in &bookings {
            assert!(!j.checked_in_locally(b.id).unwrap());
        }
    }
    assert!(kiosk.drain(Duration::from_secs(30)).await.unwrap());
    for b in &bookings {
        assert!(
            !contains(&printer.printed(), b.code.as_bytes()),
            "nothing printed for {}",
            b.code
        );
    }
    assert_eq!(db.count(CountTable::KioskEvents).await.unwrap(), 0);
    assert_eq!(db.count(CountTable::Registrations).await.unwrap(), 0);
    // Nothing was paid at the platform (an order made as they left is
    // closed by the kiosk's cancel or at its expiry).
    assert_eq!(sim.stats().payments, 0);
    // An order was made at the platform (asked for again before the first
    // was closed, it is the same order) and none is left open.
    assert!(sim.stats().orders >= 1, "{:?}", sim.stats());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !exam_server::payments::store::open_orders(db)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "an unpaid order is still open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The third time they pay (a typical patient: the script says nothing).
    let paid = headless.play(&script::parse(&card).unwrap()).await;
    assert_eq!(paid.checked_in, bookings.len(), "{paid:?}\n{}", out.text());
    assert_eq!((paid.paid, paid.unpaid), (1, 0), "{paid:?}");
    assert!(out.text().contains("paid ¥"), "{}", out.text());
    // Paid at the platform once, and the items paid at the service.
    assert_eq!(sim.stats().payments, 1);
    for b in &bookings {
        let v = db.visit(b.id).await.unwrap();
        assert!(v.items.iter().all(|i| i.paid), "items of {} paid", b.code);
    }
    // Their documents came out of the printer (the patient left only once
    // they had): each booking's guide sheet, the fee list marked paid here.
    let paper = printer.printed();
    for b in &bookings {
        assert!(
            contains(&paper, &gb(&format!("预约号：{}", b.code))),
            "guide sheet of {}",
            b.code
        );
    }
    assert!(
        contains(&paper, &gb("已在自助机缴费")),
        "the fee list says paid"
    );
    assert!(!contains(&paper, &gb("待缴费")), "nothing left to pay");
    let font = device_drivers::sim::render::load_font().unwrap();
    let sheets = device_drivers::sim::render::render(&paper, &font).unwrap();
    assert!(!sheets.is_empty() && sheets.iter().all(|p| p.cut));
    assert!(printer.errors().is_empty(), "{:?}", printer.errors());
    // And the central service registers them.
    let n = bookings.len() as i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while db.count(CountTable::Registrations).await.unwrap() < n
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(db.count(CountTable::Registrations).await.unwrap(), n);
    kiosk.stop().await;
    server.stop().await;
}
