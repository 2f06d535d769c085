//! K3 刷脸 at the edge: the face worker the flow starts with
//! `Effect::StartFace` (after the patient agreed) and stops with
//! `Effect::StopFace`. It reads pictures from the camera, tells the flow
//! what to ask of the person (`Event::FaceCue`), finds who it is among
//! today's enrolled faces, runs the liveness challenge, checks the face at
//! the end is still that person, and answers once (`Event::FaceDone`).
//!
//! What leaves the kiosk: nothing of the live pictures — they are compared
//! in memory and dropped. The gallery (today's templates at this campus)
//! comes from the service and is held in memory only; a template is sent
//! up only with the check-in photo of someone who agreed to enrolment
//! (`Purpose::FaceRecognition`), and it is 128 numbers, not a picture.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use exam_domain::IdNumber;
use kiosk_face::gallery::{Gallery, Rule};
use kiosk_face::liveness::{Challenge, Move, Verdict};
use kiosk_face::quality::{self, Rules};
use kiosk_face_engine::{Bgr, Engine};
use kiosk_flow::flow::{Cue, FaceResult, Miss};

/// The recognizer whose templates the gallery holds (a template of another
/// model is not comparable and is refused).
pub use exam_protocol::FACE_MODEL as MODEL;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("camera: {0}")]
    Camera(String),
    #[error(transparent)]
    Engine(#[from] kiosk_face_engine::EngineError),
}

/// Where the face worker's pictures come from: a camera, or a replay.
/// `at` is the picture's time since the source started.
pub trait Pictures: Send {
    fn next(&mut self) -> Result<(Duration, Bgr), FaceError>;
}

/// Plays pictures in order, then holds the last (its clock going on); `interval` apart in time
/// and, when `paced`, in the wall clock too (a demo's camera; tests run as
/// fast as the models do).
pub struct ReplayPictures {
    frames: Vec<Bgr>,
    next: usize,
    interval: Duration,
    paced: bool,
}

impl ReplayPictures {
    pub fn new(frames: Vec<Bgr>, interval: Duration, paced: bool) -> Self {
        Self {
            frames,
            next: 0,
            interval,
            paced,
        }
    }
}

impl Pictures for ReplayPictures {
    fn next(&mut self) -> Result<(Duration, Bgr), FaceError> {
        let last = self
            .frames
            .len()
            .checked_sub(1)
            .ok_or_else(|| FaceError::Camera("the replay has no pictures".into()))?;
        if self.paced {
            std::thread::sleep(self.interval);
        }
        let at = self.interval * self.next as u32;
        let f = self.frames[self.next.min(last)].clone();
        self.next += 1;
        Ok((at, f))
    }
}

/// The kiosk's camera as the face worker's pictures: each call waits for a
/// picture newer than the last (two seconds at most: a camera that sends
/// nothing is a fault the person is told of, not a wait).
pub struct LivePictures {
    camera: device_drivers::camera::live::CameraHandle,
    after: u64,
}

impl LivePictures {
    pub fn new(camera: device_drivers::camera::live::CameraHandle) -> Self {
        Self { camera, after: 0 }
    }
}

impl Pictures for LivePictures {
    fn next(&mut self) -> Result<(Duration, Bgr), FaceError> {
        // Not an old picture: the newest at the time of asking, then each
        // newer one.
        if self.after == 0
            && let Some((n, _)) = self.camera.latest()
        {
            self.after = n.saturating_sub(1);
        }
        let (n, p) = self
            .camera
            .next_after(self.after, Duration::from_secs(2))
            .map_err(|e| FaceError::Camera(e.to_string()))?;
        self.after = n;
        let b = Bgr::new(p.width as usize, p.height as usize, p.bgr.clone())
            .map_err(|e| FaceError::Camera(e.to_string()))?;
        Ok((p.at, b))
    }
}

/// Today's enrolled faces at this campus, with whose they are.
#[derive(Debug, Clone)]
pub struct FaceGallery {
    faces: Gallery,
    people: Vec<IdNumber>,
    /// The centre's face policy, as the service last said it.
    pub policy: exam_protocol::FacePolicy,
}

