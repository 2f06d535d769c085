use super::*;

fn obs<'a>(code: &'a str, value: &'a str, unit: &'a str, flag: Option<LabFlag>) -> Observed<'a> {
    Observed {
        code,
        value,
        unit,
        reference_range: "",
        flag,
    }
}

fn found(o: &Observed<'_>) -> Option<(Category, String)> {
    assess(o).finding.map(|f| (f.category, f.reason.as_str()))
}

fn rule(code: &str, value: &str, unit: &str) -> Option<(Category, String)> {
    found(&obs(code, value, unit, None))
}

fn a(id: RuleId) -> Option<(Category, String)> {
    Some((Category::A, id.as_str().to_string()))
}

fn b(id: RuleId) -> Option<(Category, String)> {
    Some((Category::B, id.as_str().to_string()))
}

#[test]
fn potassium_category_a_on_both_sides_with_strict_limits() {
    assert_eq!(rule("K", "6.8", "mmol/L"), a(RuleId::PotassiumHigh));
    assert_eq!(rule("2823-3", "6.3", "mmol/L"), a(RuleId::PotassiumHigh));
    assert_eq!(rule("K", "6.2", "mmol/L"), None, "> 6.2, not at 6.2");
    assert_eq!(rule("K", "2.8", "mmol/L"), None, "< 2.8, not at 2.8");
    assert_eq!(rule("k", "2.7", "mEq/L"), a(RuleId::PotassiumLow));
    assert_eq!(rule("K", "4.1", "mmol/L"), None);
}

#[test]
fn sodium_category_a_at_the_limits() {
    assert_eq!(rule("NA", "120", "mmol/L"), a(RuleId::SodiumLow));
    assert_eq!(rule("2951-2", "121", "mmol/L"), None);
    assert_eq!(rule("Na", "160", "mmol/L"), a(RuleId::SodiumHigh));
    assert_eq!(rule("NA", "159.9", "mmol/L"), None);
}

#[test]
fn glucose_a_then_b_and_from_mg_per_dl() {
    assert_eq!(rule("GLU", "16.7", "mmol/L"), a(RuleId::GlucoseVeryHigh));
    assert_eq!(rule("GLU", "2.8", "mmol/L"), a(RuleId::GlucoseLow));
    assert_eq!(rule("2345-7", "2.9", "mmol/L"), None);
    // Category A comes first: 20 mmol/L is A, not B.
    assert_eq!(rule("GLU", "20", "mmol/L"), a(RuleId::GlucoseVeryHigh));
    assert_eq!(rule("GLU", "11.1", "mmol/L"), b(RuleId::GlucoseHigh));
    assert_eq!(rule("GLU", "11.0", "mmol/L"), None);
    // 310 mg/dL = 17.2 mmol/L; 45 mg/dL = 2.5 mmol/L; 100 mg/dL = 5.6.
    assert_eq!(rule("1558-6", "310", "mg/dL"), a(RuleId::GlucoseVeryHigh));
    assert_eq!(rule("GLU", "45", "mg/dl"), a(RuleId::GlucoseLow));
    assert_eq!(rule("GLU", "100", "mg/dL"), None);
}

#[test]
fn haemoglobin_in_g_per_l_and_g_per_dl() {
    assert_eq!(rule("HGB", "60", "g/L"), a(RuleId::HaemoglobinLow));
    assert_eq!(rule("718-7", "61", "g/L"), None);
    assert_eq!(rule("HGB", "5.9", "g/dL"), a(RuleId::HaemoglobinLow));
    assert_eq!(rule("HGB", "13.5", "g/dL"), None);
}

#[test]
fn counts_in_every_spelling() {
    for unit in [
        "10^9/L", "10*9/L", "×10^9/L", "x10^9/L", "10E9/L", "10^3/uL", "K/µL",
    ] {
        assert_eq!(rule("PLT", "30", unit), a(RuleId::PlateletsLow), "{unit}");
        assert_eq!(rule("WBC", "2.0", unit), a(RuleId::LeukocytesLow), "{unit}");
        assert_eq!(rule("WBC", "2.1", unit), None, "{unit}");
    }
    assert_eq!(rule("777-3", "25000", "/uL"), a(RuleId::PlateletsLow));
    assert_eq!(rule("777-3", "250000", "/uL"), None);
    assert_eq!(rule("6690-2", "1500", "/mm3"), a(RuleId::LeukocytesLow));
}

