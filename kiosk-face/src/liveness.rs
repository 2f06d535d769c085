//! The liveness challenge (活体检测): the kiosk asks for a random sequence of
//! head movements (turn left, turn right, nod) and judges each from the
//! landmarks of the frames that follow, within a time limit.
//!
//! What is judged is the nose tip's parallax: the eyes and mouth corners of
//! a face lie nearly on one plane and the nose stands about half an eye
//! distance in front of it. Whatever a flat picture does — moved sideways,
//! brought closer, rotated, tilted about any axis — its five points move
//! together by one affine map (to within the perspective of a hand-held
//! picture at arm's length), so the nose stays where the map of the eyes
//! and mouth puts it. A head that turns carries the nose off that plane's
//! prediction by about `0.5·tan(angle)` eye distances. [`parallax`]
//! measures exactly that: fit the affine map from the first steady frame's
//! eyes and mouth to this frame's, predict the nose, and take the
//! difference along the face's own axes.
//!
//! What it does not stop, said plainly: a video of the person making the
//! same movements (a replay on a screen, or a face animated in real time
//! to follow the prompts), and a 3D mask. The random order of the moves
//! makes a prepared recording unlikely to match; nothing here tells skin
//! from a screen or a mask. The pipeline also checks that the face that
//! finished the challenge is the one matched (its embedding), so a photo
//! cannot be swapped in after a live person has passed.

use std::time::Duration;

use crate::landmarks::{Landmarks, Point};

/// One requested head movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Towards the person's left (the nose moves towards the left eye).
    TurnLeft,
    /// Towards the person's right.
    TurnRight,
    /// Down (or up) and back.
    Nod,
}

impl Move {
    pub const ALL: [Move; 3] = [Move::TurnLeft, Move::TurnRight, Move::Nod];
}

/// Limits of a challenge. The defaults suit a kiosk camera at 10–30 frames
/// a second and a person half a metre away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// The whole challenge, baseline included.
    pub limit: Duration,
    /// Parallax (in eye distances) that counts as a move: about 14° of turn.
    pub threshold: f32,
    /// Parallax under which the face is back at the centre.
    pub back: f32,
    /// Consecutive still frames that make the baseline.
    pub steady_frames: usize,
    /// Largest landmark movement between frames (eye distances) that is still.
    pub steady_motion: f32,
    /// How long the face may be missing (a turned head can lose detection).
    pub max_gap: Duration,
    /// Largest jump of the eye centre between frames, in eye distances,
    /// and largest change of size (a ratio): more is another picture.
    pub max_jump: f32,
    pub max_resize: f32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limit: Duration::from_secs(8),
            threshold: 0.12,
            back: 0.06,
            steady_frames: 3,
            steady_motion: 0.04,
            max_gap: Duration::from_secs(1),
            max_jump: 1.0,
            max_resize: 1.5,
        }
    }
}

/// What the screen (and the voice) asks for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// 请正对摄像头: until the baseline is taken.
    HoldStill,
    Do(Move),
    /// Back to looking at the screen before the next move.
    BackToCentre,
}

/// Why a challenge failed (the kiosk says so calmly and offers the card or
/// the keypad).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    TimedOut,
    LostFace,
    /// The face jumped or changed size between frames: another picture.
    Jumped,
    /// Another movement than the one asked for.
    WrongMove(Move),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Continue(Prompt),
    Passed,
    Failed(Why),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Settling,
    Moving(usize),
    Returning(usize),
    Over(Verdict),
}

/// One challenge: feed it every frame's face (or none) with the time since
/// it began.
#[derive(Debug, Clone)]
pub struct Challenge {
    cfg: Config,
    moves: Vec<Move>,
    phase: Phase,
    baseline: Option<Landmarks>,
    still: usize,
    last: Option<(Duration, Landmarks)>,
}

impl Challenge {
    /// `moves` are the caller's random pick (at least one).
    pub fn new(moves: Vec<Move>, cfg: Config) -> Self {
        let phase = if moves.is_empty() {
            Phase::Over(Verdict::Passed)
        } else {
            Phase::Settling
        };
        Self {
            cfg,
            moves,
            phase,
            baseline: None,
            still: 0,
            last: None,
        }
    }

    pub fn moves(&self) -> &[Move] {
        &self.moves
    }

    /// What to ask for now, or the outcome.
    pub fn verdict(&self) -> Verdict {
        match self.phase {
            Phase::Settling => Verdict::Continue(Prompt::HoldStill),
            Phase::Moving(i) => Verdict::Continue(Prompt::Do(self.moves[i])),
            Phase::Returning(_) => Verdict::Continue(Prompt::BackToCentre),
            Phase::Over(v) => v,
        }
    }