impl Default for FaceGallery {
    fn default() -> Self {
        Self {
            faces: Gallery::new(DIMS),
            people: Vec::new(),
            policy: Default::default(),
        }
    }
}

/// SFace's embedding length.
pub use exam_protocol::FACE_DIMS as DIMS;

impl FaceGallery {
    /// From the service's answer; entries of another model or of the wrong
    /// size are left out (and counted in the log).
    pub fn from_response(r: &exam_protocol::FacesResponse) -> Self {
        let mut g = Self {
            policy: r.policy,
            ..Self::default()
        };
        let mut skipped = 0;
        for e in &r.faces {
            match e.embedding() {
                Some(v) if r.model == MODEL && g.add(e.id_number.clone(), &v) => {}
                _ => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!(skipped, "face templates left out of the gallery");
        }
        g
    }

    pub fn add(&mut self, who: IdNumber, embedding: &[f32]) -> bool {
        let id = self.people.len() as i64;
        if self.faces.add(id, embedding).is_err() {
            return false;
        }
        self.people.push(who);
        true
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// Who this face is, if clearly someone.
    fn identify(&self, probe: &[f32], rule: &Rule) -> Option<&IdNumber> {
        let c = self.faces.best(probe).ok()??;
        rule.accepts(&c).then(|| &self.people[c.id as usize])
    }
}

/// Whom a run looks for.
#[derive(Debug, Clone)]
pub enum Target {
    /// Anyone in today's gallery (刷脸签到, 1:N).
    Today,
    /// The holder of the card just read, by the card's photo (人证核验,
    /// 1:1): a gallery of one.
    CardHolder(FaceGallery),
}

/// How the worker decides; the defaults suit a kiosk.
#[derive(Debug, Clone)]
pub struct FaceConfig {
    /// SFace cosine similarity: OpenCV's published threshold is 0.363 (at
    /// LFW's operating point); the kiosk asks for more, and a margin over
    /// the next person, so a lookalike goes to the card instead.
    pub rule: Rule,
    /// 人证核验: the face against the card's photo. The chip's photo is
    /// 102×126 and may be ten years old, so the bar is OpenCV's published
    /// 1:1 threshold with a little over (a live face against its own card
    /// photo scores far above it in `tests/face.rs`, another person's far
    /// below); no margin, there is nobody else to lead.
    pub card_rule: Rule,
    pub quality: Rules,
    pub liveness: kiosk_face::liveness::Config,
    /// How many random moves a challenge asks for.
    pub moves: usize,
    /// Fixed moves instead of random ones (tests and the demo's replay).
    pub fixed_moves: Option<Vec<Move>>,
    /// Usable frontal pictures before "not known" is said.
    pub tries: usize,
    /// How long to wait for a usable face at all.
    pub find_limit: Duration,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            rule: Rule {
                threshold: 0.5,
                margin: 0.08,
            },
            card_rule: Rule {
                threshold: 0.4,
                margin: 0.0,
            },
            quality: Rules::default(),
            liveness: Default::default(),
            moves: 2,
            fixed_moves: None,
            tries: 3,
            find_limit: Duration::from_secs(15),
        }
    }
}

/// The models, the gallery and the camera, shared by the session's runs.
#[derive(Clone)]
pub struct FaceService {
    engine: Arc<Engine>,
    pub gallery: Arc<RwLock<FaceGallery>>,
    pictures: Arc<Mutex<Box<dyn Pictures>>>,
    pub config: FaceConfig,
}

impl std::fmt::Debug for FaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceService").finish_non_exhaustive()
    }
}

