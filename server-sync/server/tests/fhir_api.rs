//! The FHIR R4 read API (I6, I7) over real HTTP on both stores: API
//! clients registered by an administrator, tokens from the client-
//! credentials endpoint, refusals (no token, wrong scope, source not
//! allowed, revoked client) answered and audited, every read audited per
//! person, masking by identity level, search parameters and paging — and
//! every resource served validated by the `fhir.resources` R4 (4.0.1)
//! models, a peer no one here wrote (tests/peers/fhir_validate.py).

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::Harness;
use exam_server::audit::Outcome;
use exam_server::db::AuditQuery;
use serde_json::{Value, json};

on_both_stores!(fhir_reads_are_authorized_audited_and_valid_r4);

const ID_SYSTEM: &str = "urn:exam-centre:id:cn-resident-id";

struct Client {
    id: String,
    secret: String,
}

async fn register(admin: &common::Staff, body: Value) -> Client {
    let (st, b) = admin.post("/api/admin/api-clients", body).await;
    assert_eq!(st, 200, "{b}");
    Client {
        id: b["client"]["client_id"].as_str().unwrap().into(),
        secret: b["client_secret"].as_str().unwrap().into(),
    }
}

async fn token(h: &Harness, c: &Client, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let r = h
        .http
        .post(format!("{}/fhir/token", h.url))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// GET with a bearer token: status, body, content type.
async fn get(h: &Harness, tok: Option<&str>, path: &str) -> (u16, Value, String) {
    get_from(&h.http, h, tok, path).await
}

async fn get_from(
    http: &reqwest::Client,
    h: &Harness,
    tok: Option<&str>,
    path: &str,
) -> (u16, Value, String) {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", h.url)
    };
    let mut req = http.get(url);
    if let Some(t) = tok {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null), ct)
}

async fn audit_rows(h: &Harness, actor: &str) -> Vec<exam_server::db::AuditRow> {
    let q = AuditQuery {
        actor: Some(actor.into()),
        ..AuditQuery::default()
    };
    h.db().audit_rows(&q, 1000).await.unwrap()
}

fn issue(v: &Value) -> &str {
    v["issue"][0]["code"].as_str().unwrap_or("")
}

