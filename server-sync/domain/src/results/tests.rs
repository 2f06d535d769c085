use super::chief::{
    Physician, ReportAction, ReportFacts, ReportState, ReturnReason, aggregate, assign, grade,
    merge, move_to, step,
};
use super::summary::{Earlier, Issue, ItemEntry, department, quality};
use super::*;
use crate::abnormal::Category;

fn k() -> Knowledge {
    seed::knowledge()
}

fn field(item: &str, code: &str) -> Field {
    k().template(item).field(code).unwrap().clone()
}

fn entry(item: &str, values: &[(&str, Value)]) -> ItemEntry {
    ItemEntry {
        item: item.into(),
        values: values
            .iter()
            .map(|(c, v)| ((*c).to_string(), v.clone()))
            .collect(),
    }
}

fn findings(codes: &[&str]) -> Value {
    Value::Findings(codes.iter().map(|c| (*c).to_string()).collect())
}

#[test]
fn reference_ranges_by_sex() {
    let hgb = field("L-CBC", "hgb");
    // 120 g/L: low for a man, normal for a woman.
    assert_eq!(
        judge(&hgb, &Value::Number(120.0), Sex::Male, 40),
        Ok(Flag::Low)
    );
    assert_eq!(
        judge(&hgb, &Value::Number(120.0), Sex::Female, 40),
        Ok(Flag::Normal)
    );
    assert_eq!(
        judge(&hgb, &Value::Number(160.0), Sex::Female, 40),
        Ok(Flag::High)
    );
}

#[test]
fn reference_ranges_by_age() {
    let esr = field("L-ESR", "esr");
    // 18 mm/h: high for a man of 40, normal at 55.
    assert_eq!(
        judge(&esr, &Value::Number(18.0), Sex::Male, 40),
        Ok(Flag::High)
    );
    assert_eq!(
        judge(&esr, &Value::Number(18.0), Sex::Male, 55),
        Ok(Flag::Normal)
    );
    let psa = field("L-PSA", "tpsa");
    assert_eq!(
        judge(&psa, &Value::Number(3.0), Sex::Male, 45),
        Ok(Flag::High)
    );
    assert_eq!(
        judge(&psa, &Value::Number(3.0), Sex::Male, 65),
        Ok(Flag::Normal)
    );
    // A range that does not apply flags nothing (BMI is for adults).
    let bmi = field("GEN-BASIC", "bmi");
    assert_eq!(
        judge(&bmi, &Value::Number(15.0), Sex::Male, 10),
        Ok(Flag::Normal)
    );
    assert_eq!(
        judge(&bmi, &Value::Number(15.0), Sex::Male, 30),
        Ok(Flag::Low)
    );
}

#[test]
fn implausible_values_and_wrong_kinds_are_refused() {
    let k_ = field("L-ELEC", "k");
    // 45 for potassium is a typing error (4.5), not a critical value.
    assert!(matches!(
        judge(&k_, &Value::Number(45.0), Sex::Male, 40),
        Err(EntryError::Implausible { .. })
    ));
    assert!(matches!(
        judge(&k_, &Value::Number(f64::NAN), Sex::Male, 40),
        Err(EntryError::Implausible { .. })
    ));
    assert!(matches!(
        judge(&k_, &findings(&[]), Sex::Male, 40),
        Err(EntryError::WantNumber(_))
    ));
    let liver = field("US-ABD", "liver");
    assert!(matches!(
        judge(&liver, &findings(&["nonsense"]), Sex::Male, 40),
        Err(EntryError::UnknownFinding { .. })
    ));
    let msg = judge(&k_, &Value::Number(45.0), Sex::Male, 40)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("钾") && msg.contains("核对"), "{msg}");
}

#[test]
fn a_normal_exam_is_entered_with_one_tap_per_item() {
    let k = k();
    for item in ["INT-EXAM", "SUR-EXAM", "US-ABD", "ECG-12", "UNKNOWN-ITEM"] {
        let t = k.template(item);
        let e = ItemEntry {
            item: item.into(),
            values: all_normal(&t),
        };
        let s = department(&k, std::slice::from_ref(&e), Sex::Female, 35).unwrap();
        assert_eq!(s.text, NORMAL, "{item}");
        assert!(s.conclusions.is_empty() && s.majors.is_empty());
        // Nothing required is missing: only numeric fields need typing.
        let numeric = t
            .fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Numeric { .. }));
        assert_eq!(
            quality(&k, &[e], &s.text, Sex::Female, 2026, &[]).is_empty(),
            !numeric,
            "{item}"
        );
    }
}

