//! K3 face identification on the wire: the template a kiosk sends with a
//! check-in photo (only after the person agreed to enrolment), and today's
//! gallery a kiosk fetches for its campus. A template is an embedding —
//! 128 numbers, little-endian f32, base64 — never a picture.

use exam_domain::IdNumber;
use serde::{Deserialize, Serialize};

/// The numbers of an embedding.
pub const FACE_DIMS: usize = 128;

/// The recognizer whose templates kiosks send and the gallery serves
/// (SFace, 2021 December, as `scripts/face-models` makes it).
pub const FACE_MODEL: &str = "sface_2021dec";

/// A face template and the recognizer that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceTemplate {
    /// The recognizer ("sface_2021dec"): templates of different models are
    /// not comparable.
    pub model: String,
    /// `FACE_DIMS` little-endian f32, base64.
    pub embedding: String,
}

impl FaceTemplate {
    pub fn new(model: &str, embedding: &[f32]) -> Self {
        use base64::Engine;
        let bytes: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            model: model.into(),
            embedding: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The numbers, when they are `FACE_DIMS` finite ones, not all zero.
    pub fn numbers(&self) -> Option<Vec<f32>> {
        decode(&self.embedding)
    }

    /// Refuses what no kiosk sends.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.model.is_empty() || self.model.len() > 32 || !self.model.is_ascii() {
            return Err("bad face model name");
        }
        self.numbers().map(|_| ()).ok_or("bad face template")
    }
}

fn decode(b64: &str) -> Option<Vec<f32>> {
    use base64::Engine;
    if b64.len() > 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    if bytes.len() != FACE_DIMS * 4 {
        return None;
    }
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (v.iter().all(|x| x.is_finite()) && v.iter().any(|x| *x != 0.0)).then_some(v)
}

/// One enrolled person booked today at the kiosk's campus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceEntry {
    pub id_number: IdNumber,
    pub embedding: String,
}

impl FaceEntry {
    pub fn embedding(&self) -> Option<Vec<f32>> {
        decode(&self.embedding)
    }
}

/// `GET paths::FACES`: today's gallery for the calling kiosk's campus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacesResponse {
    /// The model of every template here.
    pub model: String,
    pub faces: Vec<FaceEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_round_trips_and_bad_ones_are_refused() {
        let v: Vec<f32> = (0..FACE_DIMS).map(|i| i as f32 / 100.0 - 0.5).collect();
        let t = FaceTemplate::new("sface_2021dec", &v);
        assert_eq!(t.numbers(), Some(v.clone()));
        assert!(t.check().is_ok());
        let short = FaceTemplate::new("sface_2021dec", &v[..100]);
        assert_eq!(short.check(), Err("bad face template"));
        let nan = FaceTemplate::new("sface_2021dec", &[f32::NAN; FACE_DIMS]);
        assert!(nan.check().is_err());
        let zero = FaceTemplate::new("sface_2021dec", &[0.0; FACE_DIMS]);
        assert!(zero.check().is_err());
        let noname = FaceTemplate::new("", &v);
        assert_eq!(noname.check(), Err("bad face model name"));
    }
}
