//! K17 end to end: a woman places her ID card on the (simulated) reader,
//! books at the kiosk's touch screens against the real central service,
//! is told at once that two add-ons conflict, gets her booking slip from
//! the (simulated) receipt printer, and later cancels. The test reads only
//! what the screen shows (its `View`) and taps what a patient would tap.

use std::time::Duration;

use chrono::NaiveDate;
use device_drivers::sim::idcard::card_for;
use e2e_tests::{KioskScreen, SimulatedReader, free_addr, start_server, wait_for};
use exam_domain::{BookingState, IdNumber, IdentityQuery, Person, Sex};
use kiosk_app::flow::{Event, Settings};
use kiosk_ui::Screen;
use sync_client::AgentConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_with_her_id_card_and_cancels_later() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 10)
        .await
        .unwrap();
    let (kiosk, printer) = e2e_tests::kiosk_with_printer(
        &server,
        dir.path(),
        "K-BOOK",
        AgentConfig::default(),
        Duration::from_secs(2),
    )
    .await;

    // The real ID card driver over a pseudo-terminal, the simulator behind it.
    let reader = SimulatedReader::start();
    let sim = &reader.sim;
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
    let (tx, views, running) = (rig.tx.clone(), rig.views.clone(), rig.running);
    let k = KioskScreen { tx, views };

    let id = IdNumber::compose("110105", NaiveDate::from_ymd_opt(1995, 3, 8).unwrap(), 24).unwrap();
    assert_eq!(id.sex(), Sex::Female);
    let person = Person {
        id_number: id.clone(),
        name: "何静".into(),
        sex: Sex::Female,
        birth_date: id.birth_date(),
        mobile: String::new(),
    };

    // The start screen's "book" button: the kiosk asks for the card.
    k.send(Event::StartBooking);
    k.until_title("请放置身份证").await;
    sim.place(card_for(&person));
    k.until_title("婚姻状况").await;
    k.tap_row("未婚");
    k.until_title("请选择体检套餐").await;
    k.tap_row("女性基础套餐(已婚)");
    k.tap_button("下一步").await;
    k.until_title("需要加项").await;
    k.tap_row("碳13");
    k.tap_row("碳14");
    let prompt = match k
        .until(
            "the conflict prompt",
            |s| matches!(s, Screen::Pick { prompt, .. } if !prompt.is_empty()),
        )
        .await
    {
        Screen::Pick { prompt, .. } => prompt,
        _ => unreachable!(),
    };
    assert!(
        prompt.contains("碳13") && prompt.contains("碳14") && prompt.contains("检验科"),
        "{prompt}"
    );
    k.tap_button("下一步").await;
    k.until_title("请选择体检日期").await;
    k.tap_first_ready();
    k.until_title("请选择时段").await;
    k.tap_first_ready();
    k.until_title("请核对预约信息").await;
    k.tap_button("确认").await;
    let Screen::Summary { lines, sub, .. } = k.until_title("预约成功").await else {
        unreachable!()
    };
    assert!(sub.contains("预约单"), "{sub}");
    // The married-only items were cut for her, with the alternative named.
    let all = lines.join("\n");
    assert!(all.contains("不做「妇科检查(已婚，内诊)」"), "{all}");
    assert!(all.contains("改为妇科检查(未婚，外阴视诊)"), "{all}");

    // The central service has her booking, with the 13C test.
    let booked = server
        .state
        .db
        .lookup(&IdentityQuery::IdNumber {
            id_number: id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(booked.len(), 1);
    let code = booked[0].booking.code.clone();
    assert_eq!(booked[0].booking.state, BookingState::Booked);
    assert!(all.contains(&code));
    // Her slip came out of the printer: whole, cut, with the booking code.
    assert!(
        wait_for(Duration::from_secs(10), || {
            printer
                .printed()
                .windows(code.len())
                .any(|w| w == code.as_bytes())
        })
        .await,
        "booking slip printed"
    );
    let font = device_drivers::sim::render::load_font().unwrap();
    let slips = device_drivers::sim::render::render(&printer.printed(), &font).unwrap();
    assert!(slips.len() == 1 && slips[0].cut, "one whole slip");

    // Later: the card again, her booking listed, cancelled with a reason.
    k.tap_button("完成").await;
    k.until("the start screen", |s| *s == Screen::Attract).await;
    e2e_tests::take_card_away(sim).await;
    k.send(Event::StartBooking);
    k.until_title("请放置身份证").await;
    sim.place(card_for(&person));
    k.until_title("您好").await;
    k.tap_row("女性基础套餐");
    k.tap_button("取消预约").await;
    k.until_title("取消原因").await;
    k.tap_row("身体不适");
    k.tap_button("确认").await;
    k.until_title("已取消预约").await;
    let after = server
        .state
        .db
        .lookup(&IdentityQuery::BookingCode { code })
        .await
        .unwrap();
    assert_eq!(after[0].booking.state, BookingState::Cancelled);

    drop(k);
    running.abort();
}
