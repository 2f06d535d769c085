//! HIS's prices against our catalogue (I1: prices come from HIS), pure:
//! which HIS charge code is which of our items, which of our prices HIS
//! changed, which HIS codes we cannot place and which of our items HIS
//! does not list. `price_sync` fetches, stores and applies; this decides.
//!
//! A HIS code is our item of the same code unless `charge_codes` in
//! `[interfaces.counterparts.his]` maps it to another (`"HIS9001" =
//! "L-HP"`): hospitals rarely use the centre's codes. Two HIS codes landing
//! on one item are a conflict: the item's price is left alone and both are
//! listed, rather than one of them winning by the order HIS sent them in.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// One line of HIS's price list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HisPrice {
    pub his_code: String,
    pub name: String,
    pub price_fen: i64,
}

/// One of our items and its list price now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurItem {
    pub code: String,
    pub price_fen: i64,
}

/// A price HIS changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub item_code: String,
    pub his_code: String,
    pub old_price_fen: i64,
    pub new_price_fen: i64,
}

/// What HIS's list means for the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Our items whose price differs from HIS's, in item-code order.
    pub changes: Vec<Change>,
    /// HIS codes that are none of our items (and not mapped to one).
    pub unmapped: Vec<String>,
    /// Our items HIS does not list (their price stays ours).
    pub missing: Vec<String>,
    /// Our items two or more HIS codes map to, with those codes: left
    /// alone until the mapping says which.
    pub conflicts: Vec<(String, Vec<String>)>,
}

/// The plan for HIS's list `his` against our `ours`, with `map` from HIS
/// codes to our item codes (codes not in it map to themselves).
pub fn plan(his: &[HisPrice], ours: &[OurItem], map: &BTreeMap<String, String>) -> Plan {
    let our: BTreeMap<&str, i64> = ours
        .iter()
        .map(|i| (i.code.as_str(), i.price_fen))
        .collect();
    let mut by_item: BTreeMap<&str, Vec<&HisPrice>> = BTreeMap::new();
    let mut unmapped = BTreeSet::new();
    for h in his {
        let item = map
            .get(&h.his_code)
            .map_or(h.his_code.as_str(), String::as_str);
        if our.contains_key(item) {
            by_item.entry(item).or_default().push(h);
        } else {
            unmapped.insert(h.his_code.clone());
        }
    }
    let mut out = Plan {
        unmapped: unmapped.into_iter().collect(),
        ..Plan::default()
    };
    for (&code, &price) in &our {
        match by_item.get(code).map(Vec::as_slice) {
            None | Some([]) => out.missing.push(code.to_string()),
            Some([h]) => {
                if h.price_fen != price {
                    out.changes.push(Change {
                        item_code: code.to_string(),
                        his_code: h.his_code.clone(),
                        old_price_fen: price,
                        new_price_fen: h.price_fen,
                    });
                }
            }
            Some(many) => {
                let mut codes: Vec<String> = many.iter().map(|h| h.his_code.clone()).collect();
                codes.sort();
                codes.dedup();
                if codes.len() == 1 {
                    // The same code twice in HIS's list: one price if they agree.
                    let prices: BTreeSet<i64> = many.iter().map(|h| h.price_fen).collect();
                    if prices.len() == 1 {
                        let p = *prices.iter().next().unwrap_or(&price);
                        if p != price {
                            out.changes.push(Change {
                                item_code: code.to_string(),
                                his_code: codes[0].clone(),
                                old_price_fen: price,
                                new_price_fen: p,
                            });
                        }
                        continue;
                    }
                }
                out.conflicts.push((code.to_string(), codes));
            }
        }
    }
    out
}

