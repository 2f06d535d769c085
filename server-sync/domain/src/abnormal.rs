//! Major abnormal results (重要异常结果) of a health examination: which
//! laboratory values must reach the patient and a doctor, and how soon.
//!
//! Seeded from 《健康体检重要异常结果管理专家共识（试行）》(中华健康管理学杂志,
//! 2019): category A (A类) needs immediate notification and medical
//! attention, category B (B类) needs notification soon and follow-up. The
//! thresholds below are the laboratory rows of that consensus as the
//! centre's clinical lead transcribed them for issue 18; a new row or a
//! changed threshold is a change of this table (and of its test).
//!
//! A result is keyed by its analyte: the LOINC code or the laboratory's
//! local code in OBX-3. Values are converted to the rule's unit first
//! (glucose mg/dL, haemoglobin g/dL, counts per µL, creatinine mg/dL, ALT
//! µkat/L); a value in a unit we cannot convert meets no rule, and says so.
//! Independently of the rules, a laboratory's own critical flag (HL7 OBX-8
//! HH, LL or AA) raises a category-A result: the laboratory knows its
//! method's panic limits, and a flag must never be lost because our table
//! lacks the analyte.
//!
//! Pure: no clock, no I/O.

use serde::{Deserialize, Serialize};

/// How urgent a major abnormal result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    /// A类: notify at once (the consensus asks for the same day, within
    /// the hour for the most urgent), the patient sent to care.
    A,
    /// B类: notify soon, follow up.
    B,
}

impl Category {
    pub const ALL: [Category; 2] = [Category::A, Category::B];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::A => "A",
            Category::B => "B",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Category::A => "A类（立即通知）",
            Category::B => "B类（尽快通知）",
        }
    }
}

/// The analytes the table has rules for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analyte {
    Potassium,
    Sodium,
    Glucose,
    Haemoglobin,
    Platelets,
    Leukocytes,
    Alt,
    Creatinine,
}

/// Codes per analyte: LOINC first, then the local codes laboratories use
/// (compared without case; lis-sim and most Chinese LIS send the local ones).
const CODES: &[(Analyte, &[&str])] = &[
    (Analyte::Potassium, &["2823-3", "6298-4", "K", "L-K"]),
    (Analyte::Sodium, &["2951-2", "2947-0", "NA", "L-NA"]),
    (
        Analyte::Glucose,
        &["2345-7", "1558-6", "2339-0", "41653-7", "GLU", "L-GLU"],
    ),
    (Analyte::Haemoglobin, &["718-7", "HGB", "HB"]),
    (Analyte::Platelets, &["777-3", "26515-7", "PLT"]),
    (Analyte::Leukocytes, &["6690-2", "26464-8", "WBC"]),
    (Analyte::Alt, &["1742-6", "1744-2", "ALT", "GPT", "L-ALT"]),
    (
        Analyte::Creatinine,
        &["2160-0", "14682-9", "CREA", "CR", "L-CREA"],
    ),
];

impl Analyte {
    /// The analyte an OBX-3 code names, LOINC or local.
    pub fn from_code(code: &str) -> Option<Analyte> {
        let code = code.trim();
        CODES
            .iter()
            .find(|(_, codes)| codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
            .map(|(a, _)| *a)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Analyte::Potassium => "血钾",
            Analyte::Sodium => "血钠",
            Analyte::Glucose => "血糖",
            Analyte::Haemoglobin => "血红蛋白",
            Analyte::Platelets => "血小板计数",
            Analyte::Leukocytes => "白细胞计数",
            Analyte::Alt => "谷丙转氨酶",
            Analyte::Creatinine => "肌酐",
        }
    }

    /// The unit the rules are written in.
    pub fn unit(self) -> &'static str {
        match self {
            Analyte::Potassium | Analyte::Sodium | Analyte::Glucose => "mmol/L",
            Analyte::Haemoglobin => "g/L",
            Analyte::Platelets | Analyte::Leukocytes => "10^9/L",
            Analyte::Alt => "U/L",
            Analyte::Creatinine => "µmol/L",
        }
    }
}

