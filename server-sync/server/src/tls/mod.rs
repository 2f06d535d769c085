//! TLS for the service (S2, S4): HTTPS with rustls from PEM files named in
//! the configuration, swapped in when the files change; the rule that no
//! plaintext leaves the loopback interface (neither the service's own
//! HTTP nor its PostgreSQL link); the plain-HTTP redirect listener and HSTS;
//! development certificates.
//!
//! The accept loop (`listener`) hands axum finished TLS streams, so axum's
//! serving, graceful shutdown and `ConnectInfo` work the same with and
//! without TLS.

pub mod dev;
mod listener;
mod redirect;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;

pub(crate) use listener::TlsListener;
pub(crate) use redirect::{hsts, redirect_router};

use crate::Config;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "refusing plain HTTP on {addr}: off the loopback interface the service speaks HTTPS only. \
         Set tls_cert and tls_key (EXAM_TLS_CERT / EXAM_TLS_KEY, --tls-cert / --tls-key) to the \
         PEM files of the certificate chain and its key, or listen on 127.0.0.1 or [::1] for development"
    )]
    PlaintextOffLoopback { addr: SocketAddr },
    #[error("tls_cert and tls_key go together: {missing} is not set")]
    HalfConfigured { missing: &'static str },
    #[error(
        "http_redirect_listen redirects to HTTPS and needs tls_cert and tls_key set; without them remove it"
    )]
    RedirectWithoutTls,
    #[error(
        "refusing the database link to {host}: off the loopback interface PostgreSQL is reached over \
         verified TLS only. Add ?sslmode=verify-full&sslrootcert=/path/to/ca.pem to database_url \
         (got sslmode={mode})"
    )]
    DatabasePlaintext { host: String, mode: String },
    #[error("database_url: {0}")]
    DatabaseUrl(String),
    #[error("cannot read {path}: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}", path = .path.display())]
    Pem { path: PathBuf, message: String },
    #[error("{path}: no certificate in the file", path = .path.display())]
    NoCertificate { path: PathBuf },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("making a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The certificate chain and key files of the service's HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Loopback, including an IPv4 loopback address written as IPv6.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// How the service may listen, decided from the configuration alone:
/// `Some(files)` for HTTPS, `None` for plain HTTP, which only a loopback
/// address may serve. The redirect listener needs HTTPS.
pub fn transport(config: &Config) -> Result<Option<TlsFiles>, TlsError> {
    let files = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (Some(_), None) => return Err(TlsError::HalfConfigured { missing: "tls_key" }),
        (None, Some(_)) => {
            return Err(TlsError::HalfConfigured {
                missing: "tls_cert",
            });
        }
        (None, None) => None,
    };
    if files.is_none() {
        if config.http_redirect_listen.is_some() {
            return Err(TlsError::RedirectWithoutTls);
        }
        if !is_loopback(config.listen.ip()) {
            return Err(TlsError::PlaintextOffLoopback {
                addr: config.listen,
            });
        }
    }
    Ok(files)
}

/// The PostgreSQL link must be verified TLS unless the server is on this
/// machine (loopback address or Unix socket). SQLite is a file: no link.
pub fn check_database_url(url: &str) -> Result<(), TlsError> {
    use sqlx::postgres::{PgConnectOptions, PgSslMode};
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok(());
    }
    let opts: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| TlsError::DatabaseUrl(e.to_string()))?;
    let host = opts.get_host();
    let local = opts.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(is_loopback);
    let mode = opts.get_ssl_mode();
    if local || matches!(mode, PgSslMode::VerifyFull | PgSslMode::VerifyCa) {
        return Ok(());
    }
    Err(TlsError::DatabasePlaintext {
        host: host.to_string(),
        mode: format!("{mode:?}").to_lowercase(),
    })
}

