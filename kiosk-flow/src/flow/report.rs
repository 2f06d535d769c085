//! K9 / K12 "query report → print": after the exam, the person prints their
//! published report (体检报告, A4) at a kiosk with a report printer. The ID
//! card on the reader is what opens a report (medical data: not a code on
//! a slip someone may have found). Listing and fetching need the central
//! service; printing itself is the journaled spooler's, so a report that
//! started printing completes after a power cut (K15).

use std::collections::BTreeSet;

use exam_protocol::{ReportSummary, ReportsResponse};

use super::book::{Action, Unavailable};
use super::model::Holder;
use super::{Effect, Event, Flow, Screen};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStep {
    /// Waiting for the ID card.
    PlaceCard,
    Loading,
    /// The person's reports; the selected rows print.
    List {
        selected: BTreeSet<usize>,
    },
    /// Fetching the chosen reports and journaling their print jobs.
    Fetching,
    /// Nothing published for this person yet.
    NoneYet,
    Unavailable(Unavailable),
}

/// What the report screens know of the person in front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    pub name: String,
    pub list: Vec<ReportSummary>,
}

/// The buttons of a report step, each with whether it can be pressed now.
pub fn actions(step: &ReportStep) -> Vec<(Action, bool)> {
    match step {
        ReportStep::List { selected } => {
            vec![(Action::Back, true), (Action::Print, !selected.is_empty())]
        }
        ReportStep::PlaceCard | ReportStep::NoneYet | ReportStep::Unavailable(_) => {
            vec![(Action::Finish, true)]
        }
        ReportStep::Loading | ReportStep::Fetching => vec![],
    }
}

impl Flow {
    /// The person's reports, once loaded.
    pub fn reports(&self) -> Option<&Reports> {
        self.reports.as_deref()
    }

    fn report_go(&mut self, step: ReportStep, fx: Vec<Effect>) -> Vec<Effect> {
        self.go(Screen::Reports(step), fx)
    }

    /// "Print my report" from the start screen.
    pub(super) fn start_reports(&mut self) -> Vec<Effect> {
        self.reports = None;
        self.report_go(ReportStep::PlaceCard, vec![])
    }

    fn load_reports(&mut self, h: Holder) -> Vec<Effect> {
        self.lookup += 1;
        let fx = vec![Effect::LoadReports(self.lookup, h.id_number.clone())];
        self.holder = Some(h);
        self.reports = None;
        self.report_go(ReportStep::Loading, fx)
    }

    fn print_reports(&mut self, chosen: Vec<ReportSummary>) -> Vec<Effect> {
        let Some(h) = self.holder.as_ref() else {
            return vec![];
        };
        self.lookup += 1;
        let fx = vec![Effect::PrintReports(
            self.lookup,
            h.id_number.clone(),
            chosen,
        )];
        self.report_go(ReportStep::Fetching, fx)
    }

    fn loaded(&mut self, r: ReportsResponse) -> Vec<Effect> {
        if r.reports.is_empty() {
            return self.report_go(ReportStep::NoneYet, vec![]);
        }
        // Elderly mode asks fewer questions: every report not printed yet
        // (or, when all were, all of them) prints at once.
        let fresh: BTreeSet<usize> = (0..r.reports.len())
            .filter(|&i| r.reports[i].printed == 0)
            .collect();
        let all = fresh.is_empty();
        let list = r.reports.clone();
        self.reports = Some(Box::new(Reports {
            name: r.name,
            list: r.reports,
        }));
        if self.settings.elderly {
            let chosen = list
                .into_iter()
                .enumerate()
                .filter(|(i, _)| all || fresh.contains(i))
                .map(|(_, r)| r)
                .collect();
            return self.print_reports(chosen);
        }
        self.report_go(ReportStep::List { selected: fresh }, vec![])
    }

    pub(super) fn handle_reports(&mut self, step: ReportStep, ev: Event) -> Vec<Effect> {
        let rows = self.reports.as_deref().map_or(0, |r| r.list.len());
        match (step, ev) {
            (ReportStep::PlaceCard, Event::CardRead(h)) => self.load_reports(h),
            (ReportStep::Loading, Event::ReportsLoaded(id, r)) if id == self.lookup => match r {
                Ok(r) => self.loaded(r),
                Err(u) => self.report_go(ReportStep::Unavailable(u), vec![]),
            },
            (ReportStep::List { mut selected }, Event::Pick(i)) if i < rows => {
                if !selected.remove(&i) {
                    selected.insert(i);
                }
                self.screen = Screen::Reports(ReportStep::List { selected });
                vec![]
            }
            (ReportStep::List { selected }, Event::Act(Action::Print)) if !selected.is_empty() => {
                let chosen = self
                    .reports
                    .as_deref()
                    .map(|r| {
                        selected
                            .iter()
                            .filter_map(|&i| r.list.get(i).cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                self.print_reports(chosen)
            }
            (ReportStep::Fetching, Event::ReportsQueued(id, r)) if id == self.lookup => match r {
                Ok(total) if total > 0 => self.go(
                    Screen::Printing {
                        done: 0,
                        total,
                        resumed: false,
                    },
                    vec![],
                ),
                Ok(_) => self.report_go(ReportStep::NoneYet, vec![]),
                Err(u) => self.report_go(ReportStep::Unavailable(u), vec![]),
            },
            (
                ReportStep::PlaceCard
                | ReportStep::List { .. }
                | ReportStep::NoneYet
                | ReportStep::Unavailable(_),
                Event::Act(Action::Finish | Action::Back),
            ) => self.go(Screen::Attract, vec![]),
            _ => vec![],
        }
    }
}
