//! K1 + K9: the photo on an ID card, decoded through the reader vendor's
//! library (the stand-in built from `device-drivers/vendor-sim`, loaded at
//! run time as the real one is), goes onto the guide sheet of a patient who
//! consented to photo use (the kiosk's photo step is on, and the patient
//! skipped the camera, which this kiosk lacks), and is kept with the
//! registration on the central service.

use std::time::Duration;

use device_drivers::config::IdCardConfig;
use device_drivers::sim::{idcard::card_for, wlt};
use e2e_tests::{SimulatedReader, free_addr, start_server, wait_for};
use kiosk_app::flow::Settings;
use kiosk_app::headless::Headless;
use sync_client::AgentConfig;

/// ESC/POS raster image (GS v 0): the only image a guide sheet carries is
/// the photo.
fn has_raster(b: &[u8]) -> bool {
    b.windows(3).any(|w| w == [0x1D, 0x76, 0x30])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_photo_is_printed_on_the_guide_sheet_with_consent() {
    let dir = tempfile::tempdir().unwrap();
    let lib = wlt::build_vendor_library(dir.path()).unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    let (kiosk, printer) = e2e_tests::kiosk_with_printer(
        &server,
        dir.path(),
        "K-PHOTO",
        AgentConfig::default(),
        Duration::from_secs(2),
    )
    .await;

    let reader = SimulatedReader::start();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let _driver = kiosk_app::devices::start_idcard(
        &IdCardConfig {
            photo_library: Some(lib),
            ..IdCardConfig::at(&reader.path)
        },
        tx,
    );
    let arrivals = e2e_tests::device_arrivals(rx);
    // The photo step on: the consent screen asks for photo use. The
    // patient answers as a typical one does: consents, prints everything,
    // skips the camera (this kiosk has none; the card's photo serves) and
    // pays if asked.
    let out = e2e_tests::Output::default();
    let mut headless = Headless::new(
        &kiosk,
        Settings {
            elderly: false,
            photo: true,
            face: false,
            face_policy: Default::default(),
        },
        out.clone(),
    );
    let serving = tokio::spawn(async move { headless.serve(arrivals).await });

    let day = e2e_tests::demo_day(10);
    let person = e2e_tests::ready_person(&kiosk.core, &day).await;
    let mut card = card_for(person);
    card.photo_wlt = wlt::card_photo(person.id_number.as_str());
    reader.sim.place(card);

    let masked = exam_domain::mask::id_number(person.id_number.as_str());
    let done = wait_for(Duration::from_secs(60), || out.text().contains(&masked)).await;
    assert!(done, "the patient was served: {}", out.text());
    assert!(out.text().contains("checked in "), "{}", out.text());
    assert!(
        wait_for(Duration::from_secs(30), || has_raster(&printer.printed())).await,
        "the photo is on the guide sheet"
    );
    // The simulator renders the sheet with its picture: whole and cut.
    let font = device_drivers::sim::render::load_font().unwrap();
    let sheets = device_drivers::sim::render::render(&printer.printed(), &font).unwrap();
    assert!(!sheets.is_empty() && sheets.iter().all(|p| p.cut));
    assert!(printer.errors().is_empty(), "{:?}", printer.errors());

    // The photo step reached the registration on the server: the card's
    // picture, as the kiosk kept it (with consent: declined, no picture).
    let booking = day
        .bookings
        .iter()
        .find(|b| b.id_number == person.id_number)
        .unwrap();
    let mut stored = None;
    for _ in 0..300 {
        stored = server
            .state
            .db
            .visit_photo(booking.id, "test")
            .await
            .unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = stored.expect("the photo event reached the server");
    assert_eq!(stored.outcome, "id_card");
    let png = stored.png.expect("a picture, with consent");
    let path = dir.path().join("stored.png");
    std::fs::write(&path, png).unwrap();
    let f = device_drivers::camera::Frame::from_png_file(&path).unwrap();
    assert_eq!((f.width, f.height), (102, 126));
    serving.abort();
}
