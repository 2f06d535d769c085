//! Property-based testing of the read-only FHIR routes by `schemathesis`
//! (PyPI), a tool no one here wrote, driven by the served OpenAPI
//! description: it generates requests from the description (ids, search
//! parameters of every kind, paging) with a real client's bearer token and
//! fails on any 5xx, on a status the description does not list, on a
//! content type or body that does not match the documented schema.

#![allow(clippy::unwrap_used)]

mod common;

use common::Harness;
use serde_json::{Value, json};

on_both_stores!(the_fhir_routes_hold_to_their_description);

async fn the_fhir_routes_hold_to_their_description(h: &Harness) {
    let admin = h.staff("st_admin", "admin").await;
    let (st, c) = admin
        .post(
            "/api/admin/api-clients",
            json!({ "name": "schemathesis", "scopes": ["system/*.read"],
                    "allow_from": "127.0.0.1, ::1", "rate_per_minute": 10000 }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let r = h
        .http
        .post(format!("{}/fhir/token", h.url))
        .basic_auth(
            c["client"]["client_id"].as_str().unwrap(),
            Some(c["client_secret"].as_str().unwrap()),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let token: Value = r.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();

    let python = std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let st_bin = std::path::Path::new(&python).with_file_name("schemathesis");
    assert!(
        st_bin.exists(),
        "schemathesis is missing beside {python}: run scripts/test, which installs \
         tests/peers/requirements.txt into the peers' venv, or set EXAM_PEERS_PYTHON"
    );
    let dir = tempfile::tempdir().unwrap();
    let h2 = h.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(st_bin)
            .current_dir(dir.path())
            .args([
                "run",
                &format!("{h2}/api/openapi.json"),
                "--include-path-regex",
                // Every read route of the FHIR API (all GET; not the token endpoint).
                "^/fhir/(Patient|Appointment|ServiceRequest|Observation|DiagnosticReport|Binary)",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--max-examples",
                "25",
                "--seed",
                "18",
                "--phases",
                "examples,coverage,fuzzing",
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--no-color",
            ])
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    // All eleven read routes were exercised, not a filtered-out nothing.
    assert!(text.contains("Selected: 11/"), "{text}");
    assert!(text.contains("Tested: 11"), "{text}");
}
