//! Routes: the platform's notifications (public), and the finance page
//! with its JSON (`Capability::ReconcilePayments`): reconciliation runs,
//! each with its differences, and running a day again.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::Row;

use super::recon::{DiffRow, RunRow, differences, run, runs};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::ReconcilePayments as R;
    t.post(super::NOTIFY_PATH, Access::Public, super::notify::receive)
        .get("/payments", Access::Can(R), page)
        .get("/api/payments/reconciliations", Access::Can(R), runs_json)
        .post("/api/payments/reconciliations", Access::Can(R), reconcile)
        .get(
            "/api/payments/reconciliations/{id}",
            Access::Can(R),
            diffs_json,
        );
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    available: bool,
    open: i64,
    paid: i64,
    refunds_pending: i64,
    runs: Vec<RunRow>,
    diffs: Vec<DiffRow>,
    bill_time: String,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    run: Option<i64>,
}

async fn count(st: &AppState, sql: &'static str) -> Result<i64, ApiErr> {
    let r = sqlx::query(sql)
        .fetch_one(&st.db.pool)
        .await
        .map_err(crate::db::DbError::from)?;
    Ok(r.try_get::<i64, _>(0).map_err(crate::db::DbError::from)?)
}

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiErr> {
    let runs = runs(&st, 60).await?;
    let selected = q.run.or_else(|| runs.first().map(|r| r.id));
    let diffs = match selected {
        Some(id) => differences(&st, id).await?,
        None => Vec::new(),
    };
    Ok(crate::workflow::render(&PaymentsPage {
        available: st.payments.available(),
        open: count(&st, "SELECT CAST(COUNT(*) AS BIGINT) FROM payment_orders WHERE state IN ('created', 'paying')").await?,
        paid: count(&st, "SELECT CAST(COUNT(*) AS BIGINT) FROM payment_orders WHERE state IN ('paid', 'partially_refunded', 'refunded')").await?,
        refunds_pending: count(&st, "SELECT CAST(COUNT(*) AS BIGINT) FROM payment_refunds WHERE state IN ('requested', 'processing', 'abnormal')").await?,
        runs,
        diffs,
        bill_time: st.payments.settings.bill_time.format("%H:%M").to_string(),
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}

async fn runs_json(State(st): State<AppState>) -> Result<Json<Vec<RunRow>>, ApiErr> {
    Ok(Json(runs(&st, 200).await?))
}

async fn diffs_json(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DiffRow>>, ApiErr> {
    Ok(Json(differences(&st, id).await?))
}

#[derive(Debug, Deserialize)]
struct DayBody {
    day: NaiveDate,
}

#[derive(Debug, serde::Serialize)]
struct Ran {
    run: RunRow,
    differences: Vec<DiffRow>,
}

async fn reconcile(
    State(st): State<AppState>,
    u: SessionUser,
    Json(b): Json<DayBody>,
) -> Result<Json<Ran>, ApiErr> {
    let (run, differences) = run(&st, b.day, &u.username).await?;
    Ok(Json(Ran { run, differences }))
}
