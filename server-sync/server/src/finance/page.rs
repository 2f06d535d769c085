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
use crate::workflow::bad;

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
    /// Or the first and last days of a period (both given).
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The longest period one request sums: a year and a day.
const MAX_DAYS: i64 = 366;

/// The days asked for: `from..=to`, or the one `day`, or today.
fn period_of(q: &DayQuery) -> Result<(NaiveDate, NaiveDate), ApiErr> {
    match (q.from, q.to) {
        (Some(from), Some(to)) if from <= to && (to - from).num_days() < MAX_DAYS => Ok((from, to)),
        (Some(_), Some(_)) => Err(bad(
            "period",
            format!("起止日期须先起后止，且不超过 {MAX_DAYS} 天"),
        )),
        (None, None) => {
            let day = q.day.unwrap_or_else(crate::queue::today);
            Ok((day, day))
        }
        _ => Err(bad("period", "请同时填写起止日期")),
    }
}

/// The figures of `period` for every campus of the catalogue, or for the
/// one campus a campus-bound account works for (E14: each campus's
/// finance apart; the group's total is the central accounts').
pub async fn figures(
    st: &AppState,
    u: &SessionUser,
    period: (NaiveDate, NaiveDate),
) -> Result<DayFigures, ApiErr> {
    let cat = st.catalogue.get();
    let campuses: Vec<(String, String)> = cat
        .campuses
        .iter()
        .filter(|c| u.sees_campus(&c.code))
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let codes: Vec<String> = campuses.iter().map(|(c, _)| c.clone()).collect();
    let mut ledger = store::day_ledger(&st.db, period.0, period.1).await?;
    ledger.retain(|l| u.sees_campus(&l.campus));
    let (visits, owed) = store::day_visits(&st.db, &codes, period.0, period.1).await?;
    Ok(day_figures(period, &campuses, &ledger, &visits, &owed))
}

async fn json(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<DayQuery>,
) -> Result<Json<DayFigures>, ApiErr> {
    Ok(Json(figures(&st, &u, period_of(&q)?).await?))
}

async fn csv(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<DayQuery>,
) -> Result<Response, ApiErr> {
    let f = figures(&st, &u, period_of(&q)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"figures-{}.csv\"", f.period()),
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
    last_day: NaiveDate,
    /// The one campus of a campus-bound account.
    campus: Option<String>,
    methods: Vec<&'static str>,
    rows: Vec<Row>,
}

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(q): Query<DayQuery>,
) -> Result<Response, ApiErr> {
    let f = figures(&st, &u, period_of(&q)?).await?;
    let mut rows: Vec<Row> = f.campuses.iter().map(|d| row(d, false)).collect();
    // A campus-bound account's one campus is its total.
    if u.campus.is_none() {
        rows.push(row(&f.total, true));
    }
    Ok(crate::workflow::render(&FiguresPage {
        day: f.day,
        last_day: f.last_day,
        campus: u
            .campus
            .as_deref()
            .map(|c| st.catalogue.get().campus_name(c).to_string()),
        methods: Method::ALL.iter().map(|m| m.label_zh()).collect(),
        rows,
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::html(&u.username),
        username: u.username,
        csrf: u.csrf,
    }))
}
