//! The detector's five points and what the liveness check reads from them.

/// A point in image pixels (x to the right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    pub fn scale(self, k: f32) -> Point {
        Point::new(self.x * k, self.y * k)
    }

    pub fn dot(self, o: Point) -> f32 {
        self.x * o.x + self.y * o.y
    }

    pub fn norm(self) -> f32 {
        self.dot(self).sqrt()
    }

    pub fn mid(self, o: Point) -> Point {
        (self + o).scale(0.5)
    }
}

impl std::ops::Sub for Point {
    type Output = Point;

    fn sub(self, o: Point) -> Point {
        Point::new(self.x - o.x, self.y - o.y)
    }
}

impl std::ops::Add for Point {
    type Output = Point;

    fn add(self, o: Point) -> Point {
        Point::new(self.x + o.x, self.y + o.y)
    }
}

/// YuNet's five landmarks, named for the person's features as the detector
/// orders them: the right eye (at the smaller x in an unmirrored camera
/// image), the left eye, the nose tip, the right and left mouth corners.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Landmarks {
    pub right_eye: Point,
    pub left_eye: Point,
    pub nose: Point,
    pub mouth_right: Point,
    pub mouth_left: Point,
}

impl Landmarks {
    /// From the detector's order: right eye, left eye, nose, right and left
    /// mouth corner.
    pub fn from_array(p: [Point; 5]) -> Self {
        Self {
            right_eye: p[0],
            left_eye: p[1],
            nose: p[2],
            mouth_right: p[3],
            mouth_left: p[4],
        }
    }

    pub fn to_array(&self) -> [Point; 5] {
        [
            self.right_eye,
            self.left_eye,
            self.nose,
            self.mouth_right,
            self.mouth_left,
        ]
    }

    /// Distance between the eyes: the face's own unit of length.
    pub fn eye_distance(&self) -> f32 {
        (self.left_eye - self.right_eye).norm()
    }

    pub fn eye_centre(&self) -> Point {
        self.right_eye.mid(self.left_eye)
    }

    /// The four points that lie nearly on one plane of a real face (eyes
    /// and mouth corners); the nose tip stands about half an eye distance
    /// in front of it.
    pub fn plane(&self) -> [Point; 4] {
        [
            self.right_eye,
            self.left_eye,
            self.mouth_right,
            self.mouth_left,
        ]
    }

    /// The face's own axes: along the eyes (right eye to left eye) and
    /// perpendicular to them, towards the mouth. None when the eyes
    /// coincide (no usable face).
    pub fn axes(&self) -> Option<(Point, Point)> {
        let e = self.left_eye - self.right_eye;
        let d = e.norm();
        if !d.is_finite() || d < 1e-3 {
            return None;
        }
        let ex = e.scale(1.0 / d);
        Some((ex, Point::new(-ex.y, ex.x)))
    }
}
