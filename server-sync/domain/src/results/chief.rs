//! The chief examination (总检, items 46–62): grading a report's
//! difficulty, assigning reports evenly across chief physicians, turning
//! department conclusions into the report's conclusions, merging and
//! ordering them, and the report's way from draft to review.

use serde::{Deserialize, Serialize};

use super::Knowledge;

/// What grading looks at (item 46): the company, the amount, the age and
/// the abnormal findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFacts {
    /// A company's employee (团检): the company reads the group book.
    pub group: bool,
    pub vip: bool,
    pub amount_fen: i64,
    pub age: u32,
    /// Conclusions from the departments, by weight (1–3).
    pub conclusion_weights: Vec<u8>,
    /// A major abnormal result is open on the visit.
    pub major: bool,
}

/// 1 (routine) to 3 (hard): a report of grade g goes to a physician of
/// level ≥ g (item 47).
pub fn grade(f: &ReportFacts) -> u8 {
    if f.major || f.conclusion_weights.contains(&3) {
        return 3;
    }
    let heavy = f.conclusion_weights.iter().filter(|w| **w >= 2).count();
    let mut score = 0;
    score += match f.conclusion_weights.len() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    };
    score += usize::from(heavy >= 2);
    score += usize::from(f.age >= 60);
    score += usize::from(f.vip || f.amount_fen >= 200_000);
    match score {
        0 | 1 => 1,
        2 | 3 => 2,
        _ => 3,
    }
}

/// A chief physician and the hardest grade they take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Physician {
    pub id: String,
    pub level: u8,
}

/// A small deterministic generator (splitmix64): assignment is random in
/// difficulty yet replayable from its seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Assigns `reports` (id, grade) to `physicians` (item 48): counts as even
/// as the levels allow (within one of each other when every grade has
/// enough physicians), each report to a physician allowed its grade, the
/// difficulty each physician gets random rather than sorted. `load` is
/// what each already has today (same order as `physicians`). Reports no
/// physician may take are left out of the answer (the caller shows them).
pub fn assign(
    reports: &[(i64, u8)],
    physicians: &[Physician],
    load: &[usize],
    seed: u64,
) -> Vec<(i64, usize)> {
    let mut rng = Mix(seed);
    let mut counts: Vec<usize> = (0..physicians.len())
        .map(|i| load.get(i).copied().unwrap_or(0))
        .collect();
    // Shuffled, then the hardest first: they have the fewest takers, so
    // they go while the seniors' counts are still low; the routine ones
    // then even the counts out.
    let mut order: Vec<(i64, u8)> = reports.to_vec();
    for i in (1..order.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order.sort_by_key(|(_, g)| std::cmp::Reverse(*g));
    let mut out = Vec::with_capacity(order.len());
    for (id, g) in order {
        let eligible: Vec<usize> = (0..physicians.len())
            .filter(|&i| physicians[i].level >= g)
            .collect();
        let Some(min) = eligible.iter().map(|&i| counts[i]).min() else {
            continue;
        };
        let least: Vec<usize> = eligible.into_iter().filter(|&i| counts[i] == min).collect();
        let pick = least[(rng.next() % least.len() as u64) as usize];
        counts[pick] += 1;
        out.push((id, pick));
    }
    out
}

/// One conclusion of a report, as the chief physician edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConclusion {
    /// The dictionary's code; None for one the physician wrote or merged.
    pub code: Option<String>,
    pub name: String,
    pub advice: String,
    pub weight: u8,
    /// The departments it came from.
    pub sources: Vec<String>,
}

/// The departments' conclusions as the report's first draft (item 50):
/// each once, the heavier first, then in the order the departments gave
/// them.
pub fn aggregate(k: &Knowledge, departments: &[(String, Vec<String>)]) -> Vec<ReportConclusion> {
    let mut out: Vec<ReportConclusion> = Vec::new();
    for (dept, codes) in departments {
        for code in codes {
            if let Some(c) = out.iter_mut().find(|c| c.code.as_deref() == Some(code)) {
                if !c.sources.contains(dept) {
                    c.sources.push(dept.clone());
                }
                continue;
            }
            let (name, advice, weight) = k
                .conclusion(code)
                .map_or((code.clone(), String::new(), 1), |c| {
                    (c.name.clone(), c.advice.clone(), c.weight)
                });
            out.push(ReportConclusion {
                code: Some(code.clone()),
                name,
                advice,
                weight,
                sources: vec![dept.clone()],
            });
        }
    }
    // Stable: equal weights keep the departments' order.
    out.sort_by_key(|c| std::cmp::Reverse(c.weight));
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("没有第 {0} 条结论")]
    NoSuch(usize),
    #[error("合并需要两条不同的结论")]
    SameTwice,
    #[error("结论须有名称")]
    NoName,
    #[error("结论词典中没有这一条")]
    UnknownCode,
    #[error("这条结论已在报告中")]
    Twice,
}

