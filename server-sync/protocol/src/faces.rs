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
    /// The centre's policy, which every kiosk follows (absent from older
    /// services: the default).
    #[serde(default)]
    pub policy: FacePolicy,
}

/// The centre's face policy, set once at the service (`[face]` in its
/// configuration) and followed by every kiosk with a camera and the models.
/// What it does not switch on cannot happen: a kiosk whose policy keeps no
/// templates never asks to keep one and never sends one, and the service
/// drops any that arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
// Unknown fields allowed: a newer service's policy must not make an older
// kiosk refuse its whole gallery.
#[serde(default)]
pub struct FacePolicy {
    /// 刷脸签到: 1:N among today's enrolled faces, offered on the start
    /// screen.
    pub identify: bool,
    /// 人证核验: a card whose photo the reader decodes is checked 1:1
    /// against the face of the person holding it before the check-in; a
    /// person who declines, or whose face does not match, is sent to the
    /// desk (staff check the card by eye). For centres where someone
    /// sitting another's examination (替检) matters: recruitment and
    /// civil-service examinations.
    pub verify_card: bool,
    /// Face templates may be kept (the enrolment question is asked and the
    /// template of someone who agrees sent with the check-in photo).
    pub keep_templates: bool,
}

impl Default for FacePolicy {
    /// Today's behaviour: face check-in and enrolment offered, cards not
    /// checked against faces.
    fn default() -> Self {
        Self {
            identify: true,
            verify_card: false,
            keep_templates: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_absent_or_partial_is_the_default_and_a_newer_key_is_ignored() {
        let r: FacesResponse = serde_json::from_str(r#"{"model":"m","faces":[]}"#).unwrap();
        assert_eq!(r.policy, FacePolicy::default());
        let p: FacePolicy = serde_json::from_str(r#"{"verify_card":true}"#).unwrap();
        assert!(p.verify_card && p.identify && p.keep_templates);
        let newer: FacePolicy =
            serde_json::from_str(r#"{"verify_card":true,"from_a_newer_service":1}"#).unwrap();
        assert!(newer.verify_card);
    }

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
