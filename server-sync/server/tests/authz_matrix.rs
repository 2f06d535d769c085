//! The authorization matrix (issue 17, "Must show"): every route the
//! service registers, taken from the router itself
//! (`exam_server::route_table`, the list the `RouteTable` records as each
//! route is added), called over real HTTP as every caller — no session,
//! each staff role, a kiosk of another campus and a kiosk of the booking's
//! own campus — with its path parameters filled by existing records. Each
//! answer is reduced to a class and compared with the committed table
//! `tests/authz_matrix.txt`; a route added, removed or answering otherwise
//! fails the test until the table is regenerated and reviewed:
//!
//! ```text
//! UPDATE_MATRIX=1 cargo test -p exam-server --test authz_matrix
//! ```
//!
//! Classes: `ok` the handler ran (its own answer, which may be a 400, 404
//! or 422 for the placeholder input: the gate runs before any extractor,
//! so such an answer means the caller got past it); `401` signed out or
//! unsigned (a page redirects to /login); `403` refused for the role; `404`
//! a kiosk answered as if the booking did not exist (a 404, or a success
//! that leaves out what it asked about). A 5xx or a 405 fails at once.
//! Independently of the file, every cell is checked against what the
//! route's declared access and `Role::may` imply, so a table regenerated
//! without care still cannot hide a hole.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write;

use chrono::Utc;
use common::{Harness, Staff, id_number, quiet_heartbeat};
use exam_domain::IdNumber;
use exam_protocol::auth::KioskKey;
use exam_protocol::{Event, EventBody, paths};
use exam_server::roles::{Capability, Role};
use exam_server::routes::{Access, RouteInfo};
use serde_json::{Value, json};

on_both_stores!(every_route_answers_every_caller_as_the_table_says);

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authz_matrix.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Staff(Role),
    /// A kiosk of the other campus ("east"): the fixtures are all "main".
    OtherKiosk,
    Kiosk,
}

impl Caller {
    fn all() -> Vec<Caller> {
        let mut v = vec![Caller::Nobody];
        v.extend(Role::ALL.iter().map(|&r| Caller::Staff(r)));
        // The other campus first: the own kiosk's rebook and cancel change
        // what a later call would find.
        v.extend([Caller::OtherKiosk, Caller::Kiosk]);
        v
    }

    fn column(self) -> String {
        match self {
            Caller::Nobody => "none".into(),
            Caller::Staff(r) => r.as_str().into(),
            Caller::OtherKiosk => "kiosk_b".into(),
            Caller::Kiosk => "kiosk".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Ok,
    SignedOut,
    Forbidden,
    Hidden,
}

impl Class {
    fn as_str(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::SignedOut => "401",
            Class::Forbidden => "403",
            Class::Hidden => "404",
        }
    }
}

/// Which visit a `{id}` of a visit route names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Only,
    Individual,
    GroupMember,
}

/// Existing records the placeholders and the kiosk probes name.
struct Fixtures {
    ind_visit: i64,
    grp_visit: i64,
    company: i64,
    item_code: String,
    /// Campus "main" bookings: (booking id, code, ID number, mobile).
    lookup: (i64, String, IdNumber, String),
    rebook: (String, IdNumber),
    cancel: (String, IdNumber),
    check_in: (i64, String, IdNumber),
    report: i64,
    slot: (chrono::NaiveDate, chrono::NaiveTime),
}

/// How a kiosk probe's success is told from "answered as unknown".
enum Check {
    /// A success must carry this text (a booking code).
    Mentions(String),
    /// A success must have checked this booking in.
    CheckedIn(i64),
    /// Any success is the handler's.
    Status,
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

struct Ctx<'a> {
    h: &'a Harness,
    staff: Vec<(Role, Staff)>,
    kiosk: KioskKey,
    other: KioskKey,
    fx: Fixtures,
}

