//! The front-desk and group-desk pages: server-rendered shells whose script
//! (`static/desk.js`, `static/groups.js`) talks to the JSON API. Signed-out
//! staff are sent to the login page like everywhere else.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::db::SessionUser;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::{Can, Visit};
    use Capability::*;
    t.get("/desk", Can(UseDeskPage), desk)
        .get("/groups", Can(UseGroupPage), groups)
        .get("/admin", Can(UseAdminPage), admin)
        .get(
            "/desk/visits/{id}/print",
            Visit {
                any: PrintDocuments,
                group: ServeGroupVisits,
            },
            print_visit,
        )
        .get(
            "/desk/visits/{id}/phone-qr.png",
            Visit {
                any: PrintDocuments,
                group: ServeGroupVisits,
            },
            phone_qr,
        );
}

/// The printed sheet's QR of the person's phone page (Q6); 404 without
/// `public_url`.
async fn phone_qr(State(st): State<AppState>, Path(id): Path<i64>) -> Response {
    crate::staff_auth::totp::qr_response(crate::queue::phone_url(&st, id).as_deref())
}

/// What the page shells need: the package list and the campuses for the
/// selects, and the user's CSRF token for the script.
pub struct Choice {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    /// Where the search box asks: every patient, or group members only.
    search_url: &'static str,
    group_only: bool,
    /// The visit's details link to the person's-rights page (PIPL).
    rights: bool,
    /// Reports in batches: by company (group book, pickup slip) or date.
    reports: bool,
    packages: Vec<Choice>,
    campuses: Vec<Choice>,
    today: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    /// What a new account may be bound to.
    campuses: Vec<Choice>,
    /// S8: the current alarms, most severe first.
    alarms: Vec<crate::alarms::AlarmView>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    packages: Vec<Choice>,
    campuses: Vec<Choice>,
    today: String,
}

/// The packages, and the campuses `u` works for (a campus-bound account's
/// one: E14).
fn choices(st: &AppState, u: &SessionUser) -> (Vec<Choice>, Vec<Choice>) {
    let cat = st.catalogue.get();
    (
        cat.packages
            .iter()
            .map(|p| Choice {
                code: p.code.clone(),
                name: format!("{}（¥{:.2}）", p.name, p.price_fen as f64 / 100.0),
            })
            .collect(),
        campus_choices(&cat, |c| u.sees_campus(c)),
    )
}

pub(crate) fn campus_choices(
    cat: &exam_domain::Catalogue,
    keep: impl Fn(&str) -> bool,
) -> Vec<Choice> {
    cat.campuses
        .iter()
        .filter(|c| keep(&c.code))
        .map(|c| Choice {
            code: c.code.clone(),
            name: c.name.clone(),
        })
        .collect()
}

/// A page, or a 500 (logged) when its template fails.
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn desk(State(st): State<AppState>, u: SessionUser) -> Response {
    let (packages, campuses) = choices(&st, &u);
    let group_only = !u.role.may(Capability::SearchPatients);
    render(&DeskPage {
        search_url: if group_only {
            "/api/group/members/search"
        } else {
            "/api/desk/search"
        },
        group_only,
        rights: u.role.may(Capability::ServeDataRights),
        reports: u.role.may(Capability::HandleReports),
        nav: crate::roles::Nav::of(u.role),
        username: u.username,
        csrf: u.csrf,
        packages,
        campuses,
        today: super::now_local().date().to_string(),
    })
}

async fn groups(State(st): State<AppState>, u: SessionUser) -> Response {
    let (packages, campuses) = choices(&st, &u);
    render(&GroupsPage {
        nav: crate::roles::Nav::of(u.role),
        username: u.username,
        csrf: u.csrf,
        packages,
        campuses,
        today: super::now_local().date().to_string(),
    })
}

async fn admin(State(st): State<AppState>, u: SessionUser) -> Response {
    render(&AdminPage {
        campuses: campus_choices(&st.catalogue.get(), |_| true),
        alarms: crate::alarms::current(&st).await,
        nav: crate::roles::Nav::of(u.role),
        username: u.username,
        csrf: u.csrf,
    })
}