/// `charge_codes` of the HIS adapter's settings: a table of HIS code →
/// our item code.
pub fn charge_codes(v: Option<&serde_json::Value>) -> Result<BTreeMap<String, String>, String> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    let t = v
        .as_object()
        .ok_or("charge_codes: a table of \"HIS code\" = \"our item code\"")?;
    t.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_string()))
                .ok_or_else(|| format!("charge_codes.{k}: our item code as a string"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn his(rows: &[(&str, i64)]) -> Vec<HisPrice> {
        rows.iter()
            .map(|(c, p)| HisPrice {
                his_code: (*c).into(),
                name: format!("{c} name"),
                price_fen: *p,
            })
            .collect()
    }

    fn ours(rows: &[(&str, i64)]) -> Vec<OurItem> {
        rows.iter()
            .map(|(c, p)| OurItem {
                code: (*c).into(),
                price_fen: *p,
            })
            .collect()
    }

    fn change(item: &str, his: &str, old: i64, new: i64) -> Change {
        Change {
            item_code: item.into(),
            his_code: his.into(),
            old_price_fen: old,
            new_price_fen: new,
        }
    }

    #[test]
    fn same_codes_changed_prices_unmapped_and_missing() {
        let p = plan(
            &his(&[("L-GLU", 550), ("L-CBC", 2_000), ("HIS9001", 6_000)]),
            &ours(&[("L-CBC", 2_000), ("L-GLU", 500), ("ECG-12", 3_000)]),
            &BTreeMap::new(),
        );
        assert_eq!(p.changes, vec![change("L-GLU", "L-GLU", 500, 550)]);
        assert_eq!(p.unmapped, vec!["HIS9001".to_string()]);
        assert_eq!(p.missing, vec!["ECG-12".to_string()]);
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn mapped_codes_reach_our_items() {
        let map = BTreeMap::from([
            ("250301001".to_string(), "L-GLU".to_string()),
            ("HIS9001".to_string(), "L-HP".to_string()),
        ]);
        let p = plan(
            &his(&[("250301001", 600), ("HIS9001", 6_000), ("X1", 10)]),
            &ours(&[("L-GLU", 500), ("L-HP", 6_000)]),
            &map,
        );
        assert_eq!(p.changes, vec![change("L-GLU", "250301001", 500, 600)]);
        assert_eq!(p.unmapped, vec!["X1".to_string()]);
        assert!(p.missing.is_empty());
        // A mapping onto an item we do not have is unmapped, not a change.
        let map = BTreeMap::from([("HIS9001".to_string(), "L-GONE".to_string())]);
        let p = plan(&his(&[("HIS9001", 1)]), &ours(&[("L-HP", 2)]), &map);
        assert_eq!(p.unmapped, vec!["HIS9001".to_string()]);
        assert_eq!(p.missing, vec!["L-HP".to_string()]);
    }

    #[test]
    fn two_his_codes_on_one_item_change_nothing() {
        let map = BTreeMap::from([("A".to_string(), "L-GLU".to_string())]);
        let p = plan(
            &his(&[("A", 600), ("L-GLU", 650)]),
            &ours(&[("L-GLU", 500)]),
            &map,
        );
        assert!(p.changes.is_empty());
        assert_eq!(
            p.conflicts,
            vec![(
                "L-GLU".to_string(),
                vec!["A".to_string(), "L-GLU".to_string()]
            )]
        );
        // The same code twice at one price is one line.
        let p = plan(
            &his(&[("L-GLU", 600), ("L-GLU", 600)]),
            &ours(&[("L-GLU", 500)]),
            &BTreeMap::new(),
        );
        assert_eq!(p.changes, vec![change("L-GLU", "L-GLU", 500, 600)]);
    }

    #[test]
    fn an_unchanged_list_plans_nothing() {
        let both = [("L-GLU", 500), ("L-CBC", 2_000)];
        assert_eq!(
            plan(&his(&both), &ours(&both), &BTreeMap::new()),
            Plan::default()
        );
    }

    #[test]
    fn charge_codes_read_from_the_settings() {
        let v = serde_json::json!({ "250301001": "L-GLU" });
        assert_eq!(
            charge_codes(Some(&v)).unwrap(),
            BTreeMap::from([("250301001".to_string(), "L-GLU".to_string())])
        );
        assert!(charge_codes(Some(&serde_json::json!({ "A": 1 }))).is_err());
        assert!(charge_codes(Some(&serde_json::json!("A"))).is_err());
        assert!(charge_codes(None).unwrap().is_empty());
    }
}
