//! The OpenAPI 3.1 document, built from the route table (pure): every
//! route the service registers is in it with its method, path parameters
//! and security (from its `Access`), its summary from `summaries`, and —
//! where the body is one of our typed structs — request and response
//! schemas derived by `schemars` from those very types.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::summaries;
use crate::fhir::clients::{ClientCreated, ClientList, NewClientForm};
use crate::fhir::model::{
    Appointment, Binary, Bundle, DiagnosticReport, OperationOutcome, Patient, ServiceRequest,
};
use crate::fhir::scope::ResourceType;
use crate::fhir::search;
use crate::fhir::token::{TokenError, TokenResponse, scope_names};
use crate::routes::{Access, RouteInfo};

const JSON: &str = "application/json";
const FHIR: &str = "application/fhir+json";

/// The form a token request posts (RFC 6749 §4.4.2), for its schema.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct TokenForm {
    /// `client_credentials`.
    grant_type: String,
    /// Space-separated scopes wanted (default: all granted).
    scope: Option<String>,
    /// With `client_secret`, unless sent as HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// What the typed part of a route says: bodies and query parameters.
struct Typed {
    request: Option<(&'static str, Value)>,
    response: Option<(&'static str, Value)>,
    query: Vec<Value>,
}

fn tag(path: &str) -> &'static str {
    let p = path;
    if p.starts_with("/api/v1/kiosk") {
        "kiosk"
    } else if p.starts_with("/fhir") {
        "fhir"
    } else if p.starts_with("/api/admin/api-clients") {
        "api-clients"
    } else if p.starts_with("/api/desk") {
        "desk"
    } else if p.starts_with("/api/group") {
        "group"
    } else if p.starts_with("/api/admin") || p.starts_with("/admin") {
        "admin"
    } else if p.starts_with("/api/audit") || p.starts_with("/audit") {
        "audit"
    } else if p.starts_with("/api/openapi") || p.starts_with("/api/docs") {
        "api-docs"
    } else if ["/login", "/logout", "/password", "/account"]
        .iter()
        .any(|x| p.starts_with(x))
    {
        "sign-in"
    } else if p == "/healthz" || p == "/metrics" {
        "operations"
    } else {
        "pages"
    }
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect()
}

fn security(access: Access, method: &str, path: &str) -> Value {
    let staff = || {
        if method == "GET" {
            json!([{ "staffSession": [] }])
        } else {
            json!([{ "staffSession": [], "csrfToken": [] }])
        }
    };
    match access {
        Access::Public | Access::Metrics | Access::Enrol => json!([]),
        Access::Kiosk => json!([{ "kioskSignature": [] }]),
        Access::SignedIn | Access::Staff | Access::Can(_) | Access::Visit { .. } => staff(),
        Access::ApiClient => {
            let scope =
                ResourceType::of_path(path).map(|r| crate::fhir::scope::Scope(Some(r)).to_string());
            json!([{ "fhirClient": scope.into_iter().collect::<Vec<_>>() }])
        }
    }
}

fn error_responses(access: Access) -> Map<String, Value> {
    let mut m = Map::new();
    let mut add = |code: &str, text: &str| {
        m.insert(code.into(), json!({ "description": text }));
    };
    match access {
        Access::Kiosk => add("401", "unsigned, badly signed, expired or replayed request"),
        Access::SignedIn | Access::Staff => add("401", "signed out"),
        Access::Can(_) | Access::Visit { .. } => {
            add("401", "signed out");
            add("403", "the role may not (audited as access.denied)");
        }
        Access::ApiClient => {
            let oo =
                json!({ FHIR: { "schema": { "$ref": "#/components/schemas/OperationOutcome" } } });
            for (code, text) in [
                (
                    "400",
                    "a search parameter invalid or not supported, or a search too wide",
                ),
                ("404", "no such resource"),
                ("406", "a format other than JSON asked for (_format)"),
                (
                    "401",
                    "no token, or a token unknown, expired or of a revoked client",
                ),
                (
                    "403",
                    "source address not allowed, or the token's scopes lack this resource",
                ),
                ("429", "the client's rate is exceeded (Retry-After)"),
            ] {
                m.insert(code.into(), json!({ "description": text, "content": oo }));
            }
        }
        Access::Public | Access::Metrics | Access::Enrol => {}
    }
    m
}

fn fhir_query(r: ResourceType) -> Vec<Value> {
    let mut q: Vec<Value> = search::parameters(r)
        .iter()
        .map(|(name, kind)| {
            json!({ "name": name, "in": "query", "required": false,
                    "description": format!("FHIR search parameter ({kind})"),
                    "schema": { "type": "string" } })
        })
        .collect();
    q.push(json!({ "name": "_count", "in": "query", "required": false,
        "schema": { "type": "integer", "minimum": 0, "maximum": search::MAX_COUNT } }));
    q.push(json!({ "name": "_offset", "in": "query", "required": false,
        "schema": { "type": "integer", "minimum": 0 } }));
    q
}

/// The typed bodies of the routes whose types derive `JsonSchema`.
fn typed(g: &mut SchemaGenerator, method: &str, path: &str) -> Option<Typed> {
    let res = |ct, v| Some((ct, v));
    let mut t = Typed {
        request: None,
        response: None,
        query: vec![],
    };
    match (method, path) {
        ("POST", "/fhir/token") => {
            t.request = res(
                "application/x-www-form-urlencoded",
                g.subschema_for::<TokenForm>().to_value(),
            );
            t.response = res(JSON, g.subschema_for::<TokenResponse>().to_value());
        }
        ("GET", "/api/admin/api-clients") => {
            t.response = res(JSON, g.subschema_for::<ClientList>().to_value());
        }
        ("POST", "/api/admin/api-clients") => {
            t.request = res(JSON, g.subschema_for::<NewClientForm>().to_value());
            t.response = res(JSON, g.subschema_for::<ClientCreated>().to_value());
        }
        ("GET", "/fhir/Binary/{id}") => {
            t.response = res(FHIR, g.subschema_for::<Binary>().to_value());
        }
        ("GET", "/fhir/metadata") => {
            t.response = res(
                FHIR,
                json!({ "type": "object", "description": "CapabilityStatement" }),
            );
        }
        ("GET", p) if p.starts_with("/fhir/") => {
            let name = p.trim_start_matches("/fhir/").split('/').next()?;
            let r = ResourceType::parse(name)?;
            let read = p.ends_with("/{id}");
            let (one, many) = match r {
                ResourceType::Patient => (
                    g.subschema_for::<Patient>(),
                    g.subschema_for::<Bundle<Patient>>(),
                ),
                ResourceType::Appointment => (
                    g.subschema_for::<Appointment>(),
                    g.subschema_for::<Bundle<Appointment>>(),
                ),
                ResourceType::ServiceRequest => (
                    g.subschema_for::<ServiceRequest>(),
                    g.subschema_for::<Bundle<ServiceRequest>>(),
                ),
                ResourceType::DiagnosticReport => (
                    g.subschema_for::<DiagnosticReport>(),
                    g.subschema_for::<Bundle<DiagnosticReport>>(),
                ),
                // No results are recorded yet: an empty searchset.
                ResourceType::Observation => (
                    g.subschema_for::<OperationOutcome>(),
                    g.subschema_for::<Bundle<Value>>(),
                ),
            };
            if read {
                t.response = res(FHIR, one.to_value());
            } else {
                t.response = res(FHIR, many.to_value());
                t.query = fhir_query(r);
            }
        }
        _ => return None,
    }
    Some(t)
}

fn components(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<OperationOutcome>();
    g.subschema_for::<TokenError>();
    let schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    let scopes: Map<String, Value> = scope_names()
        .into_iter()
        .map(|s| {
            let what = s
                .trim_start_matches("system/")
                .trim_end_matches(".read")
                .to_string();
            (s, Value::String(format!("read {what}")))
        })
        .collect();
    json!({
        "schemas": schemas,
        "securitySchemes": {
            "staffSession": {
                "type": "apiKey", "in": "cookie", "name": "exam_sid",
                "description": "The staff session cookie from signing in at /login (password, then TOTP for administrators). HttpOnly, SameSite=Strict, Secure over HTTPS; idle timeout."
            },
            "csrfToken": {
                "type": "apiKey", "in": "header", "name": "x-csrf",
                "description": "The session's CSRF token (from the page's <meta name=\"csrf\">), required on every change."
            },
            "kioskSignature": {
                "type": "apiKey", "in": "header", "name": "x-kiosk-signature",
                "description": "Ed25519 signature by the enrolled kiosk's key over method, path and query, kiosk id, time, nonce and the body's hash; sent with x-kiosk-id, x-kiosk-timestamp and x-kiosk-nonce (replays and stale times refused)."
            },
            "fhirClient": {
                "type": "oauth2",
                "description": "OAuth 2.0 client credentials: an API client registered by an administrator posts its id and secret to /fhir/token and gets a bearer token (15 minutes) for the scopes granted; calls are also limited to the client's allowed source addresses and rate.",
                "flows": { "clientCredentials": { "tokenUrl": "/fhir/token", "scopes": scopes } }
            }
        }
    })
}

/// The whole document for `routes`.
pub fn build(routes: &[RouteInfo], version: &str) -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas/".into())
        .into_generator();
    let mut paths = Map::new();
    for r in routes {
        let method = r.method.as_str();
        let mut op = Map::new();
        op.insert(
            "operationId".into(),
            Value::String(operation_id(method, r.path)),
        );
        op.insert(
            "summary".into(),
            Value::String(summaries::summary(method, r.path).unwrap_or("").to_string()),
        );
        op.insert("tags".into(), json!([tag(r.path)]));
        op.insert("x-access".into(), Value::String(r.access.to_string()));
        op.insert("security".into(), security(r.access, method, r.path));
        let t = typed(&mut g, method, r.path);
        let mut params = path_params(r.path);
        if let Some(t) = &t {
            params.extend(t.query.iter().cloned());
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        let mut responses = error_responses(r.access);
        let ok = match t.as_ref().and_then(|t| t.response.clone()) {
            Some((ct, schema)) => {
                json!({ "description": "OK", "content": { ct: { "schema": schema } } })
            }
            None => json!({ "description": "OK" }),
        };
        responses.insert("200".into(), ok);
        op.insert("responses".into(), Value::Object(responses));
        if let Some((ct, schema)) = t.and_then(|t| t.request) {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { ct: { "schema": schema } } }),
            );
        }
        let entry = paths
            .entry(r.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(method.to_ascii_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Health-examination centre: exam-server",
            "version": version,
            "description": "Every route of the central service, taken from its route table: the kiosks' signed sync API, the staff JSON API and pages behind the staff session, and the read-only FHIR R4 API for outside systems (mini-programs, the hospital platform). `x-access` names the access each route declares (routes.rs). Typed bodies carry JSON Schemas derived from the Rust types."
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": components(&mut g),
    })
}