/// A value in a unit the analyte's rules cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{analyte:?} in {unit:?}: no conversion to {want}")]
pub struct UnitError {
    pub analyte: Analyte,
    pub unit: String,
    pub want: &'static str,
}

/// `unit` reduced to one spelling: lower case, no spaces, µ/μ as u,
/// `*`, `e` and `×` powers as `^`.
fn unit_key(unit: &str) -> String {
    unit.trim()
        .to_lowercase()
        .replace([' ', '×'], "")
        .replace(['µ', 'μ'], "u")
        .replace("10*", "10^")
        .replace("10e", "10^")
        .trim_start_matches('x')
        .to_string()
}

/// `value` in `unit`, converted to the analyte's rule unit.
pub fn to_rule_unit(analyte: Analyte, value: f64, unit: &str) -> Result<f64, UnitError> {
    let u = unit_key(unit);
    let factor = match (analyte, u.as_str()) {
        (Analyte::Potassium | Analyte::Sodium, "mmol/l" | "meq/l") => Some(1.0),
        (Analyte::Glucose, "mmol/l") => Some(1.0),
        // Glucose's molar mass is 180.16 g/mol.
        (Analyte::Glucose, "mg/dl") => Some(1.0 / 18.016),
        (Analyte::Haemoglobin, "g/l") => Some(1.0),
        (Analyte::Haemoglobin, "g/dl") => Some(10.0),
        (
            Analyte::Platelets | Analyte::Leukocytes,
            "10^9/l" | "g/l" | "10^3/ul" | "k/ul" | "10^3/mm3",
        ) => Some(1.0),
        (Analyte::Platelets | Analyte::Leukocytes, "/ul" | "/mm3") => Some(1.0 / 1000.0),
        (Analyte::Alt, "u/l" | "iu/l") => Some(1.0),
        (Analyte::Alt, "ukat/l") => Some(60.0),
        (Analyte::Creatinine, "umol/l") => Some(1.0),
        // Creatinine's molar mass is 113.12 g/mol: 1 mg/dL = 88.4 µmol/L.
        (Analyte::Creatinine, "mg/dl") => Some(88.4),
        _ => None,
    };
    factor.map(|f| value * f).ok_or_else(|| UnitError {
        analyte,
        unit: unit.to_string(),
        want: analyte.unit(),
    })
}

/// How a rule compares a value with its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Below(f64),
    AtMost(f64),
    AtLeast(f64),
    Above(f64),
    /// Above this many times the reference range's upper limit (from
    /// OBX-7 when it reads as one, else the given usual upper limit).
    AboveUpperTimes {
        times: f64,
        usual_upper: f64,
    },
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleId {
    PotassiumLow,
    PotassiumHigh,
    SodiumLow,
    SodiumHigh,
    GlucoseLow,
    GlucoseVeryHigh,
    HaemoglobinLow,
    PlateletsLow,
    LeukocytesLow,
    GlucoseHigh,
    AltHigh,
    CreatinineHigh,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub id: RuleId,
    pub analyte: Analyte,
    pub category: Category,
    pub limit: Limit,
}

use Analyte as An;
use Category::{A, B};
use Limit::*;

