//! K17: booking, rebooking and cancelling at the kiosk, as part of the pure
//! flow. The person is the holder of the ID card the kiosk read (booking
//! needs the name and sex on the card); the central service applies the
//! front desk's rules and has the last word. Conflicting add-ons are refused
//! here at once, naming both items, the reason and where to ask, from the
//! conflict list the service sends with the options.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};
use exam_domain::catalogue::Marital;
use exam_domain::plan::{Plan, PlanRequest};
use exam_domain::{Booking, BookingState, Sex};
use exam_protocol::{
    AddonOption, BookingOptions, PackageOption, SelfBookRequest, SelfCancelRequest,
    SelfRebookRequest, SlotOption,
};

use super::model::Holder;

/// What the service sent for this person: their bookings and the options
/// of the next days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub today: NaiveDate,
    pub bookings: Vec<Booking>,
    /// One entry per bookable day, in date order.
    pub days: Vec<BookingOptions>,
}

/// Why self-service booking cannot go on; the patient goes to the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The central service did not answer (the kiosk is offline).
    Offline,
    /// The service refused, with its words for the patient.
    Refused(String),
}

/// Cancelling needs a reason; these are the ones a patient picks from.
pub const CANCEL_REASONS: &[(&str, &str)] = &[
    ("时间不方便", "The time does not suit me"),
    ("身体不适", "I am unwell"),
    ("已在其他机构体检", "Examined elsewhere"),
    ("不需要了", "No longer needed"),
    ("其他原因", "Other reason"),
];

/// The request the kiosk sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    Book(SelfBookRequest),
    Rebook(SelfRebookRequest),
    Cancel(SelfCancelRequest),
}

/// The service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Booked { booking: Booking, plan: Plan },
    Rebooked(Booking),
    Cancelled(Booking),
}

/// Buttons at the foot of a booking or report screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    New,
    Rebook,
    CancelBooking,
    Next,
    Back,
    Submit,
    Finish,
    /// Print the selected reports.
    Print,
    /// Type the ID number instead (after face identification missed).
    Keypad,
}

/// An add-on the patient tried that conflicts with something chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub item: String,
    pub with: String,
    pub reason: String,
    pub department: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Waiting for the ID card.
    PlaceCard,
    Loading,
    /// The person's bookings that can still be changed, and "book new".
    Home {
        selected: Option<usize>,
    },
    Marital,
    Package,
    Addons {
        clash: Option<Clash>,
    },
    Day,
    Slot,
    Confirm,
    CancelReason {
        selected: Option<usize>,
    },
    Working,
    Done(Outcome),
    Unavailable(Unavailable),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    New,
    Rebook(usize),
    Cancel(usize),
}

/// What the booking screens remember about the person in front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub holder: Holder,
    pub today: NaiveDate,
    /// Bookings that can still be rebooked or cancelled.
    pub upcoming: Vec<Booking>,
    pub days: Vec<BookingOptions>,
    pub marital: Marital,
    pub package: Option<usize>,
    pub addons: BTreeSet<String>,
    pub day: Option<usize>,
    pub slot: Option<usize>,
    pub target: Target,
}

impl Book {
    pub fn new(holder: Holder, loaded: Loaded) -> Self {
        let upcoming = loaded
            .bookings
            .into_iter()
            .filter(|b| b.state == BookingState::Booked && b.exam_date >= loaded.today)
            .collect();
        Self {
            holder,
            today: loaded.today,
            upcoming,
            days: loaded.days,
            marital: Marital::Unknown,
            package: None,
            addons: BTreeSet::new(),
            day: None,
            slot: None,
            target: Target::New,
        }
    }

    pub fn sex(&self) -> Sex {
        self.holder.id_number.sex()
    }

    fn first(&self) -> Option<&BookingOptions> {
        self.days.first()
    }

