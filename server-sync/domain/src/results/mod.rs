//! Department results (分科录入, E6): the knowledge base of what each item
//! records, how a value is judged, and what a department's entries say.
//!
//! - **Templates** ([`Template`]): per exam item its fields. A numeric
//!   field has a unit, a plausible span (values outside are refused as
//!   typing errors, not flagged) and reference ranges by sex and age. A
//!   findings field has its normal text (one tap records it) and the
//!   positive findings a doctor ticks, each naming the conclusion it
//!   produces; a finding may be a major abnormal result by itself (a mass
//!   on imaging, category A or B of the expert consensus).
//! - **Conclusions** ([`Conclusion`]): the dictionary the chief examiner
//!   picks from (searched by pinyin initials), each with its advice and a
//!   weight (how much it makes a report harder to write).
//! - **Judging** ([`judge`]): a value against the person's range: ↑, ↓ or
//!   normal; a finding's codes against the template.
//! - **The summary** ([`summary::department`]): the department's 小结 and
//!   conclusions from its entries; **quality checks**
//!   ([`summary::quality`]) before saving: words of the other sex, required
//!   fields missing, contradictions with earlier years.
//!
//! Pure: no clock, no I/O; ages are passed in.

pub mod chief;
pub mod history;
pub mod seed;
pub mod summary;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::Sex;
use crate::abnormal::Category;
use crate::catalogue::SexRule;

/// A reference range of a numeric field for one sex and age span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefRange {
    pub sex: SexRule,
    /// Ages `from..to` in whole years (`to` exclusive).
    pub ages: (u32, u32),
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// One positive finding a doctor can tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    /// As it reads in the summary ("肝脏回声增强、增粗").
    pub text: String,
    /// The conclusion it produces (dictionary code).
    pub conclusion: Option<String>,
    /// A major abnormal result by itself (a mass, a new atrial
    /// fibrillation): raised on saving.
    pub major: Option<Category>,
    /// A lasting state (an organ removed): an earlier year's finding that
    /// a later normal entry contradicts.
    pub lasting: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    Numeric {
        unit: String,
        decimals: u8,
        /// Values outside are refused (a typing error).
        plausible: (f64, f64),
        ranges: Vec<RefRange>,
        /// Conclusions of a low and of a high value.
        low_conclusion: Option<String>,
        high_conclusion: Option<String>,
        /// The most it can change in a year (an adult's height: 2 cm);
        /// more against an earlier year is a quality issue.
        steady: Option<f64>,
    },
    Findings {
        /// What "normal" records ("未见明显异常").
        normal: String,
        positives: Vec<Finding>,
    },
    /// Free text (a remark); not judged.
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub code: String,
    pub name: String,
    pub kind: FieldKind,
    /// Saving refuses an entry without it.
    pub required: bool,
}

/// What one exam item records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub item: String,
    pub fields: Vec<Field>,
}

impl Template {
    pub fn field(&self, code: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.code == code)
    }
}

/// An entry of the conclusions dictionary (结论词, item 87).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conclusion {
    pub code: String,
    pub name: String,
    /// Pinyin initials of the name, for search ("zfg" for 脂肪肝).
    pub initials: String,
    pub advice: String,
    /// 1 (minor) to 3 (serious): orders a report's conclusions and
    /// grades its difficulty.
    pub weight: u8,
}

/// The knowledge base: templates by item and the conclusions dictionary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Knowledge {
    pub templates: Vec<Template>,
    pub conclusions: Vec<Conclusion>,
}

impl Knowledge {
    /// The template of `item`; an item without one records one findings
    /// field (所见) with the usual normal text and no positives, so every
    /// item can be entered.
    pub fn template(&self, item: &str) -> Template {
        self.templates
            .iter()
            .find(|t| t.item == item)
            .cloned()
            .unwrap_or_else(|| Template {
                item: item.to_string(),
                fields: vec![Field {
                    code: "finding".into(),
                    name: "所见".into(),
                    kind: FieldKind::Findings {
                        normal: NORMAL.into(),
                        positives: Vec::new(),
                    },
                    required: true,
                }],
            })
    }

    pub fn conclusion(&self, code: &str) -> Option<&Conclusion> {
        self.conclusions.iter().find(|c| c.code == code)
    }