/// A run in progress; dropping it does not stop it, `stop` does.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl FaceService {
    pub fn new(engine: Engine, pictures: Box<dyn Pictures>, config: FaceConfig) -> Self {
        Self {
            engine: Arc::new(engine),
            gallery: Arc::default(),
            pictures: Arc::new(Mutex::new(pictures)),
            config,
        }
    }

    /// Loads the models from `dir` (see `scripts/face-models`).
    pub fn load(
        dir: &Path,
        pictures: Box<dyn Pictures>,
        config: FaceConfig,
    ) -> Result<Self, FaceError> {
        Ok(Self::new(Engine::load(dir)?, pictures, config))
    }

    fn picture(&self) -> Result<(Duration, Bgr), FaceError> {
        self.pictures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next()
    }

    /// The usable face of a picture, or what to ask for.
    fn usable(&self, b: &Bgr) -> Result<Result<kiosk_face::Face, kiosk_face::Problem>, FaceError> {
        let faces = self.engine.detect(b)?;
        Ok(quality::judge(&faces, |f| b.brightness(f), &self.config.quality).copied())
    }

    /// The template of the person in front now (enrolment, after the
    /// check-in photo): the first usable frontal face within a few pictures.
    pub fn template_now(&self) -> Option<Vec<f32>> {
        for _ in 0..10 {
            let (_, b) = self.picture().ok()?;
            if let Ok(Ok(face)) = self.usable(&b) {
                return self.engine.embed(&b, &face).ok();
            }
        }
        None
    }

    /// 人证核验's target: the face on the card's photo, as `who`. None when
    /// the photo shows no face the detector finds (the person is sent to
    /// the desk; the photo is not judged for size or light as a camera's
    /// picture is: it is what the card holds).
    pub fn card_target(
        &self,
        photo: &device_drivers::idcard::Photo,
        who: IdNumber,
    ) -> Result<Option<Target>, FaceError> {
        let b = Bgr::from_rgb(
            photo.width as usize,
            photo.height as usize,
            photo.rgb.clone(),
        )
        .map_err(|e| FaceError::Camera(format!("the card's photo: {e}")))?;
        let faces = self.engine.detect(&b)?;
        let Some(face) = faces.iter().max_by(|a, b| a.area().total_cmp(&b.area())) else {
            return Ok(None);
        };
        let template = self.engine.embed(&b, face)?;
        let mut one = FaceGallery::default();
        Ok(one.add(who, &template).then_some(Target::CardHolder(one)))
    }

    /// Whose face `probe` is, for this target.
    fn whose(&self, target: &Target, probe: &[f32]) -> Option<IdNumber> {
        match target {
            Target::Today => self
                .gallery
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .identify(probe, &self.config.rule)
                .cloned(),
            Target::CardHolder(one) => one.identify(probe, &self.config.card_rule).cloned(),
        }
    }

    fn moves(&self) -> Vec<Move> {
        if let Some(m) = &self.config.fixed_moves {
            return m.clone();
        }
        // Random from the OS, never the same move twice in a row.
        let bytes = exam_protocol::auth::random_bytes::<16>();
        let mut out: Vec<Move> = Vec::new();
        for b in bytes.iter().take(self.config.moves.clamp(1, 16)) {
            let choices: Vec<Move> = Move::ALL
                .into_iter()
                .filter(|m| out.last() != Some(m))
                .collect();
            out.push(choices[usize::from(*b) % choices.len()]);
        }
        out
    }

    /// One run, on the calling thread: `cue` is told what to ask for (only
    /// when it changes), and the result is returned. Stops early when
    /// `stop` is set (the answer is then not used).
    pub fn run(&self, target: &Target, stop: &Stop, mut cue: impl FnMut(Cue)) -> FaceResult {
        match self.run_inner(target, stop, &mut cue) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "face identification unavailable");
                FaceResult::Missed(Miss::Unavailable)
            }
        }
    }

    fn run_inner(
        &self,
        target: &Target,
        stop: &Stop,
        cue: &mut impl FnMut(Cue),
    ) -> Result<FaceResult, FaceError> {
        let started = Instant::now();
        // The source's clock runs across runs: this run's time is since
        // its first picture.
        let mut first_at = None;
        let mut last_cue = None;
        let mut say = |c: Cue| {
            if last_cue != Some(c) {
                last_cue = Some(c);
                cue(c);
            }
        };
        // 1. A usable frontal face, and whose it is.
        let mut unknown = 0;
        let who = loop {
            if stop.stopped() {
                return Ok(FaceResult::Missed(Miss::NoFace));
            }
            let (at, b) = self.picture()?;
            let since = at.saturating_sub(*first_at.get_or_insert(at));
            if since.max(started.elapsed()) > self.config.find_limit {
                return Ok(FaceResult::Missed(Miss::NoFace));
            }
            match self.usable(&b)? {
                Err(p) => say(Cue::Position(p)),
                Ok(face) => {
                    say(Cue::Comparing);
                    let probe = self.engine.embed(&b, &face)?;
                    match self.whose(target, &probe) {
                        Some(who) => break who,
                        None => {
                            unknown += 1;
                            if unknown >= self.config.tries {
                                return Ok(FaceResult::Missed(Miss::NotKnown));
                            }
                        }
                    }
                }
            }
        };
        // 2. The liveness challenge, timed by the pictures' own clock.
        let mut challenge = Challenge::new(self.moves(), self.config.liveness);
        let mut t0 = None;
        let last_frontal;
        loop {
            if stop.stopped() {
                return Ok(FaceResult::Missed(Miss::NoFace));
            }
            let (at, b) = self.picture()?;
            let t0 = *t0.get_or_insert(at);
            let faces = self.engine.detect(&b)?;
            let largest = faces
                .iter()
                .max_by(|a, b| a.area().total_cmp(&b.area()))
                .copied();
            match challenge.observe(
                at.saturating_sub(t0),
                largest.as_ref().map(|f| &f.landmarks),
            ) {
                Verdict::Continue(p) => say(Cue::Challenge(p)),
                Verdict::Failed(why) => return Ok(FaceResult::Missed(Miss::NotLive(why))),
                Verdict::Passed => {
                    last_frontal = Some((b, largest));
                    break;
                }
            }
        }
        // 3. Still the same person at the end (no swap during the moves).
        say(Cue::Comparing);
        let Some((b, Some(face))) = last_frontal else {
            return Ok(FaceResult::Missed(Miss::NoFace));
        };
        let probe = self.engine.embed(&b, &face)?;
        Ok(match self.whose(target, &probe) {
            Some(again) if again == who => FaceResult::Known(who),
            _ => FaceResult::Missed(Miss::NotKnown),
        })
    }
}