async fn fhir_reads_are_authorized_audited_and_valid_r4(h: &Harness) {
    let admin = h.staff("fhir_admin", "admin").await;
    let desk = h.staff("fhir_desk", "front_desk").await;
    let mut served: Vec<Value> = Vec::new();
    let mut keep = |label: &str, v: &Value| served.push(json!({ "label": label, "resource": v }));

    // The statement is public and names the token endpoint.
    let (st, cap, ct) = get(h, None, "/fhir/metadata").await;
    assert_eq!(st, 200);
    assert!(ct.starts_with("application/fhir+json"), "{ct}");
    keep("metadata", &cap);

    // A front-desk member may not register clients.
    let (st, _) = desk
        .post(
            "/api/admin/api-clients",
            json!({ "name": "x", "scopes": ["system/*.read"], "allow_from": "*" }),
        )
        .await;
    assert_eq!(st, 403);
    let platform = register(
        &admin,
        json!({ "name": "集成平台", "scopes": ["system/*.read"], "identity": "full",
                "allow_from": "127.0.0.1, ::1", "rate_per_minute": 1000 }),
    )
    .await;
    let mini = register(
        &admin,
        json!({ "name": "小程序后台", "scopes": ["system/Patient.read", "system/Appointment.read"],
                "allow_from": "127.0.0.1" }),
    )
    .await;
    let (st, list) = admin.get("/api/admin/api-clients").await;
    assert_eq!(st, 200);
    assert!(
        !list.to_string().contains(&platform.secret),
        "secrets are never listed"
    );

    // Tokens: client credentials, within the grant only.
    let (st, t) = token(h, &platform, None).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 900);
    let full = t["access_token"].as_str().unwrap().to_string();
    let (st, t) = token(
        h,
        &mini,
        Some("system/Patient.read system/Appointment.read"),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let masked = t["access_token"].as_str().unwrap().to_string();
    let (st, e) = token(h, &mini, Some("system/ServiceRequest.read")).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_scope")));
    let wrong = Client {
        id: mini.id.clone(),
        secret: "0".repeat(64),
    };
    let (st, e) = token(h, &wrong, None).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));

    // No token, an unknown token, a scope not granted: refused and audited.
    let (st, oo, _) = get(h, None, "/fhir/Patient/abc").await;
    assert_eq!((st, issue(&oo)), (401, "login"));
    keep("401", &oo);
    let (st, _, _) = get(h, Some("not-a-token"), "/fhir/Appointment?date=2026").await;
    assert_eq!(st, 401);
    let (st, oo, _) = get(h, Some(&masked), "/fhir/ServiceRequest?patient=abc").await;
    assert_eq!((st, issue(&oo)), (403, "forbidden"));
    let refused = audit_rows(h, &format!("api:{}", mini.id)).await;
    assert!(
        refused.iter().any(|r| r.action == "api.refused"
            && r.outcome == Outcome::Denied.as_str()
            && r.detail.contains("insufficient_scope")),
        "{refused:?}"
    );
    let wrong_secret = audit_rows(h, &format!("api:{}", mini.id)).await;
    assert!(
        wrong_secret
            .iter()
            .any(|r| r.detail.contains("token request refused"))
    );
    let anonymous = audit_rows(h, "api:?").await;
    assert!(
        anonymous.iter().any(|r| r.detail.starts_with("no_token")),
        "{anonymous:?}"
    );
    assert!(
        anonymous
            .iter()
            .any(|r| r.detail.starts_with("invalid_token"))
    );
    // From an address the client is not allowed to call from.
    let other = h.client_from("127.0.7.7");
    let (st, oo, _) = get_from(&other, h, Some(&full), "/fhir/Appointment?date=2026").await;
    assert_eq!((st, issue(&oo)), (403, "forbidden"));

    // A demo person, found by their ID number.
    let rec = h.db().changes_since("main", 0, 100).await.unwrap().records[0].clone();
    let number = rec.person.id_number.as_str().to_string();
    let (st, b, _) = get(
        h,
        Some(&full),
        &format!("/fhir/Patient?identifier={ID_SYSTEM}|{number}"),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["total"], 1);
    keep("patient bundle", &b);
    let pid = b["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, p, _) = get(h, Some(&full), &format!("/fhir/Patient/{pid}")).await;
    assert_eq!(st, 200);
    assert_eq!(p["identifier"][0]["value"], number.as_str());
    assert_eq!(p["name"][0]["text"], rec.person.name.as_str());
    keep("patient full", &p);
    // The masked client finds the same person and learns no full datum.
    let (st, m, _) = get(h, Some(&masked), &format!("/fhir/Patient/{pid}")).await;
    assert_eq!(st, 200);
    let text = m.to_string();
    for secret in [
        number.as_str(),
        rec.person.name.as_str(),
        rec.person.mobile.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "{secret} shown to a masked client: {text}"
        );
    }
    assert_eq!(m["birthDate"].as_str().unwrap().len(), 4);
    keep("patient masked", &m);
    let (_, b, _) = get(
        h,
        Some(&masked),
        &format!("/fhir/Patient?identifier={number}"),
    )
    .await;
    assert_eq!(b["total"], 1);

    // Appointments, items, reports of the person.
    let (st, b, _) = get(
        h,
        Some(&full),
        &format!("/fhir/Appointment?patient=Patient/{pid}"),
    )
    .await;
    assert_eq!(st, 200);
    assert!(b["total"].as_u64().unwrap() >= 1);
    assert_eq!(
        b["entry"][0]["resource"]["participant"][0]["actor"]["reference"],
        format!("Patient/{pid}")
    );
    keep("appointment bundle", &b);
    let aid = b["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, a, _) = get(h, Some(&full), &format!("/fhir/Appointment/{aid}")).await;
    assert_eq!((st, a["status"].as_str()), (200, Some("booked")));
    keep("appointment", &a);
    let (_, b, _) = get(
        h,
        Some(&full),
        &format!("/fhir/Appointment?patient={pid}&status=cancelled"),
    )
    .await;
    assert_eq!(b["total"], 0);
    // The demo bookings carry no items: two added at the desk, one paid.
    let (st, e) = desk
        .post(
            &format!("/api/desk/visits/{}/items", rec.booking.id),
            json!({ "add": ["L-CBC", "L-GLU"] }),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let visit = h.db().visit(rec.booking.id).await.unwrap();
    assert!(visit.items.len() >= 2);
    let (st, b, _) = get(
        h,
        Some(&full),
        &format!("/fhir/ServiceRequest?patient={pid}"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(b["total"].as_u64().unwrap() as usize, visit.items.len());
    keep("service request bundle", &b);
    let sid = b["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, sr, _) = get(h, Some(&full), &format!("/fhir/ServiceRequest/{sid}")).await;
    assert_eq!((st, sr["intent"].as_str()), (200, Some("order")));
    keep("service request", &sr);

    let pdf =
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec();
    let r = desk
        .http
        .put(format!(
            "{}/api/desk/visits/{}/report",
            h.url, rec.booking.id
        ))
        .header("cookie", &desk.cookie)
        .header("x-csrf", &desk.csrf)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (st, b, _) = get(
        h,
        Some(&full),
        &format!("/fhir/DiagnosticReport?patient={pid}"),
    )
    .await;
    assert_eq!((st, b["total"].as_u64()), (200, Some(1)), "{b}");
    keep("report bundle", &b);
    let report = &b["entry"][0]["resource"];
    let pdf_url = report["presentedForm"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let rid = report["id"].as_str().unwrap().to_string();
    let (st, d, _) = get(h, Some(&full), &format!("/fhir/DiagnosticReport/{rid}")).await;
    assert_eq!((st, d["status"].as_str()), (200, Some("final")));
    keep("report", &d);
    let (st, bin, _) = get(h, Some(&full), &pdf_url).await;
    assert_eq!(st, 200);
    let data = base64::engine::general_purpose::STANDARD
        .decode(bin["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, pdf);
    keep("binary", &bin);
    let raw = h
        .http
        .get(&pdf_url)
        .bearer_auth(&full)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.bytes().await.unwrap().to_vec(), pdf);

    // Results: none recorded, so a real, empty searchset; a read is a 404.
    let (st, b, _) = get(h, Some(&full), &format!("/fhir/Observation?patient={pid}")).await;
    assert_eq!((st, b["total"].as_u64()), (200, Some(0)));
    assert!(b.get("entry").is_none());
    keep("observation bundle", &b);
    let (st, oo, _) = get(h, Some(&full), "/fhir/Observation/1").await;
    assert_eq!((st, issue(&oo)), (404, "not-found"));
    keep("404", &oo);

    // Paging over a day's bookings, following the next link.
    let today = rec.booking.exam_date.format("%Y-%m-%d").to_string();
    let (st, p1, _) = get(
        h,
        Some(&full),
        &format!("/fhir/Appointment?date={today}&_count=2"),
    )
    .await;
    assert_eq!(st, 200);
    let total = p1["total"].as_u64().unwrap();
    assert!(total > 2, "{total}");
    assert_eq!(p1["entry"].as_array().unwrap().len(), 2);
    let next = p1["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, p2, _) = get(h, Some(&full), &next).await;
    assert_ne!(
        p1["entry"][0]["resource"]["id"],
        p2["entry"][0]["resource"]["id"]
    );
    keep("appointment page", &p1);

    // Searches the API refuses.
    for (path, status, code) in [
        ("/fhir/Appointment?status=booked", 400, "invalid"),
        ("/fhir/Patient?name=zhang", 400, "not-supported"),
        ("/fhir/Appointment?date=2026-13-01", 400, "invalid"),
        ("/fhir/Patient?_id=abc&_format=xml", 406, "not-supported"),
    ] {
        let (st, oo, _) = get(h, Some(&full), path).await;
        assert_eq!((st, issue(&oo)), (status, code), "{path}: {oo}");
        keep(path, &oo);
    }

    // Every answer was audited: the person's reads under their subject.
    let rows = audit_rows(h, &format!("api:{}", platform.id)).await;
    let subject = format!("person:{pid}");
    let about: Vec<_> = rows.iter().filter(|r| r.subject == subject).collect();
    assert!(
        about
            .iter()
            .any(|r| r.action == "fhir.read" && r.detail.starts_with("Patient/"))
    );
    assert!(
        about
            .iter()
            .any(|r| r.action == "fhir.search" && r.detail.starts_with("Appointment"))
    );
    assert!(about.iter().any(|r| r.detail.starts_with("Binary/")));
    assert!(rows.iter().any(|r| r.action == "api.token"));
    assert!(
        rows.iter().all(|r| !r.detail.contains(&number)),
        "the trail masks ID numbers"
    );
    assert!(
        rows.iter()
            .any(|r| r.detail.starts_with("Observation search"))
    );

    // Revoked: the token stops at once, and no new one is issued.
    let (st, _) = admin
        .post(
            &format!("/api/admin/api-clients/{}/revoke", platform.id),
            json!({}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, _, _) = get(h, Some(&full), &format!("/fhir/Patient/{pid}")).await;
    assert_eq!(st, 401);
    let (st, _) = token(h, &platform, None).await;
    assert_eq!(st, 401);
    let revoked = audit_rows(h, &admin_actor()).await;
    assert!(revoked.iter().any(|r| r.action == "api_client.revoke"));

    // Every resource served is valid FHIR R4 to a validator no one here wrote.
    validate(&served);
}

fn admin_actor() -> String {
    "fhir_admin".into()
}

fn validate(served: &[Value]) {
    let python = std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "the peers' Python ({python}) is missing: run scripts/test, which installs \
         tests/peers/requirements.txt (fhir.resources) into it, or set EXAM_PEERS_PYTHON"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("served.json");
    std::fs::write(&file, serde_json::to_vec(served).unwrap()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/peers/fhir_validate.py"
    );
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "fhir.resources refused what we serve:\n{text}"
    );
    for rt in [
        "Patient",
        "Appointment",
        "ServiceRequest",
        "DiagnosticReport",
        "Binary",
        "Bundle",
        "OperationOutcome",
        "CapabilityStatement",
    ] {
        assert!(
            text.contains(&format!("\"{rt}\"")),
            "{rt} not validated: {text}"
        );
    }
}
