//! The documents a kiosk prints: the guide sheet template and its print
//! job, and the reprint marks. The spooler that prints them is in
//! [`crate::spool`] (re-exported here).

use chrono::{DateTime, Utc};
use device_drivers::escpos::{Align, Block, Receipt, encode};
use device_drivers::label::{Label, LabelItem, Language};
use exam_protocol::BookingRecord;
use offline_store::{NewPart, NewPrintJob};

pub use crate::spool::{
    Doorbell, PartPrinter, SpoolError, SpoolEvent, Trouble, print_pending, spawn_spooler,
};

/// What goes on a guide sheet (指引单).
#[derive(Debug, Clone)]
pub struct GuideSheet<'a> {
    pub kiosk_id: &'a str,
    pub record: &'a BookingRecord,
    pub checked_in_at: DateTime<Utc>,
    /// The first station, when the server assigned one (offline: none yet).
    pub first_station: Option<&'a str>,
}

fn age_on(birth: chrono::NaiveDate, day: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The guide sheet as a receipt: who, which package, the exam-number
/// barcode, the first station, and a QR of the booking code.
pub fn guide_sheet(s: &GuideSheet<'_>) -> Receipt {
    let (b, p) = (&s.record.booking, &s.record.person);
    let local = s.checked_in_at.with_timezone(&exam_domain::centre_offset());
    let sex = if p.sex == exam_domain::Sex::Male {
        "男"
    } else {
        "女"
    };
    let station = s.first_station.map_or(
        "请到导诊台确认首站 / Ask the guide desk".to_string(),
        |st| format!("首站：{st}"),
    );
    Receipt::default()
        .text("体检中心 · 体检指引单", Align::Center, true, true)
        .text("Health Examination Guide", Align::Center, false, false)
        .block(Block::Feed(1))
        .text(
            &format!(
                "姓名：{}    {sex}  {}岁",
                p.name,
                age_on(p.birth_date, local.date_naive())
            ),
            Align::Left,
            true,
            false,
        )
        .text(&format!("套餐：{}", b.package), Align::Left, false, false)
        .text(&format!("预约号：{}", b.code), Align::Left, false, false)
        .text(
            &format!(
                "签到：{}  自助机 {}",
                local.format("%Y-%m-%d %H:%M"),
                s.kiosk_id
            ),
            Align::Left,
            false,
            false,
        )
        .block(Block::Code128 {
            data: b.exam_no.clone(),
            height: 80,
        })
        .text(&station, Align::Left, true, s.first_station.is_some())
        .block(Block::Qr {
            data: b.code.clone(),
            module: 5,
        })
        .text("扫码查看检查进度与排队", Align::Center, false, false)
        .block(Block::Feed(2))
        .block(Block::Cut)
}

/// The guide sheet as a journaled print job of one receipt part.
pub fn guide_sheet_job(s: &GuideSheet<'_>) -> NewPrintJob {
    NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: s.record.booking.code.clone(),
        parts: vec![NewPart {
            printer: "receipt".into(),
            body: encode(&guide_sheet(s)),
        }],
    }
}

/// Printed above a part that may have been printed before.
pub fn reprint_mark() -> Vec<u8> {
    encode(&Receipt::default().text("【补打 REPRINT】", Align::Center, true, true))
}

/// A small label printed before a lab label that may have been printed
/// before: two tubes must never carry one barcode unmarked.
pub fn reprint_label(lang: Language) -> Vec<u8> {
    let label = Label {
        width_mm: 50,
        height_mm: 30,
        gap_mm: 2,
        items: vec![LabelItem::Text {
            x: 40,
            y: 80,
            height: 48,
            text: "补打 REPRINT".into(),
        }],
        copies: 1,
    };
    device_drivers::label::encode(&label, lang)
}
