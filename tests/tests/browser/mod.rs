//! Shared by the browser tests: chromedriver with a headless Chromium.

#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use e2e_tests::free_addr;
use fantoccini::{Client, ClientBuilder};

pub struct Driver {
    pub child: tokio::process::Child,
    pub url: String,
    pub profile: tempfile::TempDir,
}

/// Starts chromedriver, or returns None (skip) outside CI when it is not
/// installed; CI installs chromium and chromium-driver first.
pub async fn chromedriver() -> Option<Driver> {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !std::path::Path::new(&bin).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium-driver ({bin} missing)"
        );
        eprintln!("{bin} not installed; skipping the browser test");
        return None;
    }
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
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: tempfile::tempdir().unwrap(),
    })
}

/// A headless browser session with its own profile.
pub async fn session(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,900", format!("--user-data-dir={}", driver.profile.path().display())]
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("browser session")
}
