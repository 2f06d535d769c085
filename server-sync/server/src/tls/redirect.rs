//! The plain-HTTP listener's one answer (a 308 to the same path over
//! HTTPS) and the HSTS header on every HTTPS answer.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Browsers remember for a year to use HTTPS only, subdomains included.
pub(crate) const HSTS: &str = "max-age=31536000; includeSubDomains";

pub(crate) async fn hsts(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    res
}

/// Every request, whatever its method and path, is sent to HTTPS on
/// `https_port`; nothing else is served over plain HTTP.
pub(crate) fn redirect_router(https_port: u16) -> Router {
    Router::new().fallback(to_https).with_state(https_port)
}

async fn to_https(State(port): State<u16>, headers: HeaderMap, uri: Uri) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut res = match https_location(host, port, path) {
        Some(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
        )
            .into_response(),
        None => (StatusCode::BAD_REQUEST, "a Host header is needed").into_response(),
    };
    // Nothing on the plain listener is content to render or frame.
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// `https://HOST[:PORT]PATH` for a request that named `host` (its port
/// replaced by the HTTPS one, left out when 443). None when the host is
/// missing or not a plain host name or address (nothing else is echoed
/// into a Location header).
pub(crate) fn https_location(host: Option<&str>, https_port: u16, path: &str) -> Option<String> {
    let authority: axum::http::uri::Authority = host?.trim().parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let name = authority.host();
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    let plain = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !plain {
        return None;
    }
    let name = if bare.contains(':') {
        format!("[{bare}]")
    } else {
        bare.to_ascii_lowercase()
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = if path.starts_with('/') { path } else { "/" };
    Some(format!("https://{name}{port}{path}"))
}

#[cfg(test)]
mod tests {
    use super::https_location;

    #[test]
    fn redirects_to_the_same_host_and_path_on_the_https_port() {
        assert_eq!(
            https_location(Some("exam.example.org"), 443, "/login?next=%2F").as_deref(),
            Some("https://exam.example.org/login?next=%2F")
        );
        assert_eq!(
            https_location(Some("Exam.Example.org:80"), 8443, "/").as_deref(),
            Some("https://exam.example.org:8443/")
        );
        assert_eq!(
            https_location(Some("127.0.0.1:8080"), 8443, "/healthz").as_deref(),
            Some("https://127.0.0.1:8443/healthz")
        );
        assert_eq!(
            https_location(Some("[::1]:8080"), 8443, "/").as_deref(),
            Some("https://[::1]:8443/")
        );
        for bad in [
            None,
            Some(""),
            Some("evil.example/x"),
            Some("user@evil.example"),
            Some("a b"),
            Some("exam\r\nSet-Cookie: x"),
        ] {
            assert_eq!(https_location(bad, 443, "/"), None, "{bad:?}");
        }
    }
}