/// The table, category A first: the first rule that a value meets is the
/// one raised (a glucose of 20 mmol/L is A, not B).
pub const RULES: &[Rule] = &[
    r(RuleId::PotassiumLow, An::Potassium, A, Below(2.8)),
    r(RuleId::PotassiumHigh, An::Potassium, A, Above(6.2)),
    r(RuleId::SodiumLow, An::Sodium, A, AtMost(120.0)),
    r(RuleId::SodiumHigh, An::Sodium, A, AtLeast(160.0)),
    r(RuleId::GlucoseLow, An::Glucose, A, AtMost(2.8)),
    r(RuleId::GlucoseVeryHigh, An::Glucose, A, AtLeast(16.7)),
    r(RuleId::HaemoglobinLow, An::Haemoglobin, A, AtMost(60.0)),
    r(RuleId::PlateletsLow, An::Platelets, A, AtMost(30.0)),
    r(RuleId::LeukocytesLow, An::Leukocytes, A, AtMost(2.0)),
    r(RuleId::GlucoseHigh, An::Glucose, B, AtLeast(11.1)),
    r(
        RuleId::AltHigh,
        An::Alt,
        B,
        AboveUpperTimes {
            times: 5.0,
            usual_upper: 40.0,
        },
    ),
    r(RuleId::CreatinineHigh, An::Creatinine, B, AtLeast(445.0)),
];

const fn r(id: RuleId, analyte: Analyte, category: Category, limit: Limit) -> Rule {
    Rule {
        id,
        analyte,
        category,
        limit,
    }
}

impl RuleId {
    pub fn rule(self) -> &'static Rule {
        RULES
            .iter()
            .find(|r| r.id == self)
            .expect("every rule id has its row")
    }

    /// The stored name (`major_abnormal_results.rule`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::PotassiumLow => "potassium_low",
            RuleId::PotassiumHigh => "potassium_high",
            RuleId::SodiumLow => "sodium_low",
            RuleId::SodiumHigh => "sodium_high",
            RuleId::GlucoseLow => "glucose_low",
            RuleId::GlucoseVeryHigh => "glucose_very_high",
            RuleId::HaemoglobinLow => "haemoglobin_low",
            RuleId::PlateletsLow => "platelets_low",
            RuleId::LeukocytesLow => "leukocytes_low",
            RuleId::GlucoseHigh => "glucose_high",
            RuleId::AltHigh => "alt_high",
            RuleId::CreatinineHigh => "creatinine_high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RULES.iter().map(|r| r.id).find(|r| r.as_str() == s)
    }

    /// The rule as staff read it, e.g. "血钾 > 6.2 mmol/L".
    pub fn describe_zh(self) -> String {
        let r = self.rule();
        let (name, unit) = (r.analyte.name_zh(), r.analyte.unit());
        match r.limit {
            Below(v) => format!("{name} < {v} {unit}"),
            AtMost(v) => format!("{name} ≤ {v} {unit}"),
            AtLeast(v) => format!("{name} ≥ {v} {unit}"),
            Above(v) => format!("{name} > {v} {unit}"),
            AboveUpperTimes { times, .. } => format!("{name} > {times} 倍参考值上限"),
        }
    }
}

/// The laboratory's own flag (HL7 table 0078), as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabFlag {
    Normal,
    Low,
    High,
    /// LL: below the laboratory's panic limit.
    CriticalLow,
    /// HH: above the laboratory's panic limit.
    CriticalHigh,
    /// AA: very abnormal (a non-numeric critical result).
    CriticalAbnormal,
    /// A, `<`, `>` and the others: abnormal, not critical.
    Abnormal,
}

impl LabFlag {
    pub fn is_critical(self) -> bool {
        matches!(
            self,
            LabFlag::CriticalLow | LabFlag::CriticalHigh | LabFlag::CriticalAbnormal
        )
    }

    /// The HL7 code (`major_abnormal_results.lab_flag`).
    pub fn code(self) -> &'static str {
        match self {
            LabFlag::Normal => "N",
            LabFlag::Low => "L",
            LabFlag::High => "H",
            LabFlag::CriticalLow => "LL",
            LabFlag::CriticalHigh => "HH",
            LabFlag::CriticalAbnormal => "AA",
            LabFlag::Abnormal => "A",
        }
    }
}

/// Why a result is major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A row of the table.
    Rule(RuleId),
    /// The laboratory's critical flag, no row of ours met.
    LabFlag(LabFlag),
}

