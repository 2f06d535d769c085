//! Duplicate detection. Delivery over MLLP is at-least-once: a sender
//! whose ACK was lost sends again (same control id), and a LIS re-sends a
//! result it already sent (often with a new control id). Two keys catch
//! both: the sender's control id, and the result's barcode + item + status.
//!
//! The keys are plain strings so the central store can keep them in a
//! unique column; [`SeenKeys`] is a bounded in-memory set for the
//! simulator and tests. A duplicate is still acknowledged AA (the sender
//! must stop re-sending), only not applied again.

use std::collections::{HashSet, VecDeque};

use crate::message::Message;
use crate::result::ItemResult;

/// A key under which a message or result is applied at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DuplicateKey {
    /// MSH-10 is unique per sender (MSH-3 / MSH-4), not globally.
    ControlId {
        sending_application: String,
        sending_facility: String,
        control_id: String,
    },
    /// One item's result: placer order number (barcode), item code and
    /// result status. The status is part of the key so a preliminary
    /// result, its final one and a correction each apply once.
    Result {
        placer_order_number: String,
        item_code: String,
        status: String,
    },
}

impl DuplicateKey {
    pub fn for_message(m: &Message) -> DuplicateKey {
        let msh = m.msh();
        let get = |n: usize| msh.map(|s| s.get(n)).unwrap_or("").to_string();
        DuplicateKey::ControlId {
            sending_application: get(3),
            sending_facility: get(4),
            control_id: get(10),
        }
    }

    pub fn for_result(r: &ItemResult) -> DuplicateKey {
        DuplicateKey::Result {
            placer_order_number: r.placer_order_number.clone(),
            item_code: r.item.code.clone(),
            status: r.status.code().to_string(),
        }
    }

    /// A stable text form for a unique column: `ctl:<app>@<facility>:<id>`
    /// or `res:<barcode>:<item>:<status>` (the parts escaped so no two
    /// keys share a text).
    pub fn as_text(&self) -> String {
        let esc = |s: &str| {
            s.replace('%', "%25")
                .replace(':', "%3A")
                .replace('@', "%40")
        };
        match self {
            DuplicateKey::ControlId {
                sending_application,
                sending_facility,
                control_id,
            } => format!(
                "ctl:{}@{}:{}",
                esc(sending_application),
                esc(sending_facility),
                esc(control_id)
            ),
            DuplicateKey::Result {
                placer_order_number,
                item_code,
                status,
            } => format!(
                "res:{}:{}:{}",
                esc(placer_order_number),
                esc(item_code),
                esc(status)
            ),
        }
    }
}

/// A bounded set of keys seen, oldest forgotten first.
#[derive(Debug, Clone)]
pub struct SeenKeys {
    cap: usize,
    set: HashSet<DuplicateKey>,
    order: VecDeque<DuplicateKey>,
}

impl SeenKeys {
    pub fn new(cap: usize) -> SeenKeys {
        SeenKeys {
            cap: cap.max(1),
            set: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Records the key; true if it is new (apply), false if seen (drop).
    pub fn insert(&mut self, key: DuplicateKey) -> bool {
        if self.set.contains(&key) {
            return false;
        }
        if self.order.len() >= self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
        true
    }

    pub fn contains(&self, key: &DuplicateKey) -> bool {
        self.set.contains(key)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::Charset;

    #[test]
    fn keys_and_bounded_set() {
        let m = Message::parse(
            "MSH|^~\\&|LIS|LAB|||20261205||ORU^R01|42|P|2.5\r",
            Charset::Utf8,
        )
        .unwrap();
        let k = DuplicateKey::for_message(&m);
        assert_eq!(k.as_text(), "ctl:LIS@LAB:42");
        let tricky = DuplicateKey::Result {
            placer_order_number: "B:1".into(),
            item_code: "K".into(),
            status: "F".into(),
        };
        assert_eq!(tricky.as_text(), "res:B%3A1:K:F");
        let mut seen = SeenKeys::new(2);
        assert!(seen.insert(k.clone()));
        assert!(!seen.insert(k.clone()));
        assert!(seen.insert(tricky.clone()));
        let third = DuplicateKey::Result {
            placer_order_number: "B2".into(),
            item_code: "K".into(),
            status: "F".into(),
        };
        assert!(seen.insert(third));
        // The oldest was forgotten.
        assert!(!seen.contains(&k));
        assert!(seen.contains(&tricky));
        assert_eq!(seen.len(), 2);
    }
}
