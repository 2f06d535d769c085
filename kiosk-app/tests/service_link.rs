//! The kiosk refuses a plain http:// central service at start, whether the
//! address was just provisioned or stored at an earlier enrolment, with an
//! error that says what to do (the touch UI shows it on the screen); the
//! development setting allows plain HTTP to a loopback address only.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_app::assemble::{self, KioskError, KioskOptions};
use sync_client::{AgentConfig, LinkError, LinkOptions};

fn options(dir: &std::path::Path, url: Option<&str>, link: LinkOptions) -> KioskOptions {
    KioskOptions {
        journal: dir.join("journal.db"),
        server_url: url.map(str::to_string),
        server_link: link,
        kiosk_id: Some("K-LINK".into()),
        enrol_secret: Some("enrol-secret-for-the-link-test".into()),
        agent: AgentConfig::default(),
        lookup_timeout: Duration::from_millis(200),
        receipt_printer: None,
        label_printer: None,
        report_printer: None,
    }
}

#[tokio::test]
async fn plain_http_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let e = assemble::start(options(
        dir.path(),
        Some("http://exam.example.org:8080"),
        LinkOptions::default(),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(e, KioskError::Link(LinkError::PlainHttp { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("https://"), "{e}");

    // The development setting does not reach past this machine.
    let e = assemble::start(options(
        dir.path(),
        Some("http://10.0.2.2:8080"),
        LinkOptions::loopback_dev(),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(e, KioskError::Link(LinkError::PlainHttpOffLoopback { .. })),
        "{e}"
    );

    // A kiosk enrolled earlier with a plain http:// address is refused at
    // its next start too, until it is given an https:// one.
    let mut j = offline_store::Journal::open(dir.path().join("journal.db")).unwrap();
    kiosk_app::settings::save(
        &mut j,
        &kiosk_app::settings::Enrolment {
            key: exam_protocol::auth::KioskKey::generate("K-LINK"),
            server_url: "http://10.1.2.3:8080".into(),
            campus: "main".into(),
            zone: "lobby".into(),
        },
    )
    .unwrap();
    drop(j);
    let e = assemble::start(options(dir.path(), None, LinkOptions::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, KioskError::Link(LinkError::PlainHttp { .. })),
        "{e}"
    );
    // A CA file that holds no certificate is named.
    let bad = dir.path().join("server-ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let e = LinkOptions::pinned(&bad).unwrap_err();
    assert!(e.to_string().contains("server-ca.pem"), "{e}");
}
