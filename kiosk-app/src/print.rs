//! The documents a kiosk prints: the guide sheet and fee list, their print
//! job, and the reprint marks. The spooler that prints them is
//! [`crate::spool`].

use chrono::{DateTime, Utc};
use device_drivers::escpos::{Align, Block, Receipt, encode};
use device_drivers::label::{Label, LabelItem, Language};
use exam_protocol::{BookingRecord, LabelLanguage, PrinterKind};
use offline_store::{NewPart, NewPrintJob};

/// What goes on a guide sheet (指引单).
#[derive(Debug, Clone)]
pub struct GuideSheet<'a> {
    pub kiosk_id: &'a str,
    pub record: &'a BookingRecord,
    pub checked_in_at: DateTime<Utc>,
    /// The first station, when the server assigned one (offline: none yet).
    pub first_station: Option<&'a str>,
    /// The person's phone page (Q6), online: the QR carries it; otherwise
    /// the QR carries the booking code for the guide desk's scanner.
    pub phone_link: Option<&'a str>,
    /// The amount due was paid at this kiosk just now.
    pub paid_at_kiosk: bool,
    /// Print the booking's lab barcode labels too, in this printer language
    /// (a label printer is configured).
    pub labels: Option<Language>,
    /// The patient's photo (camera, or the ID card's), printed with consent.
    pub photo: Option<&'a device_drivers::camera::Frame>,
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
/// barcode, the first station, and a QR of the phone page (online) or of
/// the booking code.
pub fn guide_sheet(s: &GuideSheet<'_>) -> Receipt {
    let (b, p) = (&s.record.booking, &s.record.person);
    let local = s.checked_in_at.with_timezone(&exam_domain::centre_offset());
    let sex = if p.sex == exam_domain::Sex::Male {
        "男"
    } else {
        "女"
    };
    let stations = s
        .record
        .documents
        .as_ref()
        .map(|d| d.guide.stations.as_slice())
        .unwrap_or_default();
    // The queue's live first station (online); offline the guide desk
    // confirms it (the planned order below still shows the way).
    let first = s.first_station.map(String::from);
    let station = first.as_ref().map_or(
        "请到导诊台确认首站 / Ask the guide desk".to_string(),
        |st| format!("请先到 {st}"),
    );
    let mut receipt = Receipt::default()
        .text("体检中心 · 体检指引单", Align::Center, true, true)
        .text("Health Examination Guide", Align::Center, false, false)
        .block(Block::Feed(1));
    if let Some(photo) = s.photo {
        // About 24 mm wide at 203 dpi: enough for staff to know the face.
        receipt = receipt.block(photo.to_raster(192));
    }
    receipt = receipt
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
        .text(&station, Align::Left, true, first.is_some());
    // The order of the rooms: fasting ones first, then floor by floor.
    for (i, st) in stations.iter().enumerate() {
        let fasting = if st.fasting { "【空腹】" } else { "" };
        receipt = receipt.text(
            &format!(
                "{}. {fasting}{}（{}项）",
                i + 1,
                exam_domain::documents::FirstStation {
                    room: st.room.clone(),
                    room_name: st.room_name.clone(),
                    floor: st.floor,
                }
                .label(),
                st.items.len()
            ),
            Align::Left,
            false,
            false,
        );
    }
    let (qr, caption) = match s.phone_link {
        Some(link) => (link.to_string(), "手机扫码查看排队与进度"),
        None => (b.code.clone(), "导诊台扫码查询排队与进度"),
    };
    receipt
        .block(Block::Qr {
            data: qr,
            module: if s.phone_link.is_some() { 4 } else { 5 },
        })
        .text(caption, Align::Center, false, false)
        .block(Block::Feed(2))
        .block(Block::Cut)
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// The fee list (缴费清单) of a booking with an amount due: what is owed
/// for which package, and whether it was paid here or is to be paid at
/// the cashier. None when nothing is due.
pub fn fee_list(s: &GuideSheet<'_>) -> Option<Receipt> {
    let b = &s.record.booking;
    if b.amount_due_fen <= 0 {
        return None;
    }
    let local = s.checked_in_at.with_timezone(&exam_domain::centre_offset());
    let state = if s.paid_at_kiosk {
        "已在自助机缴费 / Paid at the kiosk"
    } else {
        "待缴费：请到收费处或扫码缴费 / To pay at the cashier"
    };
    Some(
        Receipt::default()
            .text("缴费清单 · Fee list", Align::Center, true, true)
            .block(Block::Feed(1))
            .text(
                &format!("姓名：{}", exam_domain::mask::name(&s.record.person.name)),
                Align::Left,
                false,
                false,
            )
            .text(&format!("体检预约：{}", b.code), Align::Left, false, false)
            .text(
                &format!("{}  {}", b.package, yuan(b.amount_due_fen)),
                Align::Left,
                false,
                false,
            )
            .text(
                &format!("合计 Total：{}", yuan(b.amount_due_fen)),
                Align::Right,
                true,
                false,
            )
            .text(state, Align::Left, true, false)
            .text(
                &format!("{}  自助机 {}", local.format("%Y-%m-%d %H:%M"), s.kiosk_id),
                Align::Left,
                false,
                false,
            )
            .block(Block::Feed(2))
            .block(Block::Cut),
    )
}

/// The lab barcode labels (检验条码) of a booking: one per tube, the
/// barcode the lab scans, who it is and what the tube is for.
pub fn lab_labels(record: &BookingRecord, today: chrono::NaiveDate) -> Vec<Label> {
    let Some(docs) = &record.documents else {
        return vec![];
    };
    let p = &record.person;
    let sex = if p.sex == exam_domain::Sex::Male {
        "男"
    } else {
        "女"
    };
    docs.labels
        .iter()
        .map(|l| {
            let items: String = l.items.join(" ").chars().take(24).collect();
            Label {
                width_mm: 50,
                height_mm: 30,
                gap_mm: 2,
                items: vec![
                    LabelItem::Text {
                        x: 16,
                        y: 8,
                        height: 28,
                        text: format!(
                            "{} {sex} {}岁 {}",
                            p.name,
                            age_on(p.birth_date, today),
                            l.sample_name
                        ),
                    },
                    LabelItem::Code128 {
                        x: 16,
                        y: 44,
                        height: 80,
                        narrow: 2,
                        data: l.barcode.clone(),
                    },
                    LabelItem::Text {
                        x: 16,
                        y: 176,
                        height: 24,
                        text: items,
                    },
                ],
                copies: 1,
            }
        })
        .collect()
}

/// The journal's printer of labels rendered in `lang`.
pub fn label_printer(lang: Language) -> PrinterKind {
    PrinterKind::Label(match lang {
        Language::Tspl => LabelLanguage::Tspl,
        Language::Zpl => LabelLanguage::Zpl,
    })
}

/// A check-in's documents as one journaled print job: the guide sheet,
/// then the fee list when something is due, one receipt part each, then
/// the lab labels when a label printer is configured.
pub fn guide_sheet_job(s: &GuideSheet<'_>) -> NewPrintJob {
    let mut parts = vec![NewPart {
        printer: PrinterKind::Receipt,
        body: encode(&guide_sheet(s)),
    }];
    if let Some(fees) = fee_list(s) {
        parts.push(NewPart {
            printer: PrinterKind::Receipt,
            body: encode(&fees),
        });
    }
    if let Some(lang) = s.labels {
        let today = s
            .checked_in_at
            .with_timezone(&exam_domain::centre_offset())
            .date_naive();
        for label in lab_labels(s.record, today) {
            parts.push(NewPart {
                printer: label_printer(lang),
                body: device_drivers::label::encode(&label, lang),
            });
        }
    }
    NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "guide_sheet".into(),
        person: s.record.booking.code.clone(),
        parts,
    }
}