    /// The frame at `at` showed `face` (the largest face, or none).
    pub fn observe(&mut self, at: Duration, face: Option<&Landmarks>) -> Verdict {
        if let Phase::Over(v) = self.phase {
            return v;
        }
        if at > self.cfg.limit {
            return self.end(Verdict::Failed(Why::TimedOut));
        }
        let Some(face) = face.filter(|f| f.axes().is_some()) else {
            if self.baseline.is_some()
                && let Some((seen, _)) = self.last
                && at.saturating_sub(seen) > self.cfg.max_gap
            {
                return self.end(Verdict::Failed(Why::LostFace));
            }
            if self.baseline.is_none() {
                self.still = 0;
            }
            return self.verdict();
        };
        let previous = self.last.replace((at, *face)).map(|(_, f)| f);
        if let Some(prev) = previous {
            let d = prev.eye_distance();
            let jump = (face.eye_centre() - prev.eye_centre()).norm() / d;
            let resize = (face.eye_distance() / d).max(d / face.eye_distance());
            if self.baseline.is_some() && (jump > self.cfg.max_jump || resize > self.cfg.max_resize)
            {
                return self.end(Verdict::Failed(Why::Jumped));
            }
        }
        match self.phase {
            Phase::Settling => {
                let still = previous.is_some_and(|p| motion(&p, face) <= self.cfg.steady_motion);
                self.still = if still { self.still + 1 } else { 0 };
                // `steady_frames` frames in a row, each still against the one before.
                if self.still + 1 >= self.cfg.steady_frames {
                    self.baseline = Some(*face);
                    self.phase = Phase::Moving(0);
                }
            }
            Phase::Moving(i) => {
                let Some(seen) = self.seen_move(face) else {
                    return self.verdict();
                };
                if seen != self.moves[i] {
                    return self.end(Verdict::Failed(Why::WrongMove(seen)));
                }
                self.phase = Phase::Returning(i);
            }
            Phase::Returning(i) => {
                let Some(p) = self.baseline.and_then(|b| parallax(&b, face)) else {
                    return self.verdict();
                };
                if p.x.abs() < self.cfg.back && p.y.abs() < self.cfg.back {
                    self.phase = if i + 1 == self.moves.len() {
                        Phase::Over(Verdict::Passed)
                    } else {
                        Phase::Moving(i + 1)
                    };
                }
            }
            Phase::Over(v) => return v,
        }
        self.verdict()
    }

    fn end(&mut self, v: Verdict) -> Verdict {
        self.phase = Phase::Over(v);
        v
    }

    /// The movement this frame shows against the baseline, if any: the
    /// larger component of the nose's parallax past the threshold.
    fn seen_move(&self, face: &Landmarks) -> Option<Move> {
        let p = parallax(&self.baseline?, face)?;
        let t = self.cfg.threshold;
        if p.x.abs() < t && p.y.abs() < t {
            return None;
        }
        Some(if p.y.abs() > p.x.abs() {
            Move::Nod
        } else if p.x > 0.0 {
            Move::TurnLeft
        } else {
            Move::TurnRight
        })
    }
}

/// Largest landmark movement between two frames, in eye distances.
fn motion(a: &Landmarks, b: &Landmarks) -> f32 {
    let d = a.eye_distance();
    a.to_array()
        .iter()
        .zip(b.to_array())
        .map(|(p, q)| (q - *p).norm() / d)
        .fold(0.0, f32::max)
}

/// The nose tip's parallax in `now` against the flat picture `baseline`
/// would make: where the affine map fitted from the baseline's eyes and
/// mouth corners to `now`'s puts the baseline's nose, subtracted from
/// where the nose is; along `now`'s axes (x towards the left eye, y
/// towards the mouth), in `now`'s eye distances. About zero for any
/// movement of a picture; about `0.5·tan(angle)` for a head turned or
/// nodded by `angle`. None for degenerate landmarks.
pub fn parallax(baseline: &Landmarks, now: &Landmarks) -> Option<Point> {
    let map = Affine::fit(&baseline.plane(), &now.plane())?;
    let off = now.nose - map.apply(baseline.nose);
    let (ex, ey) = now.axes()?;
    let d = now.eye_distance();
    Some(Point::new(off.dot(ex) / d, off.dot(ey) / d))
}

/// `x' = m[0]·x + m[1]·y + m[2]`, `y' = m[3]·x + m[4]·y + m[5]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Affine([f32; 6]);

impl Affine {
    fn apply(&self, p: Point) -> Point {
        let m = &self.0;
        Point::new(
            m[0] * p.x + m[1] * p.y + m[2],
            m[3] * p.x + m[4] * p.y + m[5],
        )
    }

    /// Least squares over the point pairs (normal equations, in f64, with
    /// the points centred and scaled first so the system is well
    /// conditioned). None for points on one line.
    fn fit(src: &[Point; 4], dst: &[Point; 4]) -> Option<Affine> {
        let centre = |ps: &[Point; 4]| {
            let c = ps.iter().fold((0.0f64, 0.0f64), |acc, p| {
                (acc.0 + f64::from(p.x), acc.1 + f64::from(p.y))
            });
            (c.0 / 4.0, c.1 / 4.0)
        };
        let (sc, dc) = (centre(src), centre(dst));
        let s: Vec<(f64, f64)> = src
            .iter()
            .map(|p| (f64::from(p.x) - sc.0, f64::from(p.y) - sc.1))
            .collect();
        let d: Vec<(f64, f64)> = dst
            .iter()
            .map(|p| (f64::from(p.x) - dc.0, f64::from(p.y) - dc.1))
            .collect();
        // With centred points the shift drops out: solve the 2×2 linear part.
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        let (mut ux, mut uy, mut vx, mut vy) = (0.0, 0.0, 0.0, 0.0);
        for ((x, y), (u, v)) in s.iter().zip(&d) {
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            ux += u * x;
            uy += u * y;
            vx += v * x;
            vy += v * y;
        }
        let det = sxx * syy - sxy * sxy;
        let scale = (sxx + syy).max(1e-12);
        if det.abs() < 1e-9 * scale * scale {
            return None;
        }
        let a = (ux * syy - uy * sxy) / det;
        let b = (uy * sxx - ux * sxy) / det;
        let c = (vx * syy - vy * sxy) / det;
        let e = (vy * sxx - vx * sxy) / det;
        let m = [
            a,
            b,
            dc.0 - a * sc.0 - b * sc.1,
            c,
            e,
            dc.1 - c * sc.0 - e * sc.1,
        ];
        Some(Affine(m.map(|v| v as f32)))
    }
}

#[cfg(test)]
mod tests;