#[test]
fn ticking_positives_writes_the_summary_and_the_conclusions() {
    let k = k();
    let s = department(
        &k,
        &[
            entry(
                "US-ABD",
                &[
                    ("liver", findings(&["fatty"])),
                    ("gallbladder", findings(&["stone", "polyp"])),
                    ("kidney", findings(&[])),
                    ("spleen", findings(&[])),
                ],
            ),
            entry(
                "L-LIPID4",
                &[
                    ("tc", Value::Number(6.1)),
                    ("tg", Value::Number(2.3)),
                    ("hdl", Value::Number(1.2)),
                    ("ldl", Value::Number(3.0)),
                ],
            ),
        ],
        Sex::Male,
        50,
    )
    .unwrap();
    assert_eq!(
        s.text,
        "1. 肝脏回声增强、增粗，远场衰减\n2. 胆囊内强回声伴声影\n3. 胆囊壁等回声凸起，不随体位移动\n\
         4. 总胆固醇 6.10 mmol/L ↑（参考 ≤ 5.2）\n5. 甘油三酯 2.30 mmol/L ↑（参考 ≤ 1.7）"
    );
    assert_eq!(
        s.conclusions,
        [
            "FATTY_LIVER",
            "GALLSTONE",
            "GB_POLYP",
            "HYPERCHOL",
            "HYPERTG"
        ]
    );
    // Blood pressure: either value high gives one conclusion.
    let bp = department(
        &k,
        &[entry(
            "GEN-BASIC",
            &[("sbp", Value::Number(150.0)), ("dbp", Value::Number(95.0))],
        )],
        Sex::Male,
        50,
    )
    .unwrap();
    assert_eq!(bp.conclusions, ["HBP"]);
    assert_eq!(bp.abnormal.len(), 2);
}

#[test]
fn every_seeded_major_finding_is_raised_with_its_category() {
    let k = k();
    let mut seen = 0;
    for t in &k.templates {
        for f in &t.fields {
            let FieldKind::Findings { positives, .. } = &f.kind else {
                continue;
            };
            for p in positives {
                let s = department(
                    &k,
                    &[entry(&t.item, &[(&f.code, findings(&[&p.code]))])],
                    Sex::Female,
                    50,
                )
                .unwrap();
                match p.major {
                    Some(c) => {
                        seen += 1;
                        assert_eq!(s.majors.len(), 1, "{}", p.code);
                        assert_eq!(s.majors[0].category, c);
                        assert_eq!(s.majors[0].text, p.text);
                    }
                    None => assert!(s.majors.is_empty(), "{}", p.code),
                }
            }
        }
    }
    assert!(
        seen >= 7,
        "the seed names the consensus's imaging and ECG rows"
    );
    // Atrial fibrillation with a fast rate and a pneumothorax are category A.
    let ecg = department(
        &k,
        &[entry("ECG-12", &[("ecg", findings(&["af_rvr"]))])],
        Sex::Male,
        70,
    )
    .unwrap();
    assert_eq!(ecg.majors[0].category, Category::A);
}

#[test]
fn the_dictionary_covers_every_conclusion_a_template_names() {
    let k = k();
    for t in &k.templates {
        for f in &t.fields {
            let named: Vec<&String> = match &f.kind {
                FieldKind::Numeric {
                    low_conclusion,
                    high_conclusion,
                    ..
                } => low_conclusion.iter().chain(high_conclusion).collect(),
                FieldKind::Findings { positives, .. } => positives
                    .iter()
                    .filter_map(|p| p.conclusion.as_ref())
                    .collect(),
                FieldKind::Text => Vec::new(),
            };
            for c in named {
                assert!(k.conclusion(c).is_some(), "{} {}: {c}", t.item, f.code);
            }
        }
        // Every template names an item of the catalogue.
        let cat = crate::catalogue::seed::catalogue();
        assert!(cat.item(&t.item).is_some(), "{}", t.item);
    }
    for c in &k.conclusions {
        assert!(
            c.initials.chars().all(|ch| ch.is_ascii_lowercase()),
            "{}",
            c.code
        );
        assert!((1..=3).contains(&c.weight) && !c.advice.is_empty());
    }
}

