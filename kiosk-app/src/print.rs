//! Printing: the guide sheet template, and the spooler that prints the
//! journal's print jobs part by part.
//!
//! A part moves pending → sending → done, each step committed to the
//! journal before the next one happens. A part found in `sending` on start
//! was in flight when the kiosk died: it is printed again under a visible
//! 补打 / REPRINT mark, so nothing is lost and no duplicate goes unmarked.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use device_drivers::DeviceState;
use device_drivers::escpos::{Align, Block, PrintError, Receipt, ReceiptPrinter, encode};
use exam_protocol::BookingRecord;
use offline_store::{Journal, NewPart, NewPrintJob, PartState, StoreError};

use crate::checkin::lock;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpoolEvent {
    Printed {
        job: uuid::Uuid,
        idx: i64,
        reprint: bool,
    },
    State(DeviceState, &'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Print(#[from] PrintError),
}

/// Prints every unfinished receipt part, in order. Returns when all are
/// done, or with the error that stopped it (printer not ready, gone).
pub fn print_pending<T: Read + Write>(
    journal: &Mutex<Journal>,
    printer: &mut ReceiptPrinter<T>,
    emit: &mut dyn FnMut(SpoolEvent),
) -> Result<usize, SpoolError> {
    let mut printed = 0;
    let parts = lock(journal).unfinished_parts()?;
    for part in parts.into_iter().filter(|p| p.printer == "receipt") {
        let reprint = part.state == PartState::Sending;
        let ready = printer.status()?;
        if !ready.ready() {
            return Err(PrintError::NotReady(ready).into());
        }
        // Staff may have moved it to another kiosk since the list was read.
        if !lock(journal).claim_part(part.job_id, part.idx, Utc::now())? {
            continue;
        }
        let body = if reprint {
            [reprint_mark(), part.body].concat()
        } else {
            part.body
        };
        match printer.print_part(&body) {
            Ok(_) => {}
            // Nothing was sent: the part is still just pending.
            Err(e @ PrintError::NotReady(_)) => {
                let back = if reprint {
                    PartState::Sending
                } else {
                    PartState::Pending
                };
                lock(journal).set_part_state(part.job_id, part.idx, back, Utc::now())?;
                return Err(e.into());
            }
            // Sent, but maybe not all on paper: stays `sending`, reprinted marked.
            Err(e) => return Err(e.into()),
        }
        lock(journal).set_part_state(part.job_id, part.idx, PartState::Done, Utc::now())?;
        emit(SpoolEvent::Printed {
            job: part.job_id,
            idx: part.idx,
            reprint,
        });
        printed += 1;
    }
    Ok(printed)
}

/// Rung when a print job is journaled, so the spooler starts at once
/// instead of at its next poll.
#[derive(Debug, Default)]
pub struct Doorbell {
    rung: Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        *self
            .rung
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    /// Waits for a ring, at most `d`.
    pub fn wait(&self, d: Duration) {
        let g = self
            .rung
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut g, _) = self
            .cv
            .wait_timeout_while(g, d, |rung| !*rung)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g = false;
    }
}

/// The spooler thread: connects to the printer, prints what the journal
/// holds, polls for new jobs every 300 ms, waits out paper-out and cover-open,
/// and reconnects when the printer goes away.
pub fn spawn_spooler(
    journal: Arc<Mutex<Journal>>,
    address: String,
    stop: Arc<AtomicBool>,
    bell: Arc<Doorbell>,
    mut emit: impl FnMut(SpoolEvent) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut last: Option<&'static str> = None;
        let mut state = |label: &'static str, s: DeviceState, emit: &mut dyn FnMut(SpoolEvent)| {
            if last != Some(label) {
                last = Some(label);
                emit(SpoolEvent::State(s, label));
            }
        };
        while !stop.load(Ordering::Relaxed) {
            let port = match device_drivers::escpos::open(&address) {
                Ok(p) => p,
                Err(e) => {
                    state(
                        "unplugged",
                        DeviceState::Unplugged(e.to_string()),
                        &mut emit,
                    );
                    device_drivers::serial::sleep_unless_stopped(Duration::from_secs(2), &stop);
                    continue;
                }
            };
            let mut printer = ReceiptPrinter::new(port, Duration::from_secs(2));
            while !stop.load(Ordering::Relaxed) {
                match print_pending(&journal, &mut printer, &mut emit) {
                    Ok(_) => match printer.status() {
                        Ok(s) => state(s.label(), DeviceState::Ok, &mut emit),
                        Err(_) => break,
                    },
                    Err(SpoolError::Print(
                        PrintError::NotReady(s) | PrintError::FailedDuring(s),
                    )) => {
                        state(s.label(), DeviceState::Faulty(s.label().into()), &mut emit);
                    }
                    Err(SpoolError::Print(e)) => {
                        state(
                            "unplugged",
                            DeviceState::Unplugged(e.to_string()),
                            &mut emit,
                        );
                        break;
                    }
                    Err(SpoolError::Store(e)) => tracing::error!(error = %e, "spooler: journal"),
                }
                // New jobs ring; the poll covers faults clearing and stopping.
                bell.wait(Duration::from_millis(300));
            }
        }
    })
}
