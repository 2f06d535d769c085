//! A4 report parts through CUPS (K9, K15). Each part is one CUPS job named
//! `<job id>-<part>`: CUPS keeps jobs across its own restarts, so after a
//! crash or power cut the kiosk asks CUPS what became of a part that was
//! `sending` before submitting it again. A part CUPS completed, or still
//! holds alive, is not sent twice; one it never received is sent now; one
//! CUPS gave up on after printing some pages is sent again from the first
//! page not reported printed (IPP `page-ranges`, job name `<name>@p<page>`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use device_drivers::report::{IppPrinter, JobInfo, JobState, ReportError};
use exam_protocol::PrinterKind;
use offline_store::{PartState, PrintPart, SharedJournal, StoreError};

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
    /// Not submitted yet, or CUPS never got it, or gave up on it: submit
    /// from this page on (1: the whole report).
    Submit { from_page: i32 },
    /// CUPS has it, finished or on its way: follow that job.
    Follow(JobInfo),
}

/// The first page a job of the part printed: 1, or `k` for `<name>@p<k>`.
fn first_page(name: &str) -> i32 {
    name.rsplit_once("@p")
        .and_then(|(_, k)| k.parse().ok())
        .unwrap_or(1)
}

/// Pure decision: a completed or live job of the part's name wins; a part
/// only ever `pending` was never submitted, so CUPS is not even asked.
/// Otherwise the pages CUPS reported printed by the jobs it gave up on
/// are not sent again (`pages` is the report's page count, when known).
pub fn resume(state: PartState, earlier: &[JobInfo], pages: Option<i32>) -> Resume {
    if state != PartState::Sending {
        return Resume::Submit { from_page: 1 };
    }
    if let Some(j) = earlier
        .iter()
        .filter(|j| j.state.alive())
        .max_by_key(|j| (j.state == JobState::Completed, j.id))
    {
        return Resume::Follow(j.clone());
    }
    let Some(pages) = pages else {
        return Resume::Submit { from_page: 1 };
    };
    let printed = earlier
        .iter()
        .map(|j| first_page(&j.name) - 1 + j.pages_completed.unwrap_or(0).max(0))
        .max()
        .unwrap_or(0);
    // Every page reported printed and still ended badly: the last page is
    // sent again rather than nothing (never a report cut off and forgotten).
    Resume::Submit {
        from_page: (printed + 1).clamp(1, pages.max(1)),
    }
}

/// Prints every unfinished report part, in order, following each CUPS job
/// to its end. `poll` is how often CUPS is asked.
pub fn print_reports(
    journal: &SharedJournal,
    printer: &IppPrinter,
    poll: Duration,
    stop: &AtomicBool,
) -> Result<usize, ReportSpoolError> {
    let parts = journal.lock().unfinished_parts()?;
    let mut printed = 0;
    for part in parts
        .into_iter()
        .filter(|p| p.printer == PrinterKind::Report)
    {
        let name = job_name(&part);
        let earlier = if part.state == PartState::Sending {
            printer.find(&name)?
        } else {
            Vec::new()
        };
        let pages = device_drivers::report::pdf_pages(&part.body);
        let job = match resume(part.state, &earlier, pages) {
            Resume::Follow(j) => j,
            Resume::Submit { from_page } => {
                // Staff may have moved it to another kiosk meanwhile.
                if !journal
                    .lock()
                    .claim_part(part.job_id, part.idx, Utc::now())?
                {
                    continue;
                }
                let id = match pages {
                    Some(last) if from_page > 1 => {
                        tracing::info!(%name, from_page, last, "report resubmitted from the first page not printed");
                        printer.submit_pages(
                            &format!("{name}@p{from_page}"),
                            &part.body,
                            Some((from_page, last)),
                        )?
                    }
                    _ => printer.submit(&name, &part.body)?,
                };
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
        journal
            .lock()
            .set_part_state(part.job_id, part.idx, PartState::Done, Utc::now())?;
        printed += 1;
    }
    Ok(printed)
}

/// The report spooler thread: prints what the journal holds, checks for
/// new jobs when `bell` rings and every second, and waits out CUPS being
/// away.
pub fn spawn_report_spooler(
    journal: SharedJournal,
    uri: String,
    stop: Arc<AtomicBool>,
    bell: Arc<crate::spool::Doorbell>,
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
            // A report journaled for a patient in front rings at once.
            bell.wait(Duration::from_secs(1));
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

    const WHOLE: Resume = Resume::Submit { from_page: 1 };

    #[test]
    fn only_a_part_in_flight_asks_cups_and_a_live_job_is_never_sent_again() {
        let done = job(7, JobState::Completed);
        let p = Some(10);
        assert_eq!(
            resume(PartState::Pending, std::slice::from_ref(&done), p),
            WHOLE
        );
        assert_eq!(resume(PartState::Sending, &[], p), WHOLE);
        assert_eq!(
            resume(PartState::Sending, &[job(3, JobState::Aborted)], p),
            WHOLE
        );
        assert_eq!(
            resume(
                PartState::Sending,
                &[job(9, JobState::Processing), done.clone()],
                p
            ),
            Resume::Follow(done)
        );
        let live = job(4, JobState::Pending);
        assert_eq!(
            resume(
                PartState::Sending,
                &[job(2, JobState::Canceled), live.clone()],
                p
            ),
            Resume::Follow(live)
        );
    }

    #[test]
    fn only_the_pages_not_reported_printed_are_sent_again() {
        let ended = |id, name: &str, pages| JobInfo {
            id,
            name: name.into(),
            state: JobState::Aborted,
            pages_completed: pages,
        };
        // 4 of 10 pages out before the printer gave up: from page 5.
        let first = ended(3, "j-0", Some(4));
        assert_eq!(
            resume(PartState::Sending, std::slice::from_ref(&first), Some(10)),
            Resume::Submit { from_page: 5 }
        );
        // That resubmission printed 3 more before it too was aborted.
        let second = ended(5, "j-0@p5", Some(3));
        assert_eq!(
            resume(PartState::Sending, &[first.clone(), second], Some(10)),
            Resume::Submit { from_page: 8 }
        );
        // Page count unknown: the whole report; all reported printed yet
        // aborted: the last page again, never nothing.
        assert_eq!(
            resume(PartState::Sending, std::slice::from_ref(&first), None),
            WHOLE
        );
        assert_eq!(
            resume(PartState::Sending, &[ended(6, "j-0", Some(10))], Some(10)),
            Resume::Submit { from_page: 10 }
        );
        assert_eq!(first_page("0193-0@p12"), 12);
        assert_eq!(first_page("0193-0"), 1);
    }
}
