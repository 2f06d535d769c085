//! A visit's items after booking (E4): additions, removals, refunds, make-ups,
//! deferrals and waivers (with the patient's signature), payment at the
//! desk, and the photo the kiosk took at check-in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use exam_domain::changes::ItemChange;
use serde::Deserialize;

use super::check_additions;
use super::views::{ItemChanged, Paid, VisitView};
use crate::AppState;
use crate::db::{SessionUser, VisitKind};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::workflow::bad;

#[derive(Debug, Deserialize)]
pub(super) struct AddIn {
    add: Vec<String>,
}

pub(super) async fn add_items(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<AddIn>,
) -> Result<Json<VisitView>, ApiErr> {
    let v = st.db.visit(id).await?;
    let cat = st.catalogue.get();
    let priced = check_additions(&cat, &v, v.marital, &r.add)?;
    let v = st
        .db
        .add_items(&user.username, id, &priced, v.kind == VisitKind::Group)
        .await?;
    Ok(Json(VisitView::new(&cat, &v)))
}

#[derive(Debug, Deserialize)]
pub(super) struct ChangeIn {
    change: String,
    /// Base64 PNG, for a waiver.
    signature_png: Option<String>,
}

fn change_of(r: ChangeIn) -> Result<ItemChange, ApiErr> {
    Ok(match r.change.as_str() {
        "remove" => ItemChange::Remove,
        "refund" => ItemChange::Refund,
        "make_up" => ItemChange::MakeUp,
        "deferred" => ItemChange::Deferred,
        "restore" => ItemChange::Restore,
        "waive" => {
            // A whole PNG that decodes, within a size cap (item 10).
            let png = crate::uploads::signature_png(&r.signature_png.unwrap_or_default())
                .map_err(|e| bad("signature", e.to_string()))?;
            ItemChange::Waive { signature_png: png }
        }
        other => return Err(bad("change", format!("未知的修改 {other:?}"))),
    })
}

pub(super) async fn change_item(
    State(st): State<AppState>,
    user: SessionUser,
    Path((id, code)): Path<(i64, String)>,
    Json(r): Json<ChangeIn>,
) -> Result<Json<ItemChanged>, ApiErr> {
    let change = change_of(r)?;
    // Money back is the cashier's, not every role that may change items.
    if matches!(change, ItemChange::Refund) {
        user.require(Capability::Refund)?;
    }
    let kind_group = st.db.visit(id).await?.kind == VisitKind::Group;
    let (v, refund_fen) = st
        .db
        .change_item(&user.username, id, &code, &change, kind_group)
        .await?;
    Ok(Json(ItemChanged {
        visit: VisitView::new(&st.catalogue.get(), &v),
        refund_fen,
    }))
}

pub(super) async fn signature(
    State(st): State<AppState>,
    user: SessionUser,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, ApiErr> {
    match st.db.signature(&user.username, id, &code).await? {
        Some(png) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response()),
        None => Err(ApiErr::new(StatusCode::NOT_FOUND, "not_found", "没有签名")),
    }
}

/// The photo taken (or the ID card's) at the kiosk check-in, for the desk
/// to see who is who (K6); each view is audited. 404 when there is none,
/// with what the patient chose.
pub(super) async fn photo(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiErr> {
    match st.db.visit_photo(id, &user.username).await? {
        Some(crate::db::VisitPhoto { png: Some(png), .. }) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            png,
        )
            .into_response()),
        Some(p) => Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "no_photo",
            match p.outcome.as_str() {
                "declined" => "患者未同意拍照",
                // PIPL: consent withdrawn (or refused later): the photo was deleted.
                "withdrawn" => "患者已撤回拍照授权，照片已删除",
                _ => "患者跳过了拍照",
            },
        )),
        None => Err(ApiErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "没有自助机照片",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PayIn {
    method: String,
}

pub(super) async fn pay(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<PayIn>,
) -> Result<Json<Paid>, ApiErr> {
    // The desk's own ways; the platform's is its QR order, not this.
    let method = crate::finance::Method::parse(&r.method)
        .filter(|m| *m != crate::finance::Method::Platform)
        .ok_or_else(|| bad("method", "收费方式须为 cash / card / wechat / alipay"))?;
    let (v, paid_fen, emergency) = st.db.mark_paid(&user.username, id, method).await?;
    Ok(Json(Paid {
        visit: VisitView::new(&st.catalogue.get(), &v),
        paid_fen,
        emergency,
    }))
}
