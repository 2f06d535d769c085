//! What outside scanners (OWASP ZAP baseline, nikto, testssl) and the
//! review's item 10 look at, over real HTTP: `Cache-Control: no-store` on
//! JSON and staff pages, request logs without query strings (search terms
//! are ID numbers), waiver signatures that must decode as PNG, and the
//! headers, 404s, methods and cookies of a sample of routes.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{Backend, Harness, Staff, id_number};
use serde_json::json;

/// Everything the service logs in this test binary, at debug level.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || Sink(w.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn get(h: &Harness, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut r = h.http.get(format!("{}{path}", h.url));
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn walk_in(s: &Staff, id: &str) -> i64 {
    let (st, r) = s
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id, "name": "韩测试", "mobile": "13912345678" },
                    "marital": "married", "package": "P-EMP", "add": [], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_staff_pages_are_never_cached() {
    let h = Harness::start(Backend::Sqlite).await;
    let desk = h.staff("cache-desk", "front_desk").await;
    let visit = walk_in(&desk, &id_number(1981, 11)).await;
    let c = Some(desk.cookie.as_str());
    for path in [
        format!("/api/desk/visits/{visit}"),
        format!("/api/desk/search?q={}", id_number(1981, 11)),
        "/desk".into(),
        "/registrations".into(),
        "/login".into(),
        "/healthz".into(),
        "/metrics".into(),
        "/no/such/page".into(),
        "/api/desk/visits/999999999".into(),
    ] {
        let r = get(&h, &path, c).await;
        let cc = header(&r, "cache-control");
        assert!(
            cc.contains("no-store"),
            "{path} ({}): cache-control {cc:?}",
            r.status()
        );
    }
    // Static files keep their own rule: revalidate, not never store.
    let r = get(&h, "/static/staff.css", None).await;
    assert_eq!(header(&r, "cache-control"), "no-cache");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_logs_name_routes_not_search_terms() {
    let log = log();
    let h = Harness::start(Backend::Sqlite).await;
    let desk = h.staff("log-desk", "front_desk").await;
    let id = id_number(1977, 31);
    walk_in(&desk, &id).await;
    let (st, _) = desk.get(&format!("/api/desk/search?q={id}")).await;
    assert_eq!(st, 200);
    let (st, _) = desk.get("/api/desk/search?q=13912345678").await;
    assert_eq!(st, 200);
    h.stop().await;
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    let requests: Vec<&str> = text.lines().filter(|l| l.contains("request{")).collect();
    assert!(
        text.contains("route=\"/api/desk/search\""),
        "the request log names the route: {:?}",
        &requests[..requests.len().min(20)]
    );
    // The access log (8.1): each answer at INFO, the default level, with
    // its route, source address and status.
    assert!(
        text.lines().any(|l| l.contains(" INFO ")
            && l.contains("route=\"/api/desk/search\"")
            && l.contains("peer=127.")
            && l.contains("status=200")),
        "an access line at INFO: {:?}",
        &requests[..requests.len().min(20)]
    );
    assert!(!text.contains(&id), "an ID number reached the log");
    assert!(
        !text.contains("13912345678"),
        "a mobile number reached the log"
    );
    assert!(!text.contains("q="), "a query string reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_signature_must_be_a_png_that_decodes() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let h = Harness::start(Backend::Sqlite).await;
    let desk = h.staff("sig-desk", "front_desk").await;
    let visit = walk_in(&desk, &id_number(1983, 21)).await;
    let item = format!("/api/desk/visits/{visit}/items/ECG-12");
    // The PNG signature bytes in front of a script: refused, saying why.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(b"<script>alert(document.cookie)</script>");
    let (st, e) = desk
        .post(
            &item,
            json!({ "change": "waive", "signature_png": b64(&fake) }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    assert_eq!(e["error"], "signature", "{e}");
    assert!(e["message"].as_str().unwrap().contains("PNG"), "{e}");
    // A picture too large for a signature pad.
    let huge = {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 4000, 10);
        enc.set_color(png::ColorType::Grayscale);
        enc.write_header()
            .unwrap()
            .write_image_data(&vec![0u8; 40_000])
            .unwrap();
        out
    };
    let (st, e) = desk
        .post(
            &item,
            json!({ "change": "waive", "signature_png": b64(&huge) }),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    // A real one is kept.
    let real = {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 300, 100);
        enc.set_color(png::ColorType::Grayscale);
        enc.write_header()
            .unwrap()
            .write_image_data(&vec![255u8; 30_000])
            .unwrap();
        out
    };
    let (st, v) = desk
        .post(&item, json!({ "change": "waive", "signature_png": format!("data:image/png;base64,{}", b64(&real)) }))
        .await;
    assert_eq!(st, 200, "{v}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_scanner_sees_on_a_sample_of_routes() {
    let h = Harness::start(Backend::Sqlite).await;
    let desk = h.staff("scan-desk", "front_desk").await;
    let c = Some(desk.cookie.as_str());
    for (path, cookie) in [
        ("/", None),
        ("/login", None),
        ("/healthz", None),
        ("/static/staff.js", None),
        ("/desk", c),
        ("/api/desk/catalogue", c),
        ("/no/such/page", None),
        ("/static/", None),
        ("/static/..%2f..%2fCargo.toml", None),
        ("/.git/config", None),
        ("/api/desk/visits/1", None),
    ] {
        let r = get(&h, path, cookie).await;
        let status = r.status().as_u16();
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&r, "x-frame-options"), "DENY", "{path}");
        let csp = header(&r, "content-security-policy");
        for d in [
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(d), "{path}: {csp}");
        }
        assert_eq!(header(&r, "x-xss-protection"), "1; mode=block", "{path}");
        assert_eq!(header(&r, "referrer-policy"), "no-referrer", "{path}");
        assert!(
            header(&r, "permissions-policy").contains("camera=()"),
            "{path}"
        );
        assert_eq!(
            header(&r, "cross-origin-opener-policy"),
            "same-origin",
            "{path}"
        );
        assert!(
            r.headers().get("server").is_none(),
            "{path} names its server"
        );
        assert!(r.headers().get("x-powered-by").is_none(), "{path}");
        let body = r.text().await.unwrap();
        for leak in [
            "axum",
            "hyper",
            "tokio",
            "sqlx",
            "panicked",
            "exam_server",
            "src/",
            "RUST_BACKTRACE",
        ] {
            assert!(!body.contains(leak), "{path} ({status}) shows {leak:?}");
        }
        if path.starts_with("/no/")
            || path.starts_with("/static/.")
            || path == "/static/"
            || path.starts_with("/.git")
        {
            assert_eq!(status, 404, "{path}");
            assert!(
                body.len() < 64,
                "{path}: a plain 404, not a listing: {body}"
            );
        }
    }
    // TRACE and OPTIONS are not answered as methods.
    for m in ["TRACE", "OPTIONS"] {
        let r = h
            .http
            .request(m.parse().unwrap(), format!("{}/login", h.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{m}");
        let echo = r.text().await.unwrap();
        assert!(
            !echo.to_ascii_lowercase().contains("cookie"),
            "{m} echoed the request"
        );
    }
    // Cookies the service sets are HttpOnly and SameSite.
    let r = get(&h, "/login", None).await;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(!cookies.is_empty());
    for c in cookies {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    h.stop().await;
}
