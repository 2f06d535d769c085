//! The staff web UI: today's
//! registrations, updated live over server-sent events. Server-side
//! rendered; the only script is `static/staff.js` (no CDN, no framework).

use std::convert::Infallible;
use std::time::Duration as StdDuration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use exam_domain::mask;
use futures_util::Stream;
use serde::Deserialize;

use crate::AppState;
use crate::cluster::feed::{HORIZON_MS, Window};
use crate::db::{DbError, RegistrationRow, SessionUser};
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};
use crate::staff_auth::{require_ready_user, session_token};

mod assets;
mod printing;
pub(crate) mod watermark;

use printing::PickupView;

pub(crate) fn routes(t: &mut RouteTable) {
    use Access::{Can, Public, Staff};
    use Capability::{ManagePrintouts, ViewRegistrations};
    t.get("/", Staff, home)
        .get("/registrations", Can(ViewRegistrations), registrations_page)
        .get("/registrations/stream", Can(ViewRegistrations), stream)
        // K15: the counter that hands documents over, not the group desk.
        .post(
            "/pickups/handed-over",
            Can(ManagePrintouts),
            printing::hand_over,
        )
        .post(
            "/kiosks/move-printing",
            Can(ManagePrintouts),
            printing::move_printing,
        )
        .get("/static/{name}", Public, assets::serve);
}

