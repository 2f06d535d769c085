//! Group exams (团检) after the roster: what the company pays and which
//! members a batch (booking, item changes, a new discount) takes. Grouping
//! a roster by rule is `roster::assign_group`.

use crate::catalogue::{Catalogue, Marital};
use crate::plan::{self, Plan, PlanError, PlanRequest};
use crate::{BookingState, Sex};

/// `pct` percent of `fen`, rounded half up to the fen.
pub fn discounted(fen: i64, pct: u32) -> i64 {
    (fen * i64::from(pct) + 50) / 100
}

/// The company's price of a plan: each item at `pct` percent, rounded to
/// the fen, and the total the sum of the rounded items (so the fee list
/// adds up).
pub fn discount_plan(plan: &mut Plan, pct: u32) {
    for i in &mut plan.items {
        i.price_fen = discounted(i.price_fen, pct);
    }
    plan.total_fen = plan.items.iter().map(|i| i.price_fen).sum();
}

/// A member's plan in a group: the group's package as the person rules
/// give it to their sex and marital status, at the group's discount.
pub fn member_plan(
    cat: &Catalogue,
    sex: Sex,
    marital: Marital,
    package_code: &str,
    pct: u32,
) -> Result<Plan, PlanError> {
    let mut p = plan::plan(cat, sex, marital, &package_only(package_code))?;
    discount_plan(&mut p, pct);
    Ok(p)
}

fn package_only(code: &str) -> PlanRequest {
    PlanRequest {
        package: Some(code.to_string()),
        ..PlanRequest::default()
    }
}

/// 批量打折: the prices of a visit's items (`(code, current price)`) under
/// a new discount. Package items start from their share of the package
/// price (`base`, the member's undiscounted plan), added items from the
/// list price; an item neither knows keeps its current price as the base.
pub fn repriced(
    cat: &Catalogue,
    base: &Plan,
    items: &[(&str, i64)],
    pct: u32,
) -> Vec<(String, i64)> {
    items
        .iter()
        .map(|&(code, current)| {
            let list = base
                .items
                .iter()
                .find(|b| b.code == code)
                .map(|b| b.price_fen)
                .or_else(|| cat.item(code).map(|c| c.price_fen))
                .unwrap_or(current);
            (code.to_string(), discounted(list, pct))
        })
        .collect()
}

/// The undiscounted plan a member's prices are shared out from.
pub fn base_plan(
    cat: &Catalogue,
    sex: Sex,
    marital: Marital,
    package_code: &str,
) -> Result<Plan, PlanError> {
    plan::plan(cat, sex, marital, &package_only(package_code))
}

/// Where a member stands, as a batch sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// 禁检: the member, or their whole group.
    pub banned: bool,
    /// They have a visit (booked by an earlier batch).
    pub booked: bool,
    /// That visit's state, when known.
    pub state: Option<BookingState>,
}

impl Standing {
    /// A visit that still counts: booked and not cancelled.
    pub fn has_live_visit(&self) -> bool {
        self.booked && self.state != Some(BookingState::Cancelled)
    }

    /// A batch booking takes members who are not banned and have no live
    /// visit (a cancelled one may be booked again).
    pub fn may_be_booked(&self) -> bool {
        !self.banned && !self.has_live_visit()
    }
}

/// Of a batch's item changes, what applies to one visit holding `held`:
/// additions it does not hold yet, removals of what it holds.
pub fn batch_changes(
    held: &[&str],
    add: &[String],
    remove: &[String],
) -> (Vec<String>, Vec<String>) {
    let holds = |c: &String| held.contains(&c.as_str());
    (
        add.iter().filter(|c| !holds(c)).cloned().collect(),
        remove.iter().filter(|c| holds(c)).cloned().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::seed;

    #[test]
    fn discounts_round_half_up_per_item_and_the_total_adds_up() {
        assert_eq!(discounted(1000, 85), 850);
        assert_eq!(discounted(1, 50), 1); // 0.5 fen rounds up
        assert_eq!(discounted(1, 49), 0);
        assert_eq!(discounted(999, 100), 999);
        assert_eq!(discounted(3333, 90), 3000); // 2999.7
        let cat = seed::catalogue();
        let full = base_plan(&cat, Sex::Male, Marital::Married, "P-GRP-A").unwrap();
        let p = member_plan(&cat, Sex::Male, Marital::Married, "P-GRP-A", 85).unwrap();
        assert_eq!(p.items.len(), full.items.len());
        for (d, f) in p.items.iter().zip(&full.items) {
            assert_eq!(d.price_fen, discounted(f.price_fen, 85), "{}", d.code);
        }
        assert_eq!(
            p.total_fen,
            p.items.iter().map(|i| i.price_fen).sum::<i64>()
        );
        assert!(p.total_fen < full.total_fen);
        assert!(member_plan(&cat, Sex::Male, Marital::Married, "P-NOPE", 85).is_err());
    }

    #[test]
    fn repricing_starts_from_the_package_share_then_the_list_price() {
        let cat = seed::catalogue();
        let base = base_plan(&cat, Sex::Female, Marital::Married, "P-GRP-A").unwrap();
        let in_package = &base.items[0];
        let added = cat
            .items
            .iter()
            .find(|i| base.items.iter().all(|b| b.code != i.code))
            .unwrap();
        let items = [
            (in_package.code.as_str(), 1),
            (added.code.as_str(), 2),
            ("RETIRED", 777),
        ];
        assert_eq!(
            repriced(&cat, &base, &items, 50),
            vec![
                (
                    in_package.code.clone(),
                    discounted(in_package.price_fen, 50)
                ),
                (added.code.clone(), discounted(added.price_fen, 50)),
                ("RETIRED".to_string(), discounted(777, 50)),
            ]
        );
    }

    #[test]
    fn who_a_batch_takes() {
        let s = |banned, booked, state| Standing {
            banned,
            booked,
            state,
        };
        use BookingState::*;
        assert!(s(false, false, None).may_be_booked());
        assert!(s(false, true, Some(Cancelled)).may_be_booked());
        assert!(!s(false, true, Some(Booked)).may_be_booked());
        assert!(!s(false, true, Some(CheckedIn)).may_be_booked());
        assert!(
            !s(false, true, None).may_be_booked(),
            "a visit of unknown state counts"
        );
        assert!(!s(true, false, None).may_be_booked());
        assert!(
            s(true, true, Some(Booked)).has_live_visit(),
            "a ban alone does not end a visit"
        );
        assert!(!s(false, true, Some(Cancelled)).has_live_visit());
        assert!(!s(false, false, None).has_live_visit());
    }

    #[test]
    fn batch_changes_add_what_is_missing_and_remove_what_is_held() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            batch_changes(&["A", "B"], &v(&["B", "C"]), &v(&["A", "D"])),
            (v(&["C"]), v(&["A"]))
        );
        assert_eq!(batch_changes(&[], &v(&[]), &v(&["A"])), (v(&[]), v(&[])));
    }
}
