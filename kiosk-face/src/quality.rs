//! Is this frame good enough to identify someone from, and if not, what to
//! tell the person: nobody there, someone beside them, too far, too dark,
//! not facing the camera. The kiosk speaks the answer (elderly mode and
//! the voice guide), so each problem is one plain request.

use crate::landmarks::Landmarks;

/// A face the detector found: box (top-left, size) and landmarks in the
/// picture's pixels, and its confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub score: f32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub landmarks: Landmarks,
}

impl Face {
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// How far the face is turned sideways, from one frame: the nose tip's
    /// offset from the eyes' centre along the eye line, in eye distances
    /// (about 0 facing the camera, about 0.3 at 30°). A picture shows it
    /// too; the liveness challenge, not this, tells a head from a picture.
    pub fn turn(&self) -> f32 {
        let l = &self.landmarks;
        match l.axes() {
            Some((ex, _)) => (l.nose - l.eye_centre()).dot(ex) / l.eye_distance(),
            None => f32::INFINITY,
        }
    }
}

/// What to ask of the person instead of identifying them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// 请站到摄像头前.
    NoFace,
    /// 请一位一位来: another face nearly as large as theirs.
    SeveralFaces,
    /// 请靠近一点.
    TooSmall,
    /// 光线太暗: the face is too dark to compare.
    TooDark,
    /// 请正对摄像头.
    TurnedAway,
}

/// Limits, for a 640×480 kiosk camera at arm's length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// A second face at least this share of the largest one's area.
    pub second_face: f32,
    /// Smallest eye distance in pixels (about 1.2 m from the camera).
    pub min_eye_px: f32,
    /// Darkest mean brightness (0–255) inside the face's box.
    pub min_brightness: f32,
    /// Largest sideways turn (see [`Face::turn`]).
    pub max_turn: f32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            second_face: 0.4,
            min_eye_px: 28.0,
            min_brightness: 50.0,
            max_turn: 0.25,
        }
    }
}

/// The face to identify in a frame, or what to ask for. `brightness`
/// gives a face's mean brightness in the frame (0–255).
pub fn judge<'a>(
    faces: &'a [Face],
    brightness: impl Fn(&Face) -> f32,
    rules: &Rules,
) -> Result<&'a Face, Problem> {
    let mut by_size: Vec<&Face> = faces.iter().collect();
    by_size.sort_by(|a, b| b.area().total_cmp(&a.area()));
    let face = *by_size.first().ok_or(Problem::NoFace)?;
    if by_size
        .get(1)
        .is_some_and(|second| second.area() >= rules.second_face * face.area())
    {
        return Err(Problem::SeveralFaces);
    }
    if face.landmarks.eye_distance() < rules.min_eye_px {
        return Err(Problem::TooSmall);
    }
    if brightness(face) < rules.min_brightness {
        return Err(Problem::TooDark);
    }
    if face.turn().abs() > rules.max_turn {
        return Err(Problem::TurnedAway);
    }
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Point;

    fn face(x: f32, eye: f32, nose_dx: f32) -> Face {
        let y = 200.0;
        Face {
            score: 0.95,
            x: x - eye,
            y: y - eye,
            w: 2.0 * eye,
            h: 2.5 * eye,
            landmarks: Landmarks::from_array([
                Point::new(x - eye / 2.0, y),
                Point::new(x + eye / 2.0, y),
                Point::new(x + nose_dx * eye, y + 0.55 * eye),
                Point::new(x - 0.4 * eye, y + eye),
                Point::new(x + 0.4 * eye, y + eye),
            ]),
        }
    }

    const BRIGHT: fn(&Face) -> f32 = |_| 128.0;

    #[test]
    fn a_good_frame_gives_its_face() {
        let faces = [face(300.0, 60.0, 0.02)];
        assert_eq!(judge(&faces, BRIGHT, &Rules::default()), Ok(&faces[0]));
    }

    #[test]
    fn each_problem_is_named() {
        let r = Rules::default();
        assert_eq!(judge(&[], BRIGHT, &r), Err(Problem::NoFace));
        let two = [face(200.0, 60.0, 0.0), face(420.0, 50.0, 0.0)];
        assert_eq!(judge(&two, BRIGHT, &r), Err(Problem::SeveralFaces));
        // Someone small far behind is not a second person at the kiosk.
        let behind = [face(200.0, 60.0, 0.0), face(420.0, 20.0, 0.0)];
        assert_eq!(judge(&behind, BRIGHT, &r), Ok(&behind[0]));
        assert_eq!(
            judge(&[face(300.0, 20.0, 0.0)], BRIGHT, &r),
            Err(Problem::TooSmall)
        );
        assert_eq!(
            judge(&[face(300.0, 60.0, 0.0)], |_| 20.0, &r),
            Err(Problem::TooDark)
        );
        assert_eq!(
            judge(&[face(300.0, 60.0, 0.4)], BRIGHT, &r),
            Err(Problem::TurnedAway)
        );
    }
}
