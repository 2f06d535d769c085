//! Extra items a department suggests (加项, item 40): the room's
//! conclusions suggest items that look further (a fatty liver: the
//! elastography); the doctor adds them and the person pays in the room by
//! scanning the payment platform's QR on the doctor's screen, through the
//! same order machinery as the kiosk and the desk.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::payments::{OrderView, Requester, Viewer, create_order, state_for};

/// A suggested item as the department page offers it.
#[derive(Debug, Serialize)]
pub struct SuggestionView {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    /// The conclusion that suggests it, by name.
    pub because: String,
    pub reason: &'static str,
}

/// What `conclusions` (codes) suggest for a visit holding `have`.
pub(crate) fn suggestions(
    st: &AppState,
    conclusions: &[String],
    have: &[String],
) -> Vec<SuggestionView> {
    let cat = st.catalogue.get();
    let k = super::knowledge();
    exam_domain::results::history::suggest(conclusions, have)
        .into_iter()
        .filter_map(|s| {
            let item = cat.item(&s.item)?;
            Some(SuggestionView {
                code: s.item.clone(),
                name: item.name.clone(),
                price_fen: item.price_fen,
                because: k
                    .conclusion(&s.because)
                    .map_or(s.because.clone(), |c| c.name.clone()),
                reason: s.reason,
            })
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct ExtraIn {
    items: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct ExtraOut {
    added: Vec<String>,
    /// The platform's order for what is unpaid, its QR for the person to
    /// scan; None when the platform is not set up or down: pay at the desk.
    order: Option<OrderView>,
    pay_at_desk: Option<String>,
}

/// `POST /api/results/visits/{id}/extra-items`: adds the items (ones the
/// person's sex allows, not on the visit yet) unpaid, and makes the
/// platform order of the visit's unpaid items.
pub(super) async fn add(
    State(st): State<AppState>,
    u: SessionUser,
    Path(id): Path<i64>,
    Json(b): Json<ExtraIn>,
) -> Result<Json<ExtraOut>, ApiErr> {
    let bad = |m: String| ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_items", m);
    if b.items.is_empty() || b.items.len() > 10 {
        return Err(bad("请选择 1–10 个加项".into()));
    }
    let v = st.db.visit(id).await?;
    let cat = st.catalogue.get();
    let mut items = Vec::new();
    for code in &b.items {
        let item = cat
            .item(code)
            .ok_or_else(|| bad(format!("没有这个项目：{code}")))?;
        if !item.sex.allows(v.record.person.sex) {
            return Err(bad(format!("{} 不适用于此人", item.name)));
        }
        if v.items.iter().any(|i| &i.code == code) {
            return Err(bad(format!("{} 已在单上", item.name)));
        }
        items.push((code.clone(), item.price_fen));
    }
    st.db.add_items(&u.username, id, &items, false).await?;
    let (order, pay_at_desk) = match create_order(
        &st,
        Requester::Desk {
            username: &u.username,
        },
        &[id],
    )
    .await
    {
        Ok(o) => (Some(o), None),
        Err(e) => (
            None,
            Some(format!("{}：请到前台缴费", ApiErr::from(e).body.message)),
        ),
    };
    Ok(Json(ExtraOut {
        added: b.items,
        order,
        pay_at_desk,
    }))
}

/// `GET /api/results/payments/{no}`: the order the doctor made.
pub(super) async fn state(
    State(st): State<AppState>,
    u: SessionUser,
    Path(no): Path<String>,
) -> Result<Json<OrderView>, ApiErr> {
    Ok(Json(state_for(&st, Viewer::Desk(&u.username), &no).await?))
}

/// `GET /api/results/payments/{no}/qr.png`: its QR for the room's screen.
pub(super) async fn qr(
    State(st): State<AppState>,
    u: SessionUser,
    Path(no): Path<String>,
) -> Result<Response, ApiErr> {
    let o = state_for(&st, Viewer::Desk(&u.username), &no).await?;
    Ok(crate::staff_auth::totp::qr_response(o.code_url.as_deref()))
}
