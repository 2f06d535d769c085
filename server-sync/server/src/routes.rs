//! Every route is registered through a [`RouteTable`], which records its
//! method, path and [`Access`] as it adds it to the axum router and puts
//! the access check — the route gate — in front of the handler. So the
//! list of routes with who may call them is data (axum cannot list its
//! routes), the authorization matrix test walks it, and a route cannot be
//! added without saying who may call it.
//!
//! The gate runs before any of the handler's extractors: a caller that may
//! not use a route is refused before its body or query is read, whatever it
//! sends, and the refusal (a `403`) is written to the audit log as
//! `access.denied`. Staff routes under `/api/` answer in JSON (`401`
//! `signed_out`, `403` `not_allowed`); pages redirect to the sign-in page or
//! answer a plain `403`. Kiosk routes are checked by the signed-request
//! extractors of `kiosk_api` (the signature covers the body, so it is
//! checked as the body is read), and their answers are scoped to the
//! kiosk's campus there.
//!
//! A staff account bound to one campus (E14) is refused here, like a role
//! that may not, whatever the route names of another campus: the path's
//! visit (`/visits/{id}`, `/call/{id}`) or a `campus` in the query (a
//! room's code is its campus's only with the request's campus: rooms of
//! different campuses share codes). What a handler lists or defaults to (search
//! hits, the queue pages' campus, a new visit's campus, the figures) it
//! scopes itself with `SessionUser::campus_for` and `sees_campus`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Query, RawPathParams, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

use crate::AppState;
use crate::db::{SessionUser, VisitKind};
use crate::error::ApiErr;
use crate::metrics::Metrics;
use crate::roles::{Capability, Role};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the sign-in page, sign-out, static files, health.
    Public,
    /// The Prometheus scrape: counters only, no personal data.
    Metrics,
    /// The kiosk's one unsigned request: its one-time enrolment secret is
    /// the credential.
    Enrol,
    /// A request signed by an enrolled kiosk, answered for its campus.
    Kiosk,
    /// An outside system's bearer token (the FHIR API): checked by the
    /// `fhir::ApiCaller` extractor (token, source address, the scope of
    /// the path's resource type, rate), so no staff gate.
    ApiClient,
    /// Any staff session, even before the first-login password change.
    SignedIn,
    /// Any staff session past the first-login password change.
    Staff,
    /// A staff role that may do this.
    Can(Capability),
    /// One visit, named by the path's `{id}`: a role that may `any` for
    /// every visit, or one that may `group` for a group member's visit.
    Visit { any: Capability, group: Capability },
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Access::Can(c) => write!(f, "Can({c:?})"),
            Access::Visit { any, group } => write!(f, "Visit({any:?}|{group:?})"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One registered route.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// The router being built and what has been put in it.
pub(crate) struct RouteTable {
    state: AppState,
    router: Router<AppState>,
    routes: Vec<RouteInfo>,
}

impl RouteTable {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            state,
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    pub(crate) fn get<H: Handler<T, AppState>, T: 'static>(
        &mut self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> &mut Self {
        self.add(Method::GET, path, access, handler, None)
    }

    pub(crate) fn post<H: Handler<T, AppState>, T: 'static>(
        &mut self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> &mut Self {
        self.add(Method::POST, path, access, handler, None)
    }

    pub(crate) fn delete<H: Handler<T, AppState>, T: 'static>(
        &mut self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> &mut Self {
        self.add(Method::DELETE, path, access, handler, None)
    }

    /// A route whose body may be larger than axum's default limit (rosters,
    /// report PDFs).
    pub(crate) fn with_body_limit<H: Handler<T, AppState>, T: 'static>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        limit: usize,
        handler: H,
    ) -> &mut Self {
        self.add(method, path, access, handler, Some(limit))
    }

    fn add<H: Handler<T, AppState>, T: 'static>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
        body_limit: Option<usize>,
    ) -> &mut Self {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("no method filter for {method} {path}"));
        let mut mr = on(filter, handler);
        if let Some(limit) = body_limit {
            mr = mr.layer(axum::extract::DefaultBodyLimit::max(limit));
        }
        if access.needs_staff() {
            let gate = Gate {
                st: self.state.clone(),
                access,
                api: path.starts_with("/api/"),
                names: PathNames::of(path),
            };
            mr = mr.route_layer(middleware::from_fn_with_state(gate, gate_fn));
        }
        let router = std::mem::take(&mut self.router);
        self.router = router.route(path, mr);
        self.routes.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }

    pub(crate) fn finish(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.routes)
    }
}

impl Access {
    fn needs_staff(self) -> bool {
        matches!(
            self,
            Access::SignedIn | Access::Staff | Access::Can(_) | Access::Visit { .. }
        )
    }
}