struct PrintLabel {
    barcode: String,
    svg: String,
    sample_name: String,
    items: String,
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    exam_no: String,
    barcode: String,
    name: String,
    sex: &'static str,
    age: u32,
    id_number: String,
    package: String,
    date: String,
    slot: String,
    stations: Vec<exam_domain::documents::Station>,
    /// The queue's first station ("1楼 采血室"), live.
    first: Option<String>,
    /// The phone page's QR (`phone-qr.png`), when `public_url` is set.
    phone_qr: Option<String>,
    fees: Vec<(String, String, &'static str)>,
    total: String,
    due: String,
    labels: Vec<PrintLabel>,
}

/// CODE128 as SVG (the same symbology the kiosk prints). Data are digits
/// and letters we made, so the markup carries nothing from outside.
fn code128_svg(data: &str) -> String {
    barcoders::sym::code128::Code128::new(format!("\u{181}{data}"))
        .ok()
        .and_then(|c| {
            barcoders::generators::svg::SVG::new(60)
                .xdim(2)
                .generate(c.encode())
                .ok()
        })
        .unwrap_or_default()
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// 打印单据 at the front desk: the same documents the kiosk prints
/// (guide sheet with the room order, fee list, one label per tube).
async fn print_visit(State(st): State<AppState>, u: SessionUser, Path(id): Path<i64>) -> Response {
    let v = match st.db.visit(id).await {
        Ok(v) => v,
        Err(crate::db::DeskError::NotFound) => {
            return (axum::http::StatusCode::NOT_FOUND, "没有这条记录").into_response();
        }
        Err(e) => return crate::error::ApiErr::from(e).into_response(),
    };
    let mut records = vec![v.record.clone()];
    if let Err(e) = super::attach_documents(&st, &mut records).await {
        return crate::error::ApiErr::from(e).into_response();
    }
    let Some(docs) = records.remove(0).documents else {
        return (axum::http::StatusCode::CONFLICT, "这次体检没有项目可打印").into_response();
    };
    if let Err(e) = st
        .db
        .audit_on(
            &u.username,
            "visit.print",
            // The person by blind index, never the number (issue 17 item 9).
            &st.db.subject_of(v.record.person.id_number.as_str()),
            &v.record.booking.exam_no,
        )
        .await
    {
        return crate::error::ApiErr::from(e).into_response();
    }
    // Q1: the desk's sheet names the queue's first station too.
    let first = if v.record.booking.exam_date == super::now_local().date() {
        match crate::queue::first_station_of(&st, id).await {
            Ok(f) => f.map(|f| f.label()),
            Err(e) => return crate::error::ApiErr::from(e).into_response(),
        }
    } else {
        None
    };
    // Q6: the phone page's QR, as on the kiosk's sheet.
    let phone_qr = st
        .config
        .public_url
        .is_some()
        .then(|| format!("/desk/visits/{id}/phone-qr.png"));
    let (b, p) = (&v.record.booking, &v.record.person);
    render(&PrintPage {
        first,
        phone_qr,
        exam_no: b.exam_no.clone(),
        barcode: code128_svg(&b.exam_no),
        name: p.name.clone(),
        sex: if p.sex == exam_domain::Sex::Male {
            "男"
        } else {
            "女"
        },
        age: exam_domain::roster::age_on(p.birth_date, super::now_local().date()),
        id_number: exam_domain::mask::id_number(p.id_number.as_str()),
        package: b.package.clone(),
        date: b.exam_date.to_string(),
        slot: b.slot_start.format("%H:%M").to_string(),
        stations: docs.guide.stations.clone(),
        fees: docs
            .fee_list
            .lines
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    yuan(l.price_fen),
                    if l.paid { "已缴" } else { "未缴" },
                )
            })
            .collect(),
        total: yuan(docs.fee_list.total_fen),
        due: yuan(docs.fee_list.due_fen),
        labels: docs
            .labels
            .iter()
            .map(|l| PrintLabel {
                barcode: l.barcode.clone(),
                svg: code128_svg(&l.barcode),
                sample_name: l.sample_name.clone(),
                items: l.items.join(" "),
            })
            .collect(),
    })
}
