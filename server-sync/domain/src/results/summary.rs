//! A department's summary (小结) from its entries, and the quality checks
//! before an entry is saved (items 32, 38, 39).

use serde::{Deserialize, Serialize};

use super::{EntryError, FieldKind, Flag, Knowledge, NORMAL, Value, judge, range_for, range_text};
use crate::Sex;
use crate::abnormal::Category;

/// One item's entries: field code → value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEntry {
    pub item: String,
    pub values: Vec<(String, Value)>,
}

/// A line of the summary with what produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Abnormal {
    pub item: String,
    pub field: String,
    /// "血红蛋白 98 g/L ↓（130–175）", "肝脏回声增强、增粗".
    pub text: String,
    pub flag: Flag,
}

/// A finding that is a major abnormal result by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MajorFinding {
    pub item: String,
    pub finding: String,
    pub text: String,
    pub category: Category,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeptSummary {
    /// The 小结 as written: numbered abnormal lines, or the normal text.
    pub text: String,
    pub abnormal: Vec<Abnormal>,
    /// Conclusion codes, in the order their lines appear, once each.
    pub conclusions: Vec<String>,
    pub majors: Vec<MajorFinding>,
}

fn number(v: f64, decimals: u8) -> String {
    format!("{v:.*}", usize::from(decimals))
}

/// The summary of a department's entries for a person of `sex` and `age`;
/// an entry that cannot be judged is refused with its reason.
pub fn department(
    k: &Knowledge,
    entries: &[ItemEntry],
    sex: Sex,
    age: u32,
) -> Result<DeptSummary, EntryError> {
    let mut abnormal = Vec::new();
    let mut conclusions: Vec<String> = Vec::new();
    let mut majors = Vec::new();
    let mut add = |c: &Option<String>| {
        if let Some(c) = c
            && !conclusions.contains(c)
        {
            conclusions.push(c.clone());
        }
    };
    for e in entries {
        let t = k.template(&e.item);
        for (code, value) in &e.values {
            let field = t
                .field(code)
                .ok_or_else(|| EntryError::UnknownField(code.clone()))?;
            let flag = judge(field, value, sex, age)?;
            match (&field.kind, value) {
                (
                    FieldKind::Numeric {
                        unit,
                        decimals,
                        ranges,
                        low_conclusion,
                        high_conclusion,
                        ..
                    },
                    Value::Number(v),
                ) if flag.abnormal() => {
                    let range = range_text(range_for(ranges, sex, age));
                    abnormal.push(Abnormal {
                        item: e.item.clone(),
                        field: code.clone(),
                        text: format!(
                            "{} {} {unit} {}（参考 {range}）",
                            field.name,
                            number(*v, *decimals),
                            flag.arrow()
                        ),
                        flag,
                    });
                    add(if flag == Flag::Low {
                        low_conclusion
                    } else {
                        high_conclusion
                    });
                }
                (FieldKind::Findings { positives, .. }, Value::Findings(codes)) => {
                    for p in positives.iter().filter(|p| codes.contains(&p.code)) {
                        abnormal.push(Abnormal {
                            item: e.item.clone(),
                            field: code.clone(),
                            text: p.text.clone(),
                            flag: Flag::Positive,
                        });
                        add(&p.conclusion);
                        if let Some(category) = p.major {
                            majors.push(MajorFinding {
                                item: e.item.clone(),
                                finding: p.code.clone(),
                                text: p.text.clone(),
                                category,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let text = if abnormal.is_empty() {
        NORMAL.to_string()
    } else {
        abnormal
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}. {}", i + 1, a.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(DeptSummary {
        text,
        abnormal,
        conclusions,
        majors,
    })
}

/// A value an earlier year recorded, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Earlier {
    pub year: i32,
    pub item: String,
    pub field: String,
    pub value: Value,
}

/// What the checks before saving found; the doctor corrects the entry or
/// confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum Issue {
    /// A word of the other sex's anatomy in the summary (子宫 for a man).
    SexWord { word: String },
    /// A required field not entered.
    Missing { item: String, field: String },
    /// An earlier year recorded a lasting state (an organ removed) that
    /// this entry contradicts.
    Contradicts {
        item: String,
        field: String,
        year: i32,
        earlier: String,
    },
    /// A value moved more than it can in the years between (height).
    Unlikely {
        item: String,
        field: String,
        year: i32,
        earlier: f64,
        now: f64,
    },
}

impl Issue {
    pub fn message(&self) -> String {
        match self {
            Issue::SexWord { word } => format!("小结中出现与性别不符的词：{word}"),
            Issue::Missing { item, field } => format!("{item} 的必填项“{field}”未填写"),
            Issue::Contradicts {
                field,
                year,
                earlier,
                ..
            } => format!("{field}：{year} 年记录“{earlier}”，本次结果与之矛盾"),
            Issue::Unlikely {
                field,
                year,
                earlier,
                now,
                ..
            } => format!("{field}：{year} 年为 {earlier}，本次 {now}，变化过大，请核对"),
        }
    }
}

/// Anatomy words only one sex has.
const FEMALE_ONLY: &[&str] = &["子宫", "卵巢", "宫颈", "阴道", "附件", "输卵管", "月经"];
const MALE_ONLY: &[&str] = &["前列腺", "睾丸", "阴囊", "精索", "包皮", "附睾"];

/// The checks before saving a department's entries (items 38, 39):
/// `summary` is the text as the doctor leaves it (maybe edited),
/// `earlier` what earlier years recorded for these items, `years` how
/// many years ago each earlier year was (this year minus it).
pub fn quality(
    k: &Knowledge,
    entries: &[ItemEntry],
    summary: &str,
    sex: Sex,
    this_year: i32,
    earlier: &[Earlier],
) -> Vec<Issue> {
    let mut issues = Vec::new();
    let words = if sex == Sex::Male {
        FEMALE_ONLY
    } else {
        MALE_ONLY
    };
    for w in words.iter().filter(|w| summary.contains(*w)) {
        issues.push(Issue::SexWord {
            word: (*w).to_string(),
        });
    }
    for e in entries {
        let t = k.template(&e.item);
        for f in t.fields.iter().filter(|f| f.required) {
            if !e.values.iter().any(|(c, _)| c == &f.code) {
                issues.push(Issue::Missing {
                    item: e.item.clone(),
                    field: f.name.clone(),
                });
            }
        }
        for (code, value) in &e.values {
            let Some(f) = t.field(code) else { continue };
            for old in earlier
                .iter()
                .filter(|o| o.item == e.item && &o.field == code)
            {
                match (&f.kind, &old.value, value) {
                    (
                        FieldKind::Findings { positives, .. },
                        Value::Findings(was),
                        Value::Findings(now),
                    ) => {
                        for p in positives.iter().filter(|p| {
                            p.lasting && was.contains(&p.code) && !now.contains(&p.code)
                        }) {
                            issues.push(Issue::Contradicts {
                                item: e.item.clone(),
                                field: f.name.clone(),
                                year: old.year,
                                earlier: p.text.clone(),
                            });
                        }
                    }
                    (
                        FieldKind::Numeric {
                            steady: Some(per_year),
                            ..
                        },
                        Value::Number(was),
                        Value::Number(now),
                    ) => {
                        let years = f64::from((this_year - old.year).max(1));
                        if (now - was).abs() > per_year * years {
                            issues.push(Issue::Unlikely {
                                item: e.item.clone(),
                                field: f.name.clone(),
                                year: old.year,
                                earlier: *was,
                                now: *now,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    issues
}
