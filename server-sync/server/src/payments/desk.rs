//! The desk takes money through the platform too (I4): the cashier asks
//! for the order of a visit's unpaid items, the desk's screen shows the
//! platform's QR code, the patient scans it with their phone, and the desk
//! polls the order until the platform (its notification, or the job's
//! query) says paid. The amount comes from the store, as for a kiosk; the
//! same order machinery applies every fact, so a visit paid at the desk
//! and at a kiosk at once is charged once (the second payment finds its
//! items paid and is refunded).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;

use super::service::{Requester, Viewer, cancel_for, create_order, state_for};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::TakePayment as P;
    t.post(
        "/api/desk/visits/{id}/platform-order",
        Access::Can(P),
        create,
    )
    .get("/api/desk/payments/{no}", Access::Can(P), state)
    .get("/api/desk/payments/{no}/qr.png", Access::Can(P), qr)
    .post("/api/desk/payments/{no}/cancel", Access::Can(P), cancel);
}

/// The order of the visit's unpaid items (the open one again if there is
/// one for exactly these items).
async fn create(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Json<super::OrderView>, ApiErr> {
    let who = Requester::Desk {
        username: &user.username,
    };
    Ok(Json(create_order(&st, who, &[id]).await?))
}

/// A campus-bound account (E14) follows its campus's visits' orders only
/// (the route gate cannot: the path names an order, not a visit).
async fn served(st: &AppState, user: &SessionUser, no: &str, what: &str) -> Result<(), ApiErr> {
    if user.campus.is_none() {
        return Ok(());
    }
    // No such order: `state_for` answers that.
    let Some(order) = super::store::load_one(&st.db, no).await? else {
        return Ok(());
    };
    let ids: Vec<i64> = order.items.iter().map(|(id, _, _)| *id).collect();
    let (campuses, _) = st.db.booking_campuses(&ids, &[]).await?;
    user.must_serve(st, campuses.values().map(String::as_str), what)
        .await
}

async fn state(
    State(st): State<AppState>,
    user: SessionUser,
    Path(no): Path<String>,
) -> Result<Json<super::OrderView>, ApiErr> {
    served(&st, &user, &no, "GET /api/desk/payments/{no}").await?;
    Ok(Json(
        state_for(&st, Viewer::Desk(&user.username), &no).await?,
    ))
}

/// The order's `code_url` as a QR code for the desk's screen.
async fn qr(
    State(st): State<AppState>,
    user: SessionUser,
    Path(no): Path<String>,
) -> Result<Response, ApiErr> {
    served(&st, &user, &no, "GET /api/desk/payments/{no}/qr.png").await?;
    let o = state_for(&st, Viewer::Desk(&user.username), &no).await?;
    Ok(crate::staff_auth::totp::qr_response(o.code_url.as_deref()))
}

/// The patient will not pay this way: the order is closed at the platform
/// (a payment made meanwhile is applied instead).
async fn cancel(
    State(st): State<AppState>,
    user: SessionUser,
    Path(no): Path<String>,
) -> Result<Json<super::OrderView>, ApiErr> {
    served(&st, &user, &no, "POST /api/desk/payments/{no}/cancel").await?;
    Ok(Json(
        cancel_for(&st, Viewer::Desk(&user.username), &no).await?,
    ))
}