#[test]
fn conclusions_are_found_by_pinyin_initials() {
    let k = k();
    let hits = k.search("zfg");
    assert_eq!(hits[0].name, "脂肪肝");
    // Two thyroid nodules share initials: the heavier first.
    let thy = k.search("jzx");
    assert_eq!(thy[0].code, "THY_NODULE_HIGH");
    assert_eq!(thy[1].code, "THY_NODULE");
    assert_eq!(k.search("胆囊").len(), 3);
    assert!(k.search("  ").is_empty());
}

#[test]
fn quality_checks_before_saving() {
    let k = k();
    // 子宫 in a man's summary; 前列腺 in a woman's.
    let man = quality(&k, &[], "子宫附件未见异常", Sex::Male, 2026, &[]);
    assert_eq!(
        man,
        [
            Issue::SexWord {
                word: "子宫".into()
            },
            Issue::SexWord {
                word: "附件".into()
            }
        ]
    );
    assert!(quality(&k, &[], "子宫附件未见异常", Sex::Female, 2026, &[]).is_empty());
    assert_eq!(
        quality(&k, &[], "前列腺增大", Sex::Female, 2026, &[]).len(),
        1
    );
    // A required field left out.
    let missing = quality(
        &k,
        &[entry("L-ELEC", &[("k", Value::Number(4.0))])],
        "",
        Sex::Male,
        2026,
        &[],
    );
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].message().contains("必填"));
    // The gallbladder removed in 2024, "normal" now: a contradiction.
    let earlier = [
        Earlier {
            year: 2024,
            item: "US-ABD".into(),
            field: "gallbladder".into(),
            value: findings(&["removed"]),
        },
        Earlier {
            year: 2025,
            item: "GEN-BASIC".into(),
            field: "height".into(),
            value: Value::Number(172.0),
        },
    ];
    let now = [
        entry("US-ABD", &[("gallbladder", findings(&[]))]),
        entry("GEN-BASIC", &[("height", Value::Number(165.0))]),
    ];
    let issues = quality(&k, &now, "", Sex::Male, 2026, &earlier);
    assert!(
        issues
            .iter()
            .any(|i| matches!(i, Issue::Contradicts { year: 2024, .. }))
    );
    assert!(
        issues
            .iter()
            .any(|i| matches!(i, Issue::Unlikely { earlier, .. } if *earlier == 172.0))
    );
    // Still removed, and a height within a year's change: no issue of those kinds.
    let fine = [
        entry("US-ABD", &[("gallbladder", findings(&["removed"]))]),
        entry("GEN-BASIC", &[("height", Value::Number(171.0))]),
    ];
    assert!(
        !quality(&k, &fine, "", Sex::Male, 2026, &earlier)
            .iter()
            .any(|i| matches!(i, Issue::Contradicts { .. } | Issue::Unlikely { .. }))
    );
}

fn facts(weights: &[u8], age: u32, major: bool) -> ReportFacts {
    ReportFacts {
        group: true,
        vip: false,
        amount_fen: 80_000,
        age,
        conclusion_weights: weights.to_vec(),
        major,
    }
}

#[test]
fn grading_by_abnormality_age_and_amount() {
    assert_eq!(grade(&facts(&[], 30, false)), 1);
    assert_eq!(grade(&facts(&[1, 1], 65, false)), 1);
    assert_eq!(grade(&facts(&[1, 2, 2, 1], 40, false)), 2);
    assert_eq!(grade(&facts(&[1, 2, 2, 1, 1], 66, false)), 2);
    assert_eq!(grade(&facts(&[1, 2, 2, 1, 1, 1, 1, 1], 66, false)), 3);
    assert_eq!(grade(&facts(&[3], 30, false)), 3);
    assert_eq!(grade(&facts(&[], 30, true)), 3);
    // A VIP or a costly exam counts one step.
    let mut vip = facts(&[1, 2, 2], 30, false);
    assert_eq!(grade(&vip), 1);
    vip.vip = true;
    assert_eq!(grade(&vip), 2);
    vip.conclusion_weights = vec![1, 2, 2, 1];
    assert_eq!(grade(&vip), 2);
    vip.age = 70;
    assert_eq!(grade(&vip), 3);
}

