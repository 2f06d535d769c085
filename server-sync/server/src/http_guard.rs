//! What every HTTP answer gets, whatever route made it (issue 17 item 10 and
//! "outside scanners"; seed §(九) 4.2, 4.9):
//!
//! - `Cache-Control: no-store` unless the route chose its caching (only the
//!   static files do: `no-cache` with an ETag): JSON with personal data and
//!   the staff pages are never kept by a browser or a proxy.
//! - `X-XSS-Protection: 1; mode=block` for older browsers and scanners.
//! - A `Permissions-Policy` that gives pages no camera, microphone,
//!   location or payment, and cross-origin isolation of the pages
//!   (`Cross-Origin-Opener-Policy`, `-Resource-Policy`); no `Server` or
//!   `X-Powered-By` header names the software.
//! - Unknown paths get a plain 404 that says nothing of the service; a
//!   handler that panics gets a plain 500 (the detail goes to the log).
//! - Request logs name the route's path template (`/api/desk/search`),
//!   never the URI: query strings carry search terms (ID numbers, names,
//!   mobiles) and paths carry booking codes.

use std::panic::AssertUnwindSafe;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tower_http::LatencyUnit;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// The default caching of any answer that does not set its own.
pub const NO_STORE: &str = "no-store, no-cache, must-revalidate";

const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                           serial=(), bluetooth=(), interest-cohort=()";

/// Adds the headers every answer carries (see the module's doc).
pub async fn harden(mut res: Response) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    h.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS));
    // Ignored by current browsers (the CSP protects them); in older ones
    // `mode=block` stops a page rather than "repairing" it, and scanners
    // (wapiti, 等保 scanners) report its absence.
    h.insert(
        "x-xss-protection",
        HeaderValue::from_static("1; mode=block"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.remove(header::SERVER);
    h.remove("x-powered-by");
    res
}

/// Any path no route serves.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 Not Found\n",
    )
        .into_response()
}

/// A handler that panics answers 500 with nothing of the panic in it.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let route = route_of(&req);
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!(route, "a handler panicked");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "500 Internal Server Error\n",
            )
                .into_response()
        }
    }
}

fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_string(), |p| p.as_str().to_string())
}

/// A request's span: method, path template (never the URI: it may carry
/// an ID number in a search) and the peer's address.
fn span_of(req: &axum::http::Request<Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(a)| a.ip());
    match peer {
        Some(peer) => tracing::info_span!("request", method = %req.method(), route, %peer),
        None => tracing::info_span!("request", method = %req.method(), route),
    }
}

/// How a request's span is made.
type MakeSpan = fn(&axum::http::Request<Body>) -> tracing::Span;

/// The request log layer (tower-http's, with [`span_of`] instead of its
/// default span, which records the whole URI).
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan> {
    TraceLayer::new_for_http()
        .make_span_with(span_of as MakeSpan)
        // The access log (seed 002 §(九) 8.1): one line per answer at INFO,
        // the default filter, with its status and time, in the span above.
        .on_response(
            DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        )
}
