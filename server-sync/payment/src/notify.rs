//! Asynchronous notifications (支付/退款结果通知): verify the platform's
//! signature over the exact body bytes, then decrypt the resource. The
//! merchant answers 2xx only after the result is durably applied; anything
//! else makes the platform send it again (so duplicates are normal).

use crate::crypto::{ApiV3Key, PlatformVerifier, SignedHeaders};
use crate::error::NotifyError;
use crate::model::{NotificationEnvelope, RESOURCE_ALGORITHM, RefundNotice, Transaction};

/// What a verified notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `TRANSACTION.SUCCESS`.
    Payment {
        id: String,
        transaction: Transaction,
    },
    /// `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`.
    Refund { id: String, refund: RefundNotice },
}

impl Notification {
    /// The platform's notification id (same on every resend).
    pub fn id(&self) -> &str {
        match self {
            Self::Payment { id, .. } | Self::Refund { id, .. } => id,
        }
    }
}

/// Body size above which a notification is refused unread (real ones are ~1 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// Verify and open one notification. `now` is unix seconds.
pub fn parse_notification(
    headers: &SignedHeaders,
    body: &[u8],
    verifier: &PlatformVerifier,
    key: &ApiV3Key,
    now: i64,
) -> Result<Notification, NotifyError> {
    if body.len() > MAX_BODY {
        return Err(NotifyError::Malformed("body too large".into()));
    }
    let body = std::str::from_utf8(body)
        .map_err(|_| NotifyError::Malformed("body is not UTF-8".into()))?;
    // Signature first: nothing of an unauthenticated body is looked at.
    verifier.verify(headers, body, now)?;
    open_verified(body, key)
}

/// The part after the signature check (split out so the fuzz target can
/// reach the JSON and decryption paths without forging signatures).
pub fn open_verified(body: &str, key: &ApiV3Key) -> Result<Notification, NotifyError> {
    let env: NotificationEnvelope =
        serde_json::from_str(body).map_err(|e| NotifyError::Malformed(format!("envelope: {e}")))?;
    if env.resource_type != "encrypt-resource" {
        return Err(NotifyError::Malformed(format!(
            "resource_type {}",
            env.resource_type
        )));
    }
    let r = &env.resource;
    if r.algorithm != RESOURCE_ALGORITHM {
        return Err(NotifyError::Algorithm(r.algorithm.clone()));
    }
    let plain = key.decrypt(&r.associated_data, &r.nonce, &r.ciphertext)?;
    if env.event_type.starts_with("TRANSACTION.") {
        let transaction: Transaction = serde_json::from_slice(&plain)
            .map_err(|e| NotifyError::Malformed(format!("transaction: {e}")))?;
        Ok(Notification::Payment {
            id: env.id,
            transaction,
        })
    } else if env.event_type.starts_with("REFUND.") {
        let refund: RefundNotice = serde_json::from_slice(&plain)
            .map_err(|e| NotifyError::Malformed(format!("refund: {e}")))?;
        Ok(Notification::Refund { id: env.id, refund })
    } else {
        Err(NotifyError::EventType(env.event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{PlatformSigner, generate_rsa_key};
    use crate::model::{EncryptedResource, TradeState};

    fn envelope(key: &ApiV3Key, event: &str, ad: &str, plain: &str) -> String {
        let nonce = "abcdefghijkl";
        let ct = key
            .encrypt(ad, nonce, plain.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        serde_json::to_string(&NotificationEnvelope {
            id: "EV-1".into(),
            create_time: "2026-12-05T10:00:00+08:00".into(),
            resource_type: "encrypt-resource".into(),
            event_type: event.into(),
            summary: "支付成功".into(),
            resource: EncryptedResource {
                original_type: "transaction".into(),
                algorithm: RESOURCE_ALGORITHM.into(),
                ciphertext: ct,
                associated_data: ad.into(),
                nonce: nonce.into(),
            },
        })
        .unwrap_or_default()
    }

    #[test]
    fn verified_payment_opens_and_tampering_is_refused() {
        let rsa = generate_rsa_key().unwrap_or_else(|e| panic!("{e}"));
        let signer = PlatformSigner::new("PUB_KEY_ID_X", rsa.clone());
        let verifier = PlatformVerifier::new("PUB_KEY_ID_X", rsa.to_public_key());
        let (key, _) = ApiV3Key::generate();
        let tx = r#"{"appid":"wx1","mchid":"m1","out_trade_no":"P1","transaction_id":"42","trade_state":"SUCCESS","trade_state_desc":"ok","amount":{"total":100,"currency":"CNY"}}"#;
        let body = envelope(&key, "TRANSACTION.SUCCESS", "transaction", tx);
        let h = signer.sign(&body, 5000);
        let n = parse_notification(&h, body.as_bytes(), &verifier, &key, 5000)
            .unwrap_or_else(|e| panic!("{e}"));
        match n {
            Notification::Payment { transaction, .. } => {
                assert_eq!(transaction.trade_state, TradeState::Success);
                assert_eq!(transaction.out_trade_no, "P1");
            }
            other => panic!("{other:?}"),
        }
        // One byte changed in the body: signature fails before decryption.
        let tampered = body.replace("EV-1", "EV-2");
        assert_eq!(
            parse_notification(&h, tampered.as_bytes(), &verifier, &key, 5000),
            Err(NotifyError::BadSignature)
        );
        // Signed correctly but sealed with another APIv3 key.
        let (other, _) = ApiV3Key::generate();
        assert_eq!(
            parse_notification(&h, body.as_bytes(), &verifier, &other, 5000),
            Err(NotifyError::Decrypt)
        );
        // An unknown event is an error, not silently accepted.
        let odd = envelope(&key, "COUPON.USE", "x", "{}");
        assert!(matches!(
            open_verified(&odd, &key),
            Err(NotifyError::EventType(_))
        ));
    }

    #[test]
    fn missing_header_is_named() {
        let r = SignedHeaders::from_pairs([("Wechatpay-Timestamp", "1"), ("wechatpay-nonce", "n")]);
        assert_eq!(r, Err(NotifyError::MissingHeader("Wechatpay-Signature")));
    }
}
