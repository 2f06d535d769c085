//! What the frame around a screen shows, decided by the flow: where the
//! patient is on the check-in path (the step guide at the top) and
//! whether the screen offers "back to start".

use super::{FaceStep, Flow, ReportStep, Screen, Step};

/// The frame of the current screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guide {
    /// The check-in step, 0 (identify) to 4 (take the documents); none on
    /// the start screen and on the booking and report screens that carry
    /// their own titles and buttons.
    pub step: Option<u8>,
    /// "Back to start" is offered: not while paper is printing or waits to
    /// be taken, not on a problem (it has its own way back), not on a
    /// screen whose buttons say where to go.
    pub back: bool,
}

const fn guide(step: Option<u8>, back: bool) -> Guide {
    Guide { step, back }
}

impl Flow {
    pub fn guide(&self) -> Guide {
        let reports = self.reports.is_some();
        match &self.screen {
            Screen::Attract => guide(None, false),
            Screen::Keypad(_) | Screen::Looking { .. } => guide(Some(1), true),
            Screen::Consent { .. }
            | Screen::Choose { .. }
            | Screen::Photo { .. }
            | Screen::Pay { .. } => guide(Some(2), true),
            // A report's printing is told on the report screens.
            Screen::Printing { .. } | Screen::TakeDocuments { .. } if reports => guide(None, false),
            Screen::Printing { .. } => guide(Some(3), false),
            Screen::TakeDocuments { .. } => guide(Some(4), false),
            Screen::Problem(_) => guide(Some(1), false),
            // Identifying (its buttons go back), and after the photo.
            Screen::Face(FaceStep::Enrol) => guide(Some(2), false),
            Screen::Face(_) => guide(Some(1), false),
            // Its own button goes back; from the consent step the patient
            // is still on the check-in path.
            Screen::Privacy { from_consent: true } => guide(Some(2), false),
            Screen::Privacy {
                from_consent: false,
            } => guide(None, false),
            Screen::Book(step) => match step {
                // Waiting for the service: as while looking the patient up.
                Step::Loading | Step::Working => guide(Some(1), true),
                Step::PlaceCard if self.book.is_some() => guide(Some(1), true),
                // Lists to pick from.
                Step::Home { .. }
                | Step::Marital
                | Step::Package
                | Step::Addons { .. }
                | Step::Day
                | Step::Slot
                | Step::CancelReason { .. } => guide(None, true),
                Step::PlaceCard | Step::Confirm | Step::Done(_) | Step::Unavailable(_) => {
                    guide(None, false)
                }
            },
            Screen::Reports(step) => match step {
                ReportStep::Loading | ReportStep::Fetching => guide(Some(1), true),
                ReportStep::List { .. } if self.reports.is_none() => guide(Some(1), true),
                ReportStep::List { .. } => guide(None, true),
                ReportStep::PlaceCard | ReportStep::NoneYet | ReportStep::Unavailable(_) => {
                    guide(None, false)
                }
            },
        }
    }
}