/// Why the gate refuses a signed-in staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The role may not: what it is told.
    Forbidden(&'static str),
    /// The role may only if the visit is a group member's: look it up.
    IfGroupVisit,
    /// No such visit (for a role that may only see group members').
    NoVisit,
    /// The route names another campus than the account's.
    OtherCampus,
}

/// What a route's path names that belongs to a campus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PathNames {
    /// `{id}` is a visit's (a booking's) id.
    pub visit: bool,
}

impl PathNames {
    pub(crate) fn of(path: &str) -> Self {
        Self {
            visit: path.contains("/visits/{id}") || path.contains("/call/{id}"),
        }
    }
}

/// The campus rule for an account bound to `bound`: every campus the
/// request names (its visit's, its query's) must be that one.
/// Pure: the gate supplies what it looked up.
pub(crate) fn campus_verdict<'a>(
    bound: &str,
    named: impl IntoIterator<Item = &'a str>,
) -> Result<(), Refusal> {
    if named.into_iter().all(|c| c == bound) {
        Ok(())
    } else {
        Err(Refusal::OtherCampus)
    }
}

/// The staff rule of `access` for `role`, given (when known) whether the
/// path's visit is a group member's (`None`: not looked up, or no such
/// visit when `looked_up`). Pure: the gate supplies what it looked up.
pub(crate) fn verdict(
    role: Role,
    access: Access,
    group_visit: Option<Option<bool>>,
) -> Result<(), Refusal> {
    let need = |c: Capability| {
        if role.may(c) {
            Ok(())
        } else {
            Err(Refusal::Forbidden(c.refusal_zh()))
        }
    };
    match access {
        Access::Public | Access::Metrics | Access::Enrol | Access::Kiosk | Access::ApiClient => {
            Ok(())
        }
        Access::SignedIn | Access::Staff => Ok(()),
        Access::Can(c) => need(c),
        Access::Visit { any, group } => {
            if role.may(any) {
                return Ok(());
            }
            if !role.may(group) {
                return Err(Refusal::Forbidden(any.refusal_zh()));
            }
            match group_visit {
                None => Err(Refusal::IfGroupVisit),
                Some(None) => Err(Refusal::NoVisit),
                Some(Some(true)) => Ok(()),
                Some(Some(false)) => Err(Refusal::Forbidden(
                    "团检账号只能办理团检人员的体检 / Group-desk accounts serve group members only",
                )),
            }
        }
    }
}

#[derive(Clone)]
struct Gate {
    st: AppState,
    access: Access,
    /// A JSON API route (`/api/…`), not a page.
    api: bool,
    /// What its path names that belongs to a campus.
    names: PathNames,
}

impl Gate {
    /// The signed-in staff member, or the refusal for a caller without a
    /// (ready) session.
    async fn user(&self, parts: &mut Parts) -> Result<SessionUser, Response> {
        if self.api {
            // Session, first-login password change and CSRF token.
            return SessionUser::from_request_parts(parts, &self.st)
                .await
                .map_err(IntoResponse::into_response);
        }
        if self.access == Access::SignedIn {
            crate::staff_auth::require_user(&self.st, &parts.headers).await
        } else {
            crate::staff_auth::require_ready_user(&self.st, &parts.headers).await
        }
    }

    /// The path's visit: its kind and campus (`None`: no such visit, or
    /// the path names none).
    async fn visit(&self, parts: &mut Parts) -> Result<Option<(VisitKind, String)>, Response> {
        let Some(id) = self
            .param(parts, "id")
            .await?
            .and_then(|v| v.parse::<i64>().ok())
        else {
            return Ok(None);
        };
        self.st
            .db
            .visit_scope(id)
            .await
            .map_err(|e| self.refuse_api(ApiErr::from(e)))
    }

    async fn param(&self, parts: &mut Parts, name: &str) -> Result<Option<String>, Response> {
        let params = RawPathParams::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string()))
    }

    /// Every campus the request names, for an account bound to one: the
    /// path's visit's (`visit`, when looked up) and its query's.
    fn named_campuses(parts: &Parts, visit: Option<&(VisitKind, String)>) -> Vec<String> {
        let mut named: Vec<String> = visit.map(|(_, c)| c.clone()).into_iter().collect();
        if let Ok(Query(q)) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            && let Some(c) = q.get("campus").filter(|c| !c.is_empty())
        {
            named.push(c.clone());
        }
        named
    }

    fn refuse_api(&self, e: ApiErr) -> Response {
        if self.api {
            e.into_response()
        } else {
            (e.status, e.body.message).into_response()
        }
    }

    async fn refuse(&self, user: &SessionUser, parts: &Parts, why: Refusal) -> Response {
        let err = match why {
            Refusal::OtherCampus => crate::staff_auth::other_campus(&self.st, user),
            Refusal::NoVisit => {
                return self.refuse_api(ApiErr::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "没有这条记录",
                ));
            }
            Refusal::Forbidden(msg) => ApiErr::new(StatusCode::FORBIDDEN, "not_allowed", msg),
            Refusal::IfGroupVisit => ApiErr::new(
                StatusCode::FORBIDDEN,
                "not_allowed",
                "当前账号没有此操作的权限",
            ),
        };
        // The path, not the query (a search term may be an ID number).
        let what = format!("{} {}", parts.method, parts.uri.path());
        if let Err(e) = record_denied(&self.st, user, &what).await {
            return self.refuse_api(e);
        }
        self.refuse_api(err)
    }
}