/// `/`: the signed-in member's first page (signed out: the gate sends them
/// to the sign-in page).
async fn home(user: SessionUser) -> Redirect {
    Redirect::to(user.role.home())
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// One registration as displayed: masked on the server (S5).
struct RowView {
    time: String,
    kiosk: String,
    name: String,
    id_number: String,
    booking: String,
    package: String,
    outcome: &'static str,
    outcome_class: &'static str,
    mode: &'static str,
    delay: String,
}

impl From<&RegistrationRow> for RowView {
    fn from(r: &RegistrationRow) -> Self {
        let (outcome, outcome_class) = match r.outcome.as_str() {
            "registered" => ("已登记", "ok"),
            "repeat" => ("重复签到", "warn"),
            "unknown_booking" => ("预约不存在", "bad"),
            "identity_mismatch" => ("身份不符", "bad"),
            "cancelled_booking" => ("预约已取消", "bad"),
            _ => ("未知", "bad"),
        };
        Self {
            time: r
                .checked_in_at
                .with_timezone(&exam_domain::centre_offset())
                .format("%H:%M:%S")
                .to_string(),
            kiosk: r.kiosk_id.clone(),
            name: r.name.as_deref().map(mask::name).unwrap_or_default(),
            id_number: r
                .id_number
                .as_deref()
                .map(mask::id_number)
                .unwrap_or_default(),
            booking: r.booking_code.clone().unwrap_or_default(),
            package: r.package.clone().unwrap_or_default(),
            outcome,
            outcome_class,
            mode: if r.offline { "离线" } else { "在线" },
            delay: human_delay(r.received_at - r.checked_in_at),
        }
    }
}

fn human_delay(d: Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    match ms {
        0..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

#[derive(Template)]
#[template(path = "rows.html")]
struct Rows {
    rows: Vec<RowView>,
}

struct KioskView {
    id: String,
    zone: String,
    last_seen: String,
    backlog: String,
    rejected: i64,
    devices: String,
    enrolled: bool,
    /// Print parts waiting, and for how long ("3 · 4 min").
    printing: String,
    /// Parts have waited over two minutes: a paused printer needs staff.
    printing_stuck: bool,
    /// An open move of this kiosk's waiting documents ("→ K-02 (…)").
    moving: Option<String>,
    /// Kiosks of the same campus the waiting documents could move to.
    move_to: Vec<String>,
}

#[derive(Template)]
#[template(path = "registrations.html")]
struct RegistrationsPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    rows: Rows,
    count: usize,
    newest: i64,
    kiosks: Vec<KioskView>,
    pickups: Vec<PickupView>,
    /// May hand over waiting documents and move print jobs (the forms).
    printouts: bool,
}

fn start_of_today() -> DateTime<Utc> {
    let now = Utc::now().with_timezone(&exam_domain::centre_offset());
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(exam_domain::centre_offset())
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc)
}

/// Whether `u` sees a check-in: every one, or its campus's kiosks'.
fn sees(u: &SessionUser, r: &RegistrationRow) -> bool {
    u.campus.is_none() || r.campus.as_deref().is_some_and(|c| u.sees_campus(c))
}

async fn registrations_page(State(st): State<AppState>, u: SessionUser) -> Response {
    let (Ok(mut rows), Ok(mut kiosks), Ok(mut pickups), Ok(moves)) = (
        st.db.registrations(start_of_today(), 0, 500).await,
        st.db.kiosks().await,
        st.db.pickups_waiting().await,
        st.db.open_moves().await,
    ) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // A campus-bound account (E14): its campus's kiosks, their check-ins
    // and documents waiting.
    if u.campus.is_some() {
        kiosks.retain(|k| u.sees_campus(&k.campus));
        rows.retain(|r| sees(&u, r));
        pickups.retain(|p| kiosks.iter().any(|k| k.id == p.kiosk_id));
    }
    // S5: a read of personal data (masked names and ID numbers of many
    // people) is one audit row per request; no row, no page.
    if let Err(e) = crate::audit::read_personal(
        &st.db,
        &u.username,
        "view.registrations",
        "",
        format!("{} people shown", rows.len()),
    )
    .await
    {
        return crate::error::ApiErr::from(e).into_response();
    }
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&exam_domain::centre_offset())
            .format("%H:%M:%S")
            .to_string()
    };
    let now = Utc::now();
    let pickups = pickups
        .into_iter()
        .map(|p| PickupView::new(p, local))
        .collect();
    let campus_of: Vec<(String, String)> = kiosks
        .iter()
        .map(|k| (k.id.clone(), k.campus.clone()))
        .collect();
    let kiosks = kiosks
        .into_iter()
        .map(|k| KioskView {
            moving: moves.iter().find(|m| m.from_kiosk == k.id).map(|m| {
                let state = if m.state == "requested" {
                    "待自助机响应"
                } else {
                    "已交出，等待接收"
                };
                format!("→ {} ({state})", m.to_kiosk)
            }),
            move_to: campus_of
                .iter()
                .filter(|(id, campus)| *id != k.id && *campus == k.campus)
                .map(|(id, _)| id.clone())
                .collect(),
            printing_stuck: k.print_waiting.unwrap_or(0) > 0
                && k.print_waiting_since
                    .as_deref()
                    .and_then(|t| crate::db::parse_ts(t).ok())
                    .is_some_and(|t| now - t > Duration::minutes(2)),
            printing: match (k.print_waiting, k.print_waiting_since.as_deref()) {
                (Some(n), Some(t)) if n > 0 => crate::db::parse_ts(t)
                    .map_or(n.to_string(), |t| format!("{n} · {}", human_delay(now - t))),
                (Some(n), _) => n.to_string(),
                (None, _) => "—".into(),
            },
            enrolled: k.public_key.is_some(),
            last_seen: k
                .last_seen
                .as_deref()
                .and_then(|t| crate::db::parse_ts(t).ok())
                .map_or("—".into(), local),
            backlog: k.backlog.map_or("—".into(), |b| b.to_string()),
            devices: device_summary(k.devices.as_deref()),
            rejected: k.rejected.unwrap_or(0),
            id: k.id,
            zone: k.zone,
        })
        .collect();
    render(&RegistrationsPage {
        printouts: u.role.may(Capability::ManagePrintouts),
        nav: crate::roles::Nav::of(u.role),
        username: u.username,
        csrf: u.csrf,
        count: rows.len(),
        newest: rows.first().map_or(0, |r| r.id),
        rows: Rows {
            rows: rows.iter().map(RowView::from).collect(),
        },
        kiosks,
        pickups,
    })
}

/// "idcard ok, receipt paper_out, alert call_staff" from the heartbeat's
/// devices and alert.
fn device_summary(json: Option<&str>) -> String {
    let summary = json
        .and_then(exam_protocol::KioskCondition::from_stored)
        .unwrap_or_default()
        .summary();
    if summary.is_empty() {
        return "—".into();
    }
    summary
}

#[derive(Deserialize)]
struct StreamQuery {
    #[serde(default)]
    after: i64,
}

