//! TLS everywhere (issue 17 item 1): the service on HTTPS only, with HSTS
//! and a redirect listener; certificates reloaded from their files while
//! it runs; plain HTTP refused off loopback; the kiosk's client refusing
//! plain HTTP and any certificate its pinned CA did not sign.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use exam_server::tls::dev::{self, DevPki, DevPkiFiles};
use exam_server::{Config, StartError};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sync_client::{LinkOptions, PlainHttp, ServiceLink, SyncClient, SyncError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pki() -> DevPki {
    dev::issue(&[], chrono::Utc::now().date_naive()).unwrap()
}

fn base_config(dir: &Path) -> Config {
    let key = dir.join("data.key");
    if !key.exists() {
        exam_vault::KeyRing::generate()
            .unwrap()
            .write_new_file(&key)
            .unwrap();
    }
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.join("exam.db").display()),
        data_key_file: Some(key),
        ..Config::default()
    }
}

struct Tls {
    server: exam_server::Server,
    files: DevPkiFiles,
    first: DevPki,
    _dir: tempfile::TempDir,
}

async fn tls_server() -> Tls {
    let dir = tempfile::tempdir().unwrap();
    let first = pki();
    let files = first.write(&dir.path().join("tls")).unwrap();
    let server = exam_server::start(Config {
        tls_cert: Some(files.cert.clone()),
        tls_key: Some(files.key.clone()),
        tls_reload_seconds: 1,
        http_redirect_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..base_config(dir.path())
    })
    .await
    .unwrap();
    Tls {
        server,
        files,
        first,
        _dir: dir,
    }
}

/// A client that trusts `ca` only, follows no redirect and reuses no
/// connection (each request sees the certificate served now).
fn client_trusting(ca: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(ca.as_bytes()).unwrap())
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The leaf certificate the server presented to `client`, or the error.
async fn served_cert(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, reqwest::Error> {
    let r = client.get(format!("{url}/healthz")).send().await?;
    let info = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    Ok(info.peer_certificate().unwrap().to_vec())
}

#[tokio::test]
async fn serves_https_only_with_hsts_and_secure_cookies() {
    let t = tls_server().await;
    let url = t.server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let c = client_trusting(&t.first.ca_pem);
    for path in ["/healthz", "/login", "/no-such-page"] {
        let r = c.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(
            r.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000; includeSubDomains"),
            "HSTS on {path} ({})",
            r.status()
        );
    }
    // The session cookie is Secure whenever TLS is on, whatever the flag.
    assert!(t.server.state.config.secure_cookies);
    let r = c.get(format!("{url}/login")).send().await.unwrap();
    let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
    assert!(!cookies.is_empty(), "the sign-in form sets its cookie");
    for cookie in cookies {
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("; Secure"), "{cookie}");
    }

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let mut tcp = tokio::net::TcpStream::connect(t.server.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP answered on the TLS port: {:?}",
        String::from_utf8_lossy(&answer)
    );
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", t.server.addr))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
    t.server.stop().await;
}

