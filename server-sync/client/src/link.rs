//! The kiosk's link to the central service: which service URLs it accepts
//! and whom it trusts at the other end. In the field only `https://` is
//! accepted, and with a `server_ca` provisioned at flash time that CA is
//! the only trust root (the system's roots are not consulted), so a
//! certificate from any other CA is refused. Plain `http://` exists only as
//! a development setting, and then only to a loopback address.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Whether plain `http://` service URLs are accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlainHttp {
    /// `https://` only: every kiosk in the field.
    #[default]
    Refused,
    /// Also `http://` to a loopback address (127.0.0.0/8, ::1,
    /// `localhost`): development, the tests, headless runs on one machine.
    LoopbackOnly,
}

/// How the kiosk reaches the service.
#[derive(Debug, Clone, Default)]
pub struct LinkOptions {
    /// PEM of the CA the service's certificate must chain to; when set it
    /// is the only trust root. None: the system's roots.
    pub server_ca_pem: Option<Vec<u8>>,
    pub plain_http: PlainHttp,
}

impl LinkOptions {
    /// Development and tests: plain HTTP to a loopback address, HTTPS
    /// against the system's roots.
    pub fn loopback_dev() -> Self {
        Self {
            server_ca_pem: None,
            plain_http: PlainHttp::LoopbackOnly,
        }
    }

    /// HTTPS only, trusting only the CA in the PEM file at `path`.
    pub fn pinned(path: &Path) -> Result<Self, LinkError> {
        Ok(Self {
            server_ca_pem: Some(read_ca(path)?),
            plain_http: PlainHttp::Refused,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the central service's address {url:?} is not a URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("the central service's address {url} uses {scheme}://: kiosks speak https:// only")]
    Scheme { url: String, scheme: String },
    #[error(
        "refusing plain http:// to the central service ({url}): kiosks speak HTTPS only \
         (KIOSK_SERVER=https://...). Plain HTTP to this machine is a development setting \
         (--dev-loopback-http, KIOSK_DEV_LOOPBACK_HTTP=true)"
    )]
    PlainHttp { url: String },
    #[error(
        "refusing plain http:// to {host} ({url}): even in development plain HTTP goes to a \
         loopback address only (127.0.0.1, ::1, localhost); use https://"
    )]
    PlainHttpOffLoopback { url: String, host: String },
    #[error("cannot read the service's CA certificate {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// Reads a PEM file that must hold at least one certificate.
pub fn read_ca(path: &Path) -> Result<Vec<u8>, LinkError> {
    let err = |reason: String| LinkError::Ca {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(pem)
}

/// Loopback address, or the name `localhost`.
fn loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether `url` may be used under `plain`: `https://` always, `http://`
/// only with [`PlainHttp::LoopbackOnly`] and a loopback host.
pub fn check_url(url: &str, plain: PlainHttp) -> Result<(), LinkError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| LinkError::BadUrl {
        url: url.into(),
        reason: e.to_string(),
    })?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(LinkError::BadUrl {
            url: url.into(),
            reason: "no host".into(),
        });
    }
    match (parsed.scheme(), plain) {
        ("https", _) => Ok(()),
        ("http", PlainHttp::Refused) => Err(LinkError::PlainHttp { url: url.into() }),
        ("http", PlainHttp::LoopbackOnly) if loopback_host(&host) => Ok(()),
        ("http", PlainHttp::LoopbackOnly) => Err(LinkError::PlainHttpOffLoopback {
            url: url.into(),
            host,
        }),
        (scheme, _) => Err(LinkError::Scheme {
            url: url.into(),
            scheme: scheme.into(),
        }),
    }
}

/// A checked service URL with the HTTP client that trusts what the
/// options say. The only way [`crate::SyncClient`] reaches the service.
#[derive(Debug, Clone)]
pub struct ServiceLink {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

impl ServiceLink {
    pub fn new(url: &str, opts: &LinkOptions) -> Result<Self, LinkError> {
        check_url(url, opts.plain_http)?;
        let mut b = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(20))
            // The kiosk talks to one service: a redirect elsewhere is not
            // followed (nor one down to http://).
            .redirect(reqwest::redirect::Policy::none())
            .https_only(url.starts_with("https://"));
        if let Some(pem) = &opts.server_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| LinkError::Ca {
                path: "server_ca".into(),
                reason: e.to_string(),
            })?;
            b = b.tls_certs_only(certs);
        }
        let http = b.build().map_err(|e| LinkError::Client(e.to_string()))?;
        Ok(Self {
            base: url.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// Development and tests: [`LinkOptions::loopback_dev`].
    pub fn loopback_dev(url: &str) -> Result<Self, LinkError> {
        Self::new(url, &LinkOptions::loopback_dev())
    }

    /// The service's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_unless_loopback_in_development() {
        use PlainHttp::*;
        for url in ["https://exam.example.org", "https://10.1.2.3:8443/"] {
            check_url(url, Refused).unwrap();
            check_url(url, LoopbackOnly).unwrap();
        }
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(matches!(
                check_url(url, Refused),
                Err(LinkError::PlainHttp { .. })
            ));
            check_url(url, LoopbackOnly).unwrap();
        }
        for url in [
            "http://10.0.2.2:8080",
            "http://exam.example.org",
            "http://127.0.0.1.nip.io",
        ] {
            let e = check_url(url, LoopbackOnly).unwrap_err();
            assert!(
                matches!(e, LinkError::PlainHttpOffLoopback { .. }),
                "{url}: {e}"
            );
            assert!(e.to_string().contains("https://"), "{e}");
        }
        assert!(matches!(
            check_url("ftp://exam", LoopbackOnly),
            Err(LinkError::Scheme { .. })
        ));
        assert!(matches!(
            check_url("exam.example.org", Refused),
            Err(LinkError::BadUrl { .. })
        ));
        // The refusal says what to do.
        let e = check_url("http://exam.example.org", Refused).unwrap_err();
        assert!(e.to_string().contains("KIOSK_DEV_LOOPBACK_HTTP"), "{e}");
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("link-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ca.pem");
        std::fs::write(&f, "not a certificate\n").unwrap();
        assert!(matches!(read_ca(&f), Err(LinkError::Ca { .. })));
        assert!(matches!(
            read_ca(&dir.join("missing.pem")),
            Err(LinkError::Ca { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
