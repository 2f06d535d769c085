//! What crosses to HIS and back, the same for both transports. Amounts are
//! integer fen (分) everywhere: no float ever holds money.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The sender's key of one operation that changes HIS (registration, charge,
/// refund). HIS keeps the first answer under it: sending the same request
/// again with the same key returns that answer and books nothing new, so a
/// retry after a timeout or a lost answer can never charge twice. The queue
/// stores the key with the message and reuses it on every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidKey;
    fn try_from(s: String) -> Result<Self, InvalidKey> {
        Self::new(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl IdempotencyKey {
    /// 1–64 characters of `[A-Za-z0-9._:-]`: safe in a header, a URL path
    /// segment and an XML text node without escaping.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidKey> {
        let key = key.into();
        let ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok { Ok(Self(key)) } else { Err(InvalidKey) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1-64 characters of A-Z a-z 0-9 . _ : -")]
pub struct InvalidKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// The wire code (GB/T 2261.1 uses 1/2; the HIS schemas we model use M/F).
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Who the patient is, as the exam centre registered them. HIS finds its
/// master record by `id_number` and checks the rest against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub id_number: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// HIS's master record (建档): its patient id is kept by the exam centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub patient_id: String,
    /// False when HIS already had the person (found by ID number).
    pub created: bool,
}

/// 挂号 / 登记 of one exam visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRequest {
    pub idempotency_key: IdempotencyKey,
    pub patient_id: String,
    pub exam_no: String,
    pub department: String,
    pub visit_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub registration_id: String,
    pub patient_id: String,
    pub exam_no: String,
    pub registered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    Cash,
    WechatPay,
    Alipay,
    UnionPay,
    MedicalInsurance,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::Cash,
        PaymentMethod::WechatPay,
        PaymentMethod::Alipay,
        PaymentMethod::UnionPay,
        PaymentMethod::MedicalInsurance,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "CASH",
            PaymentMethod::WechatPay => "WECHAT_PAY",
            PaymentMethod::Alipay => "ALIPAY",
            PaymentMethod::UnionPay => "UNION_PAY",
            PaymentMethod::MedicalInsurance => "MEDICAL_INSURANCE",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeLine {
    pub item_code: String,
    pub quantity: u32,
    /// HIS's current price of the item; HIS refuses another (prices come
    /// from HIS).
    pub unit_price_fen: i64,
    /// What the centre took off the line (a package costs less than the
    /// sum of its items; a company's discount): HIS books
    /// `unit_price_fen × quantity − discount_fen`, never below 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discount_fen: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl ChargeLine {
    /// What the line costs the patient.
    pub fn amount_fen(&self) -> i64 {
        self.unit_price_fen
            .saturating_mul(i64::from(self.quantity))
            .saturating_sub(self.discount_fen)
    }
}

/// One paid item set, booked in HIS in real time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub idempotency_key: IdempotencyKey,
    pub patient_id: String,
    pub registration_id: String,
    pub payment_method: PaymentMethod,
    /// The payment platform's transaction id, when paid online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_ref: Option<String>,
    pub lines: Vec<ChargeLine>,
}

impl ChargeRequest {
    pub fn total_fen(&self) -> i64 {
        self.lines
            .iter()
            .map(ChargeLine::amount_fen)
            .fold(0i64, i64::saturating_add)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChargeState {
    Booked,
    PartlyRefunded,
    Refunded,
}

impl ChargeState {
    pub fn code(self) -> &'static str {
        match self {
            ChargeState::Booked => "BOOKED",
            ChargeState::PartlyRefunded => "PARTLY_REFUNDED",
            ChargeState::Refunded => "REFUNDED",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        [
            ChargeState::Booked,
            ChargeState::PartlyRefunded,
            ChargeState::Refunded,
        ]
        .into_iter()
        .find(|c| c.code() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeReceipt {
    pub charge_id: String,
    pub idempotency_key: IdempotencyKey,
    pub state: ChargeState,
    pub total_fen: i64,
    pub refunded_fen: i64,
    pub price_list_version: u64,
    pub booked_at: DateTime<Utc>,
    /// The lines as booked: what a refund can name.
    pub lines: Vec<ChargeLine>,
}

/// The answer to "did HIS book this charge?", asked when a send timed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "charge", rename_all = "snake_case")]
pub enum ChargeLookup {
    NotFound,
    Found(ChargeReceipt),
}

/// Refund whole lines of a booked charge (the centre refunds per item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub idempotency_key: IdempotencyKey,
    /// The charge's own idempotency key: the centre knows it even when the
    /// charge's answer (and so HIS's charge id) was lost.
    pub charge_key: IdempotencyKey,
    pub item_codes: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundReceipt {
    pub refund_id: String,
    pub charge_id: String,
    pub amount_fen: i64,
    pub charge_state: ChargeState,
    pub refunded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceItem {
    pub code: String,
    pub name: String,
    pub unit_price_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceList {
    pub version: u64,
    pub effective_at: DateTime<Utc>,
    pub items: Vec<PriceItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceChangeKind {
    Added,
    Changed,
    Removed,
}

impl PriceChangeKind {
    pub fn code(self) -> &'static str {
        match self {
            PriceChangeKind::Added => "ADDED",
            PriceChangeKind::Changed => "CHANGED",
            PriceChangeKind::Removed => "REMOVED",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        [
            PriceChangeKind::Added,
            PriceChangeKind::Changed,
            PriceChangeKind::Removed,
        ]
        .into_iter()
        .find(|c| c.code() == s)
    }
}

/// One line of the price change log: what changed, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChange {
    pub version: u64,
    pub effective_at: DateTime<Utc>,
    pub item_code: String,
    pub kind: PriceChangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_price_fen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_price_fen: Option<i64>,
}

/// The change log between two price lists, in item-code order: what the
/// centre applies to its own prices when HIS's version moves on (also used by
/// the simulator to write its own log).
pub fn price_diff(old: &PriceList, new: &PriceList) -> Vec<PriceChange> {
    use std::collections::BTreeMap;
    let before: BTreeMap<&str, i64> = old
        .items
        .iter()
        .map(|i| (i.code.as_str(), i.unit_price_fen))
        .collect();
    let after: BTreeMap<&str, i64> = new
        .items
        .iter()
        .map(|i| (i.code.as_str(), i.unit_price_fen))
        .collect();
    let change = |code: &str, kind, old_price_fen, new_price_fen| PriceChange {
        version: new.version,
        effective_at: new.effective_at,
        item_code: code.to_owned(),
        kind,
        old_price_fen,
        new_price_fen,
    };
    let mut out = Vec::new();
    let codes: std::collections::BTreeSet<&str> =
        before.keys().chain(after.keys()).copied().collect();
    for code in codes {
        match (before.get(code), after.get(code)) {
            (None, Some(&n)) => out.push(change(code, PriceChangeKind::Added, None, Some(n))),
            (Some(&o), None) => out.push(change(code, PriceChangeKind::Removed, Some(o), None)),
            (Some(&o), Some(&n)) if o != n => {
                out.push(change(code, PriceChangeKind::Changed, Some(o), Some(n)))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(version: u64, items: &[(&str, i64)]) -> PriceList {
        PriceList {
            version,
            effective_at: DateTime::from_timestamp(1_700_000_000 + version as i64, 0)
                .unwrap_or_default(),
            items: items
                .iter()
                .map(|(c, p)| PriceItem {
                    code: (*c).into(),
                    name: format!("item {c}"),
                    unit_price_fen: *p,
                })
                .collect(),
        }
    }

    #[test]
    fn diff_names_added_changed_and_removed_items() {
        let old = list(1, &[("A", 100), ("B", 200), ("C", 300)]);
        let new = list(2, &[("A", 100), ("B", 250), ("D", 400)]);
        let kinds: Vec<(String, PriceChangeKind, Option<i64>, Option<i64>)> =
            price_diff(&old, &new)
                .into_iter()
                .map(|c| (c.item_code, c.kind, c.old_price_fen, c.new_price_fen))
                .collect();
        assert_eq!(
            kinds,
            vec![
                ("B".into(), PriceChangeKind::Changed, Some(200), Some(250)),
                ("C".into(), PriceChangeKind::Removed, Some(300), None),
                ("D".into(), PriceChangeKind::Added, None, Some(400)),
            ]
        );
        assert!(price_diff(&new, &new).is_empty());
    }

    #[test]
    fn keys_are_limited_to_header_and_xml_safe_characters() {
        assert!(IdempotencyKey::new("charge:V2026-0001:1").is_ok());
        assert_eq!(IdempotencyKey::new(""), Err(InvalidKey));
        assert_eq!(IdempotencyKey::new("a b"), Err(InvalidKey));
        assert_eq!(IdempotencyKey::new("<x>"), Err(InvalidKey));
        assert_eq!(IdempotencyKey::new("k".repeat(65)), Err(InvalidKey));
    }
}
