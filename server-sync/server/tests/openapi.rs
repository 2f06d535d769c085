//! The OpenAPI description is complete: every route of the route table
//! (`exam_server::route_table`, what the router was built from) is an
//! operation of the served `/api/openapi.json` with the same security its
//! access implies, the document names no route that does not exist, and
//! every route has a written summary (`src/openapi/summaries.rs`) — a new
//! route without one fails here, as does a line left behind for a route
//! removed. The docs page and its files are served under the CSP.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::Harness;
use exam_server::openapi::summaries::SUMMARIES;
use exam_server::routes::Access;
use serde_json::Value;

on_both_stores!(the_description_lists_every_route_and_nothing_else);

async fn the_description_lists_every_route_and_nothing_else(h: &Harness) {
    let r = h
        .http
        .get(format!("{}/api/openapi.json", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = exam_server::route_table(h.server.state.clone());

    let table: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.as_str().to_ascii_lowercase(), r.path.to_string()))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = table.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the description: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "the description names routes that do not exist: {extra:?}"
    );

    // Every route has its line in summaries.rs, and every line a route.
    let lines: BTreeSet<(String, String)> = SUMMARIES
        .iter()
        .map(|(m, p, _)| (m.to_ascii_lowercase(), p.to_string()))
        .collect();
    let unwritten: Vec<String> = table
        .difference(&lines)
        .map(|(m, p)| format!("    (\"{}\", \"{p}\", \"…\"),", m.to_ascii_uppercase()))
        .collect();
    assert!(
        unwritten.is_empty(),
        "routes without a summary: add to server-sync/server/src/openapi/summaries.rs\n{}",
        unwritten.join("\n")
    );
    let stale: Vec<_> = lines.difference(&table).collect();
    assert!(
        stale.is_empty(),
        "summaries of routes that do not exist: {stale:?}"
    );
    assert_eq!(lines.len(), SUMMARIES.len(), "a route summarised twice");
    for r in &routes {
        let op = &doc["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
        assert!(
            !op["summary"].as_str().unwrap_or("").is_empty(),
            "{} {}: the served summary is empty",
            r.method,
            r.path
        );
    }

    // The security of each operation follows its declared access.
    for r in &routes {
        let op = &doc["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
        assert_eq!(
            op["x-access"],
            r.access.to_string(),
            "{} {}",
            r.method,
            r.path
        );
        let sec = op["security"].to_string();
        let want = match r.access {
            Access::Public | Access::Metrics | Access::Enrol => "[]",
            Access::Kiosk => "kioskSignature",
            Access::ApiClient => "fhirClient",
            _ => "staffSession",
        };
        assert!(sec.contains(want), "{} {}: {sec}", r.method, r.path);
    }
    let schemes = &doc["components"]["securitySchemes"];
    for s in ["staffSession", "csrfToken", "kioskSignature", "fhirClient"] {
        assert!(schemes.get(s).is_some(), "{s}");
    }
    assert_eq!(
        schemes["fhirClient"]["flows"]["clientCredentials"]["tokenUrl"],
        "/fhir/token"
    );
    // Typed bodies carry their schemas, resolvable in the components.
    let patient = &doc["paths"]["/fhir/Patient/{id}"]["get"]["responses"]["200"]["content"]["application/fhir+json"]
        ["schema"]["$ref"];
    let name = patient.as_str().unwrap().rsplit('/').next().unwrap();
    assert!(doc["components"]["schemas"][name]["properties"]["birthDate"].is_object());

    // The page and its files, all from the binary, under the CSP.
    for (path, ct) in [
        ("/api/docs", "text/html"),
        ("/api/docs/docs.js", "text/javascript"),
        ("/api/docs/docs.css", "text/css"),
    ] {
        let r = h.http.get(format!("{}{path}", h.url)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let got = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(got.starts_with(ct), "{path}: {got}");
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
    let r = h
        .http
        .get(format!("{}/api/docs/other.js", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
