//! The voice prompt of each screen (K13): names of the WAV files in
//! `assets/voice/`, whose words are `voice::PROMPTS`.

use super::{Outcome, Problem, ReportStep, Screen, Step};

/// Every prompt [`prompt`] names: the voice module has words and a WAV
/// file for each (its tests check).
pub const PROMPTS: &[&str] = &[
    "attract",
    "keypad",
    "looking",
    "consent",
    "choose",
    "photo",
    "pay",
    "printing",
    "take_documents",
    "no_booking",
    "card_unreadable",
    "too_early",
    "nothing_today",
    "printer_out",
    "payment_failed",
    "book_place_card",
    "book_home",
    "book_marital",
    "book_package",
    "book_addons",
    "book_time",
    "book_confirm",
    "book_cancel",
    "book_cancelled",
    "book_done",
    "book_unavailable",
    "report_place_card",
    "report_list",
    "report_none",
    "report_unavailable",
    "privacy",
];

/// The prompt spoken when this screen appears (elderly mode).
pub(super) fn prompt(s: &Screen) -> &'static str {
    match s {
        Screen::Attract => "attract",
        Screen::Keypad(_) => "keypad",
        Screen::Looking { .. } => "looking",
        Screen::Consent { .. } => "consent",
        Screen::Choose { .. } => "choose",
        Screen::Photo { .. } => "photo",
        Screen::Pay { .. } => "pay",
        Screen::Printing { .. } => "printing",
        Screen::TakeDocuments { .. } => "take_documents",
        Screen::Problem(Problem::NoBooking) => "no_booking",
        Screen::Problem(Problem::CardUnreadable) => "card_unreadable",
        Screen::Problem(Problem::TooEarly { .. }) => "too_early",
        Screen::Problem(Problem::NothingToday) => "nothing_today",
        Screen::Problem(Problem::PrinterOut) => "printer_out",
        Screen::Problem(Problem::PaymentFailed) => "payment_failed",
        Screen::Book(step) => match step {
            Step::PlaceCard => "book_place_card",
            Step::Loading | Step::Working => "looking",
            Step::Home { .. } => "book_home",
            Step::Marital => "book_marital",
            Step::Package => "book_package",
            Step::Addons { .. } => "book_addons",
            Step::Day | Step::Slot => "book_time",
            Step::Confirm => "book_confirm",
            Step::CancelReason { .. } => "book_cancel",
            Step::Done(Outcome::Cancelled(_)) => "book_cancelled",
            Step::Done(_) => "book_done",
            Step::Unavailable(_) => "book_unavailable",
        },
        Screen::Privacy { .. } => "privacy",
        Screen::Reports(step) => match step {
            ReportStep::PlaceCard => "report_place_card",
            ReportStep::Loading | ReportStep::Fetching => "looking",
            ReportStep::List { .. } => "report_list",
            ReportStep::NoneYet => "report_none",
            ReportStep::Unavailable(_) => "report_unavailable",
        },
    }
}