/// The booking slip (预约单) printed after booking or rebooking at the
/// kiosk (K17): who, when, what, the fee, and the booking code as a QR code
/// to scan at check-in.
pub fn booking_slip(
    name: &str,
    outcome: &crate::flow::Outcome,
    kiosk_id: &str,
    now: DateTime<Utc>,
) -> Option<NewPrintJob> {
    use crate::flow::{Outcome, slot_text};
    let (b, plan) = match outcome {
        Outcome::Booked { booking, plan } => (booking, Some(plan)),
        Outcome::Rebooked(booking) => (booking, None),
        Outcome::Cancelled(_) => return None,
    };
    let local = now.with_timezone(&exam_domain::centre_offset());
    let title = if plan.is_some() {
        "体检预约单"
    } else {
        "体检预约单（改约）"
    };
    let mut r = Receipt::default()
        .text(title, Align::Center, true, true)
        .text("Examination Booking", Align::Center, false, false)
        .block(Block::Feed(1))
        .text(
            &format!("姓名：{}", exam_domain::mask::name(name)),
            Align::Left,
            true,
            false,
        )
        .text(&format!("套餐：{}", b.package), Align::Left, false, false)
        .text(
            &format!("时间：{}", slot_text(b.exam_date, b.slot_start, b.slot_end)),
            Align::Left,
            true,
            true,
        )
        .text(&format!("预约号：{}", b.code), Align::Left, false, false);
    if let Some(plan) = plan {
        r = r.text(
            &format!("费用：{}（到检当天缴费）", yuan(plan.total_fen)),
            Align::Left,
            false,
            false,
        );
        for x in &plan.excluded {
            let instead = plan
                .replacement(x)
                .map_or_else(String::new, |n| format!("，改为{n}"));
            r = r.text(
                &format!("不做：{}（{}{instead}）", x.name, x.reason),
                Align::Left,
                false,
                false,
            );
        }
    }
    let r = r
        .text(
            "体检当天请空腹，携带身份证到自助机签到。",
            Align::Left,
            false,
            false,
        )
        .block(Block::Qr {
            data: b.code.clone(),
            module: 5,
        })
        .text(
            &format!("{}  自助机 {kiosk_id}", local.format("%Y-%m-%d %H:%M")),
            Align::Center,
            false,
            false,
        )
        .block(Block::Feed(2))
        .block(Block::Cut);
    Some(NewPrintJob {
        id: uuid::Uuid::now_v7(),
        kind: "booking_slip".into(),
        person: b.code.clone(),
        parts: vec![NewPart {
            printer: PrinterKind::Receipt,
            body: encode(&r),
        }],
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gb(s: &str) -> Vec<u8> {
        encoding_rs::GB18030.encode(s).0.into_owned()
    }

    fn has(hay: &[u8], needle: &str) -> bool {
        let n = gb(needle);
        hay.windows(n.len()).any(|w| w == n.as_slice())
    }

    #[test]
    fn a_booking_with_an_amount_due_gets_a_fee_list_part() {
        let t = chrono::NaiveTime::MIN;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let day =
            exam_domain::demo::generate(exam_domain::demo::DEMO_SEED, 30, today, t, t, "main");
        let record = |due: bool| {
            let b = day
                .bookings
                .iter()
                .find(|b| (b.amount_due_fen > 0) == due)
                .unwrap()
                .clone();
            let person = day
                .people
                .iter()
                .find(|p| p.id_number == b.id_number)
                .unwrap()
                .clone();
            BookingRecord {
                booking: b,
                person,
                change_seq: 1,
                documents: None,
            }
        };
        for (due, paid) in [(false, false), (true, false), (true, true)] {
            let r = record(due);
            let sheet = GuideSheet {
                kiosk_id: "K-1",
                record: &r,
                checked_in_at: Utc::now(),
                first_station: None,
                phone_link: None,
                paid_at_kiosk: paid,
                labels: None,
                photo: None,
            };
            let job = guide_sheet_job(&sheet);
            assert_eq!(job.parts.len(), 1 + usize::from(due));
            assert!(has(
                &job.parts[0].body,
                &format!("预约号：{}", r.booking.code)
            ));
            if due {
                let fees = &job.parts[1].body;
                assert!(has(fees, &format!("体检预约：{}", r.booking.code)));
                assert!(has(fees, &yuan(r.booking.amount_due_fen)));
                assert_eq!(has(fees, "已在自助机缴费"), paid);
                // The longest line wraps within the 80 mm paper.
                assert_eq!(has(fees, "To pay at the\ncashier\n"), !paid);
                assert!(!has(fees, &r.person.name) || r.person.name.chars().count() == 1);
            }
            // No photo, no raster; with one, a raster image (GS v 0).
            let raster = |b: &[u8]| b.windows(3).any(|w| w == [0x1D, 0x76, 0x30]);
            assert!(!raster(&job.parts[0].body));
            let frame = device_drivers::camera::Frame {
                width: 102,
                height: 126,
                luma: (0..102 * 126).map(|i| (i % 251) as u8).collect(),
            };
            let with_photo = guide_sheet_job(&GuideSheet {
                photo: Some(&frame),
                ..sheet
            });
            assert!(raster(&with_photo.parts[0].body));
        }
    }
}