/// Merges conclusions `a` and `b` into a new one named `name` (item 57):
/// it takes `a`'s place; its advice is `advice` or, when empty, both
/// advices; its weight the heavier; its sources both.
pub fn merge(
    list: &mut Vec<ReportConclusion>,
    a: usize,
    b: usize,
    name: &str,
    advice: &str,
) -> Result<(), EditError> {
    if a == b {
        return Err(EditError::SameTwice);
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(EditError::NoName);
    }
    let (x, y) = (
        list.get(a).ok_or(EditError::NoSuch(a))?.clone(),
        list.get(b).ok_or(EditError::NoSuch(b))?.clone(),
    );
    let advice = if advice.trim().is_empty() {
        [x.advice.as_str(), y.advice.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("")
    } else {
        advice.trim().to_string()
    };
    let mut sources = x.sources.clone();
    for s in y.sources {
        if !sources.contains(&s) {
            sources.push(s);
        }
    }
    list[a] = ReportConclusion {
        code: None,
        name: name.to_string(),
        advice,
        weight: x.weight.max(y.weight),
        sources,
    };
    list.remove(b);
    Ok(())
}

/// Moves the conclusion at `from` to `to` (drag to order, item 56).
pub fn move_to(list: &mut Vec<ReportConclusion>, from: usize, to: usize) -> Result<(), EditError> {
    if from >= list.len() {
        return Err(EditError::NoSuch(from));
    }
    if to >= list.len() {
        return Err(EditError::NoSuch(to));
    }
    let c = list.remove(from);
    list.insert(to, c);
    Ok(())
}

/// One edit of a report's conclusions, as the chief physician's page
/// sends it (each applied to the stored list, so two tabs cannot undo
/// each other's edits silently: the version guards the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// Drag to order (item 56).
    Move {
        from: usize,
        to: usize,
    },
    /// Merge two into a new one (item 57).
    Merge {
        a: usize,
        b: usize,
        name: String,
        #[serde(default)]
        advice: String,
    },
    /// Add from the dictionary (item 53).
    Add {
        code: String,
    },
    /// Add one written by the physician.
    Write {
        name: String,
        advice: String,
    },
    Remove {
        at: usize,
    },
    /// Edit the advice (item 57).
    Advice {
        at: usize,
        advice: String,
    },
}

/// Applies `edit` to `list`.
pub fn apply(
    k: &Knowledge,
    list: &mut Vec<ReportConclusion>,
    edit: &Edit,
) -> Result<(), EditError> {
    match edit {
        Edit::Move { from, to } => move_to(list, *from, *to),
        Edit::Merge { a, b, name, advice } => merge(list, *a, *b, name, advice),
        Edit::Add { code } => {
            let c = k.conclusion(code).ok_or(EditError::UnknownCode)?;
            if list.iter().any(|x| x.code.as_deref() == Some(code)) {
                return Err(EditError::Twice);
            }
            list.push(ReportConclusion {
                code: Some(c.code.clone()),
                name: c.name.clone(),
                advice: c.advice.clone(),
                weight: c.weight,
                sources: Vec::new(),
            });
            Ok(())
        }
        Edit::Write { name, advice } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(EditError::NoName);
            }
            list.push(ReportConclusion {
                code: None,
                name: name.to_string(),
                advice: advice.trim().to_string(),
                weight: 1,
                sources: Vec::new(),
            });
            Ok(())
        }
        Edit::Remove { at } => {
            if *at >= list.len() {
                return Err(EditError::NoSuch(*at));
            }
            list.remove(*at);
            Ok(())
        }
        Edit::Advice { at, advice } => {
            let c = list.get_mut(*at).ok_or(EditError::NoSuch(*at))?;
            c.advice = advice.trim().to_string();
            Ok(())
        }
    }
}

