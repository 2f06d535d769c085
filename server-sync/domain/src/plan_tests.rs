use super::*;
use crate::catalogue::{Conflict, Package};

fn item(code: &str, sex: SexRule, marital: MaritalRule, price: i64) -> ExamItem {
    ExamItem {
        code: code.into(),
        name: format!("项目{code}"),
        department: if code.starts_with("US") { "us" } else { "lab" }.into(),
        room: "r1".into(),
        sex,
        marital,
        fasting: false,
        price_fen: price,
        sample: None,
        conflicts: vec![],
    }
}

fn cat() -> Catalogue {
    let mut vag = item("US-VAG", SexRule::Female, MaritalRule::MarriedOnly, 15_000);
    vag.conflicts.push(Conflict {
        with: "US-ABDGYN".into(),
        reason: "两种检查方式只能选一种".into(),
    });
    let mut c13 = item("C13", SexRule::Both, MaritalRule::Any, 15_000);
    c13.conflicts.push(Conflict {
        with: "C14".into(),
        reason: "同一检查，两种方法只能选一种".into(),
    });
    Catalogue {
        items: vec![
            item("CBC", SexRule::Both, MaritalRule::Any, 2_000),
            item("PSA", SexRule::Male, MaritalRule::Any, 8_000),
            item("TCT", SexRule::Female, MaritalRule::MarriedOnly, 15_000),
            item(
                "US-ABDGYN",
                SexRule::Female,
                MaritalRule::UnmarriedOnly,
                10_000,
            ),
            item("CA125", SexRule::Female, MaritalRule::Any, 6_000),
            vag,
            c13,
            item("C14", SexRule::Both, MaritalRule::Any, 10_000),
        ],
        packages: vec![Package {
            code: "P".into(),
            name: "套餐".into(),
            sex: SexRule::Both,
            items: ["CBC", "PSA", "TCT", "US-VAG", "CA125"]
                .map(String::from)
                .to_vec(),
            price_fen: 36_000, // list 46,000
            exam_type: "health".into(),
        }],
        ..Catalogue::default()
    }
}

fn req(package: Option<&str>, add: &[&str]) -> PlanRequest {
    PlanRequest {
        package: package.map(String::from),
        add: add.iter().map(|s| s.to_string()).collect(),
        remove: vec![],
    }
}

fn codes(p: &Plan) -> Vec<&str> {
    p.items.iter().map(|i| i.code.as_str()).collect()
}

#[test]
fn a_man_gets_no_female_items_and_pays_only_for_his_share() {
    let p = plan(&cat(), Sex::Male, Marital::Married, &req(Some("P"), &[])).unwrap();
    assert_eq!(codes(&p), ["CBC", "PSA"]);
    assert_eq!(p.excluded.len(), 3);
    assert!(p.excluded.iter().all(|e| e.reason == "仅限女性的项目"));
    let s = shares(36_000, &[2_000, 8_000, 15_000, 15_000, 6_000]);
    assert_eq!(p.total_fen, s[0] + s[1]);
}

#[test]
fn the_whole_package_costs_the_package_price() {
    let p = plan(&cat(), Sex::Female, Marital::Married, &req(Some("P"), &[])).unwrap();
    assert_eq!(codes(&p), ["CBC", "TCT", "US-VAG", "CA125"]);
    assert_eq!(p.excluded[0].code, "PSA");
    let pkg = cat().packages[0].clone();
    let female_total: i64 = shares(pkg.price_fen, &[2_000, 8_000, 15_000, 15_000, 6_000])
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, v)| v)
        .sum();
    assert_eq!(p.total_fen, female_total);
}

#[test]
fn an_unmarried_woman_gets_the_abdominal_scan_instead_with_a_reason() {
    let p = plan(
        &cat(),
        Sex::Female,
        Marital::Unmarried,
        &req(Some("P"), &[]),
    )
    .unwrap();
    assert_eq!(codes(&p), ["CBC", "US-ABDGYN", "CA125"]);
    let vag = p.excluded.iter().find(|e| e.code == "US-VAG").unwrap();
    assert_eq!(vag.replaced_by.as_deref(), Some("US-ABDGYN"));
    assert!(vag.reason.contains("未婚"), "{}", vag.reason);
    let tct = p.excluded.iter().find(|e| e.code == "TCT").unwrap();
    assert_eq!(tct.replaced_by, None);
    // The replacement never costs more than its own list price.
    assert!(p.items[1].price_fen <= 10_000);
}

