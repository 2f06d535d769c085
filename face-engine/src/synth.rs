//! A head turning, synthesised from one photo: each pixel of the face is
//! given a depth (an ellipsoid head with a nose in front of it) and the
//! picture is re-projected as that surface turns. The result is a
//! sequence of real camera-like frames whose landmarks move as a head's
//! do — the nose sweeping across the eye line more than the eyes and mouth
//! — for the kiosk's end-to-end test and the demo, where no recording of a
//! real head exists. It is not evidence about real heads: the liveness
//! rules themselves are tested on a 3D model in `kiosk-face`, and a
//! recording would replace this where one is available.

use kiosk_face::Face;

use crate::Bgr;

/// One pose: turned sideways by `yaw` and nodded by `pitch` (radians);
/// positive yaw moves the nose towards the right of the picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
}

/// The head's shape, in eye distances.
struct Head {
    cx: f32,
    cy: f32,
    /// Half width and half height of the head's outline.
    a: f32,
    b: f32,
    /// Depth of the head's front at its centre.
    depth: f32,
    nose: (f32, f32),
    nose_height: f32,
    nose_sigma: f32,
}

impl Head {
    fn of(face: &Face) -> Self {
        let l = &face.landmarks;
        let e = l.eye_distance();
        let eyes = l.eye_centre();
        let mouth = l.mouth_left.mid(l.mouth_right);
        Self {
            cx: eyes.x,
            cy: eyes.y + (mouth.y - eyes.y) * 0.4,
            a: 1.45 * e,
            b: 1.9 * e,
            depth: 1.2 * e,
            nose: (l.nose.x, l.nose.y),
            nose_height: 0.55 * e,
            nose_sigma: 0.3 * e,
        }
    }

    /// Depth in front of the rotation centre's plane (0 outside the head).
    fn z(&self, x: f32, y: f32) -> f32 {
        let (u, v) = ((x - self.cx) / self.a, (y - self.cy) / self.b);
        let r = 1.0 - u * u - v * v;
        if r <= 0.0 {
            return 0.0;
        }
        let (dx, dy) = (x - self.nose.0, y - self.nose.1);
        let bump = self.nose_height
            * (-(dx * dx + dy * dy) / (2.0 * self.nose_sigma * self.nose_sigma)).exp();
        self.depth * r.sqrt() + bump
    }
}

/// The photo as seen with the head in `pose` (the background stays put).
pub fn turn(photo: &Bgr, face: &Face, pose: Pose) -> Bgr {
    let head = Head::of(face);
    let (sy, cy) = pose.yaw.sin_cos();
    let (sp, cp) = pose.pitch.sin_cos();
    let (w, h) = (photo.width, photo.height);
    let mut out = photo.data.clone();
    for oy in 0..h {
        for ox in 0..w {
            let (x1, y1) = (ox as f32, oy as f32);
            // Where did this pixel come from? x' = c + (x − c)·cos + z·sin,
            // solved for x by a few fixed-point steps (z varies slowly).
            let (mut x, mut y) = (x1, y1);
            let mut inside = false;
            for _ in 0..4 {
                let z = head.z(x, y);
                inside = z > 0.0;
                if !inside {
                    break;
                }
                x = head.cx + (x1 - head.cx - z * sy) / cy;
                y = head.cy + (y1 - head.cy - z * sp) / cp;
            }
            if !inside {
                continue;
            }
            let (sx, sy_) = (x.round(), y.round());
            if sx < 0.0 || sy_ < 0.0 || sx >= w as f32 || sy_ >= h as f32 {
                continue;
            }
            let (si, oi) = (((sy_ as usize) * w + sx as usize) * 3, (oy * w + ox) * 3);
            out[oi..oi + 3].copy_from_slice(&photo.data[si..si + 3]);
        }
    }
    // The data has the photo's size by construction.
    Bgr {
        width: w,
        height: h,
        data: out,
    }
}

/// A person doing a challenge's moves in order, at about `fps` frames a
/// second: a still start, each move out to `peak` radians and back, a
/// still end.
pub fn performance(
    photo: &Bgr,
    face: &Face,
    moves: &[kiosk_face::liveness::Move],
    peak: f32,
) -> Vec<Bgr> {
    use kiosk_face::liveness::Move;
    let still = Pose {
        yaw: 0.0,
        pitch: 0.0,
    };
    let mut poses = vec![still; 5];
    for m in moves {
        let at = |k: f32| match m {
            // The person's left is the picture's right (a camera, not a mirror).
            Move::TurnLeft => Pose {
                yaw: k * peak,
                pitch: 0.0,
            },
            Move::TurnRight => Pose {
                yaw: -k * peak,
                pitch: 0.0,
            },
            Move::Nod => Pose {
                yaw: 0.0,
                pitch: k * peak,
            },
        };
        let steps = [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0];
        poses.extend(steps.iter().map(|&k| at(k)));
    }
    poses.extend([still; 4]);
    poses.iter().map(|&p| turn(photo, face, p)).collect()
}
