use chrono::{DateTime, Duration, Utc};
use exam_protocol::{DeviceState, DeviceStatus};

use super::*;

fn now() -> DateTime<Utc> {
    "2026-03-02T08:00:00Z".parse().unwrap()
}

fn kiosk(id: &str, seen_minutes_ago: Option<i64>) -> KioskFact {
    KioskFact {
        id: id.into(),
        enrolled: true,
        last_seen: seen_minutes_ago.map(|m| now() - Duration::minutes(m)),
        devices: vec![],
        print_waiting: 0,
        print_waiting_since: None,
        rejected: 0,
    }
}

/// A day when all is well: backups fresh, disks roomy, kiosks calling in.
fn quiet() -> Facts {
    Facts {
        kiosks: vec![kiosk("K-1", Some(1))],
        backup: BackupFact {
            configured: true,
            last_success: Some(now() - Duration::hours(5)),
            failures_since_success: 0,
        },
        disks: vec![DiskFact {
            what: "backup".into(),
            free_bytes: 500 << 30,
            total_bytes: 1000 << 30,
        }],
        implausible: Implausible::ALL.iter().map(|&k| (k, 0)).collect(),
        ..Facts::default()
    }
}

fn kinds(f: &Facts) -> Vec<(Severity, AlarmKind, String)> {
    evaluate(f, &Thresholds::default(), now())
        .into_iter()
        .map(|a| (a.severity, a.kind, a.subject))
        .collect()
}

#[test]
fn a_quiet_day_has_no_alarms() {
    assert_eq!(kinds(&quiet()), vec![]);
}

#[test]
fn kiosks_offline_faulty_or_backed_up() {
    let mut f = quiet();
    f.kiosks = vec![
        kiosk("K-OFF", Some(6)),
        kiosk("K-NEVER", None),
        KioskFact {
            devices: vec![
                DeviceStatus {
                    name: "receipt".into(),
                    state: DeviceState::PaperOut,
                },
                DeviceStatus {
                    name: "idcard".into(),
                    state: DeviceState::Ok,
                },
                DeviceStatus {
                    name: "label".into(),
                    state: DeviceState::PaperNearEnd,
                },
            ],
            print_waiting: 3,
            print_waiting_since: Some(now() - Duration::minutes(20)),
            rejected: 2,
            ..kiosk("K-PRN", Some(0))
        },
        KioskFact {
            print_waiting: 25,
            ..kiosk("K-BUSY", Some(0))
        },
        // Not enrolled yet: not expected to call in.
        KioskFact {
            enrolled: false,
            ..kiosk("K-NEW", None)
        },
    ];
    let got = kinds(&f);
    let has = |k: AlarmKind, s: &str| got.iter().any(|(_, kk, ss)| *kk == k && ss == s);
    assert!(has(AlarmKind::KioskOffline, "K-OFF"));
    assert!(has(AlarmKind::KioskOffline, "K-NEVER"));
    assert!(!got.iter().any(|(_, _, s)| s == "K-NEW"));
    assert!(has(AlarmKind::PrinterFault, "K-PRN"));
    // Paper running low is not yet a fault.
    assert_eq!(
        got.iter()
            .filter(|(_, k, _)| *k == AlarmKind::PrinterFault)
            .count(),
        1
    );
    assert!(
        has(AlarmKind::PrintBacklog, "K-PRN"),
        "waiting over 15 minutes"
    );
    assert!(has(AlarmKind::PrintBacklog, "K-BUSY"), "over 20 parts");
    assert!(has(AlarmKind::KioskRejectedEvents, "K-PRN"));
    // Critical first.
    let first_warning = got
        .iter()
        .position(|(s, _, _)| *s == Severity::Warning)
        .unwrap();
    assert!(
        got[..first_warning]
            .iter()
            .all(|(s, _, _)| *s == Severity::Critical)
    );
    assert!(
        got[first_warning..]
            .iter()
            .all(|(s, _, _)| *s == Severity::Warning)
    );
}

#[test]
fn backups_late_failing_absent_or_unconfigured() {
    let mut f = quiet();
    f.backup.last_success = Some(now() - Duration::hours(27));
    assert_eq!(
        kinds(&f),
        vec![(Severity::Critical, AlarmKind::BackupLate, "backup".into())]
    );
    f.backup.last_success = Some(now() - Duration::hours(25));
    f.backup.failures_since_success = 1;
    assert_eq!(
        kinds(&f),
        vec![(
            Severity::Critical,
            AlarmKind::BackupFailing,
            "backup".into()
        )]
    );
    f.backup = BackupFact {
        configured: true,
        ..BackupFact::default()
    };
    assert_eq!(
        kinds(&f),
        vec![(Severity::Critical, AlarmKind::BackupNone, "backup".into())]
    );
    f.backup.configured = false;
    assert_eq!(
        kinds(&f),
        vec![(Severity::Warning, AlarmKind::BackupNone, "backup".into())]
    );
}

