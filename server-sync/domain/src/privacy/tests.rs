use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
}

fn consent(purpose: Purpose, granted: bool, h: u32) -> Consent {
    Consent {
        purpose,
        granted,
        channel: Channel::Kiosk,
        notice_version: NOTICE_VERSION.into(),
        at: at(h),
        withdrawn_at: None,
    }
}

#[test]
fn purposes_and_channels_read_as_written() {
    for p in Purpose::ALL {
        assert_eq!(Purpose::parse(p.as_str()), Some(p));
        assert!(!p.label_zh().is_empty() && p.label_en().is_ascii());
        assert!(!p.allows_zh().is_empty());
    }
    for c in Channel::ALL {
        assert_eq!(Channel::parse(c.as_str()), Some(c));
    }
    assert_eq!(Purpose::parse("marketing"), None);
}

#[test]
fn no_answer_allows_nothing_and_the_latest_answer_counts() {
    assert!(!allows(&[], Purpose::PhotoIdentity));
    let mut r = vec![consent(Purpose::PhotoIdentity, true, 8)];
    assert!(allows(&r, Purpose::PhotoIdentity));
    // Other purposes are not implied by one consent.
    assert!(!allows(&r, Purpose::SmsNotifications));
    // A later no overrides an earlier yes, whatever the order stored.
    r.insert(0, consent(Purpose::PhotoIdentity, false, 9));
    assert!(!allows(&r, Purpose::PhotoIdentity));
    // A later yes again allows.
    r.push(consent(Purpose::PhotoIdentity, true, 10));
    assert!(allows(&r, Purpose::PhotoIdentity));
}

#[test]
fn a_withdrawn_consent_allows_nothing() {
    let mut c = consent(Purpose::EmployerReport, true, 8);
    assert!(allows(std::slice::from_ref(&c), Purpose::EmployerReport));
    c.withdrawn_at = Some(at(9));
    assert!(!allows(&[c], Purpose::EmployerReport));
}

#[test]
fn withdrawal_says_what_it_stops() {
    let r: Vec<Consent> = Purpose::ALL
        .into_iter()
        .map(|p| consent(p, true, 8))
        .collect();
    assert_eq!(
        withdraw(&r, Purpose::PhotoIdentity),
        Ok(&[Withdrawal::DeletePhotos][..])
    );
    assert_eq!(
        withdraw(&r, Purpose::EmployerReport),
        Ok(&[Withdrawal::StopEmployerReport][..])
    );
    assert_eq!(
        withdraw(&r, Purpose::SmsNotifications),
        Ok(&[Withdrawal::StopSms][..])
    );
    assert_eq!(
        withdraw(&r, Purpose::Research),
        Ok(&[Withdrawal::ExcludeFromResearch][..])
    );
    // The service itself is not a consent that can be withdrawn.
    assert!(matches!(
        withdraw(&r, Purpose::ExamService),
        Err(WithdrawError::Required(_))
    ));
    // Nothing in force: nothing to withdraw.
    assert_eq!(
        withdraw(&[], Purpose::PhotoIdentity),
        Err(WithdrawError::NotInForce)
    );
    let refused = [consent(Purpose::Research, false, 8)];
    assert_eq!(
        withdraw(&refused, Purpose::Research),
        Err(WithdrawError::NotInForce)
    );
}

#[test]
fn medical_records_are_kept_fifteen_years_from_the_last_exam() {
    let held = Held {
        exams_performed: 2,
        last_exam: NaiveDate::from_ymd_opt(2026, 12, 1),
        reports: 1,
    };
    assert_eq!(held.keep_until(), NaiveDate::from_ymd_opt(2041, 12, 1));
    let leap = Held {
        last_exam: NaiveDate::from_ymd_opt(2028, 2, 29),
        ..held.clone()
    };
    assert_eq!(leap.keep_until(), NaiveDate::from_ymd_opt(2043, 3, 1));
    // Contact data and photo may go; the record stays.
    let plan = plan_erasure(&held, Erasure::ContactAndPhoto).unwrap();
    assert!(plan.erase_mobile && plan.delete_photos && !plan.anonymise);
    assert_eq!(plan.keep_until, NaiveDate::from_ymd_opt(2041, 12, 1));
    assert!(!plan.withdraw.contains(&Purpose::ExamService));
    assert!(plan.withdraw.contains(&Purpose::SmsNotifications));
    // Anonymising whole is refused while the record must be kept.
    assert_eq!(
        plan_erasure(&held, Erasure::Anonymise),
        Err(ErasureError::RecordKept {
            until: NaiveDate::from_ymd_opt(2041, 12, 1).unwrap()
        })
    );
}

#[test]
fn bookings_only_can_be_anonymised() {
    let held = Held::default();
    assert!(!held.has_medical_record());
    let plan = plan_erasure(&held, Erasure::Anonymise).unwrap();
    assert!(plan.anonymise && plan.erase_mobile && plan.delete_photos);
    assert_eq!(plan.keep_until, None);
    // A report alone is a record too.
    let reported = Held {
        reports: 1,
        ..Held::default()
    };
    assert!(plan_erasure(&reported, Erasure::Anonymise).is_err());
}

#[test]
fn the_notice_has_every_section_in_both_languages() {
    assert!(!NOTICE_VERSION.is_empty());
    let (zh, en) = (notice_lines(false), notice_lines(true));
    assert_eq!(zh.len(), en.len());
    for s in NOTICE {
        assert_eq!(s.body_zh.len(), s.body_en.len(), "{}", s.title_en);
    }
    assert!(zh.iter().any(|l| l.contains("15 年")));
    assert!(en.iter().any(|l| l.contains("15 years")));
    // The notice names every optional purpose the person can refuse.
    let all = zh.concat();
    for word in ["拍照", "短信", "单位", "研究"] {
        assert!(all.contains(word), "{word}");
    }
}
