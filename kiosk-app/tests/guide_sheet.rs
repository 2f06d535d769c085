//! The kiosk's guide sheet (指引单) as printed, against its golden images
//! (issue 19): online it names the queue's first station ("请先到 1楼
//! 采血室"), offline it sends the person to the guide desk; both list the
//! planned order, fasting rooms first.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime, TimeZone};
use device_drivers::escpos::encode;
use device_drivers::sim::render::{Paper, load_font, render};
use exam_domain::documents::{DocItem, FirstStation, documents};
use exam_protocol::BookingRecord;
use kiosk_app::print::{GuideSheet, guide_sheet};

fn record() -> BookingRecord {
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    let t = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
    let d = exam_domain::demo::generate(7, 3, day, t, t, "main");
    let booking = d.bookings[0].clone();
    let person = d
        .people
        .iter()
        .find(|p| p.id_number == booking.id_number)
        .unwrap()
        .clone();
    let cat = exam_domain::catalogue::seed::catalogue();
    let items: Vec<DocItem> = [
        "L-CBC",
        "L-GLU",
        "US-ABD",
        "ECG-12",
        "EYE-VA",
        "RAD-DR-CHEST",
    ]
    .iter()
    .map(|c| DocItem {
        code: (*c).into(),
        price_fen: cat.item(c).unwrap().price_fen,
        paid: true,
    })
    .collect();
    let docs = documents(&cat, "main", &booking.exam_no, &items);
    BookingRecord {
        booking,
        person,
        change_seq: 1,
        documents: Some(docs),
    }
}

fn printed(first: Option<&str>, phone: Option<&str>) -> Paper {
    let r = record();
    let sheet = GuideSheet {
        kiosk_id: "K-1",
        record: &r,
        checked_in_at: chrono::Utc.with_ymd_and_hms(2026, 12, 5, 0, 30, 0).unwrap(),
        first_station: first,
        phone_link: phone,
        paid_at_kiosk: false,
        labels: None,
        photo: None,
    };
    let font = load_font().unwrap();
    render(&encode(&guide_sheet(&sheet)), &font)
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

/// Compares with `tests/golden/<name>.png` (within 0.2 % of pixels);
/// `UPDATE_GOLDEN=1` writes the image.
fn assert_golden(paper: &Paper, name: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.png"));
    let png = paper.to_png().unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &png).unwrap();
    }
    let golden =
        Paper::from_png(&std::fs::read(&path).expect("golden image (UPDATE_GOLDEN=1 writes it)"))
            .unwrap();
    let diff = paper.difference(&golden);
    if diff > 0.002 {
        let out = std::env::temp_dir().join(format!("{name}-actual.png"));
        std::fs::write(&out, &png).unwrap();
        panic!(
            "{name} differs from the golden image in {:.2}% of pixels; see {}",
            diff * 100.0,
            out.display()
        );
    }
}

#[test]
fn the_guide_sheet_names_the_first_station_online_and_the_guide_desk_offline() {
    let first = FirstStation {
        room: "blood".into(),
        room_name: "采血室".into(),
        floor: 1,
    };
    // Online the QR is the phone page's link (Q6), offline the booking code.
    let link = "https://tj.example.cn/m/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let online = printed(Some(&first.label()), Some(link));
    let offline = printed(None, None);
    assert!(
        online.difference(&printed(Some(&first.label()), None)) > 0.0,
        "the QR carries the link"
    );
    assert!(
        online.difference(&offline) > 0.0,
        "the station line differs"
    );
    assert_golden(&online, "guide-sheet-first-station");
    assert_golden(&offline, "guide-sheet-offline");
}