/// A face service whose camera replays these picture files (JPEG or PNG)
/// at ten a second (the demo's; tests build theirs): a head that turns
/// left, asked to turn left.
pub fn replay_service(models: &Path, files: &[std::path::PathBuf]) -> anyhow::Result<FaceService> {
    use anyhow::Context;
    let frames = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).with_context(|| format!("face replay {}", f.display()))?;
            Bgr::decode(&bytes).with_context(|| format!("face replay {}", f.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let pictures = ReplayPictures::new(frames, Duration::from_millis(100), true);
    // A replay cannot answer a random challenge: it is asked for the one
    // move it shows (the demo's head turning left). Never a camera's rule.
    let config = FaceConfig {
        fixed_moves: Some(vec![Move::TurnLeft]),
        ..FaceConfig::default()
    };
    FaceService::load(models, Box::new(pictures), config).context("loading the face models")
}

/// A face service on the kiosk's camera.
pub fn camera_service(
    models: &Path,
    camera: device_drivers::camera::live::CameraHandle,
) -> anyhow::Result<FaceService> {
    use anyhow::Context;
    FaceService::load(
        models,
        Box::new(LivePictures::new(camera)),
        FaceConfig::default(),
    )
    .context("loading the face models")
}

/// Where the journal keeps the centre's face policy as last fetched.
const POLICY_SETTING: &str = "face_policy";

/// The centre's face policy as the service last said it, kept in the
/// journal: a kiosk restarted without the network follows it (a centre
/// that checks cards against faces keeps checking them), not the default.
/// None before the first fetch, or if what is kept cannot be read (the
/// default then, and a warning).
pub fn remembered_policy(
    journal: &offline_store::SharedJournal,
) -> Option<exam_protocol::FacePolicy> {
    let kept = match journal.lock().setting(POLICY_SETTING) {
        Ok(k) => k?,
        Err(e) => {
            tracing::warn!(error = %e, "reading the kept face policy");
            return None;
        }
    };
    serde_json::from_str(&kept)
        .inspect_err(|e| tracing::warn!(error = %e, "the kept face policy is unreadable"))
        .ok()
}

/// Keeps `policy` in the journal if it differs from what is kept.
pub fn remember_policy(
    journal: &offline_store::SharedJournal,
    policy: &exam_protocol::FacePolicy,
) -> Result<(), offline_store::StoreError> {
    if remembered_policy(journal).as_ref() == Some(policy) {
        return Ok(());
    }
    let json = serde_json::to_string(policy).expect("a policy serialises");
    journal.lock().set_setting(POLICY_SETTING, &json)
}

/// Starts a kiosk's gallery: the policy kept in `journal` taken up at once
/// (the session reads it as it starts), then, with a service, the gallery
/// kept fresh every `every` ([`keep_gallery`]).
pub fn start_gallery(
    gallery: &Arc<RwLock<FaceGallery>>,
    journal: &offline_store::SharedJournal,
    client: Option<sync_client::SyncClient>,
    every: Duration,
) {
    if let Some(p) = remembered_policy(journal) {
        gallery
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .policy = p;
    }
    if let Some(client) = client {
        tokio::spawn(keep_gallery(
            client,
            gallery.clone(),
            journal.clone(),
            every,
        ));
    }
}

/// Keeps `gallery` to today's templates for this kiosk's campus (and the
/// centre's policy, which the session follows from the next patient on,
/// kept in `journal` for a restart without the network), fetched every
/// `every` (and at once). A failed fetch keeps what there is: a template
/// of someone not booked today identifies nobody who can check in.
async fn keep_gallery(
    client: sync_client::SyncClient,
    gallery: Arc<RwLock<FaceGallery>>,
    journal: offline_store::SharedJournal,
    every: Duration,
) {
    let today = || {
        chrono::Utc::now()
            .with_timezone(&exam_domain::centre_offset())
            .date_naive()
    };
    let mut fetched_on = None;
    loop {
        match client.faces().await {
            Ok(r) => {
                let g = FaceGallery::from_response(&r);
                tracing::info!(faces = g.len(), "today's face gallery");
                if let Err(e) = remember_policy(&journal, &g.policy) {
                    tracing::warn!(error = %e, "keeping the face policy");
                }
                *gallery
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = g;
                fetched_on = Some(today());
            }
            Err(e) => {
                tracing::warn!(error = %e, "fetching today's face gallery");
                // Offline past midnight: yesterday's gallery is dropped (it
                // may hold someone who has withdrawn since).
                if fetched_on.is_some_and(|d| d != today()) {
                    let mut g = gallery
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    // The faces go; the policy stays what it was.
                    *g = FaceGallery {
                        policy: g.policy,
                        ..FaceGallery::default()
                    };
                    fetched_on = None;
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;
    use exam_protocol::FacePolicy;

    fn journal(dir: &tempfile::TempDir) -> offline_store::SharedJournal {
        offline_store::SharedJournal::new(
            offline_store::Journal::open(dir.path().join("journal.db")).unwrap(),
        )
    }

    #[test]
    fn a_restarted_kiosk_follows_the_policy_it_last_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let checks_cards = FacePolicy {
            verify_card: true,
            keep_templates: false,
            ..FacePolicy::default()
        };
        {
            let j = journal(&dir);
            assert_eq!(remembered_policy(&j), None, "nothing fetched yet");
            let g = Arc::new(RwLock::new(FaceGallery::default()));
            start_gallery(&g, &j, None, Duration::from_secs(120));
            assert_eq!(g.read().unwrap().policy, FacePolicy::default());
            remember_policy(&j, &checks_cards).unwrap();
        }
        // The kiosk again, no service reachable: the policy it was given.
        let j = journal(&dir);
        let g = Arc::new(RwLock::new(FaceGallery::default()));
        start_gallery(&g, &j, None, Duration::from_secs(120));
        assert_eq!(g.read().unwrap().policy, checks_cards);
        // A later policy replaces it; what cannot be read is the default.
        remember_policy(&j, &FacePolicy::default()).unwrap();
        assert_eq!(remembered_policy(&j), Some(FacePolicy::default()));
        j.lock().set_setting(POLICY_SETTING, "{not json").unwrap();
        assert_eq!(remembered_policy(&j), None);
    }
}