#[test]
fn capacity_permissions_and_the_trail() {
    let mut f = quiet();
    f.disks[0].free_bytes = 50 << 30;
    f.denied_recent = 20;
    f.login_failed_recent = 29;
    f.audit_broken = Some("row 17".into());
    f.syslog_dropped = 3;
    let got: Vec<AlarmKind> = kinds(&f).into_iter().map(|(_, k, _)| k).collect();
    assert_eq!(
        got,
        vec![
            AlarmKind::DiskNearlyFull,
            AlarmKind::AuditChainBroken,
            AlarmKind::DeniedSpike,
            AlarmKind::SyslogDrops,
        ]
    );
    f.login_failed_recent = 30;
    assert!(
        kinds(&f)
            .iter()
            .any(|(_, k, _)| *k == AlarmKind::LoginFailureSpike)
    );
}

#[test]
fn implausible_data_is_named() {
    let mut f = quiet();
    f.implausible = vec![
        (Implausible::RegistrationInFuture, 1),
        (Implausible::NegativeAmount, 2),
        (Implausible::SlotOverbooked, 0),
    ];
    let alarms = evaluate(&f, &Thresholds::default(), now());
    assert_eq!(alarms.len(), 2);
    assert!(
        alarms[0].zh.contains("签到时间晚于当前时间"),
        "{}",
        alarms[0].zh
    );
    assert!(
        alarms[1].zh.contains("2 条记录金额为负数"),
        "{}",
        alarms[1].zh
    );
}

#[test]
fn the_gauges_carry_the_facts() {
    let mut f = quiet();
    f.kiosks[0].devices = vec![DeviceStatus {
        name: "receipt".into(),
        state: DeviceState::CoverOpen,
    }];
    f.audit_broken = Some("x".into());
    let s = prom::render_facts(&f, &Thresholds::default(), now());
    let at = (now() - Duration::minutes(1)).timestamp();
    assert!(
        s.contains(&format!(
            "exam_kiosk_last_heartbeat_timestamp_seconds{{kiosk=\"K-1\"}} {at}"
        )),
        "{s}"
    );
    assert!(s.contains("exam_kiosk_device_faults{kiosk=\"K-1\"} 1"));
    assert!(s.contains("exam_audit_chain_intact 0"));
    assert!(s.contains("exam_disk_free_ratio{disk=\"backup\"} 0.5000"));
    assert!(s.contains("exam_alarms{severity=\"critical\"} 2"), "{s}");
    // Every sample line belongs to a declared metric.
    let declared: Vec<&str> = s
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for l in s.lines().filter(|l| !l.starts_with('#')) {
        let name = l.split(['{', ' ']).next().unwrap();
        assert!(declared.contains(&name), "{name} undeclared");
    }
}

#[test]
fn a_failing_interface_head_raises_an_alarm_after_its_time_and_dead_letters_a_warning() {
    use crate::interfaces::Counterpart;
    let fact = |since: Option<i64>, dead| InterfaceFact {
        counterpart: Counterpart::Lis,
        open: 12,
        dead,
        failing_since: since.map(|m| now() - Duration::minutes(m)),
        error: Some("connection refused".into()),
        alarm_after: Duration::minutes(15),
    };
    let with = |i: InterfaceFact| Facts {
        interfaces: vec![i],
        ..quiet()
    };
    assert!(kinds(&with(fact(None, 0))).is_empty());
    assert!(kinds(&with(fact(Some(14), 0))).is_empty());
    assert_eq!(
        kinds(&with(fact(Some(15), 0))),
        [(
            Severity::Critical,
            AlarmKind::InterfaceFailing,
            "lis".to_string()
        )]
    );
    assert_eq!(
        kinds(&with(fact(None, 2))),
        [(
            Severity::Warning,
            AlarmKind::InterfaceDeadLetters,
            "lis".to_string()
        )]
    );
}

#[test]
fn an_open_category_a_major_abnormal_result_is_critical() {
    use exam_domain::abnormal::Category;
    let with = |category, open| Facts {
        major_abnormal: vec![super::AbnormalFact {
            category,
            open,
            oldest: (open > 0).then(|| now() - Duration::minutes(12)),
        }],
        ..quiet()
    };
    assert_eq!(kinds(&with(Category::A, 0)), vec![]);
    // B results wait for the board, not for an alarm.
    assert_eq!(kinds(&with(Category::B, 3)), vec![]);
    let f = with(Category::A, 2);
    assert_eq!(
        kinds(&f),
        vec![(
            Severity::Critical,
            AlarmKind::MajorAbnormalOpen,
            "abnormal:A".to_string()
        )]
    );
    let a = &evaluate(&f, &Thresholds::default(), now())[0];
    assert!(
        a.zh.contains("2 条A类") && a.zh.contains("12 分钟"),
        "{}",
        a.zh
    );
}

#[test]
fn a_failed_critical_value_sms_is_critical() {
    assert_eq!(kinds(&quiet()), vec![]);
    let f = Facts {
        sms_notices_failed: 2,
        ..quiet()
    };
    assert_eq!(
        kinds(&f),
        vec![(
            Severity::Critical,
            AlarmKind::SmsNoticeFailed,
            "sms:notice".to_string()
        )]
    );
    let a = &evaluate(&f, &Thresholds::default(), now())[0];
    assert!(a.zh.contains("2 条") && a.zh.contains("电话"), "{}", a.zh);
}