#[test]
fn assignment_is_even_in_number_and_random_in_difficulty() {
    let physicians: Vec<Physician> = [3, 3, 2, 2, 1, 1]
        .iter()
        .enumerate()
        .map(|(i, l)| Physician {
            id: format!("doc{i}"),
            level: *l,
        })
        .collect();
    // 1,000 reports: about 15 % hard, 35 % middle, 50 % routine.
    let mut x = 12345u64;
    let reports: Vec<(i64, u8)> = (0..1000)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) % 100;
            (
                i,
                if r < 15 {
                    3
                } else if r < 50 {
                    2
                } else {
                    1
                },
            )
        })
        .collect();
    let out = assign(&reports, &physicians, &[], 7);
    assert_eq!(out.len(), 1000);
    let mut counts = [0usize; 6];
    let mut grades = [[0usize; 4]; 6];
    for (id, p) in &out {
        let g = reports[*id as usize].1;
        assert!(
            physicians[*p].level >= g,
            "grade {g} to level {}",
            physicians[*p].level
        );
        counts[*p] += 1;
        grades[*p][g as usize] += 1;
    }
    let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(hi - lo <= 1, "counts {counts:?}");
    // Every physician gets routine reports too (not sorted by difficulty),
    // and two of one level get a like mix.
    for g in &grades {
        assert!(g[1] > 20, "{grades:?}");
    }
    for pair in [(0, 1), (2, 3)] {
        let (a, b) = (grades[pair.0], grades[pair.1]);
        for g in 1..=3 {
            assert!(a[g].abs_diff(b[g]) <= 12, "{grades:?}");
        }
    }
    // Same seed, same assignment; another seed, another one.
    assert_eq!(assign(&reports, &physicians, &[], 7), out);
    assert_ne!(assign(&reports, &physicians, &[], 8), out);
    // Today's load counts: a physician with 10 already gets fewer.
    let more = assign(&reports[..60], &physicians, &[10, 0, 0, 0, 0, 0], 1);
    let first = more.iter().filter(|(_, p)| *p == 0).count();
    let second = more.iter().filter(|(_, p)| *p == 1).count();
    assert!(
        first + 10 <= second + 11 && first < second,
        "{first} {second}"
    );
    // A grade nobody may take is left out, not forced on someone.
    let juniors = [Physician {
        id: "r".into(),
        level: 1,
    }];
    assert_eq!(assign(&[(1, 3), (2, 1)], &juniors, &[], 1), vec![(2, 0)]);
}

#[test]
fn department_conclusions_aggregate_merge_and_reorder() {
    let k = k();
    let mut list = aggregate(
        &k,
        &[
            ("us".into(), vec!["FATTY_LIVER".into(), "GALLSTONE".into()]),
            (
                "lab".into(),
                vec![
                    "ALT_HIGH".into(),
                    "HYPERCHOL".into(),
                    "HYPERGLYCAEMIA".into(),
                ],
            ),
            ("int".into(), vec!["HBP".into(), "FATTY_LIVER".into()]),
        ],
    );
    let names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
    // The heavier first (weight 2), then as the departments gave them.
    assert_eq!(
        names,
        [
            "空腹血糖升高",
            "血压偏高",
            "脂肪肝",
            "胆囊结石",
            "谷丙转氨酶升高",
            "高胆固醇血症"
        ]
    );
    assert_eq!(list[2].sources, ["us", "int"]);
    // Fatty liver and a raised ALT merge into one conclusion.
    merge(&mut list, 2, 4, "脂肪肝伴肝功能异常", "").unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[2].name, "脂肪肝伴肝功能异常");
    assert_eq!(list[2].code, None);
    assert!(list[2].advice.contains("控制体重") && list[2].advice.contains("复查肝功能"));
    assert_eq!(list[2].sources, ["us", "int", "lab"]);
    assert_eq!(
        merge(&mut list, 1, 1, "x", ""),
        Err(chief::EditError::SameTwice)
    );
    assert_eq!(
        merge(&mut list, 0, 1, " ", ""),
        Err(chief::EditError::NoName)
    );
    assert_eq!(
        merge(&mut list, 0, 9, "x", ""),
        Err(chief::EditError::NoSuch(9))
    );
    // The page's edits go through `apply`: add from the dictionary (once),
    // write one, edit its advice, remove it.
    let code = k.conclusions[0].code.clone();
    let n = list.len();
    chief::apply(&k, &mut list, &chief::Edit::Add { code: code.clone() }).unwrap();
    assert_eq!(list.len(), n + 1);
    assert_eq!(
        chief::apply(&k, &mut list, &chief::Edit::Add { code }),
        Err(chief::EditError::Twice)
    );
    let write = chief::Edit::Write {
        name: "建议戒烟".into(),
        advice: " 戒烟门诊 ".into(),
    };
    chief::apply(&k, &mut list, &write).unwrap();
    let last = list.len() - 1;
    assert_eq!(list[last].advice, "戒烟门诊");
    let advice = chief::Edit::Advice {
        at: last,
        advice: "一月内戒烟门诊就诊".into(),
    };
    chief::apply(&k, &mut list, &advice).unwrap();
    assert_eq!(list[last].advice, "一月内戒烟门诊就诊");
    chief::apply(&k, &mut list, &chief::Edit::Remove { at: last }).unwrap();
    chief::apply(&k, &mut list, &chief::Edit::Remove { at: n }).unwrap();
    assert_eq!(list.len(), n);
    assert!(chief::apply(&k, &mut list, &chief::Edit::Remove { at: 99 }).is_err());
    move_to(&mut list, 4, 0).unwrap();
    assert_eq!(list[0].name, "高胆固醇血症");
    assert!(move_to(&mut list, 5, 0).is_err());
}

