//! Shared by the browser tests: chromedriver with a headless Chromium.

// Support shared by integration tests, outside #[test] fns where clippy.toml's
// allow-unwrap-in-tests does not reach; a panic here fails the calling test.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use e2e_tests::free_addr;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};

pub struct Driver {
    pub child: tokio::process::Child,
    pub url: String,
    pub profile: tempfile::TempDir,
}

/// Starts chromedriver. `scripts/test` installs chromium and
/// chromium-driver, so a missing one fails the test (never a silent skip).
pub async fn chromedriver() -> Driver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} is missing: install chromium and chromium-driver (scripts/test does), \
         or point CHROMEDRIVER at a chromedriver"
    );
    let port = free_addr().port();
    let child = tokio::process::Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: tempfile::tempdir().unwrap(),
    }
}

/// A headless browser session with its own profile.
pub async fn session(driver: &Driver) -> Client {
    // A profile directory per session: Chromium locks its profile, so
    // sessions side by side (a doctor, a screen, a phone) need their own.
    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = driver.profile.path().join(format!("session-{n}"));
    std::fs::create_dir_all(&profile).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({ "browser": "ALL" }),
    );
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,900", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("browser session")
}

/// Chromedriver's browser log (`goog:loggingPrefs` above): console
/// messages, uncaught exceptions, refused scripts and failed loads. Reading
/// it empties it.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.expect("a session is open")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// The browser's SEVERE log entries since the last call (console errors,
/// uncaught exceptions, CSP refusals, resources that failed to load), as
/// "source: message".
pub async fn severe_log(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("chromedriver's log");
    log.as_array()
        .expect("the log is a list")
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| {
            format!(
                "{}: {}",
                e["source"].as_str().unwrap_or("?"),
                e["message"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// After a sign-in: if the service asks this account (an administrator)
/// to enrol a second factor first, enrols one as a person with an
/// authenticator app would: reads the key the page shows, computes the
/// code (RFC 6238) and types it in. Returns the key, if one was enrolled.
pub async fn enrol_totp_if_asked(c: &Client) -> Option<String> {
    let mut asked = false;
    for _ in 0..100 {
        if c.find(Locator::Id("totp-secret")).await.is_ok() {
            asked = true;
            break;
        }
        if c.find(Locator::Css("header.bar")).await.is_ok()
            || c.find(Locator::Id("new")).await.is_ok()
        {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !asked {
        return None;
    }
    Some(enrol_totp(c).await)
}

/// Enrols a second factor on the enrolment page the browser is on (or is
/// about to be on): waits for the key, computes the code, types it in.
pub async fn enrol_totp(c: &Client) -> String {
    use fantoccini::Locator;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("totp-secret"))
        .await
        .expect("the second-factor enrolment page");
    let secret = c
        .find(Locator::Id("totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace(' ', "");
    let raw = exam_server::totp::base32_decode(&secret).unwrap();
    let code = exam_server::totp::code_at(&raw, chrono::Utc::now().timestamp());
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code)
        .await
        .unwrap();
    c.find(Locator::Id("enrol"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    secret
}

/// A new session signed in as `user` (a second factor enrolled when
/// asked), on `page`.
pub async fn signed_in(driver: &Driver, url: &str, user: &str, pw: &str, page: &str) -> Client {
    let c = session(driver).await;
    c.goto(&format!("{url}{page}")).await.unwrap();
    fill(&c, "username", user).await;
    fill(&c, "password", pw).await;
    click(&c, "login").await;
    enrol_totp_if_asked(&c).await;
    c.wait()
        .for_element(Locator::Css("header.bar"))
        .await
        .unwrap();
    c.goto(&format!("{url}{page}")).await.unwrap();
    c.wait().for_element(Locator::Css("main")).await.unwrap();
    c
}

/// Types `text` into the element `#id` (cleared first).
pub async fn fill(c: &Client, id: &str, text: &str) {
    let el = c.find(Locator::Id(id)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(c: &Client, id: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub async fn text_of(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Waits (up to 15 s) until the element's text contains `want`.
pub async fn wait_text(c: &Client, id: &str, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        if let Ok(el) = c.find(Locator::Id(id)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(want) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} never said {want:?}; it says {last:?}");
}