/// `get_fhir_Patient_id`: unique per method and path.
fn operation_id(method: &str, path: &str) -> String {
    let mut s = method.to_ascii_lowercase();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        s.push('_');
        s.extend(
            seg.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    s.trim_end_matches('_').replace("__", "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    fn route(method: Method, path: &'static str, access: Access) -> RouteInfo {
        RouteInfo {
            method,
            path,
            access,
        }
    }

    #[test]
    fn every_route_becomes_an_operation_with_its_security() {
        let routes = [
            route(Method::GET, "/fhir/Patient/{id}", Access::ApiClient),
            route(Method::GET, "/fhir/Patient", Access::ApiClient),
            route(
                Method::POST,
                "/api/desk/visits/{id}/items/{code}",
                Access::Staff,
            ),
            route(
                Method::GET,
                "/api/desk/visits/{id}/items/{code}",
                Access::Staff,
            ),
            route(Method::POST, "/api/v1/kiosk/lookup", Access::Kiosk),
            route(Method::GET, "/healthz", Access::Public),
        ];
        let doc = build(&routes, "0.0.0");
        assert_eq!(doc["openapi"], "3.1.0");
        let p = &doc["paths"];
        let read = &p["/fhir/Patient/{id}"]["get"];
        assert_eq!(read["security"][0]["fhirClient"][0], "system/Patient.read");
        assert_eq!(read["parameters"][0]["name"], "id");
        assert!(
            read["responses"]["200"]["content"][FHIR]["schema"]["$ref"]
                .as_str()
                .unwrap()
                .ends_with("/Patient")
        );
        let search = &p["/fhir/Patient"]["get"];
        let names: Vec<&str> = search["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["_id", "identifier", "_count", "_offset"]);
        // Two methods on one path both kept; changes need the CSRF token.
        let items = &p["/api/desk/visits/{id}/items/{code}"];
        assert!(items["post"]["security"][0].get("csrfToken").is_some());
        assert!(items["get"]["security"][0].get("csrfToken").is_none());
        assert_eq!(items["post"]["parameters"].as_array().unwrap().len(), 2);
        assert_eq!(
            p["/api/v1/kiosk/lookup"]["post"]["security"][0]["kioskSignature"],
            json!([])
        );
        assert_eq!(p["/healthz"]["get"]["security"], json!([]));
        // Every $ref points into the components.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        assert!(schemas.contains_key("OperationOutcome"));
    }

    #[test]
    fn operation_ids_are_distinct() {
        assert_eq!(
            operation_id("GET", "/fhir/Patient/{id}"),
            "get_fhir_Patient_id"
        );
        assert_ne!(
            operation_id("GET", "/registrations.csv"),
            operation_id("GET", "/registrations")
        );
    }
}
