//! The spooler: prints the journal's print parts one at a time on a
//! printer that answers its status (receipt printers over ESC/POS, label
//! printers over TSPL/ZPL).
//!
//! A part moves pending → sending → done, each step committed to the
//! journal before the next one happens. A part found in `sending` on start
//! was in flight when the kiosk died: it is printed again under a visible
//! 补打 / REPRINT mark, so nothing is lost and no duplicate goes unmarked.
//! Paper out or cover open pauses the spooler until the printer is ready.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use device_drivers::DeviceState;
use device_drivers::escpos::{PrintError, ReceiptPrinter};
use device_drivers::label::{LabelError, LabelPrinter};
use exam_protocol::PrinterKind;
use offline_store::{PartState, SharedJournal, StoreError};

/// Why a printer did not take a part, as the spooler must act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// Not ready (paper out, cover open…): nothing was sent.
    NotReady(&'static str),
    /// A problem appeared while the part was printing: it may be
    /// incomplete, so it stays `sending` and is printed again marked.
    FailedDuring(&'static str),
    /// The printer is gone or talks nonsense: reconnect.
    Gone,
}

/// What the spooler needs of a printer.
pub trait PartPrinter {
    /// The journal's printer of the parts this printer takes.
    fn kind(&self) -> PrinterKind;
    type Error: std::error::Error + Send + Sync + 'static;
    /// Fails unless the printer is ready for a part now; when it is, its
    /// status for the staff ("ok", "paper_near_end").
    fn check(&mut self) -> Result<&'static str, Self::Error>;
    /// Sends one part, under the reprint mark when asked, and checks the
    /// status after it.
    fn send(&mut self, body: &[u8], reprint: bool) -> Result<(), Self::Error>;
    fn trouble(e: &Self::Error) -> Trouble;
}

impl<T: Read + Write> PartPrinter for ReceiptPrinter<T> {
    type Error = PrintError;

    fn kind(&self) -> PrinterKind {
        PrinterKind::Receipt
    }

    fn check(&mut self) -> Result<&'static str, PrintError> {
        let s = self.status()?;
        if s.ready() {
            Ok(s.label())
        } else {
            Err(PrintError::NotReady(s))
        }
    }

    fn send(&mut self, body: &[u8], reprint: bool) -> Result<(), PrintError> {
        if reprint {
            self.print_part(&[crate::print::reprint_mark(), body.to_vec()].concat())?;
        } else {
            self.print_part(body)?;
        }
        Ok(())
    }

    fn trouble(e: &PrintError) -> Trouble {
        match e {
            PrintError::NotReady(s) => Trouble::NotReady(s.label()),
            PrintError::FailedDuring(s) => Trouble::FailedDuring(s.label()),
            _ => Trouble::Gone,
        }
    }
}

impl<T: Read + Write> PartPrinter for LabelPrinter<T> {
    type Error = LabelError;

    fn kind(&self) -> PrinterKind {
        crate::print::label_printer(self.language())
    }

    fn check(&mut self) -> Result<&'static str, LabelError> {
        let s = self.status()?;
        if s.ready() {
            Ok(s.label())
        } else {
            Err(LabelError::NotReady(s))
        }
    }

    fn send(&mut self, body: &[u8], reprint: bool) -> Result<(), LabelError> {
        if reprint {
            self.print_encoded(&crate::print::reprint_label(self.language()))?;
        }
        self.print_encoded(body)?;
        Ok(())
    }

    fn trouble(e: &LabelError) -> Trouble {
        match e {
            LabelError::NotReady(s) => Trouble::NotReady(s.label()),
            LabelError::FailedDuring(s) => Trouble::FailedDuring(s.label()),
            _ => Trouble::Gone,
        }
    }
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
pub enum SpoolError<E: std::error::Error + 'static = PrintError> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Print(E),
}

/// Prints every unfinished part of this printer's kind (a label printer:
/// the parts in its language), in order. Returns
/// when all are done, or with the error that stopped it (not ready, gone).
pub fn print_pending<P: PartPrinter>(
    journal: &SharedJournal,
    printer: &mut P,
    emit: &mut dyn FnMut(SpoolEvent),
) -> Result<usize, SpoolError<P::Error>> {
    let mut printed = 0;
    let parts = journal.lock().unfinished_parts()?;
    let kind = printer.kind();
    for part in parts.into_iter().filter(|p| p.printer == kind) {
        let reprint = part.state == PartState::Sending;
        printer.check().map_err(SpoolError::Print)?;
        // Staff may have moved it to another kiosk since the list was read.
        if !journal
            .lock()
            .claim_part(part.job_id, part.idx, Utc::now())?
        {
            continue;
        }
        // The part may have been moved away while it was sent: then the
        // journal keeps it moved (only a `sending` part changes here).
        if let Err(e) = printer.send(&part.body, reprint) {
            if let Trouble::NotReady(_) = P::trouble(&e)
                && !reprint
            {
                // Nothing was sent: the part is as it was.
                journal.lock().finish_claimed(
                    part.job_id,
                    part.idx,
                    PartState::Pending,
                    Utc::now(),
                )?;
            }
            // Otherwise sent, but maybe not all on paper: it stays
            // `sending` and is reprinted marked.
            return Err(SpoolError::Print(e));
        }
        journal
            .lock()
            .finish_claimed(part.job_id, part.idx, PartState::Done, Utc::now())?;
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

/// The spooler thread of one printer: connects with `open`, prints what
/// the journal holds, polls for new jobs every 300 ms (a ring starts it at
/// once), waits out paper-out and cover-open, and reconnects when the
/// printer goes away. Device states go to `emit`.
pub fn spawn_spooler<P, O>(
    journal: SharedJournal,
    mut open: O,
    stop: Arc<AtomicBool>,
    bell: Arc<Doorbell>,
    mut emit: impl FnMut(SpoolEvent) + Send + 'static,
) -> std::thread::JoinHandle<()>
where
    P: PartPrinter,
    O: FnMut() -> std::io::Result<P> + Send + 'static,
{
    std::thread::spawn(move || {
        let mut last: Option<&'static str> = None;
        let mut state = |label: &'static str, s: DeviceState, emit: &mut dyn FnMut(SpoolEvent)| {
            if last != Some(label) {
                last = Some(label);
                emit(SpoolEvent::State(s, label));
            }
        };
        while !stop.load(Ordering::Relaxed) {
            let mut printer = match open() {
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
            while !stop.load(Ordering::Relaxed) {
                let now = match print_pending(&journal, &mut printer, &mut emit) {
                    Ok(_) => printer.check().map_err(|e| P::trouble(&e)),
                    Err(SpoolError::Print(e)) => Err(P::trouble(&e)),
                    Err(SpoolError::Store(e)) => {
                        tracing::error!(error = %e, "spooler: journal");
                        Ok("ok")
                    }
                };
                match now {
                    Ok(label) => state(label, DeviceState::Ok, &mut emit),
                    Err(Trouble::NotReady(l) | Trouble::FailedDuring(l)) => {
                        state(l, DeviceState::Faulty(l.into()), &mut emit)
                    }
                    Err(Trouble::Gone) => {
                        state(
                            "unplugged",
                            DeviceState::Unplugged("no answer".into()),
                            &mut emit,
                        );
                        break;
                    }
                }
                // New jobs ring; the poll covers faults clearing and stopping.
                bell.wait(Duration::from_millis(300));
            }
        }
    })
}