/// S7: a denied attempt is a security event: counted, audited as
/// `access.denied` with `what` was asked, and logged. A refusal that cannot
/// be recorded is a 503, not a 403 as if it had been (issue 17 item 10).
pub(crate) async fn record_denied(
    st: &AppState,
    user: &SessionUser,
    what: &str,
) -> Result<(), ApiErr> {
    Metrics::inc(&st.metrics.staff_denied);
    crate::audit::denied(&st.db, &user.username, what).await?;
    tracing::warn!(user = %user.username, role = %user.role, %what, "staff request denied");
    Ok(())
}

async fn gate_fn(State(g): State<Gate>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let user = match g.user(&mut parts).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut v = verdict(user.role, g.access, None);
    // The path's visit is looked up once, for the group desk's rule or a
    // campus-bound account's.
    let bound = user.campus.clone();
    let visit = if v == Err(Refusal::IfGroupVisit) || (bound.is_some() && g.names.visit) {
        match g.visit(&mut parts).await {
            Ok(visit) => visit,
            Err(r) => return r,
        }
    } else {
        None
    };
    if v == Err(Refusal::IfGroupVisit) {
        let group = visit.as_ref().map(|(k, _)| *k == VisitKind::Group);
        v = verdict(user.role, g.access, Some(group));
    }
    if v.is_ok()
        && let Some(bound) = &bound
    {
        let named = Gate::named_campuses(&parts, visit.as_ref());
        v = campus_verdict(bound, named.iter().map(String::as_str));
    }
    if let Err(why) = v {
        return g.refuse(&user, &parts, why).await;
    }
    parts.extensions.insert(user);
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    const VISIT: Access = Access::Visit {
        any: RegisterVisit,
        group: ServeGroupVisits,
    };

    #[test]
    fn a_capability_is_the_roles() {
        for role in Role::ALL {
            for c in Capability::ALL {
                assert_eq!(
                    verdict(role, Access::Can(c), None).is_ok(),
                    role.may(c),
                    "{role} {c:?}"
                );
            }
        }
    }

    #[test]
    fn the_group_desk_serves_group_members_visits_only() {
        let g = Role::GroupDesk;
        assert_eq!(verdict(g, VISIT, None), Err(Refusal::IfGroupVisit));
        assert_eq!(verdict(g, VISIT, Some(Some(true))), Ok(()));
        assert!(matches!(
            verdict(g, VISIT, Some(Some(false))),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(verdict(g, VISIT, Some(None)), Err(Refusal::NoVisit));
        // The front desk needs no look-up; the auditor is refused outright.
        assert_eq!(verdict(Role::FrontDesk, VISIT, None), Ok(()));
        assert!(matches!(
            verdict(Role::Auditor, VISIT, Some(Some(true))),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn a_campus_bound_account_is_refused_whatever_names_another_campus() {
        assert_eq!(campus_verdict("east", []), Ok(()));
        assert_eq!(campus_verdict("east", ["east", "east"]), Ok(()));
        assert_eq!(
            campus_verdict("east", ["east", "main"]),
            Err(Refusal::OtherCampus)
        );
        assert_eq!(campus_verdict("east", ["main"]), Err(Refusal::OtherCampus));
    }

    #[test]
    fn the_paths_that_name_a_visit() {
        assert!(PathNames::of("/api/desk/visits/{id}/items/{code}").visit);
        assert!(PathNames::of("/api/queue/rooms/{room}/call/{id}").visit);
        assert!(!PathNames::of("/api/queue/rooms/{room}/state").visit);
        // A company's or a print job's id is not a visit's.
        assert_eq!(
            PathNames::of("/api/group/companies/{id}/members"),
            PathNames::default()
        );
        assert_eq!(
            PathNames::of("/api/chief/reports/{id}"),
            PathNames::default()
        );
    }

    #[test]
    fn only_staff_accesses_are_gated() {
        for a in [
            Access::Public,
            Access::Metrics,
            Access::Enrol,
            Access::Kiosk,
            Access::ApiClient,
        ] {
            assert!(!a.needs_staff(), "{a}");
        }
        for a in [
            Access::SignedIn,
            Access::Staff,
            Access::Can(ViewAudit),
            VISIT,
        ] {
            assert!(a.needs_staff(), "{a}");
        }
    }
}
