//! Routes: the campuses' day figures (`/figures`, finance and the
//! administrator: `Capability::ReconcilePayments`), as a page, JSON and a
//! CSV for Excel. Sums only: no name, number or visit is shown.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::{CampusDay, DayFigures, Method, day_figures, store, to_csv, yuan};
use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Capability::ReconcilePayments as R;
    t.get("/figures", Access::Can(R), page)
        .get("/api/figures", Access::Can(R), json)
        .get("/api/figures.csv", Access::Can(R), csv);
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    /// The business day (default: today, the centre's date).
    day: Option<NaiveDate>,
}

/// The day's figures for every campus of the catalogue.
pub async fn figures(st: &AppState, day: NaiveDate) -> Result<DayFigures, ApiErr> {
    let campuses: Vec<(String, String)> = st
        .catalogue
        .get()
        .campuses
        .iter()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let ledger = store::day_ledger(&st.db, day).await?;
    let (visits, owed) = store::day_visits(&st.db, &st.catalogue.get().campus_codes(), day).await?;
    Ok(day_figures(day, &campuses, &ledger, &visits, &owed))
}

fn day_of(q: &DayQuery) -> NaiveDate {
    q.day.unwrap_or_else(crate::queue::today)
}

async fn json(
    State(st): State<AppState>,
    Query(q): Query<DayQuery>,
) -> Result<Json<DayFigures>, ApiErr> {
    Ok(Json(figures(&st, day_of(&q)).await?))
}

async fn csv(State(st): State<AppState>, Query(q): Query<DayQuery>) -> Result<Response, ApiErr> {
    let f = figures(&st, day_of(&q)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"figures-{}.csv\"", f.day),
            ),
        ],
        to_csv(&f),
    )
        .into_response())
}

/// A row of the page: a campus or the total, amounts in yuan.
struct Row {
    campus: String,
    name: String,
    total: bool,
    booked: i64,
    arrived: i64,
    cancelled: i64,
    group_visits: i64,
    charges: i64,
    charged: Vec<String>,
    refunds: i64,
    refunded: Vec<String>,
    net: String,
    outstanding: String,
}

fn row(d: &CampusDay, total: bool) -> Row {
    Row {
        campus: d.campus.clone(),
        name: d.name.clone(),
        total,
        booked: d.booked,
        arrived: d.arrived,
        cancelled: d.cancelled,
        group_visits: d.group_visits,
        charges: d.charges,
        charged: Method::ALL.iter().map(|m| yuan(d.charged_fen[m])).collect(),
        refunds: d.refunds,
        refunded: Method::ALL
            .iter()
            .map(|m| yuan(d.refunded_fen[m]))
            .collect(),
        net: yuan(d.net_fen),
        outstanding: yuan(d.outstanding_fen),
    }
}

#[derive(Template)]
#[template(path = "figures.html")]
struct FiguresPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    watermark: String,
    day: NaiveDate,
    methods: Vec<&'static str>,
    rows: Vec<Row>,
}

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<DayQuery>,
) -> Result<Response, ApiErr> {
    let f = figures(&st, day_of(&q)).await?;
    let mut rows: Vec<Row> = f.campuses.iter().map(|d| row(d, false)).collect();
    rows.push(row(&f.total, true));
    Ok(crate::workflow::render(&FiguresPage {
        day: f.day,
        methods: Method::ALL.iter().map(|m| m.label_zh()).collect(),
        rows,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}
