//! The challenge driven by frames made from a 3D head (eyes and mouth
//! nearly on a plane, the nose half an eye distance in front) seen by a
//! pinhole camera half a metre away, and from flat pictures of it moved in
//! every way a hand can move a photo or a phone. Landmark noise of ±2 % of
//! the eye distance stands for the detector's jitter.

use super::*;

/// Eye distance in millimetres; the camera's focal length in pixels.
const EYE_MM: f64 = 63.0;
const FOCAL: f64 = 900.0;

/// The head in eye distances: x towards the person's left, y down, z
/// towards the camera; right eye, left eye, nose, right and left mouth corner.
const HEAD: [[f64; 3]; 5] = [
    [-0.5, 0.0, 0.0],
    [0.5, 0.0, 0.0],
    [0.0, 0.55, 0.5],
    [-0.4, 1.05, -0.05],
    [0.4, 1.05, -0.05],
];

/// Deterministic jitter in [-1, 1).
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Rotates `p` by yaw (about y; positive turns the nose to the person's
/// left), then pitch (about x; positive nods down), then roll (about z).
fn rotate(p: [f64; 3], yaw: f64, pitch: f64, roll: f64) -> [f64; 3] {
    let [x, y, z] = p;
    let (x, z) = (
        x * yaw.cos() + z * yaw.sin(),
        -x * yaw.sin() + z * yaw.cos(),
    );
    let (y, z) = (
        y * pitch.cos() + z * pitch.sin(),
        -y * pitch.sin() + z * pitch.cos(),
    );
    let (x, y) = (
        x * roll.cos() - y * roll.sin(),
        x * roll.sin() + y * roll.cos(),
    );
    [x, y, z]
}

/// Projects points given in eye distances, placed at `at` (mm, camera
/// frame, z away from the camera), into 640×480 pixels with jitter.
fn project(points: &[[f64; 3]; 5], at: [f64; 3], j: &mut Jitter) -> Landmarks {
    let px = |p: [f64; 3]| {
        let (x, y, z) = (
            at[0] + p[0] * EYE_MM,
            at[1] + p[1] * EYE_MM,
            at[2] - p[2] * EYE_MM,
        );
        let u = 320.0 + FOCAL * x / z;
        let v = 240.0 + FOCAL * y / z;
        let noise = 0.02 * FOCAL * EYE_MM / at[2];
        Point::new((u + noise * j.next()) as f32, (v + noise * j.next()) as f32)
    };
    Landmarks::from_array(points.map(px))
}

fn head(yaw_deg: f64, pitch_deg: f64, at: [f64; 3], j: &mut Jitter) -> Landmarks {
    let r = HEAD.map(|p| rotate(p, yaw_deg.to_radians(), pitch_deg.to_radians(), 0.0));
    project(&r, at, j)
}

/// A flat picture of the frontal head (its nose printed on the plane),
/// turned as a whole by yaw, pitch and roll, at `at`.
fn picture(yaw: f64, pitch: f64, roll: f64, at: [f64; 3], j: &mut Jitter) -> Landmarks {
    let flat = HEAD.map(|[x, y, _]| [x, y, 0.0]);
    let r = flat.map(|p| rotate(p, yaw.to_radians(), pitch.to_radians(), roll.to_radians()));
    project(&r, at, j)
}

const FPS: f64 = 15.0;
const HOME: [f64; 3] = [0.0, 0.0, 500.0];

/// Runs `frames(t)` at 15 frames a second until the verdict is final or
/// `secs` pass; the verdict and when it came.
fn run(
    moves: Vec<Move>,
    secs: f64,
    mut frames: impl FnMut(f64, &mut Jitter) -> Option<Landmarks>,
) -> (Verdict, f64) {
    let mut c = Challenge::new(moves, Config::default());
    let mut j = Jitter(7);
    let mut v = c.verdict();
    for i in 0..(secs * FPS) as usize {
        let t = i as f64 / FPS;
        let face = frames(t, &mut j);
        v = c.observe(Duration::from_secs_f64(t), face.as_ref());
        if !matches!(v, Verdict::Continue(_)) {
            return (v, t);
        }
    }
    (v, secs)
}

/// A person doing `moves`, each a smooth 0.6 s out to 25° and back after
/// a still 0.4 s, starting at 0.4 s.
fn person(moves: &[Move], t: f64, j: &mut Jitter) -> Landmarks {
    let t = t - 0.4;
    let (mut yaw, mut pitch) = (0.0, 0.0);
    if t > 0.0 {
        let i = (t / 0.8) as usize;
        let phase = (t % 0.8) / 0.6;
        if let Some(m) = moves.get(i)
            && phase < 1.0
        {
            let a = 25.0 * (std::f64::consts::PI * phase).sin();
            match m {
                Move::TurnLeft => yaw = a,
                Move::TurnRight => yaw = -a,
                Move::Nod => pitch = a,
            }
        }
    }
    head(yaw, pitch, HOME, j)
}

#[test]
fn a_real_head_doing_what_is_asked_passes_within_three_seconds() {
    for moves in [
        vec![Move::TurnLeft, Move::Nod],
        vec![Move::TurnRight, Move::TurnLeft],
        vec![Move::Nod, Move::TurnRight, Move::TurnLeft],
    ] {
        let m = moves.clone();
        let (v, t) = run(moves, 8.0, |t, j| Some(person(&m, t, j)));
        assert_eq!(v, Verdict::Passed, "{m:?}");
        assert!(t <= 0.4 + 0.8 * m.len() as f64 + 0.2, "{m:?} took {t} s");
    }
}

#[test]
fn the_parallax_of_a_turn_is_about_half_its_tangent_and_of_a_picture_near_zero() {
    let mut j = Jitter(1);
    let base = head(0.0, 0.0, HOME, &mut j);
    let turned = head(25.0, 0.0, HOME, &mut j);
    let p = parallax(&base, &turned).unwrap();
    assert!((p.x - 0.5 * 25f32.to_radians().tan()).abs() < 0.05, "{p:?}");
    assert!(p.y.abs() < 0.05, "{p:?}");
    let nod = parallax(&base, &head(0.0, 20.0, HOME, &mut j)).unwrap();
    assert!(nod.y > 0.12 && nod.x.abs() < 0.05, "{nod:?}");
    let flat = picture(0.0, 0.0, 0.0, HOME, &mut j);
    let tilted = picture(40.0, 25.0, 30.0, [60.0, -30.0, 420.0], &mut j);
    let p = parallax(&flat, &tilted).unwrap();
    assert!(p.norm() < 0.06, "{p:?}");
}

#[test]
fn a_still_photo_times_out() {
    let (v, t) = run(vec![Move::TurnLeft, Move::Nod], 9.0, |_, j| {
        Some(picture(0.0, 0.0, 0.0, HOME, j))
    });
    assert_eq!(v, Verdict::Failed(Why::TimedOut));
    assert!(t > 7.9);
}

#[test]
fn a_photo_moved_every_way_a_hand_can_move_it_never_passes() {
    // Slid sideways and back, brought closer, rotated in its plane, and
    // turned about its vertical, horizontal and a diagonal axis by up to 50°:
    // the five points keep to one plane, the nose never leaves it.
    type Motion = fn(f64) -> ([f64; 3], [f64; 3]);
    let motions: [Motion; 5] = [
        |t| ([0.0; 3], [150.0 * (t * 2.0).sin(), 0.0, 500.0]),
        |t| ([0.0; 3], [0.0, 0.0, 500.0 - 150.0 * (t * 1.5).sin().abs()]),
        |t| ([0.0, 0.0, 40.0 * (t * 2.0).sin()], HOME),
        |t| ([50.0 * (t * 2.0).sin(), 0.0, 0.0], HOME),
        |t| {
            let a = 45.0 * (t * 2.0).sin();
            ([a, a, 20.0 * (t * 3.0).cos()], [40.0 * t.sin(), 0.0, 480.0])
        },
    ];
    for (k, m) in motions.iter().enumerate() {
        for moves in [
            vec![Move::TurnLeft, Move::TurnRight],
            vec![Move::Nod, Move::TurnLeft],
        ] {
            let (v, _) = run(moves, 9.0, |t, j| {
                let ([yaw, pitch, roll], at) = m(t);
                Some(picture(yaw, pitch, roll, at, j))
            });
            assert!(
                matches!(v, Verdict::Failed(_)),
                "motion {k} passed as a live face: {v:?}"
            );
        }
    }
}

#[test]
fn another_move_than_asked_fails_at_once() {
    let done = [Move::TurnRight];
    let (v, t) = run(vec![Move::TurnLeft], 8.0, |t, j| Some(person(&done, t, j)));
    assert_eq!(v, Verdict::Failed(Why::WrongMove(Move::TurnRight)));
    assert!(t < 1.2);
}

#[test]
fn a_picture_swapped_in_mid_challenge_is_a_jump() {
    let moves = [Move::TurnLeft, Move::Nod];
    let (v, _) = run(moves.to_vec(), 8.0, |t, j| {
        if t < 1.0 {
            Some(person(&moves, t, j))
        } else {
            // Another, smaller face elsewhere in the frame.
            Some(picture(0.0, 0.0, 0.0, [120.0, 40.0, 900.0], j))
        }
    });
    assert_eq!(v, Verdict::Failed(Why::Jumped));
}

#[test]
fn a_face_lost_for_long_fails_but_a_short_gap_is_forgiven() {
    let moves = [Move::TurnLeft];
    let (v, _) = run(moves.to_vec(), 8.0, |t, j| {
        (!(0.5..0.8).contains(&t)).then(|| person(&moves, t, j))
    });
    assert_eq!(v, Verdict::Passed);
    let (v, _) = run(moves.to_vec(), 8.0, |t, j| {
        (t < 0.6).then(|| person(&[], t, j))
    });
    assert_eq!(v, Verdict::Failed(Why::LostFace));
}

#[test]
fn the_prompts_follow_the_challenge() {
    let mut c = Challenge::new(vec![Move::Nod], Config::default());
    assert_eq!(c.verdict(), Verdict::Continue(Prompt::HoldStill));
    let mut j = Jitter(3);
    let mut t = 0.0;
    let mut seen = vec![c.verdict()];
    for pitch in [0.0, 0.0, 0.0, 0.0, 10.0, 25.0, 25.0, 10.0, 0.0, 0.0] {
        t += 1.0 / FPS;
        let v = c.observe(
            Duration::from_secs_f64(t),
            Some(&head(0.0, pitch, HOME, &mut j)),
        );
        if seen.last() != Some(&v) {
            seen.push(v);
        }
    }
    assert_eq!(
        seen,
        [
            Verdict::Continue(Prompt::HoldStill),
            Verdict::Continue(Prompt::Do(Move::Nod)),
            Verdict::Continue(Prompt::BackToCentre),
            Verdict::Passed,
        ]
    );
}
