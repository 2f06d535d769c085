//! Notification delivery: each event is sealed (AES-256-GCM with the APIv3
//! key), signed, and POSTed to the merchant's notify_url until it answers
//! 2xx or the schedule runs out — with the seeded faults: lost, duplicated,
//! held back (reordered), first attempt badly signed.

use std::sync::Arc;

use chrono::Utc;

use super::Sim;
use crate::crypto::{PlatformSigner, gcm_nonce_str};
use crate::model::{
    EncryptedResource, NotificationEnvelope, RESOURCE_ALGORITHM, RefundNotice, RefundStatus,
    Transaction, platform_time,
};

pub struct Event {
    url: String,
    event_type: &'static str,
    summary: &'static str,
    original_type: &'static str,
    plaintext: String,
}

impl Event {
    pub fn payment(t: &Transaction, url: String) -> Self {
        Self {
            url,
            event_type: "TRANSACTION.SUCCESS",
            summary: "支付成功",
            original_type: "transaction",
            plaintext: serde_json::to_string(t).unwrap_or_default(),
        }
    }

    pub fn refund(r: RefundNotice, url: String) -> Self {
        let (event_type, summary) = match r.refund_status {
            RefundStatus::Success => ("REFUND.SUCCESS", "退款成功"),
            RefundStatus::Closed => ("REFUND.CLOSED", "退款关闭"),
            _ => ("REFUND.ABNORMAL", "退款异常"),
        };
        Self {
            url,
            event_type,
            summary,
            original_type: "refund",
            plaintext: serde_json::to_string(&r).unwrap_or_default(),
        }
    }
}

/// Build one signed delivery (fresh nonce and timestamp per attempt, as the
/// platform does). Returns the body and its signature headers.
pub fn seal(
    sim: &Sim,
    id: &str,
    ev: &Event,
    corrupt: bool,
) -> Option<(String, crate::crypto::SignedHeaders)> {
    let nonce = gcm_nonce_str();
    let ciphertext = sim
        .keys
        .apiv3_key
        .encrypt(ev.original_type, &nonce, ev.plaintext.as_bytes())
        .ok()?;
    let body = serde_json::to_string(&NotificationEnvelope {
        id: id.to_string(),
        create_time: platform_time(Utc::now()),
        resource_type: "encrypt-resource".into(),
        event_type: ev.event_type.into(),
        summary: ev.summary.into(),
        resource: EncryptedResource {
            original_type: ev.original_type.into(),
            algorithm: RESOURCE_ALGORITHM.into(),
            ciphertext,
            associated_data: ev.original_type.into(),
            nonce,
        },
    })
    .ok()?;
    let signer = PlatformSigner::new(
        sim.keys.id.platform_key_id.clone(),
        sim.keys.platform_key.clone(),
    );
    let signed_over = if corrupt {
        format!("{body}x")
    } else {
        body.clone()
    };
    Some((body, signer.sign(&signed_over, Utc::now().timestamp())))
}

async fn deliver(sim: &Sim, id: &str, ev: &Event, corrupt: bool) -> bool {
    let Some((body, h)) = seal(sim, id, ev, corrupt) else {
        return false;
    };
    sim.stat(|s| s.notify_attempts += 1);
    let r = sim
        .http
        .post(&ev.url)
        .header("content-type", "application/json")
        .header("wechatpay-timestamp", h.timestamp)
        .header("wechatpay-nonce", h.nonce)
        .header("wechatpay-signature", h.signature)
        .header("wechatpay-serial", h.serial)
        .header(
            "wechatpay-signature-type",
            h.signature_type.unwrap_or_default(),
        )
        .body(body)
        .send()
        .await;
    let ok = r.is_ok_and(|r| r.status().is_success());
    sim.stat(|s| {
        if ok {
            s.notify_acked += 1
        } else {
            s.notify_refused += 1
        }
    });
    ok
}

/// Send `ev` in the background under the configured faults.
pub fn enqueue(sim: Arc<Sim>, ev: Event) {
    let f = sim.cfg.faults.clone();
    let lost = sim.chance(f.notify_lost);
    let duplicate = sim.chance(f.notify_duplicate);
    let reorder = sim.chance(f.notify_reorder);
    let mut corrupt_first = sim.chance(f.notify_bad_signature);
    if lost {
        sim.stat(|s| s.notify_lost += 1);
        return;
    }
    let id = format!("EV-{}", sim.ledger().token());
    tokio::spawn(async move {
        if reorder {
            tokio::time::sleep(sim.cfg.reorder_delay).await;
        }
        let mut delivered = false;
        let waits = sim.cfg.notify_backoff.clone();
        for attempt in 0..=waits.len() {
            if deliver(&sim, &id, &ev, corrupt_first).await {
                delivered = true;
                break;
            }
            corrupt_first = false;
            if let Some(w) = waits.get(attempt) {
                tokio::time::sleep(*w).await;
            }
        }
        if !delivered {
            sim.stat(|s| s.notify_given_up += 1);
            return;
        }
        if duplicate {
            deliver(&sim, &id, &ev, false).await;
        }
    });
}
