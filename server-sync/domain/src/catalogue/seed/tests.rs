use std::collections::HashSet;

use super::catalogue;
use crate::Sex;
use crate::catalogue::{Catalogue, Marital, MaritalRule, SexRule};
use crate::plan::{PlanRequest, conflict, plan};

fn cat() -> Catalogue {
    catalogue()
}

fn assert_unique<'a>(what: &str, codes: impl IntoIterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for c in codes {
        assert!(seen.insert(c), "duplicate {what} code {c}");
    }
}

#[test]
fn catalogue_counts_and_determinism() {
    let c = cat();
    assert!(
        (145..=170).contains(&c.items.len()),
        "{} items",
        c.items.len()
    );
    assert_eq!(c.packages.len(), 20);
    assert_eq!(c.campuses.len(), 2);
    assert!(c.departments.len() >= 15);
    assert_eq!(c.exam_types.len(), 5);
    assert_eq!(c, catalogue());
}

#[test]
fn catalogue_codes_are_unique() {
    let c = cat();
    assert_unique("campus", c.campuses.iter().map(|x| x.code.as_str()));
    assert_unique("department", c.departments.iter().map(|x| x.code.as_str()));
    assert_unique("item", c.items.iter().map(|x| x.code.as_str()));
    assert_unique("package", c.packages.iter().map(|x| x.code.as_str()));
    assert_unique("package name", c.packages.iter().map(|x| x.name.as_str()));
    assert_unique("exam type", c.exam_types.iter().map(|x| x.code.as_str()));
    for campus in &c.campuses {
        let rooms = c.rooms.iter().filter(|r| r.campus == campus.code);
        assert_unique("room", rooms.map(|r| r.code.as_str()));
    }
    assert!(
        c.items
            .iter()
            .all(|i| i.code.is_ascii() && !i.name.is_empty())
    );
}

#[test]
fn catalogue_campuses_and_rooms() {
    let c = cat();
    assert!(c.campuses.iter().any(|x| x.code == "main"));
    for campus in &c.campuses {
        let p = &campus.exam_no_prefix;
        assert!(
            !p.is_empty() && p.chars().all(|d| d.is_ascii_digit() && d != '4'),
            "{p}"
        );
    }
    for r in &c.rooms {
        assert!(
            c.department(&r.department).is_some(),
            "room {} dept",
            r.code
        );
        assert!(c.campuses.iter().any(|x| x.code == r.campus));
    }
}

#[test]
fn catalogue_items_have_department_and_room_everywhere() {
    let c = cat();
    for i in &c.items {
        assert!(c.department(&i.department).is_some(), "{}: no dept", i.code);
        for campus in &c.campuses {
            assert!(
                c.room(&campus.code, &i.room).is_some(),
                "{}: no room at {}",
                i.code,
                campus.code
            );
        }
        assert!(i.price_fen > 0, "{}: price", i.code);
    }
}

#[test]
fn catalogue_samples_only_for_lab_items() {
    let c = cat();
    for i in &c.items {
        assert_eq!(
            i.department == "lab",
            i.sample.is_some(),
            "{}: sample",
            i.code
        );
    }
}

#[test]
fn catalogue_marital_items_are_female() {
    for i in &cat().items {
        if i.marital != MaritalRule::Any {
            assert_eq!(i.sex, SexRule::Female, "{}", i.code);
        }
    }
}

#[test]
fn catalogue_conflicts_name_existing_items() {
    let c = cat();
    let mut pairs = 0;
    for i in &c.items {
        for x in &i.conflicts {
            assert!(
                c.item(&x.with).is_some(),
                "{} conflicts with unknown {}",
                i.code,
                x.with
            );
            assert_ne!(x.with, i.code);
            assert!(!x.reason.is_empty());
            pairs += 1;
        }
    }
    assert!(pairs >= 6, "{pairs} conflict pairs");
    let vag = c.item("US-VAG").unwrap();
    assert!(conflict(vag, c.item("US-ABDGYN").unwrap()).is_some());
}

#[test]
fn catalogue_packages_are_consistent() {
    let c = cat();
    for p in &c.packages {
        assert!(
            c.exam_types.iter().any(|t| t.code == p.exam_type),
            "{}: type",
            p.code
        );
        assert_unique("package item", p.items.iter().map(String::as_str));
        let items: Vec<_> = p
            .items
            .iter()
            .map(|code| {
                c.item(code)
                    .unwrap_or_else(|| panic!("{}: no item {code}", p.code))
            })
            .collect();
        for (n, a) in items.iter().enumerate() {
            for b in &items[n + 1..] {
                assert!(
                    conflict(a, b).is_none(),
                    "{}: {} vs {}",
                    p.code,
                    a.code,
                    b.code
                );
            }
            match p.sex {
                SexRule::Both => {}
                SexRule::Male => assert_ne!(a.sex, SexRule::Female, "{}: {}", p.code, a.code),
                SexRule::Female => assert_ne!(a.sex, SexRule::Male, "{}: {}", p.code, a.code),
            }
        }
        let list: i64 = items.iter().map(|i| i.price_fen).sum();
        assert!(p.price_fen < list, "{}: {} >= {list}", p.code, p.price_fen);
        assert!(
            p.price_fen * 100 >= list * 55,
            "{}: {} vs {list}",
            p.code,
            p.price_fen
        );
    }
}

#[test]
fn catalogue_has_the_demo_packages() {
    let c = cat();
    for (name, price) in crate::demo::PACKAGES {
        let p = c.packages.iter().find(|p| p.name == *name);
        assert_eq!(p.map(|p| p.price_fen), Some(*price), "{name}");
    }
}

#[test]
fn catalogue_every_package_plans_for_everyone() {
    let c = cat();
    for p in &c.packages {
        for sex in [Sex::Male, Sex::Female] {
            if !p.sex.allows(sex) {
                continue;
            }
            for marital in [Marital::Unmarried, Marital::Married, Marital::Unknown] {
                let req = PlanRequest {
                    package: Some(p.code.clone()),
                    ..PlanRequest::default()
                };
                let plan = plan(&c, sex, marital, &req)
                    .unwrap_or_else(|e| panic!("{} {sex:?} {marital:?}: {e}", p.code));
                assert!(plan.total_fen <= p.price_fen, "{}", p.code);
            }
        }
    }
}

#[test]
fn catalogue_gynaecology_swaps_by_marital_status() {
    let c = cat();
    let req = |code: &str| PlanRequest {
        package: Some(code.into()),
        ..PlanRequest::default()
    };
    let codes = |m| {
        let p = plan(&c, Sex::Female, m, &req("P-F-FULL")).unwrap();
        p.items.into_iter().map(|i| i.code).collect::<Vec<_>>()
    };
    let single = codes(Marital::Unmarried);
    assert!(single.contains(&"US-ABDGYN".to_string()));
    assert!(single.contains(&"GYN-EXT".to_string()));
    assert!(!single.iter().any(|c| c == "L-TCT" || c == "US-VAG"));
    let married = codes(Marital::Married);
    assert!(married.contains(&"US-VAG".to_string()) && married.contains(&"L-TCT".to_string()));
}