#[test]
fn unknown_marital_status_holds_back_married_only_items() {
    let p = plan(&cat(), Sex::Female, Marital::Unknown, &req(Some("P"), &[])).unwrap();
    assert!(!codes(&p).contains(&"TCT"));
    assert!(
        p.excluded
            .iter()
            .any(|e| e.code == "TCT" && e.reason.contains("未登记"))
    );
}

#[test]
fn adding_an_item_for_the_other_sex_is_refused_with_why() {
    let e = plan(&cat(), Sex::Female, Marital::Married, &req(None, &["PSA"])).unwrap_err();
    assert!(matches!(e, PlanError::NotFor { ref code, .. } if code == "PSA"));
    assert_eq!(e.to_string(), "项目PSA不适用于已婚女性：仅限男性的项目");
    let e = plan(
        &cat(),
        Sex::Female,
        Marital::Unmarried,
        &req(None, &["TCT"]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("未婚"), "{e}");
}

#[test]
fn conflicting_items_are_refused_whichever_side_names_the_conflict() {
    for add in [["C13", "C14"], ["C14", "C13"]] {
        let e = plan(&cat(), Sex::Male, Marital::Unknown, &req(None, &add)).unwrap_err();
        assert!(matches!(e, PlanError::Conflict { .. }), "{e:?}");
        assert!(e.to_string().contains("只能选一种"), "{e}");
    }
    // A married woman adding the abdominal scan to a package with the vaginal one.
    let e = plan(
        &cat(),
        Sex::Female,
        Marital::Married,
        &req(Some("P"), &["US-ABDGYN"]),
    )
    .unwrap_err();
    assert!(matches!(e, PlanError::NotFor { .. }), "{e:?}");
}

#[test]
fn added_items_cost_list_price_and_are_never_charged_twice() {
    let p = plan(
        &cat(),
        Sex::Male,
        Marital::Married,
        &req(Some("P"), &["CBC", "C13"]),
    )
    .unwrap();
    assert_eq!(codes(&p), ["CBC", "PSA", "C13"]);
    assert_eq!(p.items[2].price_fen, 15_000);
    assert!(!p.items[2].from_package);
}

#[test]
fn removed_items_leave_the_bill_and_the_rest_is_checked() {
    let mut r = req(Some("P"), &[]);
    r.remove = vec!["PSA".into()];
    let p = plan(&cat(), Sex::Male, Marital::Married, &r).unwrap();
    assert_eq!(codes(&p), ["CBC"]);
    assert_eq!(
        plan(&cat(), Sex::Male, Marital::Married, &req(None, &[])),
        Err(PlanError::Empty)
    );
    assert!(matches!(
        plan(&cat(), Sex::Male, Marital::Married, &req(Some("NOPE"), &[])),
        Err(PlanError::UnknownPackage { .. })
    ));
    assert!(matches!(
        plan(&cat(), Sex::Male, Marital::Married, &req(None, &["NOPE"])),
        Err(PlanError::UnknownItem { .. })
    ));
}

#[test]
fn shares_sum_exactly_and_follow_the_weights() {
    for (total, w) in [
        (36_000i64, vec![2_000i64, 8_000, 15_000, 15_000, 6_000]),
        (100, vec![1, 1, 1]),
        (7, vec![0, 0]),
        (99_999, vec![3, 5, 7, 11, 13]),
    ] {
        let s = shares(total, &w);
        assert_eq!(s.iter().sum::<i64>(), total, "{total} {w:?}");
        let sw: i64 = w.iter().sum();
        if sw > 0 {
            for (x, wi) in s.iter().zip(&w) {
                let exact = total as f64 * *wi as f64 / sw as f64;
                assert!((*x as f64 - exact).abs() < 1.0, "{x} vs {exact}");
            }
        }
    }
}

#[test]
fn additions_are_checked_against_what_the_visit_holds() {
    let cat = cat();
    let add = |held: &[&str], add: &[&str]| {
        let add: Vec<String> = add.iter().map(|s| s.to_string()).collect();
        additions(&cat, Sex::Female, Marital::Married, held, &add)
    };
    let got = add(&["CBC"], &["C13", "CA125"]).unwrap();
    assert_eq!(
        got.iter()
            .map(|i| (i.code.as_str(), i.price_fen, i.from_package))
            .collect::<Vec<_>>(),
        [("C13", 15_000, false), ("CA125", 6_000, false)]
    );
    let e = add(&["C14"], &["C13"]).unwrap_err();
    assert!(matches!(e, PlanError::Conflict { .. }), "{e:?}");
    let e = add(&[], &["PSA"]).unwrap_err();
    assert!(matches!(e, PlanError::NotFor { .. }), "{e:?}");
}