#[tokio::test]
async fn the_http_listener_only_redirects_to_https() {
    let t = tls_server().await;
    let at = t.server.redirect_addr.unwrap();
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path) in [
        (reqwest::Method::GET, "/login?next=%2Fdesk"),
        (reqwest::Method::POST, "/api/kiosk/v1/events"),
        (reqwest::Method::GET, "/healthz"),
    ] {
        let r = c
            .request(method.clone(), format!("http://{at}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 308, "{method} {path}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("https://127.0.0.1:{}{path}", t.server.addr.port())
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(
            r.text().await.unwrap().is_empty(),
            "nothing but the redirect"
        );
    }
    // Followed, the redirect lands on the HTTPS service.
    let follow = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(t.first.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = follow
        .get(format!("http://{at}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.url().as_str().starts_with("https://"));
    t.server.stop().await;
}

fn replace(path: &Path, text: &str) {
    // Written beside and renamed over, as certificate tools do.
    let tmp: PathBuf = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let t = tls_server().await;
    let url = t.server.url();
    let (old_ca, new) = (client_trusting(&t.first.ca_pem), pki());
    let new_ca = client_trusting(&new.ca_pem);
    assert_eq!(
        served_cert(&old_ca, &url).await.unwrap(),
        der(&t.first.cert_pem)
    );
    assert!(
        served_cert(&new_ca, &url).await.is_err(),
        "not yet the new one"
    );

    replace(&t.files.key, &new.key_pem);
    replace(&t.files.cert, &new.cert_pem);
    let mut served = None;
    for _ in 0..100 {
        if let Ok(c) = served_cert(&new_ca, &url).await {
            served = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        served.expect("the new certificate within 20 s"),
        der(&new.cert_pem)
    );
    assert!(
        served_cert(&old_ca, &url).await.is_err(),
        "the old certificate is gone"
    );

    // A broken file is refused and the running certificate kept.
    replace(&t.files.cert, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        served_cert(&new_ca, &url).await.unwrap(),
        der(&new.cert_pem)
    );
    // So is a certificate whose key is not the one in the key file.
    replace(&t.files.cert, &pki().cert_pem);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        served_cert(&new_ca, &url).await.unwrap(),
        der(&new.cert_pem)
    );
    t.server.stop().await;
}

#[tokio::test]
async fn plain_http_off_loopback_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let e = exam_server::start(Config {
            listen: listen.parse().unwrap(),
            ..base_config(dir.path())
        })
        .await
        .unwrap_err();
        assert!(matches!(e, StartError::Tls(_)), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("tls_cert") && msg.contains("tls_key"), "{msg}");
    }
    // A half-given pair and a redirect without HTTPS are refused too.
    let e = exam_server::start(Config {
        tls_cert: Some("server.pem".into()),
        ..base_config(dir.path())
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("tls_key"), "{e}");
    let e = exam_server::start(Config {
        http_redirect_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..base_config(dir.path())
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("http_redirect_listen"), "{e}");
    // A certificate file that is not one stops the start, naming the file.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "no certificate here\n").unwrap();
    let e = exam_server::start(Config {
        tls_cert: Some(bad.clone()),
        tls_key: Some(bad),
        ..base_config(dir.path())
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("bad.pem"), "{e}");
}

#[tokio::test]
async fn the_kiosk_client_refuses_plain_http_and_foreign_certificates() {
    let t = tls_server().await;
    let url = t.server.url();
    t.server
        .state
        .db
        .add_kiosk("K-TLS", "main", "lobby", "enrol-secret-for-the-tls-test")
        .await
        .unwrap();

    // Plain HTTP: refused outright in the field, and off loopback even
    // with the development setting.
    for (addr, plain) in [
        ("http://127.0.0.1:8080", PlainHttp::Refused),
        ("http://10.0.2.2:8080", PlainHttp::Refused),
        ("http://10.0.2.2:8080", PlainHttp::LoopbackOnly),
        ("http://exam.example.org", PlainHttp::LoopbackOnly),
    ] {
        let opts = LinkOptions {
            server_ca_pem: None,
            plain_http: plain,
        };
        let e = ServiceLink::new(addr, &opts).unwrap_err();
        assert!(e.to_string().contains("https://"), "{addr}: {e}");
    }

    // Pinned to another CA (a second development CA): the service's
    // certificate is refused, as untrusted, not as a network fault.
    let other = pki();
    let pinned_other = ServiceLink::new(
        &url,
        &LinkOptions {
            server_ca_pem: Some(other.ca_pem.into_bytes()),
            plain_http: PlainHttp::Refused,
        },
    )
    .unwrap();
    let e = SyncClient::enrol(&pinned_other, "K-TLS", "enrol-secret-for-the-tls-test", "t")
        .await
        .unwrap_err();
    assert!(matches!(e, SyncError::Untrusted(_)), "{e}");
    assert!(!e.is_transient());
    // Without a pinned CA, the system's roots do not know the service's CA.
    let system = ServiceLink::new(&url, &LinkOptions::default()).unwrap();
    let e = SyncClient::enrol(&system, "K-TLS", "enrol-secret-for-the-tls-test", "t")
        .await
        .unwrap_err();
    assert!(matches!(e, SyncError::Untrusted(_)), "{e}");

    // Pinned to the service's CA: enrols and syncs over HTTPS.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("server-ca.pem");
    std::fs::write(&ca_file, &t.first.ca_pem).unwrap();
    let pinned = ServiceLink::new(&url, &LinkOptions::pinned(&ca_file).unwrap()).unwrap();
    let (key, enrolled) = SyncClient::enrol(&pinned, "K-TLS", "enrol-secret-for-the-tls-test", "t")
        .await
        .unwrap();
    assert_eq!(enrolled.campus, "main");
    let client = SyncClient::new(&pinned, key);
    let changes = client.changes(0, 10).await.unwrap();
    assert!(!changes.more || !changes.records.is_empty());
    t.server.stop().await;
}
