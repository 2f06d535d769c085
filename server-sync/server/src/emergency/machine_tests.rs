use chrono::{Duration, TimeZone, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap()
}

fn req(reason: &str) -> SwitchOn {
    SwitchOn {
        reason: reason.into(),
        ..SwitchOn::default()
    }
}

#[test]
fn thirty_minutes_away_makes_the_centre_eligible() {
    let s = Signals {
        his_failing_since: Some(t0()),
        platform_failing_since: None,
    };
    let e = assess(s, 30, t0() + Duration::minutes(29) + Duration::seconds(59));
    assert!(!e.eligible);
    assert_eq!(e.reasons.len(), 1);
    assert_eq!(e.reasons[0].minutes, 29);
    assert_eq!(phase(None, &e), Phase::Normal);
    let e = assess(s, 30, t0() + Duration::minutes(30));
    assert!(e.eligible && e.reasons[0].enough);
    assert_eq!(phase(None, &e), Phase::Eligible);
    // The platform alone counts too; configurable minutes.
    let p = Signals {
        his_failing_since: None,
        platform_failing_since: Some(t0()),
    };
    assert!(assess(p, 10, t0() + Duration::minutes(10)).eligible);
    assert!(!assess(p, 30, t0() + Duration::minutes(10)).eligible);
    // Nothing away: no reasons.
    let e = assess(Signals::default(), 30, t0());
    assert!(!e.eligible && e.reasons.is_empty());
    // A clock behind the signal never gives negative minutes.
    assert_eq!(
        assess(s, 30, t0() - Duration::minutes(5)).reasons[0].minutes,
        0
    );
}

#[test]
fn who_may_switch_on_and_on_what_ground() {
    let eligible = assess(
        Signals {
            his_failing_since: Some(t0()),
            platform_failing_since: None,
        },
        30,
        t0() + Duration::minutes(31),
    );
    let not_yet = assess(Signals::default(), 30, t0());
    // Eligible: the desk supervisor and the administrator; not the desk,
    // the group desk or the auditor.
    for r in [Role::DeskSupervisor, Role::Admin] {
        assert_eq!(
            switch_on(None, &eligible, r, &req("HIS 断开")),
            Ok(Basis::Eligible)
        );
    }
    for r in [Role::FrontDesk, Role::GroupDesk, Role::Auditor] {
        assert_eq!(
            switch_on(None, &eligible, r, &req("HIS 断开")),
            Err(Refusal::NotPermitted)
        );
    }
    // Before eligibility: only an administrator, only with an override reason.
    assert_eq!(
        switch_on(None, &not_yet, Role::Admin, &req("演练")),
        Err(Refusal::NotEligible(30))
    );
    let over = SwitchOn {
        override_reason: Some("机房火灾，信息中心判定为灾难".into()),
        ..req("灾难")
    };
    assert_eq!(
        switch_on(None, &not_yet, Role::Admin, &over),
        Ok(Basis::Override)
    );
    assert_eq!(
        switch_on(None, &not_yet, Role::DeskSupervisor, &over),
        Err(Refusal::NotEligible(30))
    );
    // A blank override reason is no override.
    let blank = SwitchOn {
        override_reason: Some("  ".into()),
        ..req("灾难")
    };
    assert_eq!(
        switch_on(None, &not_yet, Role::Admin, &blank),
        Err(Refusal::NotEligible(30))
    );
    // A reason is required, and texts are bounded.
    assert!(matches!(
        switch_on(None, &eligible, Role::Admin, &req(" ")),
        Err(Refusal::Text(_))
    ));
    let long = SwitchOn {
        leadership: Some("王".repeat(201)),
        ..req("HIS 断开")
    };
    assert!(matches!(
        switch_on(None, &eligible, Role::Admin, &long),
        Err(Refusal::Text(_))
    ));
}

#[test]
fn one_episode_at_a_time() {
    let eligible = assess(
        Signals {
            his_failing_since: None,
            platform_failing_since: Some(t0()),
        },
        30,
        t0() + Duration::hours(1),
    );
    let r = Role::DeskSupervisor;
    assert_eq!(
        switch_on(Some(EpisodeState::Active), &eligible, r, &req("x")),
        Err(Refusal::AlreadyOn)
    );
    assert_eq!(
        switch_on(Some(EpisodeState::Ending), &eligible, r, &req("x")),
        Err(Refusal::StillEnding)
    );
    assert_eq!(
        switch_on(Some(EpisodeState::Closed), &eligible, r, &req("x")),
        Ok(Basis::Eligible)
    );
    assert_eq!(phase(Some(EpisodeState::Active), &eligible), Phase::Active);
    assert_eq!(phase(Some(EpisodeState::Ending), &eligible), Phase::Ending);
}

#[test]
fn switching_off_then_settling() {
    assert_eq!(switch_off(None, Role::Admin, "恢复"), Err(Refusal::NotOn));
    assert_eq!(
        switch_off(Some(EpisodeState::Ending), Role::Admin, "恢复"),
        Err(Refusal::NotOn)
    );
    assert_eq!(
        switch_off(Some(EpisodeState::Active), Role::FrontDesk, "恢复"),
        Err(Refusal::NotPermitted)
    );
    assert!(matches!(
        switch_off(Some(EpisodeState::Active), Role::Admin, ""),
        Err(Refusal::Text(_))
    ));
    assert_eq!(
        switch_off(Some(EpisodeState::Active), Role::DeskSupervisor, "HIS 恢复"),
        Ok(())
    );
    // Ending stays so while anything is in the line or a counterpart is away.
    assert_eq!(settle(EpisodeState::Ending, 3, true), EpisodeState::Ending);
    assert_eq!(settle(EpisodeState::Ending, 0, false), EpisodeState::Ending);
    assert_eq!(settle(EpisodeState::Ending, 0, true), EpisodeState::Closed);
    // Settling never ends an active episode: staff do.
    assert_eq!(settle(EpisodeState::Active, 0, true), EpisodeState::Active);
}

#[test]
fn names_read_back() {
    for s in EpisodeState::ALL {
        assert_eq!(EpisodeState::parse(s.as_str()), Some(s));
    }
    for b in [Basis::Eligible, Basis::Override] {
        assert_eq!(Basis::parse(b.as_str()), Some(b));
    }
    assert_eq!(EpisodeState::parse("Active"), None);
}
