//! E1 / K17: which items a person gets, and at what price. Packages are
//! cut to the person (sex and marital-status rules, each cut explained),
//! single items are added on top, and conflicting items are refused with
//! the reason the patient sees.
//!
//! Pricing: a package's price is spread over its items in proportion to
//! their list prices (largest remainder, so the shares sum to the package
//! price exactly); an item the rules drop takes its share off the bill, and
//! an added item costs its list price. Refunds use the same shares.

use serde::{Deserialize, Serialize};

use crate::Sex;
use crate::catalogue::{Catalogue, ExamItem, Marital, MaritalRule, SexRule};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub package: Option<String>,
    /// Single items on top of the package (or alone).
    #[serde(default)]
    pub add: Vec<String>,
    /// Package items the person does not want.
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedItem {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub from_package: bool,
}

/// A package item the person does not get, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub code: String,
    pub name: String,
    pub reason: String,
    /// The item given instead (e.g. the abdominal instead of the vaginal scan).
    pub replaced_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub package: Option<String>,
    pub items: Vec<PlannedItem>,
    pub excluded: Vec<Excluded>,
    pub total_fen: i64,
}

impl Plan {
    /// The name of the item given instead of an excluded one (its code if
    /// the plan does not hold it).
    pub fn replacement<'a>(&'a self, x: &'a Excluded) -> Option<&'a str> {
        let code = x.replaced_by.as_deref()?;
        Some(
            self.items
                .iter()
                .find(|i| i.code == code)
                .map_or(code, |i| i.name.as_str()),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum PlanError {
    #[error("没有这个套餐：{code}")]
    UnknownPackage { code: String },
    #[error("没有这个项目：{code}")]
    UnknownItem { code: String },
    #[error("{name}不适用于{who}：{reason}")]
    NotFor {
        code: String,
        name: String,
        who: String,
        reason: String,
    },
    #[error("{a_name}与{b_name}不能同时检查：{reason}")]
    Conflict {
        a: String,
        a_name: String,
        b: String,
        b_name: String,
        reason: String,
    },
    #[error("请至少选择一个套餐或项目")]
    Empty,
}

/// Why this item is not for this person, or None if it is.
pub fn unsuitable(item: &ExamItem, sex: Sex, marital: Marital) -> Option<String> {
    if !item.sex.allows(sex) {
        return Some(match item.sex {
            SexRule::Male => "仅限男性的项目".into(),
            _ => "仅限女性的项目".into(),
        });
    }
    match (item.marital, marital) {
        (MaritalRule::MarriedOnly, Marital::Unmarried) => Some("未婚者不做此项（已婚项目）".into()),
        (MaritalRule::MarriedOnly, Marital::Unknown) => {
            Some("婚姻状况未登记，已婚项目须确认已婚后再加".into())
        }
        (MaritalRule::UnmarriedOnly, Marital::Married) => {
            Some("已婚者做对应的已婚项目（未婚项目）".into())
        }
        _ => None,
    }
}

fn who(sex: Sex, marital: Marital) -> String {
    let s = if sex == Sex::Male { "男性" } else { "女性" };
    match marital {
        Marital::Unknown => s.into(),
        m => format!("{}{s}", m.label_zh()),
    }
}

/// The conflict between two items, if either names the other.
pub fn conflict<'a>(a: &'a ExamItem, b: &'a ExamItem) -> Option<&'a str> {
    a.conflicts
        .iter()
        .find(|c| c.with == b.code)
        .or_else(|| b.conflicts.iter().find(|c| c.with == a.code))
        .map(|c| c.reason.as_str())
}

/// The first conflicting pair among `codes`, as an error.
pub fn check_conflicts(cat: &Catalogue, codes: &[&str]) -> Result<(), PlanError> {
    let items: Vec<&ExamItem> = codes
        .iter()
        .map(|c| {
            cat.item(c).ok_or_else(|| PlanError::UnknownItem {
                code: c.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    for (i, a) in items.iter().enumerate() {
        for b in &items[i + 1..] {
            if let Some(reason) = conflict(a, b) {
                return Err(PlanError::Conflict {
                    a: a.code.clone(),
                    a_name: a.name.clone(),
                    b: b.code.clone(),
                    b_name: b.name.clone(),
                    reason: reason.into(),
                });
            }
        }
    }
    Ok(())
}

/// Splits `total` over `weights` in proportion, summing exactly to `total`.
pub fn shares(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    if sum <= 0 {
        let n = weights.len().max(1) as i64;
        let mut v = vec![total / n; weights.len()];
        for s in v.iter_mut().take((total % n) as usize) {
            *s += 1;
        }
        return v;
    }
    let raw: Vec<(i64, i64)> = weights
        .iter()
        .map(|w| {
            let p = i128::from(total) * i128::from(*w);
            ((p / i128::from(sum)) as i64, (p % i128::from(sum)) as i64)
        })
        .collect();
    let mut out: Vec<i64> = raw.iter().map(|r| r.0).collect();
    let left = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| raw[b].1.cmp(&raw[a].1).then(a.cmp(&b)));
    for &i in order.iter().take(left as usize) {
        out[i] += 1;
    }
    out
}

/// Items added to a visit that already holds `held` (item codes, refunded
/// ones left out by the caller): each must suit the person, and nothing
/// may conflict with what the visit holds or with each other. The items
/// come at list price.
pub fn additions(
    cat: &Catalogue,
    sex: Sex,
    marital: Marital,
    held: &[&str],
    add: &[String],
) -> Result<Vec<PlannedItem>, PlanError> {
    let req = PlanRequest {
        package: None,
        add: add.to_vec(),
        remove: vec![],
    };
    let p = plan(cat, sex, marital, &req)?;
    let mut all = held.to_vec();
    all.extend(p.items.iter().map(|i| i.code.as_str()));
    check_conflicts(cat, &all)?;
    Ok(p.items)
}

/// Plans the items of one registration or booking.
pub fn plan(
    cat: &Catalogue,
    sex: Sex,
    marital: Marital,
    req: &PlanRequest,
) -> Result<Plan, PlanError> {
    let mut items: Vec<PlannedItem> = Vec::new();
    let mut excluded = Vec::new();
    if let Some(code) = &req.package {
        let pkg = cat
            .package(code)
            .ok_or_else(|| PlanError::UnknownPackage { code: code.clone() })?;
        let members: Vec<&ExamItem> = pkg
            .items
            .iter()
            .map(|c| {
                cat.item(c)
                    .ok_or_else(|| PlanError::UnknownItem { code: c.clone() })
            })
            .collect::<Result<_, _>>()?;
        let prices = shares(
            pkg.price_fen,
            &members.iter().map(|i| i.price_fen).collect::<Vec<_>>(),
        );
        for (item, share) in members.into_iter().zip(prices) {
            if req.remove.contains(&item.code) {
                excluded.push(Excluded {
                    code: item.code.clone(),
                    name: item.name.clone(),
                    reason: "按本人要求不做".into(),
                    replaced_by: None,
                });
                continue;
            }
            let Some(reason) = unsuitable(item, sex, marital) else {
                items.push(PlannedItem {
                    code: item.code.clone(),
                    name: item.name.clone(),
                    price_fen: share,
                    from_package: true,
                });
                continue;
            };
            // The alternative the centre offers instead: an item in the same
            // department that excludes this one and suits the person.
            let instead = cat.items.iter().find(|alt| {
                alt.department == item.department
                    && conflict(item, alt).is_some()
                    && unsuitable(alt, sex, marital).is_none()
            });
            if let Some(alt) = instead {
                items.push(PlannedItem {
                    code: alt.code.clone(),
                    name: alt.name.clone(),
                    price_fen: share.min(alt.price_fen),
                    from_package: true,
                });
            }
            excluded.push(Excluded {
                code: item.code.clone(),
                name: item.name.clone(),
                reason,
                replaced_by: instead.map(|a| a.code.clone()),
            });
        }
    }
    for code in &req.add {
        let item = cat
            .item(code)
            .ok_or_else(|| PlanError::UnknownItem { code: code.clone() })?;
        if let Some(reason) = unsuitable(item, sex, marital) {
            return Err(PlanError::NotFor {
                code: item.code.clone(),
                name: item.name.clone(),
                who: who(sex, marital),
                reason,
            });
        }
        if items.iter().any(|i| i.code == item.code) {
            continue; // already in the package: never charge twice
        }
        items.push(PlannedItem {
            code: item.code.clone(),
            name: item.name.clone(),
            price_fen: item.price_fen,
            from_package: false,
        });
    }
    if items.is_empty() {
        return Err(PlanError::Empty);
    }
    check_conflicts(
        cat,
        &items.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
    )?;
    let total_fen = items.iter().map(|i| i.price_fen).sum();
    Ok(Plan {
        package: req.package.clone(),
        items,
        excluded,
        total_fen,
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