/// New registrations as `rows` events of rendered, masked table rows. Woken
/// by this process's pushes at once, and by another instance's through the
/// change log (`cluster::feed`), else every 15 s. When the store cannot be read, the page
/// gets an `unavailable` event (it says the list is not current) and the log
/// the error; the stream keeps its place and tries again at the next wake.
async fn stream(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    let u = require_ready_user(&st, &headers).await?;
    let token = session_token(&headers).unwrap_or_default();
    // A reconnecting EventSource says where it stopped.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(q.after);
    // S5: the stream shows check-ins (masked) as they come: one audit row
    // per connection, not per row sent.
    crate::audit::read_personal(
        &st.db,
        &u.username,
        "view.registrations_stream",
        "",
        format!("live check-ins after {after}"),
    )
    .await
    .map_err(|e| crate::error::ApiErr::from(e).into_response())?;
    let rx = st.changed.subscribe();
    let since = start_of_today();
    // `failing`: the last refresh failed, so the page shows the list as stale.
    // Rows that commit out of id order (two instances, or two requests of
    // one) are still shown: the window rereads its horizon (issue 21).
    let window = Window::new(after, crate::db::id_span_ms(HORIZON_MS));
    let start = (st, rx, window, false);
    let stream = futures_util::stream::unfold(start, move |(st, mut rx, mut last, failing)| {
        let token = token.clone();
        let u = u.clone();
        async move {
            loop {
                tokio::select! {
                    _ = rx.recv() => {}
                    // A safety net: every instance's changes wake it
                    // through the change log (cluster::feed) within ~0.2 s.
                    () = tokio::time::sleep(StdDuration::from_secs(15)) => {}
                }
                // The session may have ended (sign-out, idle timeout): so does the stream.
                // Checked without extending it: only the user's own
                // requests keep a session alive (idle timeout, issue 17 item 7).
                match crate::staff_auth::session_alive(&st, &token).await {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => {
                        tracing::error!(error = %e, "live registrations: session check failed");
                        return Some((Ok(unavailable()), (st, rx, last, true)));
                    }
                }
                let rows = match rows_after(&st, since, &mut last).await {
                    Ok(mut found) => {
                        found.retain(|r| sees(&u, r));
                        found
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "live registrations: reading new rows failed");
                        return Some((Ok(unavailable()), (st, rx, last, true)));
                    }
                };
                if rows.is_empty() {
                    if failing {
                        let event = Event::default().event("current").data("");
                        return Some((Ok(event), (st, rx, last, false)));
                    }
                    continue;
                }
                let html = match (Rows {
                    rows: rows.iter().map(RowView::from).collect(),
                })
                .render()
                {
                    Ok(html) => html,
                    Err(e) => {
                        tracing::error!(error = %e, "live registrations: rows template failed");
                        return Some((Ok(unavailable()), (st, rx, last, true)));
                    }
                };
                let event = Event::default()
                    .event("rows")
                    .id(last.max().to_string())
                    .data(html);
                return Some((Ok(event), (st, rx, last, false)));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Registrations the window has not shown, newest first.
/// Read oldest first, page by page, so a burst (a kiosk back from an
/// outage) is shown whole; any page failing fails the whole read, so the
/// caller retries from the same place.
async fn rows_after(
    st: &AppState,
    since: DateTime<Utc>,
    window: &mut Window,
) -> Result<Vec<RegistrationRow>, DbError> {
    const PAGE: usize = 200;
    let mut rows = Vec::new();
    let mut cursor = window.floor();
    loop {
        let page = st
            .db
            .registrations_ordered(since, cursor, PAGE as i64, true)
            .await?;
        let full = page.len() == PAGE;
        cursor = page.last().map_or(cursor, |r| r.id);
        rows.extend(page);
        if !full {
            break;
        }
    }
    let fresh: std::collections::BTreeSet<i64> =
        window.take(rows.iter().map(|r| r.id)).into_iter().collect();
    rows.retain(|r| fresh.contains(&r.id));
    rows.reverse(); // the page shows the newest on top
    Ok(rows)
}

/// Tells the page its list could not be refreshed (the detail is in the log).
fn unavailable() -> Event {
    Event::default()
        .event("unavailable")
        .data("签到列表暂时无法刷新，正在重试 / The list could not be refreshed; retrying")
}
