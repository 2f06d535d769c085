//! The service's OpenAPI 3.1 description (`GET /api/openapi.json`) and a
//! page that renders it (`GET /api/docs`), both served by the binary (no
//! CDN; the page's script and style are files of its own, for the CSP).
//!
//! Why generated from the route table rather than with `utoipa`: every
//! route is already registered through `RouteTable` with its access, so
//! the table is the one list of what the service answers. utoipa would
//! want an attribute on each of the hundred-odd handlers and a second
//! list of paths beside the table, free to drift from it. Here the paths,
//! path parameters and security come from the table itself; summaries
//! from `summaries` (a test fails when one is missing or stale); and the
//! bodies that are typed structs of ours get JSON Schemas from `schemars`
//! (the FHIR resources, the token endpoint, API clients), so the schema is
//! the type that is serialised.

pub mod spec;
pub mod summaries;

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::routes::{Access, RouteTable};

const PAGE: &str = include_str!("page/docs.html");
const SCRIPT: &str = include_str!("page/docs.js");
const STYLE: &str = include_str!("page/docs.css");

pub(crate) fn routes(t: &mut RouteTable) {
    // Public: the description holds no data, and an integrator reads it
    // before it has credentials.
    t.get("/api/openapi.json", Access::Public, document)
        .get("/api/docs", Access::Public, page)
        .get("/api/docs/{name}", Access::Public, asset);
}

/// The document (built once: the route table does not change while the
/// service runs).
pub fn document_for(st: &AppState) -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| spec::build(&crate::route_table(st.clone()), env!("CARGO_PKG_VERSION")))
}

async fn document(State(st): State<AppState>) -> Response {
    let body = document_for(&st).to_string();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        PAGE,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    let (ct, body) = match name.as_str() {
        "docs.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "docs.css" => ("text/css; charset=utf-8", STYLE),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response()
}