#[test]
fn alt_above_five_times_the_upper_limit_of_its_range() {
    // The range's upper limit 50: B above 250.
    let alt = |v, range| {
        found(&Observed {
            code: "ALT",
            value: v,
            unit: "U/L",
            reference_range: range,
            flag: Some(LabFlag::High),
        })
    };
    assert_eq!(alt("251", "9-50"), b(RuleId::AltHigh));
    assert_eq!(alt("250", "9-50"), None);
    assert_eq!(alt("201", "<40"), b(RuleId::AltHigh));
    // No readable range: the usual upper limit, 40 U/L.
    assert_eq!(alt("201", "见报告"), b(RuleId::AltHigh));
    assert_eq!(alt("199", ""), None);
    // 3.5 µkat/L = 210 U/L.
    assert_eq!(rule("1742-6", "3.5", "µkat/L"), b(RuleId::AltHigh));
}

#[test]
fn creatinine_from_micromoles_and_milligrams() {
    assert_eq!(rule("CREA", "445", "μmol/L"), b(RuleId::CreatinineHigh));
    assert_eq!(rule("CREA", "444", "umol/L"), None);
    // 5.1 mg/dL = 451 µmol/L.
    assert_eq!(rule("2160-0", "5.1", "mg/dL"), b(RuleId::CreatinineHigh));
}

#[test]
fn a_labs_critical_flag_raises_category_a_without_a_rule() {
    // No row for troponin: HH still raises A.
    assert_eq!(
        found(&obs("TNI", "2.3", "ng/mL", Some(LabFlag::CriticalHigh))),
        Some((Category::A, "lab_flag_HH".into()))
    );
    assert_eq!(
        found(&obs("K", "2.9", "mmol/L", Some(LabFlag::CriticalLow))),
        Some((Category::A, "lab_flag_LL".into()))
    );
    assert_eq!(
        found(&obs("HIV", "阳性", "", Some(LabFlag::CriticalAbnormal))),
        Some((Category::A, "lab_flag_AA".into()))
    );
    // A rule met in A keeps its own reason.
    assert_eq!(
        found(&obs("K", "6.8", "mmol/L", Some(LabFlag::CriticalHigh))),
        a(RuleId::PotassiumHigh)
    );
    // A B rule with a critical flag is A.
    assert_eq!(
        found(&obs("GLU", "12", "mmol/L", Some(LabFlag::CriticalHigh))),
        Some((Category::A, "lab_flag_HH".into()))
    );
    // H and L alone raise nothing.
    assert_eq!(found(&obs("K", "5.6", "mmol/L", Some(LabFlag::High))), None);
    assert_eq!(
        found(&obs("TNI", "0.1", "ng/mL", Some(LabFlag::High))),
        None
    );
}

#[test]
fn an_unknown_unit_meets_no_rule_and_says_so() {
    let x = assess(&obs("K", "6.8", "mg/dL", None));
    assert_eq!(x.finding, None);
    assert_eq!(x.unit_problem.unwrap().analyte, Analyte::Potassium);
    // The laboratory's flag still counts.
    let x = assess(&obs("K", "6.8", "furlong", Some(LabFlag::CriticalHigh)));
    assert_eq!(x.finding.unwrap().category, Category::A);
    // Text values of analytes with rules are not read as numbers.
    assert_eq!(
        assess(&obs("K", "溶血", "mmol/L", None)),
        Assessment::default()
    );
}

#[test]
fn values_and_ranges_as_laboratories_write_them() {
    assert_eq!(read_number(" 6.80 "), Some(6.8));
    assert_eq!(read_number("<2.0"), Some(2.0));
    assert_eq!(read_number("NaN"), None);
    assert_eq!(read_number("阴性"), None);
    assert_eq!(upper_limit("3.5-5.3"), Some(5.3));
    assert_eq!(upper_limit("9 ~ 50"), Some(50.0));
    assert_eq!(upper_limit("≤40"), Some(40.0));
    assert_eq!(upper_limit("阴性"), None);
    // A lower value "<1.0" meets the platelets' ≤ 30 rule.
    assert_eq!(rule("PLT", "<1.0", "10^9/L"), a(RuleId::PlateletsLow));
}

#[test]
fn every_rule_reads_back_and_describes_itself() {
    for r in RULES {
        assert_eq!(RuleId::parse(r.id.as_str()), Some(r.id));
        assert_eq!(r.id.rule(), r);
        assert!(r.id.describe_zh().starts_with(r.analyte.name_zh()));
        // Every analyte with a rule is reachable by a code.
        assert!(CODES.iter().any(|(a, _)| *a == r.analyte));
    }
    assert_eq!(RuleId::PotassiumHigh.describe_zh(), "血钾 > 6.2 mmol/L");
    for c in Category::ALL {
        assert_eq!(Category::parse(c.as_str()), Some(c));
    }
    // Category A rows come before B rows (the first met is raised).
    let first_b = RULES
        .iter()
        .position(|r| r.category == Category::B)
        .unwrap();
    assert!(RULES[first_b..].iter().all(|r| r.category == Category::B));
}
