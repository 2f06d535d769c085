//! The v3 JSON bodies (field names as on the wire) and the state enums.
//! Amounts are integer fen (分), as the platform counts them.

use serde::{Deserialize, Serialize};

/// Only CNY is settled by the platform for domestic merchants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    pub fn parse(s: &str) -> Option<Self> {
        (s == "CNY").then_some(Self::Cny)
    }
    pub fn as_str(self) -> &'static str {
        "CNY"
    }
}

/// `amount` of an order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAmount {
    pub total: u64,
    #[serde(default = "cny")]
    pub currency: String,
}

fn cny() -> String {
    "CNY".into()
}

/// `POST /v3/pay/transactions/native` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeOrderRequest {
    pub appid: String,
    pub mchid: String,
    pub description: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    pub notify_url: String,
    pub amount: OrderAmount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeUrl {
    pub code_url: String,
}

/// `trade_state` as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeState {
    Success,
    /// Paid, then (partly) refunded.
    Refund,
    Notpay,
    Closed,
    Revoked,
    Userpaying,
    Payerror,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<u64>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// An order at the platform: the query answer and the decrypted
/// `TRANSACTION.SUCCESS` resource share this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    pub trade_state: TradeState,
    #[serde(default)]
    pub trade_state_desc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    /// Absent for orders never paid in some answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TransactionAmount>,
}

/// `POST /v3/pay/transactions/out-trade-no/{no}/close` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    pub mchid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestAmount {
    pub refund: u64,
    pub total: u64,
    pub currency: String,
}

/// `POST /v3/refund/domestic/refunds` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    pub out_refund_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    pub amount: RefundRequestAmount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Success,
    Closed,
    Processing,
    Abnormal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: u64,
    pub refund: u64,
    #[serde(default)]
    pub payer_total: u64,
    #[serde(default)]
    pub payer_refund: u64,
    #[serde(default = "cny")]
    pub currency: String,
}

/// A refund at the platform (answer of create and query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub user_received_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default)]
    pub create_time: String,
    pub status: RefundStatus,
    pub amount: RefundAmount,
}

/// The decrypted resource of a `REFUND.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: RefundStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default)]
    pub user_received_account: String,
    pub amount: RefundAmount,
}

/// `GET /v3/bill/tradebill` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLocation {
    pub hash_type: String,
    pub hash_value: String,
    pub download_url: String,
}

/// A non-2xx answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// The notification envelope (plaintext part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEnvelope {
    pub id: String,
    pub create_time: String,
    pub resource_type: String,
    pub event_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: EncryptedResource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    #[serde(default)]
    pub original_type: String,
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
}

/// The `AEAD_AES_256_GCM` algorithm name the envelope carries.
pub const RESOURCE_ALGORITHM: &str = "AEAD_AES_256_GCM";

/// Time as the platform writes it: RFC 3339 in China Standard Time.
pub fn platform_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// UTC+8, the platform's (and the hospital's) civil time; the daily bill's
/// day boundaries are in it.
pub fn cst() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("valid offset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_query_answer_parses() {
        // The shape of the platform's documented example (values changed).
        let s = r#"{"amount":{"currency":"CNY","payer_currency":"CNY","payer_total":1,"total":1},
        "appid":"wxdace645e0bc2cXXX","attach":"","bank_type":"OTHERS","mchid":"1900006XXX",
        "out_trade_no":"44_2126281063_5504","payer":{"openid":"o4GgauJP_mgWEWictzA15WT15XXX"},
        "promotion_detail":[],"success_time":"2021-03-22T10:29:05+08:00",
        "trade_state":"SUCCESS","trade_state_desc":"支付成功","trade_type":"NATIVE",
        "transaction_id":"4200000891202103228088184743"}"#;
        let t: Transaction = serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.trade_state, TradeState::Success);
        assert_eq!(t.amount.map(|a| a.total), Some(1));
        let n: Transaction = serde_json::from_str(
            r#"{"appid":"a","mchid":"m","out_trade_no":"o","trade_state":"NOTPAY","trade_state_desc":"未支付"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.trade_state, TradeState::Notpay);
        assert!(
            serde_json::from_str::<Transaction>(
                r#"{"appid":"a","mchid":"m","out_trade_no":"o","trade_state":"PAID"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn platform_time_is_cst() {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap_or_default();
        assert_eq!(platform_time(t), "1970-01-01T08:00:00+08:00");
    }
}