#[test]
fn make_up_items_hold_the_summary_and_deferred_ones_do_not() {
    use crate::changes::{ItemStatus, summary_blocked};
    assert!(summary_blocked(&[ItemStatus::Active, ItemStatus::MakeUp]));
    assert!(!summary_blocked(&[
        ItemStatus::Active,
        ItemStatus::Deferred
    ]));
    // The chief physician's worklist applies the same rule, and waits for
    // the results of items done; refunded and waived items are not waited for.
    use chief::{Readiness, readiness};
    let item = |c: &str, s, done| (c.to_string(), s, done);
    assert_eq!(
        readiness(&[
            item("a", ItemStatus::Active, true),
            item("b", ItemStatus::Deferred, false),
            item("c", ItemStatus::Refunded, false),
            item("d", ItemStatus::Waived, false),
        ]),
        Readiness::Ready
    );
    assert_eq!(
        readiness(&[
            item("a", ItemStatus::Active, true),
            item("b", ItemStatus::MakeUp, false)
        ]),
        Readiness::MakeUp {
            items: vec!["b".into()]
        }
    );
    assert_eq!(readiness(&[]), Readiness::NoItems, "nothing to report on");
    assert_eq!(
        readiness(&[item("c", ItemStatus::Refunded, false)]),
        Readiness::NoItems
    );
    assert_eq!(
        readiness(&[
            item("a", ItemStatus::Active, false),
            item("b", ItemStatus::Deferred, false)
        ]),
        Readiness::Missing {
            items: vec!["a".into()]
        }
    );
}

#[test]
fn a_report_goes_from_draft_to_review_and_back_with_a_reason() {
    use ReportAction as A;
    use ReportState as S;
    let mut s = S::Waiting;
    assert!(step(s, &A::Save).is_err());
    for a in [A::Ready, A::Save, A::Lock] {
        s = step(s, &a).unwrap();
    }
    assert_eq!(s, S::Locked);
    assert!(step(s, &A::Save).is_err(), "locked: no edits");
    s = step(
        s,
        &A::Return {
            reason: ReturnReason::MissingConclusion,
            note: "漏了血压".into(),
        },
    )
    .unwrap();
    assert_eq!(s, S::Draft);
    assert!(
        step(s, &A::Approve).is_err(),
        "only a locked report is reviewed"
    );
    for a in [A::Save, A::Lock, A::Approve] {
        s = step(s, &a).unwrap();
    }
    assert_eq!(s, S::Published);
    assert_eq!(step(s, &A::Withdraw), Ok(S::Draft));
    let e = step(S::Published, &A::Lock).unwrap_err();
    assert!(e.to_string().contains("锁定"));
}
