//! A4 report parts through CUPS (K9, K15). Each part is one CUPS job named
//! `<job id>-<part>`: CUPS keeps jobs across its own restarts, so after a
//! crash or power cut the kiosk asks CUPS what became of a part that was
//! `sending` before submitting it again. A part CUPS completed, or still
//! holds alive, is not sent twice; one it never received is sent now.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use device_drivers::report::{IppPrinter, JobInfo, JobState, ReportError};
use offline_store::{Journal, PartState, PrintPart, StoreError};

use crate::checkin::lock;

#[derive(Debug, thiserror::Error)]
pub enum ReportSpoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cups(#[from] ReportError),
    #[error("CUPS ended report part {name} as {state:?} (pages printed: {pages:?})")]
    Ended {
        name: String,
        state: JobState,
        pages: Option<i32>,
    },
}

/// The CUPS job name of a part: the kiosk's own id for it.
pub fn job_name(part: &PrintPart) -> String {
    format!("{}-{}", part.job_id, part.idx)
}

/// What to do with a part, from what CUPS knows of earlier submissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Not submitted yet (or CUPS never got it): submit.
    Submit,
    /// CUPS has it, finished or on its way: follow that job.
    Follow(JobInfo),
}

/// Pure decision: a completed or live job of the part's name wins; a part
/// only ever `pending` was never submitted, so CUPS is not even asked.
pub fn resume(state: PartState, earlier: &[JobInfo]) -> Resume {
    if state != PartState::Sending {
        return Resume::Submit;
    }
    earlier
        .iter()
        .filter(|j| j.state.alive())
        .max_by_key(|j| (j.state == JobState::Completed, j.id))
        .map_or(Resume::Submit, |j| Resume::Follow(j.clone()))
}

/// Prints every unfinished report part, in order, following each CUPS job
/// to its end. `poll` is how often CUPS is asked.
pub fn print_reports(
    journal: &Mutex<Journal>,
    printer: &IppPrinter,
    poll: Duration,
    stop: &AtomicBool,
) -> Result<usize, ReportSpoolError> {
    let parts = lock(journal).unfinished_parts()?;
    let mut printed = 0;
    for part in parts.into_iter().filter(|p| p.printer == "report") {
        let name = job_name(&part);
        let earlier = if part.state == PartState::Sending {
            printer.find(&name)?
        } else {
            Vec::new()
        };
        let job = match resume(part.state, &earlier) {
            Resume::Follow(j) => j,
            Resume::Submit => {
                // Staff may have moved it to another kiosk meanwhile.
                if !lock(journal).claim_part(part.job_id, part.idx, Utc::now())? {
                    continue;
                }
                let id = printer.submit(&name, &part.body)?;
                printer.job(id)?
            }
        };
        let mut info = job;
        while !matches!(
            info.state,
            JobState::Completed | JobState::Canceled | JobState::Aborted
        ) {
            if stop.load(Ordering::Relaxed) {
                return Ok(printed);
            }
            std::thread::sleep(poll);
            info = printer.job(info.id)?;
        }
        if info.state != JobState::Completed {
            // Staff cancelled it in CUPS, or the printer gave up: reported,
            // and kept in `sending` so the next round submits it again.
            return Err(ReportSpoolError::Ended {
                name,
                state: info.state,
                pages: info.pages_completed,
            });
        }
        lock(journal).set_part_state(part.job_id, part.idx, PartState::Done, Utc::now())?;
        printed += 1;
    }
    Ok(printed)
}

/// The report spooler thread: prints what the journal holds, checks for
/// new jobs every second, and waits out CUPS being away.
pub fn spawn_report_spooler(
    journal: Arc<Mutex<Journal>>,
    uri: String,
    stop: Arc<AtomicBool>,
    mut state: impl FnMut(&'static str) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let printer = match IppPrinter::new(&uri, "kiosk") {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "report printer");
                state("error");
                return;
            }
        };
        while !stop.load(Ordering::Relaxed) {
            match print_reports(&journal, &printer, Duration::from_millis(500), &stop) {
                Ok(_) => state("ok"),
                Err(ReportSpoolError::Cups(e)) => {
                    tracing::warn!(error = %e, "report printer");
                    state("unplugged");
                }
                Err(e) => {
                    tracing::error!(error = %e, "report spooler");
                    state("error");
                }
            }
            device_drivers::serial::sleep_unless_stopped(Duration::from_secs(1), &stop);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i32, state: JobState) -> JobInfo {
        JobInfo {
            id,
            name: "j-0".into(),
            state,
            pages_completed: None,
        }
    }

    #[test]
    fn only_a_part_in_flight_asks_cups_and_a_live_job_is_never_sent_again() {
        let done = job(7, JobState::Completed);
        assert_eq!(
            resume(PartState::Pending, std::slice::from_ref(&done)),
            Resume::Submit
        );
        assert_eq!(resume(PartState::Sending, &[]), Resume::Submit);
        assert_eq!(
            resume(PartState::Sending, &[job(3, JobState::Aborted)]),
            Resume::Submit
        );
        assert_eq!(
            resume(
                PartState::Sending,
                &[job(9, JobState::Processing), done.clone()]
            ),
            Resume::Follow(done)
        );
        let live = job(4, JobState::Pending);
        assert_eq!(
            resume(
                PartState::Sending,
                &[job(2, JobState::Canceled), live.clone()]
            ),
            Resume::Follow(live)
        );
    }
}
