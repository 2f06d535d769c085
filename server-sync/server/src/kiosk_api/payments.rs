//! K16 at the kiosk: pay the chosen bookings through the platform. The
//! service computes the amount and makes the order (`crate::payments`);
//! the kiosk shows the QR content and asks for the state. Bookings of
//! another campus or person are answered as unknown.

use axum::Json;
use axum::extract::State;
use exam_protocol::{PaymentOrder, PaymentRef, PaymentRequest};

use super::SignedJson;
use crate::AppState;
use crate::error::ApiErr;
use crate::payments::{cancel_for_kiosk, create_for_kiosk, state_for_kiosk};

pub(super) async fn create(
    State(st): State<AppState>,
    SignedJson { kiosk, body }: SignedJson<PaymentRequest>,
) -> Result<Json<PaymentOrder>, ApiErr> {
    // E15: in emergency mode the patient pays at the desk; the platform is
    // not asked (it may be what is away).
    if let Some(why) = crate::emergency::kiosk_payment_refused(&st).await? {
        return Err(crate::payments::PayError::Unavailable(why).into());
    }
    Ok(Json(
        create_for_kiosk(&st, &kiosk, &body.id_number, &body.bookings).await?,
    ))
}

pub(super) async fn state(
    State(st): State<AppState>,
    SignedJson { kiosk, body }: SignedJson<PaymentRef>,
) -> Result<Json<PaymentOrder>, ApiErr> {
    Ok(Json(
        state_for_kiosk(&st, &kiosk, &body.out_trade_no).await?,
    ))
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    SignedJson { kiosk, body }: SignedJson<PaymentRef>,
) -> Result<Json<PaymentOrder>, ApiErr> {
    Ok(Json(
        cancel_for_kiosk(&st, &kiosk, &body.out_trade_no).await?,
    ))
}
