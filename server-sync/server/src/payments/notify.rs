//! The platform's asynchronous notifications (`POST /pay/notify`, public:
//! the platform's RSA signature over timestamp, nonce and body is the
//! credential). Verified and decrypted by the gateway, logged once per
//! notification id, applied under the order's row lock; answered 2xx only
//! once stored, so anything else makes the platform send it again.
//! Duplicates and out-of-order notifications are normal and change nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use exam_payment::crypto::SignedHeaders;
use exam_payment::notify::Notification;

use super::service::{PayError, apply_transaction};
use super::store;
use crate::AppState;

/// The platform reads `{"code":"FAIL","message":...}` on a refusal.
fn fail(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "code": "FAIL", "message": message })),
    )
        .into_response()
}

pub(super) async fn receive(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(gw) = st.payments.gateway() else {
        return fail(StatusCode::NOT_FOUND, "payment not configured");
    };
    let opened =
        SignedHeaders::from_header_map(&headers).and_then(|h| gw.parse_notification(&h, &body));
    let n = match opened {
        Ok(n) => n,
        Err(e) => {
            // Forged, tampered or replayed: refused, and a security event.
            tracing::warn!(error = %e, "payment notification refused");
            let _ = st
                .db
                .audit_event(
                    &crate::audit::AuditEvent::new(
                        crate::audit::Category::Security,
                        "payment:platform",
                        "payment.notify_refused",
                    )
                    .detail(e.to_string())
                    .denied(),
                )
                .await;
            return fail(StatusCode::UNAUTHORIZED, "signature");
        }
    };
    match apply(&st, &n).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        // An order we never made: logged; the bill lists it as a difference.
        Err(PayError::NotFound) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "payment notification not stored: the platform sends it again");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "not stored")
        }
    }
}

async fn apply(st: &AppState, n: &Notification) -> Result<(), PayError> {
    let now = Utc::now();
    match n {
        Notification::Payment { id, transaction } => {
            let mut tx = st.db.pool.begin().await?;
            store::log_notification(&mut tx, id, "payment", &transaction.out_trade_no, None, now)
                .await?;
            tx.commit().await?;
            let outcome = match apply_transaction(st, transaction, "notification").await {
                Ok(a) => format!("{a:?}"),
                Err(PayError::NotFound) => "unknown_order".into(),
                Err(e) => return Err(e),
            };
            let mut tx = st.db.pool.begin().await?;
            store::notification_outcome(&mut tx, id, &outcome).await?;
            tx.commit().await?;
        }
        Notification::Refund { id, refund } => {
            let mut tx = st.db.pool.begin().await?;
            store::log_notification(
                &mut tx,
                id,
                "refund",
                &refund.out_trade_no,
                Some(&refund.out_refund_no),
                now,
            )
            .await?;
            let outcome = if store::lock(&mut tx, &refund.out_trade_no).await? {
                let mut s = store::load(&mut tx, &refund.out_trade_no)
                    .await?
                    .ok_or(PayError::NotFound)?;
                match s.order.apply_refund(
                    &refund.out_refund_no,
                    refund.refund_status,
                    refund.amount.refund,
                    &refund.refund_id,
                    refund.success_time.as_deref(),
                ) {
                    Ok(a) => {
                        store::save(&mut tx, &s.order, now, None).await?;
                        format!("{a:?}")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "refund notification refused");
                        format!("refused: {e}")
                    }
                }
            } else {
                "unknown_order".into()
            };
            store::notification_outcome(&mut tx, id, &outcome).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}
