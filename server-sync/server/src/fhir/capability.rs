//! `GET /fhir/metadata`: the CapabilityStatement, built from the same
//! lists the handlers use (resource types, search parameters, scopes), so
//! what it says is what is served. Public, as FHIR expects: it holds no
//! data, and a client reads it to find the token endpoint.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::scope::ResourceType;
use super::{base_url, fhir_json, search};
use crate::AppState;

/// The statement for a service reached at `base` (…/fhir).
pub fn statement(base: &str, date: &str) -> Value {
    let mut resources: Vec<Value> = ResourceType::ALL
        .iter()
        .map(|&r| {
            let params: Vec<Value> = search::parameters(r)
                .iter()
                .map(|(name, kind)| json!({ "name": name, "type": kind }))
                .collect();
            json!({
                "type": r.as_str(),
                "interaction": [{ "code": "read" }, { "code": "search-type" }],
                "searchParam": params,
            })
        })
        .collect();
    resources.push(json!({
        "type": "Binary",
        "interaction": [{ "code": "read" }],
        "documentation": "The PDF of a DiagnosticReport (its presentedForm); needs system/DiagnosticReport.read",
    }));
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": { "name": "exam-server", "version": env!("CARGO_PKG_VERSION") },
        "implementation": {
            "description": "Health-examination centre: read-only FHIR R4 API",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read only. Bearer tokens from the token endpoint (OAuth 2.0 client credentials, scopes system/<Resource>.read). Searches must name a patient, an identifier or a date; unknown parameters are refused; paging with _count (at most 100) and _offset.",
            "security": {
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{ "url": "token", "valueUri": format!("{base}/token") }],
                }],
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "OAuth",
                    }],
                }],
                "description": "OAuth 2.0 client credentials at the token endpoint; tokens last 15 minutes; each client is limited to its allowed source addresses and a rate",
            },
            "resource": resources,
        }],
    })
}

pub async fn metadata(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    fhir_json(StatusCode::OK, &statement(&base_url(&st, &headers), &today))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_type_is_listed_with_its_parameters() {
        let s = statement("https://h/fhir", "2026-12-05");
        let listed: Vec<&str> = s["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        for r in ResourceType::ALL {
            assert!(listed.contains(&r.as_str()), "{r:?}");
        }
        assert!(listed.contains(&"Binary"));
        assert_eq!(s["fhirVersion"], "4.0.1");
        assert_eq!(
            s["rest"][0]["security"]["extension"][0]["extension"][0]["valueUri"],
            "https://h/fhir/token"
        );
    }
}