/// Reads the chain (leaf first) and its key into a server configuration
/// (TLS 1.2 and 1.3, rustls's safe defaults, HTTP/1.1). Fails when the key
/// does not belong to the leaf.
pub fn load_server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let pem_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: rustls_pki_types::pem::Error| match e {
            rustls_pki_types::pem::Error::Io(source) => TlsError::Read { path, source },
            other => TlsError::Pem {
                path,
                message: other.to_string(),
            },
        }
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(pem_err(cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_err(cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(pem_err(key))?;
    // The provider reqwest and sqlx use too: one crypto library in the build.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // The server's order of cipher suites, not the client's (every suite
    // offered is AEAD with forward secrecy; scanners such as testssl still
    // report a server without an order).
    config.ignore_client_order = true;
    Ok(config)
}

/// What identifies a file's version without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

fn stamps(files: &TlsFiles) -> (Option<Stamp>, Option<Stamp>) {
    (stamp(&files.cert), stamp(&files.key))
}

/// The live configuration: loaded once at start (an error stops the
/// start), then swapped whenever the files change.
pub(crate) struct Reloading {
    pub config: watch::Receiver<Arc<ServerConfig>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Reloading {
    fn drop(&mut self) {
        // The server (or its start) is over: stop polling the files.
        self.task.abort();
    }
}

/// Loads `files` and polls them every `every`: a changed file is loaded
/// and, if good, serves every new connection from then on; a broken one is
/// logged and the previous configuration kept (and it is not retried until
/// a file changes again).
pub(crate) fn load_and_watch(files: TlsFiles, every: Duration) -> Result<Reloading, TlsError> {
    // The stamp is taken before reading, so a change during the read is
    // seen at the next poll.
    let mut seen = stamps(&files);
    let first = load_server_config(&files.cert, &files.key)?;
    let (tx, rx) = watch::channel(Arc::new(first));
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let now = stamps(&files);
            if now == seen {
                continue;
            }
            seen = now;
            match load_server_config(&files.cert, &files.key) {
                Ok(c) => {
                    tx.send_replace(Arc::new(c));
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "the changed TLS certificate or key was refused; the previous one stays in use"
                ),
            }
        }
    });
    Ok(Reloading { config: rx, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str) -> Config {
        Config {
            listen: listen.parse().unwrap(),
            ..Config::default()
        }
    }

    #[test]
    fn plaintext_only_on_loopback() {
        assert_eq!(transport(&config("127.0.0.1:8080")).unwrap(), None);
        assert_eq!(transport(&config("[::1]:8080")).unwrap(), None);
        assert_eq!(transport(&config("127.0.0.2:8080")).unwrap(), None);
        for off in ["0.0.0.0:8080", "10.1.2.3:443", "[::]:8080"] {
            let e = transport(&config(off)).unwrap_err().to_string();
            assert!(e.contains("tls_cert") && e.contains("tls_key"), "{e}");
        }
        let mut c = config("0.0.0.0:8443");
        c.tls_cert = Some("c.pem".into());
        assert!(
            transport(&c)
                .unwrap_err()
                .to_string()
                .contains("tls_key is not set")
        );
        c.tls_key = Some("k.pem".into());
        assert!(transport(&c).unwrap().is_some());
        let mut c = config("127.0.0.1:8080");
        c.http_redirect_listen = Some("127.0.0.1:8081".parse().unwrap());
        assert!(matches!(transport(&c), Err(TlsError::RedirectWithoutTls)));
    }

    #[test]
    fn the_database_link_is_verified_tls_off_loopback() {
        for ok in [
            "sqlite://exam.db",
            "postgres://postgres@127.0.0.1:5432/exam",
            "postgres://postgres@localhost/exam",
            "postgres://postgres@[::1]:5432/exam",
            "postgres://postgres@db.example.org/exam?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://postgres@10.0.0.5/exam?sslmode=verify-ca",
            "postgres:///exam?host=/var/run/postgresql",
        ] {
            check_database_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "postgres://postgres@db.example.org/exam",
            "postgres://postgres@10.0.0.5/exam?sslmode=require",
            "postgresql://u:secret@10.0.0.5/exam?sslmode=prefer",
        ] {
            let e = check_database_url(bad).unwrap_err().to_string();
            assert!(e.contains("sslmode=verify-full"), "{e}");
            assert!(!e.contains("secret"), "no password in the message: {e}");
        }
    }
}