async fn every_route_answers_every_caller_as_the_table_says(h: &Harness) {
    let ctx = setup(h).await;
    let routes = exam_server::route_table(h.server.state.clone());
    assert!(routes.len() > 40, "only {} routes listed", routes.len());
    // Every capability a route needs is in the rights table's list (the
    // table test and the browser test read only that list).
    for r in &routes {
        let caps = match r.access {
            Access::Can(c) => vec![c],
            Access::Visit { any, group } => vec![any, group],
            _ => vec![],
        };
        for c in caps {
            assert!(
                Capability::ALL.contains(&c),
                "{} {} needs {c:?}, which Capability::ALL leaves out",
                r.method,
                r.path
            );
        }
    }
    let callers = Caller::all();
    let mut rendered = header(&callers);
    let mut wrong = Vec::new();
    let mut n = 0;
    for route in &routes {
        for variant in variants(route) {
            let label = label(route, variant);
            let mut cells = Vec::new();
            for (i, &caller) in callers.iter().enumerate() {
                n += 1;
                let class = call(&ctx, route, variant, caller, n).await;
                if let Some(implied) = implied(route.access, variant, caller)
                    && implied != class
                {
                    wrong.push(format!(
                        "{label} as {}: {} where its access {} implies {}",
                        caller.column(),
                        class.as_str(),
                        route.access,
                        implied.as_str()
                    ));
                }
                cells.push((i, class));
            }
            let _ = write!(rendered, "{label:<62} {:<38}", route.access.to_string());
            for (_, c) in cells {
                let _ = write!(rendered, " {:<10}", c.as_str());
            }
            rendered = rendered.trim_end().to_string();
            rendered.push('\n');
        }
    }
    assert!(
        wrong.is_empty(),
        "answers that contradict the declared access:\n{}",
        wrong.join("\n")
    );
    if std::env::var_os("UPDATE_MATRIX").is_some() {
        std::fs::write(TABLE, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(TABLE).unwrap_or_default();
    if committed != rendered {
        let (old, new): (Vec<&str>, Vec<&str>) =
            (committed.lines().collect(), rendered.lines().collect());
        let gone: Vec<_> = old.iter().filter(|l| !new.contains(l)).collect();
        let added: Vec<_> = new.iter().filter(|l| !old.contains(l)).collect();
        panic!(
            "the authorization matrix differs from {TABLE}\n\
             in the table, not answered so (or no such route):\n{}\n\
             answered, not in the table:\n{}\n\
             review, then regenerate with UPDATE_MATRIX=1",
            gone.iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            added
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

fn header(callers: &[Caller]) -> String {
    let mut s = String::from(
        "# Authorization matrix: every route of exam_server::route_table x every caller.\n\
         # ok = the handler ran; 401 = signed out / unsigned (pages: sent to /login);\n\
         # 403 = refused for the role; 404 = a kiosk of another campus answered as unknown.\n\
         # Checked by tests/authz_matrix.rs; regenerate with\n\
         # UPDATE_MATRIX=1 cargo test -p exam-server --test authz_matrix\n",
    );
    let _ = write!(s, "{:<62} {:<38}", "# route", "access");
    for c in callers {
        let _ = write!(s, " {:<10}", c.column());
    }
    s = s.trim_end().to_string();
    s.push('\n');
    s
}

fn variants(route: &RouteInfo) -> Vec<Variant> {
    match route.access {
        Access::Visit { .. } => vec![Variant::Individual, Variant::GroupMember],
        _ => vec![Variant::Only],
    }
}

fn label(route: &RouteInfo, v: Variant) -> String {
    let suffix = match v {
        Variant::Only => "",
        Variant::Individual => " [individual]",
        Variant::GroupMember => " [group member]",
    };
    format!("{} {}{suffix}", route.method, route.path)
}

/// What the declared access says a caller gets, where it says it (a kiosk
/// of another campus depends on the route: the committed table holds it).
fn implied(access: Access, v: Variant, caller: Caller) -> Option<Class> {
    use Class::*;
    let staff_only = |role: Option<Role>, allowed: &dyn Fn(Role) -> bool| match role {
        None => SignedOut,
        Some(r) if allowed(r) => Ok,
        Some(_) => Forbidden,
    };
    let role = match caller {
        Caller::Staff(r) => Some(r),
        _ => None,
    };
    Some(match access {
        // No gate: whatever they answer is their handler's (the sign-in
        // steps refuse by their own rules, e.g. a captcha without its form).
        Access::Public | Access::Metrics | Access::Enrol => return None,
        Access::Kiosk => match caller {
            Caller::Kiosk => Ok,
            Caller::OtherKiosk => return None,
            _ => SignedOut,
        },
        Access::SignedIn | Access::Staff => staff_only(role, &|_| true),
        Access::Can(c) => staff_only(role, &|r| r.may(c)),
        Access::Visit { any, group } => staff_only(role, &|r| {
            r.may(any) || (r.may(group) && v == Variant::GroupMember)
        }),
    })
}

/// The path with its parameters filled by existing records.
fn fill(path: &str, v: Variant, fx: &Fixtures) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        let value = match name {
            "id" if path.starts_with("/api/group/companies/") => fx.company.to_string(),
            "id" if v == Variant::GroupMember => fx.grp_visit.to_string(),
            "id" => fx.ind_visit.to_string(),
            "code" if path.starts_with("/api/admin/packages/") => "P-EMP".into(),
            "code" => fx.item_code.clone(),
            "token" => "matrix-token".into(),
            "import" => "1".into(),
            "name" => "staff.css".into(),
            other => panic!("no placeholder value for {{{other}}} in {path}: add one to fill()"),
        };
        out.push_str(&value);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// A kiosk route's realistic request (the `n`th call: fresh ids) and how
/// its success is recognised.
fn probe(path: &str, fx: &Fixtures, n: usize) -> (Vec<u8>, Check) {
    let id = |i: &IdNumber| i.as_str().to_string();
    let (body, check) = match path {
        paths::ENROL => (json!({}), Check::Status),
        paths::HEARTBEAT => (
            serde_json::to_value(quiet_heartbeat(0)).unwrap(),
            Check::Status,
        ),
        paths::EVENTS => {
            let (booking, code, person) = &fx.check_in;
            let body: EventBody = EventBody::CheckIn(
                serde_json::from_value(json!({
                    "booking_id": booking, "booking_code": code, "id_number": id(person),
                    "identified_by": "id_card", "checked_in_at": Utc::now(), "offline": false,
                }))
                .unwrap(),
            );
            let e = Event::new(uuid::Uuid::now_v7(), n as i64, Utc::now(), &body);
            (json!({ "events": [e] }), Check::CheckedIn(*booking))
        }
        paths::CHANGES => return (vec![], Check::Mentions(fx.lookup.1.clone())),
        paths::LOOKUP => {
            let (_, code, person, mobile) = &fx.lookup;
            let q = exam_domain::IdentityQuery::IdNumberAndMobile {
                id_number: person.clone(),
                mobile: mobile.clone(),
            };
            (json!({ "query": q }), Check::Mentions(code.clone()))
        }
        paths::BOOKING_OPTIONS => (json!({ "date": fx.slot.0 }), Check::Status),
        paths::BOOK => (
            json!({
                "id_number": id_number(1985, (n % 450) as u16 * 2 + 1), "name": "矩阵测试",
                "mobile": "13900001111", "marital": "married",
                "plan": { "package": "P-M-BASIC", "add": [], "remove": [] },
                "date": fx.slot.0, "slot_start": fx.slot.1,
            }),
            Check::Status,
        ),
        paths::REBOOK => (
            json!({ "code": fx.rebook.0, "id_number": id(&fx.rebook.1),
                    "date": fx.slot.0, "slot_start": fx.slot.1 }),
            Check::Mentions(fx.rebook.0.clone()),
        ),
        paths::CANCEL => (
            json!({ "code": fx.cancel.0, "id_number": id(&fx.cancel.1), "reason": "矩阵测试" }),
            Check::Mentions(fx.cancel.0.clone()),
        ),
        paths::REPORTS => (
            json!({ "id_number": id(&fx.lookup.2) }),
            Check::Mentions(fx.lookup.1.clone()),
        ),
        paths::REPORT_PDF => (
            json!({ "id": fx.report, "id_number": id(&fx.lookup.2) }),
            Check::Mentions("\"pdf\"".into()),
        ),
        other => panic!("kiosk route {other} has no probe: add one to probe()"),
    };
    (serde_json::to_vec(&body).unwrap(), check)
}

async fn call(ctx: &Ctx<'_>, route: &RouteInfo, v: Variant, caller: Caller, n: usize) -> Class {
    let mut path = fill(route.path, v, &ctx.fx);
    let kiosk_route = matches!(route.access, Access::Kiosk | Access::Enrol);
    let (body, check) = if kiosk_route {
        probe(route.path, &ctx.fx, n)
    } else if route.method == "GET" {
        (vec![], Check::Status)
    } else {
        (b"{}".to_vec(), Check::Status)
    };
    if route.path == paths::CHANGES {
        path.push_str("?cursor=0&limit=1000");
    }
    let method = route.method.as_str();
    let answer = match caller {
        Caller::Kiosk | Caller::OtherKiosk => {
            let key = if caller == Caller::Kiosk {
                &ctx.kiosk
            } else {
                &ctx.other
            };
            let h = key.sign(method, &path, &body, Utc::now().timestamp_millis());
            send(ctx.h, method, &path, body, None, Some(&h)).await
        }
        Caller::Nobody => send(ctx.h, method, &path, body, None, None).await,
        Caller::Staff(role) => {
            let s = &ctx.staff.iter().find(|(r, _)| *r == role).unwrap().1;
            send(ctx.h, method, &path, body, Some(s), None).await
        }
    };
    let a = &answer;
    assert!(
        a.status < 500 && a.status != 405,
        "{method} {path} as {}: {} {}",
        caller.column(),
        a.status,
        a.body
    );
    let redirected_to_login = (300..400).contains(&a.status)
        && a.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login"));
    match a.status {
        401 => Class::SignedOut,
        _ if redirected_to_login => Class::SignedOut,
        403 => Class::Forbidden,
        404 if kiosk_route => Class::Hidden,
        s if kiosk_route && (200..300).contains(&s) => match check {
            Check::Status => Class::Ok,
            Check::Mentions(text) if a.body.contains(&text) => Class::Ok,
            Check::Mentions(_) => Class::Hidden,
            Check::CheckedIn(booking) => {
                let visit = ctx.h.db().visit(booking).await.unwrap();
                if visit.record.booking.state == exam_domain::BookingState::CheckedIn {
                    Class::Ok
                } else {
                    Class::Hidden
                }
            }
        },
        _ => Class::Ok,
    }
}

async fn send(
    h: &Harness,
    method: &str,
    path: &str,
    body: Vec<u8>,
    staff: Option<&Staff>,
    signed: Option<&exam_protocol::auth::SignedHeaders>,
) -> Answer {
    let mut req = h
        .http
        .request(method.parse().unwrap(), format!("{}{path}", h.url));
    if !body.is_empty() {
        req = req.header("content-type", "application/json").body(body);
    }
    if let Some(s) = staff {
        req = req.header("cookie", &s.cookie).header("x-csrf", &s.csrf);
    }
    if let Some(sig) = signed {
        for (k, v) in sig.pairs() {
            req = req.header(k, v);
        }
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let stream = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    // A live stream never ends: its status is the answer.
    let body = if stream {
        String::new()
    } else {
        r.text().await.unwrap()
    };
    Answer {
        status,
        location,
        body,
    }
}

async fn setup(h: &Harness) -> Ctx<'_> {
    let mut staff = Vec::new();
    for role in Role::ALL {
        staff.push((
            role,
            h.staff(&format!("matrix_{role}"), role.as_str()).await,
        ));
    }
    let admin = &staff.iter().find(|(r, _)| *r == Role::Admin).unwrap().1;
    let kiosk = h.kiosk("K-MATRIX-A").await;
    let other = h.kiosk_at("K-MATRIX-B", "east", "lobby").await;

    // Campus "main" bookings of the demo people, one per probe.
    let recs = h.db().changes_since("main", 0, 100).await.unwrap().records;
    assert!(recs.len() >= 5, "demo bookings");
    let person = |i: usize| {
        let r = &recs[i];
        (
            r.booking.id,
            r.booking.code.clone(),
            r.person.id_number.clone(),
            r.person.mobile.clone(),
        )
    };
    let lookup = person(0);
    assert!(!lookup.3.is_empty(), "the demo person has a mobile");
    let ind_visit = lookup.0;
    let visit = h.db().visit(ind_visit).await.unwrap();
    let item_code = visit
        .items
        .first()
        .map(|i| i.code.clone())
        .unwrap_or_else(|| "L-CBC".into());

    // A report for the lookup person's visit, published by the front desk.
    let desk = &staff.iter().find(|(r, _)| *r == Role::FrontDesk).unwrap().1;
    let r = desk
        .http
        .put(format!("{}/api/desk/visits/{ind_visit}/report", h.url))
        .header("cookie", &desk.cookie)
        .header("x-csrf", &desk.csrf)
        .header("content-type", "application/pdf")
        .body(minimal_pdf())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "report published");
    let report = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // A group member's visit: the demo company booked for tomorrow.
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .unwrap();
    let tomorrow = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let (st, b) = admin
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (_, m) = admin
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let grp_visit = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|x| x["booking_id"].as_i64())
        .expect("a booked member");

    // A bookable slot for the kiosk's booking and rebooking.
    let body = serde_json::to_vec(&json!({ "date": tomorrow })).unwrap();
    let (st, opts) = h
        .signed(&kiosk, "POST", paths::BOOKING_OPTIONS, &body, None)
        .await;
    assert_eq!(st, 200, "{opts}");
    let start = opts["slots"][0]["start"].as_str().unwrap();
    let slot = (
        tomorrow,
        chrono::NaiveTime::parse_from_str(start, "%H:%M:%S").unwrap(),
    );

    let fx = Fixtures {
        ind_visit,
        grp_visit,
        company,
        item_code,
        rebook: (person(1).1, person(1).2),
        cancel: (person(2).1, person(2).2),
        check_in: (person(3).0, person(3).1, person(3).2),
        lookup,
        report,
        slot,
    };
    Ctx {
        h,
        staff,
        kiosk,
        other,
        fx,
    }
}

/// A one-page PDF the report office could publish.
fn minimal_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