    /// The packages this person may book (by sex), in the service's order.
    pub fn packages(&self) -> Vec<&PackageOption> {
        self.first()
            .map(|d| {
                d.packages
                    .iter()
                    .filter(|p| p.sex.allows(self.sex()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The add-ons this person may book (by sex).
    pub fn addon_options(&self) -> Vec<&AddonOption> {
        self.first()
            .map(|d| {
                d.addons
                    .iter()
                    .filter(|a| a.sex.allows(self.sex()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The row of the package or add-on with this code on its screen (what
    /// a tap on it sends as `Event::Pick`).
    pub fn row_of(&self, step: &Step, code: &str) -> Option<usize> {
        match step {
            Step::Package => self.packages().iter().position(|p| p.code == code),
            Step::Addons { .. } => self.addon_options().iter().position(|a| a.code == code),
            _ => None,
        }
    }

    pub fn chosen_package(&self) -> Option<&PackageOption> {
        self.package.and_then(|i| self.packages().get(i).copied())
    }

    /// Is this add-on already in the chosen package?
    pub fn in_package(&self, code: &str) -> bool {
        self.chosen_package()
            .is_some_and(|p| p.items.iter().any(|i| i == code))
    }

    /// The first thing already chosen that `addon` may not go with.
    pub fn clash(&self, addon: &AddonOption) -> Option<Clash> {
        let chosen: Vec<&str> = self
            .chosen_package()
            .map(|p| p.items.iter().map(String::as_str).collect())
            .unwrap_or_default();
        addon
            .conflicts
            .iter()
            .find(|c| chosen.contains(&c.with.as_str()) || self.addons.contains(&c.with))
            .map(|c| Clash {
                item: addon.name.clone(),
                with: c.with_name.clone(),
                reason: c.reason.clone(),
                department: addon.department.clone(),
            })
    }

    pub fn chosen_day(&self) -> Option<&BookingOptions> {
        self.day.and_then(|i| self.days.get(i))
    }

    pub fn chosen_slot(&self) -> Option<&SlotOption> {
        self.chosen_day()
            .zip(self.slot)
            .and_then(|(d, i)| d.slots.get(i))
    }

    /// The list price of what is chosen; the service's plan may leave items
    /// out for the person (and says so after booking).
    pub fn estimate_fen(&self) -> i64 {
        let addons: i64 = self
            .addon_options()
            .iter()
            .filter(|a| self.addons.contains(&a.code))
            .map(|a| a.price_fen)
            .sum();
        self.chosen_package().map_or(0, |p| p.price_fen) + addons
    }

    /// Places left on a day.
    pub fn left(day: &BookingOptions) -> i64 {
        day.slots.iter().map(|s| s.left).sum()
    }

    /// The request for what was chosen.
    pub fn submission(&self, reason: Option<usize>) -> Option<Submission> {
        match self.target {
            Target::Cancel(i) => {
                let b = self.upcoming.get(i)?;
                let reason = CANCEL_REASONS.get(reason?)?.0;
                Some(Submission::Cancel(SelfCancelRequest {
                    code: b.code.clone(),
                    id_number: self.holder.id_number.clone(),
                    reason: format!("自助取消：{reason}"),
                }))
            }
            Target::Rebook(i) => {
                let b = self.upcoming.get(i)?;
                Some(Submission::Rebook(SelfRebookRequest {
                    code: b.code.clone(),
                    id_number: self.holder.id_number.clone(),
                    date: self.chosen_day()?.date,
                    slot_start: self.chosen_slot()?.start,
                }))
            }
            Target::New => Some(Submission::Book(SelfBookRequest {
                id_number: self.holder.id_number.clone(),
                name: self.holder.name.clone(),
                mobile: String::new(),
                marital: self.marital,
                plan: PlanRequest {
                    package: self.chosen_package().map(|p| p.code.clone()),
                    add: self.addons.iter().cloned().collect(),
                    remove: Vec::new(),
                },
                date: self.chosen_day()?.date,
                slot_start: self.chosen_slot()?.start,
            })),
        }
    }

    /// Rows the patient can pick on this step, for `Pick(i)` to refer to.
    pub fn rows(&self, step: &Step) -> usize {
        match step {
            Step::Home { .. } => self.upcoming.len(),
            Step::Marital => 2,
            Step::Package => self.packages().len(),
            Step::Addons { .. } => self.addon_options().len(),
            Step::Day => self.days.len(),
            Step::Slot => self.chosen_day().map_or(0, |d| d.slots.len()),
            Step::CancelReason { .. } => CANCEL_REASONS.len(),
            _ => 0,
        }
    }
}

/// The buttons of a step, each with whether it can be pressed now.
pub fn actions(step: &Step, book: Option<&Book>) -> Vec<(Action, bool)> {
    match step {
        Step::Home { selected } => vec![
            (Action::New, true),
            (Action::Rebook, selected.is_some()),
            (Action::CancelBooking, selected.is_some()),
        ],
        Step::Package => vec![
            (Action::Back, true),
            (Action::Next, book.is_some_and(|b| b.package.is_some())),
        ],
        Step::Addons { .. } => vec![(Action::Back, true), (Action::Next, true)],
        Step::Marital | Step::Day | Step::Slot => vec![(Action::Back, true)],
        Step::Confirm => vec![(Action::Back, true), (Action::Submit, true)],
        Step::CancelReason { selected } => {
            vec![(Action::Back, true), (Action::Submit, selected.is_some())]
        }
        Step::PlaceCard | Step::Done(_) | Step::Unavailable(_) => vec![(Action::Finish, true)],
        Step::Loading | Step::Working => vec![],
    }
}

/// The times of a slot, for screens and slips.
pub fn slot_text(date: NaiveDate, start: NaiveTime, end: NaiveTime) -> String {
    format!(
        "{} {}–{}",
        date.format("%Y-%m-%d"),
        start.format("%H:%M"),
        end.format("%H:%M")
    )
}

use super::{Effect, Event, Flow, Problem, Screen};

impl Flow {
    /// What the booking screens know of the person in front.
    pub fn booking(&self) -> Option<&Book> {
        self.book.as_deref()
    }

    /// Was an ID card read for the person in front?
    pub fn has_card_holder(&self) -> bool {
        self.holder.is_some()
    }

    /// The booking and report screens' buttons now (for the UI to map a
    /// tap to).
    pub fn book_actions(&self) -> Vec<(Action, bool)> {
        match &self.screen {
            Screen::Book(step) => actions(step, self.book.as_deref()),
            Screen::Reports(step) => super::report::actions(step),
            Screen::Privacy { .. } => vec![(Action::Back, true)],
            Screen::Face(step) => super::face::actions(step),
            Screen::TakeDocuments { .. } if self.reports.is_some() => {
                vec![(Action::Finish, true)]
            }
            _ => Vec::new(),
        }
    }

    fn book_go(&mut self, step: Step, fx: Vec<Effect>) -> Vec<Effect> {
        self.go(Screen::Book(step), fx)
    }

    /// "Book / change a booking" from the start screen, or from a problem
    /// screen after the card was read (no need to place it again).
    pub(super) fn start_booking(&mut self) -> Vec<Effect> {
        match self.holder.clone() {
            Some(h) => self.load_booking(h),
            None => self.book_go(Step::PlaceCard, vec![]),
        }
    }

    fn load_booking(&mut self, h: Holder) -> Vec<Effect> {
        self.lookup += 1;
        let fx = vec![Effect::LoadBooking(self.lookup, h.id_number.clone())];
        self.holder = Some(h);
        self.book = None;
        self.book_go(Step::Loading, fx)
    }

    fn new_booking(&mut self) -> Vec<Effect> {
        let Some(b) = self.book.as_deref_mut() else {
            return vec![];
        };
        b.target = Target::New;
        b.package = None;
        b.addons.clear();
        b.day = None;
        b.slot = None;
        // Only women are asked: the marital rules are about gynaecology.
        if b.sex() == Sex::Female {
            self.book_go(Step::Marital, vec![])
        } else {
            b.marital = Marital::Unknown;
            self.book_go(Step::Package, vec![])
        }
    }

    fn home(&mut self) -> Vec<Effect> {
        match self.book.as_deref() {
            Some(b) if !b.upcoming.is_empty() => {
                self.book_go(Step::Home { selected: None }, vec![])
            }
            _ => self.go(Screen::Attract, vec![]),
        }
    }

    fn before_package(&mut self) -> Vec<Effect> {
        match self.book.as_deref() {
            Some(b) if b.sex() == Sex::Female => self.book_go(Step::Marital, vec![]),
            _ => self.home(),
        }
    }

    fn submit(&mut self, reason: Option<usize>) -> Vec<Effect> {
        let Some(sub) = self.book.as_deref().and_then(|b| b.submission(reason)) else {
            return vec![];
        };
        self.lookup += 1;
        let id = self.lookup;
        self.book_go(Step::Working, vec![Effect::SubmitBooking(id, sub)])
    }

    pub(super) fn handle_book(&mut self, step: Step, ev: Event) -> Vec<Effect> {
        use Action as A;
        let rows = self.book.as_deref().map_or(0, |b| b.rows(&step));
        match (step, ev) {
            (Step::PlaceCard, Event::CardRead(h)) => self.load_booking(h),
            (Step::Loading, Event::BookingLoaded(id, r)) if id == self.lookup => match r {
                Err(u) => self.book_go(Step::Unavailable(u), vec![]),
                Ok(loaded) => {
                    let Some(h) = self.holder.clone() else {
                        return vec![];
                    };
                    let b = Book::new(h, loaded);
                    let has = !b.upcoming.is_empty();
                    self.book = Some(Box::new(b));
                    if has {
                        self.book_go(Step::Home { selected: None }, vec![])
                    } else if self.book.as_deref().is_some_and(|b| b.days.is_empty()) {
                        let u = Unavailable::Refused("近期没有可预约的时段".into());
                        self.book_go(Step::Unavailable(u), vec![])
                    } else {
                        self.new_booking()
                    }
                }
            },
            (Step::Home { selected }, Event::Pick(i)) if i < rows => {
                let selected = if selected == Some(i) { None } else { Some(i) };
                self.screen = Screen::Book(Step::Home { selected });
                vec![]
            }
            (Step::Home { .. }, Event::Act(A::New)) => self.new_booking(),
            (Step::Home { selected: Some(i) }, Event::Act(A::Rebook)) => {
                if let Some(b) = self.book.as_deref_mut() {
                    b.target = Target::Rebook(i);
                    b.day = None;
                    b.slot = None;
                }
                self.book_go(Step::Day, vec![])
            }
            (Step::Home { selected: Some(i) }, Event::Act(A::CancelBooking)) => {
                if let Some(b) = self.book.as_deref_mut() {
                    b.target = Target::Cancel(i);
                }
                self.book_go(Step::CancelReason { selected: None }, vec![])
            }
            (Step::Marital, Event::Pick(i)) if i < 2 => {
                if let Some(b) = self.book.as_deref_mut() {
                    b.marital = if i == 0 {
                        Marital::Married
                    } else {
                        Marital::Unmarried
                    };
                }
                self.book_go(Step::Package, vec![])
            }
            (Step::Marital, Event::Act(A::Back)) => self.home(),
            (Step::Package, Event::Pick(i)) if i < rows => {
                if let Some(b) = self.book.as_deref_mut()
                    && b.package != Some(i)
                {
                    // Add-ons were checked against the old package.
                    b.package = Some(i);
                    b.addons.clear();
                }
                vec![]
            }
            (Step::Package, Event::Act(A::Next))
                if self.book.as_deref().is_some_and(|b| b.package.is_some()) =>
            {
                self.book_go(Step::Addons { clash: None }, vec![])
            }
            (Step::Package, Event::Act(A::Back)) => self.before_package(),
            (Step::Addons { clash }, Event::Pick(i)) if i < rows => {
                let Some(b) = self.book.as_deref_mut() else {
                    return vec![];
                };
                let a = b.addon_options()[i].clone();
                let clash = if b.in_package(&a.code) {
                    clash
                } else if b.addons.remove(&a.code) {
                    None
                } else if let Some(c) = b.clash(&a) {
                    Some(c)
                } else {
                    b.addons.insert(a.code.clone());
                    None
                };
                self.screen = Screen::Book(Step::Addons { clash });
                vec![]
            }
            (Step::Addons { .. }, Event::Act(A::Next)) => self.book_go(Step::Day, vec![]),
            (Step::Addons { .. }, Event::Act(A::Back)) => self.book_go(Step::Package, vec![]),
            (Step::Day, Event::Pick(i)) if i < rows => {
                let Some(b) = self.book.as_deref_mut() else {
                    return vec![];
                };
                if Book::left(&b.days[i]) <= 0 {
                    return vec![];
                }
                b.day = Some(i);
                b.slot = None;
                self.book_go(Step::Slot, vec![])
            }
            (Step::Day, Event::Act(A::Back)) => match self.book.as_deref().map(|b| b.target) {
                Some(Target::New) => self.book_go(Step::Addons { clash: None }, vec![]),
                _ => self.home(),
            },
            (Step::Slot, Event::Pick(i)) if i < rows => {
                let Some(b) = self.book.as_deref_mut() else {
                    return vec![];
                };
                if b.chosen_day().is_none_or(|d| d.slots[i].left <= 0) {
                    return vec![];
                }
                b.slot = Some(i);
                self.book_go(Step::Confirm, vec![])
            }
            (Step::Slot, Event::Act(A::Back)) => self.book_go(Step::Day, vec![]),
            (Step::Confirm, Event::Act(A::Back)) => self.book_go(Step::Slot, vec![]),
            (Step::Confirm, Event::Act(A::Submit)) => self.submit(None),
            (Step::CancelReason { .. }, Event::Pick(i)) if i < rows => {
                self.screen = Screen::Book(Step::CancelReason { selected: Some(i) });
                vec![]
            }
            (Step::CancelReason { selected: Some(i) }, Event::Act(A::Submit)) => {
                self.submit(Some(i))
            }
            (Step::CancelReason { .. }, Event::Act(A::Back)) => self.home(),
            (Step::Working, Event::BookingAnswer(id, r)) if id == self.lookup => match r {
                Ok(outcome) => {
                    let fx = match &outcome {
                        Outcome::Booked { .. } | Outcome::Rebooked(_) => {
                            vec![Effect::PrintBookingSlip(outcome.clone())]
                        }
                        Outcome::Cancelled(_) => vec![],
                    };
                    self.book_go(Step::Done(outcome), fx)
                }
                Err(u) => self.book_go(Step::Unavailable(u), vec![]),
            },
            (Step::PlaceCard | Step::Done(_) | Step::Unavailable(_), Event::Act(A::Finish)) => {
                self.go(Screen::Attract, vec![])
            }
            _ => vec![],
        }
    }
}

/// May a problem screen offer booking instead (the card was read)?
pub fn offers_booking(p: &Problem) -> bool {
    matches!(
        p,
        Problem::NoBooking | Problem::NothingToday | Problem::TooEarly { .. }
    )
}