impl Reason {
    /// The stored name: the rule's, or `lab_flag_HH` etc.
    pub fn as_str(self) -> String {
        match self {
            Reason::Rule(r) => r.as_str().to_string(),
            Reason::LabFlag(f) => format!("lab_flag_{}", f.code()),
        }
    }

    pub fn describe_zh(self) -> String {
        match self {
            Reason::Rule(r) => r.describe_zh(),
            Reason::LabFlag(f) => format!("检验科危急值标识 {}", f.code()),
        }
    }
}

/// What a result is, when it is major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    pub reason: Reason,
}

/// One observation as a laboratory sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed<'a> {
    /// OBX-3's code (LOINC or local).
    pub code: &'a str,
    /// OBX-5 as sent ("6.8", "<2.0", "阳性").
    pub value: &'a str,
    /// OBX-6.
    pub unit: &'a str,
    /// OBX-7 ("3.5-5.3", "<40").
    pub reference_range: &'a str,
    pub flag: Option<LabFlag>,
}

/// What [`assess`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    pub finding: Option<Finding>,
    /// The analyte has rules but the value's unit could not be converted
    /// (only the laboratory's flag counted).
    pub unit_problem: Option<UnitError>,
}

/// A numeric reading of a value: "6.8", " 6.80 ", "<2.0" (read as 2.0: a
/// value below 2.0 also meets every lower limit at or above 2.0).
pub fn read_number(value: &str) -> Option<f64> {
    let v = value
        .trim()
        .trim_start_matches(['<', '>', '≤', '≥', '='])
        .trim();
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The upper limit of a reference range as laboratories write it:
/// "9-50", "9 - 50", "9~50", "<40", "≤40".
pub fn upper_limit(range: &str) -> Option<f64> {
    let r = range.trim();
    if let Some(rest) = r.strip_prefix(['<', '≤']) {
        return read_number(rest);
    }
    let (_, upper) = r.rsplit_once(['-', '~', '–'])?;
    read_number(upper)
}

/// Whether `value` (already in the rule's unit) meets `rule`.
pub fn meets(rule: &Rule, value: f64, reference_range: &str) -> bool {
    match rule.limit {
        Below(l) => value < l,
        AtMost(l) => value <= l,
        AtLeast(l) => value >= l,
        Above(l) => value > l,
        AboveUpperTimes { times, usual_upper } => {
            let upper = upper_limit(reference_range)
                .filter(|u| *u > 0.0)
                .unwrap_or(usual_upper);
            value > times * upper
        }
    }
}

/// The first rule of the table a value of `analyte` in `unit` meets.
pub fn check_value(
    analyte: Analyte,
    value: f64,
    unit: &str,
    reference_range: &str,
) -> Result<Option<&'static Rule>, UnitError> {
    let v = to_rule_unit(analyte, value, unit)?;
    Ok(RULES
        .iter()
        .filter(|r| r.analyte == analyte)
        .find(|r| meets(r, v, reference_range)))
}

/// Whether an observation is a major abnormal result: the table's rule
/// if one is met, the laboratory's critical flag otherwise (or when the
/// rule met is only category B: the flag makes it A).
pub fn assess(o: &Observed<'_>) -> Assessment {
    let mut out = Assessment::default();
    if let (Some(analyte), Some(value)) = (Analyte::from_code(o.code), read_number(o.value)) {
        match check_value(analyte, value, o.unit, o.reference_range) {
            Ok(Some(rule)) => {
                out.finding = Some(Finding {
                    category: rule.category,
                    reason: Reason::Rule(rule.id),
                })
            }
            Ok(None) => {}
            Err(e) => out.unit_problem = Some(e),
        }
    }
    if let Some(flag) = o.flag.filter(|f| f.is_critical())
        && out.finding.is_none_or(|f| f.category != Category::A)
    {
        out.finding = Some(Finding {
            category: Category::A,
            reason: Reason::LabFlag(flag),
        });
    }
    out
}

#[cfg(test)]
#[path = "abnormal_tests.rs"]
mod tests;
