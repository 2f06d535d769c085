//! The technician's camera commands.
//!
//! - `kiosk camera-check`: opens the V4L2 camera as the kiosk does, reads
//!   for a few seconds and says what it got: the format agreed, pictures a
//!   second, codes seen, faces found (with the models), a snapshot.
//! - `kiosk camera-feed`: plays pictures into a video output device: with
//!   the kernel's `vivid` driver looped to its capture device, a virtual
//!   camera the kiosk reads like a real one (the image's boot test shows it
//!   a booking QR code and a face this way). Pictures come in named scenes;
//!   with `--control` it plays the scene named on each line it reads (a
//!   serial port: the test on the host plays the person in front of the
//!   kiosk), else the scenes in order, in a loop.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use device_drivers::camera::v4l2::{V4l2Camera, V4l2Feed, vivid_loop};
use device_drivers::camera::{FrameSource as _, Picture};

/// `kiosk camera-check`: what the camera gives, for `secs` seconds.
pub fn check(
    device: &Path,
    secs: u64,
    snapshot: Option<&Path>,
    face_models: Option<&Path>,
) -> anyhow::Result<()> {
    let mut cam = V4l2Camera::open(device, (1280, 720), Duration::from_secs(2))?;
    let n = cam.negotiated();
    println!(
        "camera {} ({}): {} {}×{}",
        device.display(),
        cam.card(),
        String::from_utf8_lossy(&n.format.fourcc()),
        n.width,
        n.height
    );
    let engine = face_models
        .map(kiosk_face_engine::Engine::load)
        .transpose()
        .context("loading the face models")?;
    let t0 = Instant::now();
    let (mut pictures, mut first_at, mut last_at) = (0u32, None, Duration::ZERO);
    let mut codes: BTreeMap<String, u32> = BTreeMap::new();
    let mut faces = 0u32;
    let mut last = None;
    while t0.elapsed() < Duration::from_secs(secs.max(1)) {
        let p = cam.next_picture()?;
        pictures += 1;
        first_at.get_or_insert(p.at);
        last_at = p.at;
        // Codes and faces on a picture in five (the check's own cost).
        if pictures % 5 == 1 {
            if let Some(read) = p.to_frame().scan() {
                let text = match read {
                    Ok(c) => format!("{c:?}"),
                    Err(e) => format!("not ours: {e}"),
                };
                *codes.entry(text).or_default() += 1;
            }
            if let Some(e) = &engine {
                let b = kiosk_face_engine::Bgr::new(
                    p.width as usize,
                    p.height as usize,
                    p.bgr.clone(),
                )?;
                faces += u32::from(!e.detect(&b)?.is_empty());
            }
        }
        last = Some(p);
    }
    let span = last_at.saturating_sub(first_at.unwrap_or(last_at));
    let rate = if span.is_zero() {
        0.0
    } else {
        f64::from(pictures.saturating_sub(1)) / span.as_secs_f64()
    };
    println!(
        "pictures: {pictures} in {:.1} s by the driver's clock ({rate:.1} a second)",
        span.as_secs_f64()
    );
    for (code, n) in &codes {
        println!("code: {code} ({n} pictures)");
    }
    if engine.is_some() {
        println!("pictures with a face: {faces} of {}", pictures.div_ceil(5));
    }
    if let (Some(path), Some(p)) = (snapshot, last) {
        std::fs::write(path, p.to_frame().to_png(p.width))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("snapshot: {}", path.display());
    }
    Ok(())
}

/// A named run of pictures: `name=a.png,b.png,…`.
#[derive(Debug, Clone)]
pub struct Scene {
    pub name: String,
    pub pictures: Vec<Picture>,
}

pub fn parse_scene(spec: &str) -> anyhow::Result<Scene> {
    let (name, files) = spec
        .split_once('=')
        .with_context(|| format!("a scene is NAME=PICTURE.png[,…], not {spec:?}"))?;
    let pictures = files
        .split(',')
        .map(|f| Picture::from_png_file(Path::new(f)).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if name.is_empty() || pictures.is_empty() {
        bail!("scene {spec:?}: a name and at least one picture");
    }
    Ok(Scene {
        name: name.to_string(),
        pictures,
    })
}

/// `kiosk camera-feed`.
pub fn feed(
    output: &Path,
    loop_capture: Option<&Path>,
    scenes: &[Scene],
    hold: Duration,
    control: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let first = scenes.first().context("no scene to play")?;
    let mut out = V4l2Feed::open(output)?;
    if let Some(cap) = loop_capture {
        vivid_loop(cap)?;
    }
    let (w, h) = out.size();
    println!(
        "feeding {} ({w}×{h} YUYV), scenes: {}",
        output.display(),
        scenes
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let Some(control) = control else {
        loop {
            for s in scenes {
                play(s, &mut out, hold)?;
            }
        }
    };
    // Commands arrive on their own thread; between them the last picture
    // is shown on.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let file =
        std::fs::File::open(control).with_context(|| format!("opening {}", control.display()))?;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(file).lines() {
            let Ok(line) = line else { break };
            let line = line.trim().to_string();
            if !line.is_empty() && tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut still = first.pictures[0].clone();
    loop {
        match rx.try_recv() {
            Ok(name) => match scenes.iter().find(|s| s.name == name) {
                Some(s) => {
                    println!("scene {name}");
                    play(s, &mut out, hold)?;
                    if let Some(p) = s.pictures.last() {
                        still = p.clone();
                    }
                }
                None => eprintln!("camera-feed: no scene named {name:?}"),
            },
            // Nothing asked (or the port closed): the last picture stays.
            Err(_) => out.show(&still)?,
        }
    }
}

/// Shows each of the scene's pictures for `hold` (the device's frame rate
/// paces the writes).
fn play(s: &Scene, out: &mut V4l2Feed, hold: Duration) -> anyhow::Result<()> {
    for p in &s.pictures {
        let until = Instant::now() + hold;
        while Instant::now() < until {
            out.show(p)?;
        }
    }
    Ok(())
}
