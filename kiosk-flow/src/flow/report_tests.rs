//! K9 reports at the kiosk, driven without a screen or a network.

use super::*;
use chrono::{NaiveDate, TimeZone, Utc};
use exam_domain::IdNumber;
use exam_protocol::{ReportSummary, ReportsResponse};

fn holder() -> Holder {
    Holder {
        id_number: IdNumber::parse("11010519491231002X").unwrap(),
        name: "王秀英".into(),
        photo: false,
    }
}

fn report(id: i64, printed: u32) -> ReportSummary {
    ReportSummary {
        id,
        booking_id: 100 + id,
        booking_code: format!("B{id}"),
        exam_no: format!("E{id}"),
        exam_date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        title: format!("入职体检 {id} 体检报告"),
        pages: 6,
        published_at: Utc.with_ymd_and_hms(2026, 11, 9, 8, 0, 0).unwrap(),
        printed,
    }
}

fn listed(reports: Vec<ReportSummary>) -> Result<ReportsResponse, Unavailable> {
    Ok(ReportsResponse {
        name: "王秀英".into(),
        reports,
    })
}

fn settings(elderly: bool) -> Settings {
    Settings {
        elderly,
        photo: true,
        face: false,
        face_policy: Default::default(),
    }
}

/// The flow up to the answer of its report lookup.
fn loaded(elderly: bool, answer: Result<ReportsResponse, Unavailable>) -> (Flow, Vec<Effect>) {
    let mut f = Flow::new(settings(elderly));
    f.handle(Event::StartReports);
    assert_eq!(f.screen, Screen::Reports(ReportStep::PlaceCard));
    let fx = f.handle(Event::CardRead(holder()));
    let Some(Effect::LoadReports(id, who)) = fx
        .iter()
        .find(|e| matches!(e, Effect::LoadReports(..)))
        .cloned()
    else {
        panic!("no report lookup in {fx:?}")
    };
    assert_eq!(who, holder().id_number);
    assert_eq!(f.screen, Screen::Reports(ReportStep::Loading));
    assert_eq!(f.timeout(), None, "waiting for the service never times out");
    let fx = f.handle(Event::ReportsLoaded(id, answer));
    (f, fx)
}

fn printed(fx: &[Effect]) -> Option<(u64, Vec<i64>)> {
    fx.iter().find_map(|e| match e {
        Effect::PrintReports(id, who, chosen) => {
            assert_eq!(*who, holder().id_number, "only the card holder's reports");
            Some((*id, chosen.iter().map(|r| r.id).collect()))
        }
        _ => None,
    })
}

#[test]
fn the_unprinted_reports_are_preselected_and_print_on_the_report_printer() {
    let (mut f, fx) = loaded(false, listed(vec![report(1, 0), report(2, 1)]));
    assert!(
        printed(&fx).is_none(),
        "nothing prints before the patient says so"
    );
    let selected = BTreeSet::from([0]);
    assert_eq!(
        f.screen,
        Screen::Reports(ReportStep::List {
            selected: selected.clone()
        })
    );
    assert_eq!(
        f.book_actions(),
        vec![(Action::Back, true), (Action::Print, true)]
    );
    // Neither, then only the one printed before.
    f.handle(Event::Pick(0));
    f.handle(Event::Pick(7)); // no such row: ignored
    assert_eq!(
        f.book_actions()[1],
        (Action::Print, false),
        "one row at least"
    );
    assert!(f.handle(Event::Act(Action::Print)).is_empty());
    f.handle(Event::Pick(1));
    let fx = f.handle(Event::Act(Action::Print));
    let (id, chosen) = printed(&fx).expect("print effect");
    assert_eq!(chosen, vec![2]);
    assert_eq!(f.screen, Screen::Reports(ReportStep::Fetching));
    assert_eq!(f.timeout(), None);
    // A late answer to an earlier request is not this one's.
    assert!(f.handle(Event::ReportsQueued(id - 1, Ok(1))).is_empty());
    f.handle(Event::ReportsQueued(id, Ok(1)));
    assert_eq!(
        f.screen,
        Screen::Printing {
            done: 0,
            total: 1,
            resumed: false
        }
    );
    f.handle(Event::PrintFinished {
        first_station: None,
    });
    assert!(matches!(f.screen, Screen::TakeDocuments { .. }));
    assert_eq!(f.book_actions(), vec![(Action::Finish, true)]);
    let fx = f.handle(Event::Act(Action::Finish));
    assert_eq!(f.screen, Screen::Attract);
    assert!(fx.contains(&Effect::ClearPersonalData));
    assert!(f.reports().is_none(), "nothing of the patient stays");
}

#[test]
fn elderly_mode_prints_at_once_without_a_choice() {
    // Not printed yet: those; all printed before: all again.
    let (f, fx) = loaded(true, listed(vec![report(1, 1), report(2, 0), report(3, 0)]));
    assert_eq!(printed(&fx).unwrap().1, vec![2, 3]);
    assert_eq!(f.screen, Screen::Reports(ReportStep::Fetching));
    assert!(fx.contains(&Effect::Speak("looking")));
    let (_, fx) = loaded(true, listed(vec![report(1, 2), report(2, 1)]));
    assert_eq!(printed(&fx).unwrap().1, vec![1, 2]);
}

#[test]
fn no_report_offline_or_refused_each_say_so_and_go_back() {
    let (mut f, _) = loaded(false, listed(vec![]));
    assert_eq!(f.screen, Screen::Reports(ReportStep::NoneYet));
    f.handle(Event::Act(Action::Finish));
    assert_eq!(f.screen, Screen::Attract);

    let (mut f, _) = loaded(false, Err(Unavailable::Offline));
    assert_eq!(
        f.screen,
        Screen::Reports(ReportStep::Unavailable(Unavailable::Offline))
    );
    assert_eq!(f.timeout(), Some(std::time::Duration::from_secs(45)));
    f.handle(Event::Timeout);
    assert_eq!(f.screen, Screen::Attract);

    // The PDF could not be fetched (or was withdrawn meanwhile).
    let (mut f, _) = loaded(false, listed(vec![report(1, 0)]));
    let (id, _) = printed(&f.handle(Event::Act(Action::Print))).unwrap();
    let why = Unavailable::Refused("报告已撤回".into());
    f.handle(Event::ReportsQueued(id, Err(why.clone())));
    assert_eq!(f.screen, Screen::Reports(ReportStep::Unavailable(why)));
}

#[test]
fn a_card_on_the_start_screen_still_checks_in_and_every_step_has_a_voice() {
    let mut f = Flow::new(settings(true));
    let fx = f.handle(Event::CardRead(holder()));
    assert!(fx.iter().any(|e| matches!(e, Effect::Lookup(..))));
    let mut f = Flow::new(settings(true));
    assert_eq!(
        f.handle(Event::StartReports),
        vec![Effect::Speak("report_place_card")]
    );
    for p in [
        "report_place_card",
        "report_list",
        "report_none",
        "report_unavailable",
    ] {
        assert!(PROMPTS.contains(&p), "no voice prompt {p}");
    }
}