    /// Conclusions whose initials start with `q` or whose name contains it
    /// (the chief examiner's search box), the heavier first.
    pub fn search(&self, q: &str) -> Vec<&Conclusion> {
        let q = q.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<&Conclusion> = self
            .conclusions
            .iter()
            .filter(|c| c.initials.starts_with(&q) || c.name.contains(&q))
            .collect();
        hits.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.code.cmp(&b.code)));
        hits
    }
}

/// The usual normal text.
pub const NORMAL: &str = "未见明显异常";

/// How a value compares with its reference range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Normal,
    Low,
    High,
    /// A positive finding ticked.
    Positive,
}

impl Flag {
    pub fn arrow(self) -> &'static str {
        match self {
            Flag::Normal => "",
            Flag::Low => "↓",
            Flag::High => "↑",
            Flag::Positive => "阳性",
        }
    }

    pub fn abnormal(self) -> bool {
        self != Flag::Normal
    }
}

/// What the doctor entered for one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Number(f64),
    /// Positive findings ticked (codes); empty: normal.
    Findings(Vec<String>),
    Text(String),
}

/// An entry refused as it stands.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryError {
    #[error("{field}：{value} {unit} 不在可能的范围（{min}–{max}），请核对")]
    Implausible {
        field: String,
        value: f64,
        unit: String,
        min: f64,
        max: f64,
    },
    #[error("{field}：没有这个所见（{code}）")]
    UnknownFinding { field: String, code: String },
    #[error("{0}：应填写数值")]
    WantNumber(String),
    #[error("{0}：应勾选所见")]
    WantFindings(String),
    #[error("没有这个字段：{0}")]
    UnknownField(String),
}

/// The reference range that applies to a person, if any.
pub fn range_for(ranges: &[RefRange], sex: Sex, age: u32) -> Option<&RefRange> {
    ranges
        .iter()
        .find(|r| r.sex.allows(sex) && r.ages.0 <= age && age < r.ages.1)
}

/// Judges `value` for `field` of a person of `sex` and `age`: its flag, or
/// why it is refused.
pub fn judge(field: &Field, value: &Value, sex: Sex, age: u32) -> Result<Flag, EntryError> {
    match (&field.kind, value) {
        (
            FieldKind::Numeric {
                unit,
                plausible,
                ranges,
                ..
            },
            Value::Number(v),
        ) => {
            if !v.is_finite() || *v < plausible.0 || *v > plausible.1 {
                return Err(EntryError::Implausible {
                    field: field.name.clone(),
                    value: *v,
                    unit: unit.clone(),
                    min: plausible.0,
                    max: plausible.1,
                });
            }
            Ok(match range_for(ranges, sex, age) {
                Some(r) if r.low.is_some_and(|l| *v < l) => Flag::Low,
                Some(r) if r.high.is_some_and(|h| *v > h) => Flag::High,
                _ => Flag::Normal,
            })
        }
        (FieldKind::Numeric { .. }, _) => Err(EntryError::WantNumber(field.name.clone())),
        (FieldKind::Findings { positives, .. }, Value::Findings(codes)) => {
            if let Some(bad) = codes
                .iter()
                .find(|c| !positives.iter().any(|p| &p.code == *c))
            {
                return Err(EntryError::UnknownFinding {
                    field: field.name.clone(),
                    code: bad.clone(),
                });
            }
            Ok(if codes.is_empty() {
                Flag::Normal
            } else {
                Flag::Positive
            })
        }
        (FieldKind::Findings { .. }, _) => Err(EntryError::WantFindings(field.name.clone())),
        (FieldKind::Text, _) => Ok(Flag::Normal),
    }
}

/// "3.5–5.3" for a range, "≤ 5.2", "≥ 1.0"; empty when none applies.
pub fn range_text(r: Option<&RefRange>) -> String {
    match r.map(|r| (r.low, r.high)) {
        Some((Some(l), Some(h))) => format!("{l}–{h}"),
        Some((None, Some(h))) => format!("≤ {h}"),
        Some((Some(l), None)) => format!("≥ {l}"),
        _ => String::new(),
    }
}

/// The normal entry of a template: every findings field normal, numeric
/// fields left to measure (the department's one-tap "全部正常").
pub fn all_normal(t: &Template) -> Vec<(String, Value)> {
    t.fields
        .iter()
        .filter_map(|f| match f.kind {
            FieldKind::Findings { .. } => Some((f.code.clone(), Value::Findings(Vec::new()))),
            _ => None,
        })
        .collect()
}
