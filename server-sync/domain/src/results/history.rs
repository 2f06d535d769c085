//! Medical history (病史: past, surgical, family, present, allergies,
//! medicines, smoking and drinking) taken once per visit at the first
//! department that asks, and each department's questionnaire (科室问卷,
//! item 31): a few yes / no and short questions whose positive answers
//! the department's doctor sees before examining and the report prints.

use serde::{Deserialize, Serialize};

use crate::Sex;
use crate::catalogue::SexRule;

/// Smoking or drinking, as the person tells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Habit {
    #[default]
    Never,
    Former,
    Current,
}

impl Habit {
    pub fn label_zh(self) -> &'static str {
        match self {
            Habit::Never => "无",
            Habit::Former => "已戒",
            Habit::Current => "有",
        }
    }
}

/// A visit's medical history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// 既往史: illnesses (高血压 5 年, 糖尿病, …).
    #[serde(default)]
    pub past: String,
    /// 手术史
    #[serde(default)]
    pub surgical: String,
    /// 家族史
    #[serde(default)]
    pub family: String,
    /// 现病史: what troubles the person now.
    #[serde(default)]
    pub present: String,
    /// 过敏史
    #[serde(default)]
    pub allergies: String,
    /// 用药史
    #[serde(default)]
    pub medication: String,
    #[serde(default)]
    pub smoking: Habit,
    #[serde(default)]
    pub drinking: Habit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("{0}过长（上限 500 字）")]
    TooLong(&'static str),
}

impl History {
    /// Refuses fields too long to be a history (a paste of something else).
    pub fn check(&self) -> Result<(), HistoryError> {
        for (name, text) in self.parts() {
            if text.chars().count() > 500 {
                return Err(HistoryError::TooLong(name));
            }
        }
        Ok(())
    }

    fn parts(&self) -> [(&'static str, &str); 6] {
        [
            ("既往史", self.past.as_str()),
            ("手术史", self.surgical.as_str()),
            ("家族史", self.family.as_str()),
            ("现病史", self.present.as_str()),
            ("过敏史", self.allergies.as_str()),
            ("用药史", self.medication.as_str()),
        ]
    }

    /// The history as report lines: each part told ("无" when empty), and
    /// smoking and drinking.
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .parts()
            .iter()
            .map(|(name, text)| {
                let t = text.trim();
                (
                    (*name).to_string(),
                    if t.is_empty() {
                        "无".into()
                    } else {
                        t.to_string()
                    },
                )
            })
            .collect();
        out.push(("吸烟".into(), self.smoking.label_zh().into()));
        out.push(("饮酒".into(), self.drinking.label_zh().into()));
        out
    }
}

/// One question of a department's questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub code: String,
    pub text: String,
    /// A yes / no question (else a short text answer).
    pub yes_no: bool,
    pub sex: SexRule,
}

/// A department's questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub department: String,
    pub questions: Vec<Question>,
}

impl Questionnaire {
    /// The questions that apply to a person of `sex`.
    pub fn for_sex(&self, sex: Sex) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| q.sex.allows(sex))
            .collect()
    }
}

/// An answer: yes / no, or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    YesNo(bool),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("问卷中没有这个问题：{0}")]
    Unknown(String),
    #[error("“{0}”须回答是或否")]
    WantYesNo(String),
    #[error("“{0}”的回答过长（上限 200 字）")]
    TooLong(String),
}

/// Checks answers against the questionnaire and returns, in its order,
/// the lines worth printing: questions answered yes, text answers given.
pub fn answered(
    q: &Questionnaire,
    answers: &[(String, Answer)],
) -> Result<Vec<String>, AnswerError> {
    for (code, a) in answers {
        let question = q
            .questions
            .iter()
            .find(|x| &x.code == code)
            .ok_or_else(|| AnswerError::Unknown(code.clone()))?;
        match a {
            Answer::YesNo(_) if question.yes_no => {}
            Answer::Text(t) if !question.yes_no && t.chars().count() > 200 => {
                return Err(AnswerError::TooLong(question.text.clone()));
            }
            // A text question answered yes / no: kept, printed if yes.
            _ if !question.yes_no => {}
            _ => return Err(AnswerError::WantYesNo(question.text.clone())),
        }
    }
    Ok(q.questions
        .iter()
        .filter_map(|question| {
            let (_, a) = answers.iter().find(|(c, _)| c == &question.code)?;
            match a {
                Answer::YesNo(true) => Some(question.text.trim_end_matches('？').to_string()),
                Answer::Text(t) if !t.trim().is_empty() => Some(format!(
                    "{}：{}",
                    question.text.trim_end_matches('？'),
                    t.trim()
                )),
                _ => None,
            }
        })
        .collect())
}

fn q(code: &str, text: &str, yes_no: bool, sex: SexRule) -> Question {
    Question {
        code: code.into(),
        text: text.into(),
        yes_no,
        sex,
    }
}

