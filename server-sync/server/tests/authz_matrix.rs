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

mod authz;
mod common;

use std::fmt::Write;

use authz::{Check, Ctx, Variant, fill, probe, setup};
use chrono::Utc;
use common::{Harness, Staff};
use exam_protocol::paths;
use exam_server::roles::{Capability, Role};
use exam_server::routes::{Access, RouteInfo};

on_both_stores!(every_route_answers_every_caller_as_the_table_says);

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authz_matrix.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Staff(Role),
    /// A front-desk account bound to the other campus ("east").
    OtherDesk,
    /// A kiosk of the other campus ("east"): the fixtures are all "main".
    OtherKiosk,
    Kiosk,
}

impl Caller {
    fn all() -> Vec<Caller> {
        let mut v = vec![Caller::Nobody];
        v.extend(Role::ALL.iter().map(|&r| Caller::Staff(r)));
        v.push(Caller::OtherDesk);
        // The other campus first: the own kiosk's rebook and cancel change
        // what a later call would find.
        v.extend([Caller::OtherKiosk, Caller::Kiosk]);
        v
    }

    fn column(self) -> String {
        match self {
            Caller::Nobody => "none".into(),
            Caller::Staff(r) => r.as_str().into(),
            Caller::OtherDesk => "desk_b".into(),
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

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
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
                if let Some(implied) = implied(route.access, route.path, variant, caller)
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
fn implied(access: Access, path: &str, v: Variant, caller: Caller) -> Option<Class> {
    use Class::*;
    let role = match caller {
        Caller::Staff(r) => Some(r),
        Caller::OtherDesk => Some(Role::FrontDesk),
        _ => None,
    };
    let implied = implied_for_role(access, v, caller, role)?;
    // A desk of the other campus has its role's rights, but never over a
    // visit of this campus (the fixtures' all are); what else it may do
    // depends on the route (the committed table holds it).
    if caller == Caller::OtherDesk && implied == Ok {
        let names_visit = route_path_names_visit(access, path);
        return names_visit.then_some(Forbidden);
    }
    Some(implied)
}

fn route_path_names_visit(access: Access, path: &str) -> bool {
    !matches!(access, Access::Kiosk | Access::Enrol | Access::ApiClient)
        && (path.contains("/visits/{id}") || path.contains("/call/{id}"))
}

fn implied_for_role(
    access: Access,
    v: Variant,
    caller: Caller,
    role: Option<Role>,
) -> Option<Class> {
    use Class::*;
    let staff_only = |role: Option<Role>, allowed: &dyn Fn(Role) -> bool| match role {
        None => SignedOut,
        Some(r) if allowed(r) => Ok,
        Some(_) => Forbidden,
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
        // No caller here holds an API client's bearer token.
        Access::ApiClient => SignedOut,
        Access::SignedIn | Access::Staff => staff_only(role, &|_| true),
        Access::Can(c) => staff_only(role, &|r| r.may(c)),
        Access::Visit { any, group } => staff_only(role, &|r| {
            r.may(any) || (r.may(group) && v == Variant::GroupMember)
        }),
    })
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
        Caller::OtherDesk => send(ctx.h, method, &path, body, Some(&ctx.other_desk), None).await,
    };
    let a = &answer;
    // The harness configures no payment platform: a kiosk that passed the
    // gate is told payment is unavailable (503), which is the handler's
    // answer, not a failure of it.
    let no_platform = a.status == 503 && a.body.contains("payment_unavailable");
    assert!(
        (a.status < 500 || no_platform) && a.status != 405,
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
