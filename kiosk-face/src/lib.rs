//! Face identification at the kiosk (K3, seed §1.3 信息采集 item 2), the
//! pure part. A detector (YuNet) gives each face a box and five landmarks,
//! a recognizer (SFace) turns an aligned 112×112 crop into an embedding;
//! what happens between and after is here, testable without a camera, a
//! model or a clock:
//!
//! - [`landmarks`]: the five points and the geometry read from them;
//! - [`align`]: the similarity transform onto the recognizer's template and
//!   the crop itself;
//! - [`liveness`]: the active challenge (活体检测) — a random sequence of head
//!   movements judged by the nose's parallax against the plane of eyes and
//!   mouth, which no flat picture, however it is moved, can produce;
//! - [`quality`]: whether a frame's face can be used, or what to ask of the
//!   person (nobody there, someone beside them, too far, too dark, turned away);
//! - [`gallery`]: 1:N search among today's enrolled faces and the decision
//!   rule (a threshold and a margin over the runner-up);
//! - [`lfw`]: the LFW 10-fold protocol and the false non-match rate at a
//!   fixed false match rate, for whoever supplies a labelled set.
//!
//! Time is passed in (`Duration` since the challenge began); randomness is
//! the caller's (the challenge's moves are an argument).

pub mod align;
pub mod gallery;
pub mod landmarks;
pub mod lfw;
pub mod liveness;
pub mod quality;

pub use landmarks::{Landmarks, Point};
pub use quality::{Face, Problem};