/// The seeded questionnaires of the departments that ask before examining.
pub fn questionnaires() -> Vec<Questionnaire> {
    use SexRule::{Both as Any, Female};
    let dept = |d: &str, questions| Questionnaire {
        department: d.into(),
        questions,
    };
    vec![
        dept(
            "int",
            vec![
                q("chest_pain", "近期有无胸痛、胸闷？", true, Any),
                q("breath", "活动后有无气短？", true, Any),
                q("palpitation", "有无心悸？", true, Any),
                q("bp_drugs", "是否在服降压药？", true, Any),
            ],
        ),
        dept(
            "gyn",
            vec![
                q("lmp", "末次月经时间", false, Female),
                q("pregnant", "目前是否怀孕或可能怀孕？", true, Female),
                q("bleeding", "有无异常阴道出血？", true, Female),
                q("menopause", "是否已绝经？", true, Female),
            ],
        ),
        dept(
            "rad",
            vec![
                q("rad_pregnant", "是否怀孕或备孕（放射检查）？", true, Female),
                q("metal", "体内有无金属植入物？", true, Any),
            ],
        ),
        dept(
            "us",
            vec![
                q("fasting", "今天是否空腹？", true, Any),
                q("gallbladder_op", "是否做过胆囊手术？", true, Any),
            ],
        ),
        dept(
            "eye",
            vec![
                q("glasses", "是否佩戴眼镜或隐形眼镜？", true, Any),
                q("eye_op", "做过哪些眼部手术", false, Any),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_prints_every_part_and_refuses_a_paste() {
        let h = History {
            past: "高血压 5 年".into(),
            smoking: Habit::Current,
            ..History::default()
        };
        let lines = h.lines();
        assert_eq!(lines[0], ("既往史".into(), "高血压 5 年".into()));
        assert_eq!(lines[1], ("手术史".into(), "无".into()));
        assert_eq!(lines[6], ("吸烟".into(), "有".into()));
        let long = History {
            family: "父".repeat(501),
            ..History::default()
        };
        assert_eq!(long.check(), Err(HistoryError::TooLong("家族史")));
        assert!(h.check().is_ok());
    }

    #[test]
    fn questionnaires_ask_by_sex_and_keep_what_is_worth_printing() {
        let all = questionnaires();
        let gyn = all.iter().find(|q| q.department == "gyn").unwrap();
        assert!(gyn.for_sex(Sex::Male).is_empty());
        assert_eq!(gyn.for_sex(Sex::Female).len(), 4);
        let lines = answered(
            gyn,
            &[
                ("lmp".into(), Answer::Text("2026-11-20".into())),
                ("pregnant".into(), Answer::YesNo(false)),
                ("bleeding".into(), Answer::YesNo(true)),
            ],
        )
        .unwrap();
        assert_eq!(lines, ["末次月经时间：2026-11-20", "有无异常阴道出血"]);
        assert_eq!(
            answered(gyn, &[("pregnant".into(), Answer::Text("也许".into()))]),
            Err(AnswerError::WantYesNo("目前是否怀孕或可能怀孕？".into()))
        );
        assert!(matches!(
            answered(gyn, &[("nope".into(), Answer::YesNo(true))]),
            Err(AnswerError::Unknown(_))
        ));
    }
}

/// An extra item a department's findings suggest (加项建议, item 40).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub item: String,
    /// The conclusion that suggests it.
    pub because: String,
    pub reason: &'static str,
}

/// Conclusion → the item that looks further, and why.
const SUGGESTIONS: [(&str, &str, &str); 8] = [
    ("FATTY_LIVER", "US-FIBRO", "评估肝纤维化程度"),
    ("THY_NODULE", "US-THY", "明确结节大小与性质"),
    ("THY_NODULE_HIGH", "US-THY", "明确结节大小与性质"),
    ("LUNG_NODULE", "RAD-LDCT", "低剂量 CT 明确肺结节"),
    ("HYPERGLYCAEMIA", "L-HBA1C", "了解近三个月平均血糖"),
    ("HBP", "ECG-ABPM", "24 小时血压明确是否高血压"),
    ("ST_T", "US-HEART", "心脏结构与功能评估"),
    ("HYPERCHOL", "US-CAROTID", "评估颈动脉斑块"),
];

/// The extra items `conclusions` suggest that the visit does not have
/// (`have`), once each, in the conclusions' order.
pub fn suggest(conclusions: &[String], have: &[String]) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for c in conclusions {
        for (code, item, reason) in SUGGESTIONS {
            if code == c && !have.iter().any(|h| h == item) && !out.iter().any(|s| s.item == item) {
                out.push(Suggestion {
                    item: item.to_string(),
                    because: c.clone(),
                    reason,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod suggest_tests {
    use super::suggest;

    #[test]
    fn findings_suggest_items_the_visit_does_not_have_once_each() {
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = suggest(
            &c(&["FATTY_LIVER", "THY_NODULE", "THY_NODULE_HIGH"]),
            &c(&["US-ABD"]),
        );
        let items: Vec<&str> = s.iter().map(|x| x.item.as_str()).collect();
        assert_eq!(items, ["US-FIBRO", "US-THY"]);
        assert!(suggest(&c(&["FATTY_LIVER"]), &c(&["US-FIBRO"])).is_empty());
        assert!(suggest(&c(&["GALLSTONE"]), &[]).is_empty());
    }
}
