//! Every file of `static/`, embedded in the binary and served from this one
//! table: the service runs from a single file, and a page can never refer
//! to a script that ships without a route (as `/admin`'s `admin.js` once
//! did). A test below fails when a file of `static/` is missing here, and
//! one in `tests/staff_web.rs` when a template names a file not served.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// The URLs carry no version, so the browser keeps a copy but asks each
/// time whether it is still current (a 304 against the ETag): after an
/// upgrade every page gets the new script at once.
const CACHE: &str = "no-cache";

pub(super) struct Asset {
    pub(super) name: &'static str,
    pub(super) content_type: &'static str,
    pub(super) body: &'static [u8],
}

/// `name => content type`, each file read from `static/` at compile time.
macro_rules! assets {
    ($($name:literal => $ctype:expr),* $(,)?) => {
        &[$(Asset {
            name: $name,
            content_type: $ctype,
            body: include_bytes!(concat!("../../static/", $name)),
        }),*]
    };
}

pub(super) const ASSETS: &[Asset] = assets! {
    "abnormal.js" => JS,
    "accounts.js" => JS,
    "admin.js" => JS,
    "common.js" => JS,
    "dept.js" => JS,
    "desk.js" => JS,
    "emergency.js" => JS,
    "favicon.svg" => SVG,
    "groups.js" => JS,
    "guide.js" => JS,
    "interfaces.js" => JS,
    "payments.js" => JS,
    "phone.js" => JS,
    "print.js" => JS,
    "privacy.js" => JS,
    "queue.css" => CSS,
    "screen.js" => JS,
    "specimens.js" => JS,
    "chief.js" => JS,
    "batch.js" => JS,
    "staff.css" => CSS,
    "staff.js" => JS,
    "station.js" => JS,
};

/// ETags, one per asset in table order: a hash of the bytes, so a changed
/// file gets a new one (SipHash with fixed keys: the same bytes give the
/// same tag in every process of one build, which is all a cache needs).
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let mut h = DefaultHasher::new();
            a.body.hash(&mut h);
            format!("\"{:016x}\"", h.finish())
        })
        .collect()
});

/// `GET /static/{name}`.
pub(super) async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (asset, etag) = (&ASSETS[i], ETAGS[i].as_str());
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
        (
            header::ETAG,
            HeaderValue::from_str(etag).expect("a hex ETag is a valid header"),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_file_of_static_is_in_the_table() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("static/ exists")
            .map(|e| {
                e.expect("readable entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8 name")
            })
            .collect();
        files.sort();
        let mut served: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
        served.sort_unstable();
        assert_eq!(files, served, "static/ and the asset table differ");
    }

    #[test]
    fn content_types_follow_the_extension() {
        for a in ASSETS {
            let want = match a.name.rsplit_once('.').map(|(_, ext)| ext) {
                Some("js") => super::JS,
                Some("css") => super::CSS,
                Some("svg") => super::SVG,
                other => panic!("{}: no content type for {other:?}", a.name),
            };
            assert_eq!(a.content_type, want, "{}", a.name);
        }
    }
}