/// Where a report is on its way to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Departments still entering, or a make-up item pending.
    Waiting,
    /// Ready for the chief physician it is assigned to.
    Assigned,
    /// Saved, not yet locked.
    Draft,
    /// Locked by the chief physician: waiting for review (总审).
    Locked,
    /// Reviewed and published: the kiosk prints it.
    Published,
}

/// Why a reviewer returned a report (item 60), counted per physician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// 结论遗漏
    MissingConclusion,
    /// 结论错误
    WrongConclusion,
    /// 建议不当
    Advice,
    /// 重要异常未处理
    MajorUnhandled,
    /// 文字错误
    Typo,
    Other,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 6] = [
        Self::MissingConclusion,
        Self::WrongConclusion,
        Self::Advice,
        Self::MajorUnhandled,
        Self::Typo,
        Self::Other,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::MissingConclusion => "结论遗漏",
            Self::WrongConclusion => "结论错误",
            Self::Advice => "建议不当",
            Self::MajorUnhandled => "重要异常未处理",
            Self::Typo => "文字错误",
            Self::Other => "其他",
        }
    }
}

/// What someone does to a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ReportAction {
    /// Every item done (no make-up pending): to a chief physician.
    Ready,
    Save,
    Lock,
    /// The chief physician takes a locked report back (解锁).
    Unlock,
    /// The reviewer sends it back with a reason (退回).
    Return {
        reason: ReturnReason,
        note: String,
    },
    /// The reviewer passes it: published.
    Approve,
    /// Published reports withdrawn (exists for uploaded ones): back to a
    /// draft for correction.
    Withdraw,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("报告当前为“{state:?}”，不能{action}")]
pub struct Refused {
    pub state: ReportState,
    pub action: &'static str,
}

/// The report's next state.
pub fn step(state: ReportState, action: &ReportAction) -> Result<ReportState, Refused> {
    use ReportAction as A;
    use ReportState as S;
    let refused = |action| Err(Refused { state, action });
    match (state, action) {
        (S::Waiting, A::Ready) => Ok(S::Assigned),
        (S::Assigned | S::Draft, A::Save) => Ok(S::Draft),
        (S::Draft, A::Lock) => Ok(S::Locked),
        (S::Locked, A::Unlock) => Ok(S::Draft),
        (S::Locked, A::Return { .. }) => Ok(S::Draft),
        (S::Locked, A::Approve) => Ok(S::Published),
        (S::Published, A::Withdraw) => Ok(S::Draft),
        (_, A::Ready) => refused("进入总检"),
        (_, A::Save) => refused("保存"),
        (_, A::Lock) => refused("锁定"),
        (_, A::Unlock) => refused("解锁"),
        (_, A::Return { .. }) => refused("退回"),
        (_, A::Approve) => refused("审核通过"),
        (_, A::Withdraw) => refused("撤回"),
    }
}

/// Whether a visit can go to the chief physician (item 46 with the
/// make-up and deferred rules): every item done has its result; a make-up
/// item (补检) holds the visit back, a deferred one (延检) does not;
/// refunded and waived items are out of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "ready", rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    /// No items at all: nothing to report on.
    NoItems,
    /// Items to be made up on another visit.
    MakeUp {
        items: Vec<String>,
    },
    /// Items still without a result.
    Missing {
        items: Vec<String>,
    },
}

/// `items`: (code, status, has a result).
pub fn readiness(items: &[(String, crate::changes::ItemStatus, bool)]) -> Readiness {
    use crate::changes::ItemStatus as S;
    if !items
        .iter()
        .any(|(_, s, _)| matches!(s, S::Active | S::Deferred))
    {
        return Readiness::NoItems;
    }
    let make_up: Vec<String> = items
        .iter()
        .filter(|(_, s, _)| *s == S::MakeUp)
        .map(|(c, ..)| c.clone())
        .collect();
    if !make_up.is_empty() {
        return Readiness::MakeUp { items: make_up };
    }
    let missing: Vec<String> = items
        .iter()
        .filter(|(_, s, done)| *s == S::Active && !done)
        .map(|(c, ..)| c.clone())
        .collect();
    if missing.is_empty() {
        Readiness::Ready
    } else {
        Readiness::Missing { items: missing }
    }
}
